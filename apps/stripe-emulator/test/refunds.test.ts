import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { eventTypes, startTestEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(() => emulator.close());

const failure = (promise: Promise<unknown>) => promise.then(() => { throw new Error('expected the call to fail'); }, (error: Stripe.errors.StripeError) => error);
const paid = (amount = 1000, paymentMethod = 'pm_card_visa') => stripe.paymentIntents.create({ amount, currency: 'usd', payment_method: paymentMethod, confirm: true });

describe('refunds', () => {
  it('partial then full refund by payment_intent and by charge; over the remainder is a 400', async () => {
    const intent = await paid(1000);
    const chargeId = String(intent.latest_charge);
    const since = emulator.events().length;
    const first = await stripe.refunds.create({ payment_intent: intent.id, amount: 300, reason: 'requested_by_customer', metadata: { ticket: '9' } });
    expect(first).toMatchObject({ object: 'refund', amount: 300, charge: chargeId, payment_intent: intent.id, status: 'succeeded', reason: 'requested_by_customer', metadata: { ticket: '9' } });
    expect(eventTypes(emulator).slice(since)).toEqual(['charge.refunded', 'refund.created', 'refund.updated', 'charge.refund.updated']);
    expect(emulator.events()[since]!.data).toMatchObject({ object: { amount_refunded: 300, refunded: false }, previous_attributes: { amount_refunded: 0 } });
    expect(await stripe.charges.retrieve(chargeId)).toMatchObject({ amount_refunded: 300, refunded: false });

    const events = emulator.events().length;
    const tooMuch = await failure(stripe.refunds.create({ charge: chargeId, amount: 701 }));
    expect(tooMuch).toMatchObject({ statusCode: 400, type: 'StripeInvalidRequestError', param: 'amount', message: 'Refund amount ($7.01) is greater than unrefunded amount on charge ($7.00)' });
    expect(emulator.events().length).toBe(events);
    expect((await stripe.charges.retrieve(chargeId)).amount_refunded).toBe(300);

    const rest = await stripe.refunds.create({ charge: chargeId });
    expect(rest.amount).toBe(700);
    expect(await stripe.charges.retrieve(chargeId, { expand: ['refunds'] })).toMatchObject({ amount_refunded: 1000, refunded: true, refunds: { data: [{ id: rest.id }, { id: first.id }] } });
    expect(await failure(stripe.refunds.create({ charge: chargeId, amount: 1 }))).toMatchObject({ statusCode: 400, code: 'charge_already_refunded' });

    expect(await stripe.refunds.retrieve(first.id)).toMatchObject({ id: first.id, destination_details: { type: 'card', card: { reference_status: 'available' } } });
    expect((await stripe.refunds.list({ payment_intent: intent.id })).data.map((refund) => refund.id)).toEqual([rest.id, first.id]);
    expect((await stripe.refunds.list({ charge: chargeId, limit: 1 })).has_more).toBe(true);
  });

  it('updates metadata with refund.updated and charge.refund.updated', async () => {
    const refund = await stripe.refunds.create({ payment_intent: (await paid(500)).id });
    const updated = await stripe.refunds.update(refund.id, { metadata: { note: 'goodwill' } });
    expect(updated.metadata).toEqual({ note: 'goodwill' });
    expect(emulator.events().slice(-2).map((event) => [event.type, event.data.previous_attributes])).toEqual([
      ['refund.updated', { metadata: { note: null } }],
      ['charge.refund.updated', { metadata: { note: null } }],
    ]);
  });

  it('rejects bad refunds with Stripe-shaped errors and no state change', async () => {
    const intent = await paid(800);
    const declined = await failure(paid(800, 'pm_card_chargeDeclined'));
    const unconfirmed = await stripe.paymentIntents.create({ amount: 800, currency: 'usd' });
    const refunds = (await stripe.refunds.list({ limit: 100 })).data.length;
    const events = emulator.events().length;
    const cases: [() => Promise<unknown>, Record<string, unknown>][] = [
      [() => stripe.refunds.create({}), { statusCode: 400, code: 'parameter_missing' }],
      [() => stripe.refunds.create({ charge: 'ch_missing' }), { statusCode: 400, code: 'resource_missing', param: 'charge' }],
      [() => stripe.refunds.create({ payment_intent: 'pi_missing' }), { statusCode: 400, code: 'resource_missing', param: 'payment_intent' }],
      [() => stripe.refunds.create({ payment_intent: intent.id, charge: String(intent.latest_charge) }), { statusCode: 400 }],
      [() => stripe.refunds.create({ payment_intent: intent.id, amount: 0 }), { statusCode: 400, param: 'amount' }],
      [() => stripe.rawRequest('POST', '/v1/refunds', { payment_intent: intent.id, amount: 'lots' }), { statusCode: 400, param: 'amount' }],
      [() => stripe.refunds.create({ payment_intent: intent.id, amount: 801 }), { statusCode: 400, param: 'amount', message: 'Refund amount ($8.01) is greater than charge amount ($8.00)' }],
      [() => stripe.rawRequest('POST', '/v1/refunds', { payment_intent: intent.id, reason: 'bored' }), { statusCode: 400, param: 'reason' }],
      [() => stripe.refunds.create({ payment_intent: unconfirmed.id }), { statusCode: 400, code: 'charge_not_refundable' }],
      [() => stripe.refunds.create({ charge: String(declined.payment_intent!.latest_charge) }), { statusCode: 400, code: 'charge_not_refundable' }],
      [() => stripe.refunds.retrieve('re_missing'), { statusCode: 404, code: 'resource_missing' }],
    ];
    for (const [call, expected] of cases) expect(await failure(call())).toMatchObject(expected);
    expect((await stripe.refunds.list({ limit: 100 })).data.length).toBe(refunds);
    expect(emulator.events().length).toBe(events);
    expect((await stripe.charges.retrieve(String(intent.latest_charge))).amount_refunded).toBe(0);
  });

  it('a chargeback cannot be refunded; an inquiry can', async () => {
    const disputed = await paid(600, 'pm_card_createDispute');
    expect(eventTypes(emulator).slice(-2)).toEqual(['charge.dispute.created', 'charge.dispute.funds_withdrawn']);
    expect(await failure(stripe.refunds.create({ payment_intent: disputed.id }))).toMatchObject({ statusCode: 400, code: 'charge_disputed' });
    const inquiry = await paid(600, 'pm_card_createDisputeInquiry');
    expect(await stripe.refunds.create({ payment_intent: inquiry.id })).toMatchObject({ amount: 600 });
  });
});
