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

/** The Stripe error a rejected SDK call threw. */
const failure = (promise: Promise<unknown>) => promise.then(() => { throw new Error('expected the call to fail'); }, (error: Stripe.errors.StripeError) => error);

/** Types of the events published since `since` (an index into the event log). */
const typesSince = (since: number) => eventTypes(emulator).slice(since);

describe('PaymentIntents', () => {
  it('create → update → confirm moves through requires_payment_method, requires_confirmation, succeeded', async () => {
    const customer = await stripe.customers.create({ email: 'pay@example.com' });
    const created = await stripe.paymentIntents.create({ amount: 1999, currency: 'usd', customer: customer.id, metadata: { order: '1' } });
    expect(created).toMatchObject({ status: 'requires_payment_method', amount: 1999, customer: customer.id, capture_method: 'automatic_async', metadata: { order: '1' } });
    const updated = await stripe.paymentIntents.update(created.id, { payment_method: 'pm_card_visa', description: 'Top-up' });
    expect(updated).toMatchObject({ status: 'requires_confirmation', description: 'Top-up', payment_method: expect.stringMatching(/^pm_(?!card_)/) });
    const since = emulator.events().length;
    const confirmed = await stripe.paymentIntents.confirm(created.id, { expand: ['latest_charge'] });
    expect(confirmed).toMatchObject({ status: 'succeeded', amount_received: 1999, latest_charge: { status: 'succeeded', paid: true, amount: 1999, customer: customer.id } });
    expect(typesSince(since)).toEqual(['charge.succeeded', 'payment_intent.succeeded']);
    const listed = await stripe.paymentIntents.list({ customer: customer.id });
    expect(listed.data.map((intent) => intent.id)).toEqual([created.id]);
  });

  it('declines with a 402 card_error carrying the PaymentIntent, which stays retryable', async () => {
    const error = await failure(stripe.paymentIntents.create({ amount: 2000, currency: 'usd', payment_method: 'pm_card_visa_chargeDeclinedInsufficientFunds', confirm: true }));
    expect(error).toMatchObject({ type: 'StripeCardError', statusCode: 402, code: 'card_declined', decline_code: 'insufficient_funds' });
    const intent = error.payment_intent!;
    expect(intent.status).toBe('requires_payment_method');
    expect((await stripe.paymentIntents.retrieve(intent.id)).last_payment_error).toMatchObject({ decline_code: 'insufficient_funds', charge: expect.stringMatching(/^ch_/) });
    expect(await stripe.paymentIntents.confirm(intent.id, { payment_method: 'pm_card_visa' })).toMatchObject({ status: 'succeeded' });
    expect((await stripe.charges.list({ payment_intent: intent.id })).data.map((charge) => charge.status)).toEqual(['succeeded', 'failed']);
  });

  it('3-D Secure on-session: requires_action with next_action; the challenge page completes it', async () => {
    const intent = await stripe.paymentIntents.create({ amount: 500, currency: 'usd', payment_method: 'pm_card_threeDSecure2Required', confirm: true, return_url: 'https://merchant.test/return' });
    expect(intent.status).toBe('requires_action');
    expect(intent.next_action).toMatchObject({ type: 'redirect_to_url', redirect_to_url: { url: `${emulator.url}/3ds/${intent.id}`, return_url: 'https://merchant.test/return' } });
    const response = await fetch(intent.next_action!.redirect_to_url!.url!, { method: 'POST', body: new URLSearchParams({ action: 'complete' }), redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(`https://merchant.test/return?payment_intent=${intent.id}&payment_intent_client_secret=${intent.client_secret}`);
    const charge = await stripe.charges.retrieve(String((await stripe.paymentIntents.retrieve(intent.id)).latest_charge));
    expect(charge).toMatchObject({ status: 'succeeded', payment_method_details: { card: { three_d_secure: { result: 'authenticated' } } } });
  });

  it('3-D Secure off-session: declined with authentication_required', async () => {
    const customer = await stripe.customers.create({ payment_method: 'pm_card_authenticationRequired' });
    const [paymentMethod] = (await stripe.customers.listPaymentMethods(customer.id)).data;
    const error = await failure(stripe.paymentIntents.create({ amount: 900, currency: 'usd', customer: customer.id, payment_method: paymentMethod!.id, confirm: true, off_session: true }));
    expect(error).toMatchObject({ statusCode: 402, code: 'authentication_required', decline_code: 'authentication_required' });
    expect(error.payment_intent).toMatchObject({ status: 'requires_payment_method' });
    const charge = await stripe.charges.retrieve(String(error.payment_intent!.latest_charge));
    expect(charge).toMatchObject({ status: 'failed', failure_code: 'authentication_required' });
  });

  it('a card set up with an authenticated payment pays off-session without authentication (authenticationRequiredOnSetup)', async () => {
    const customer = await stripe.customers.create();
    const first = await stripe.paymentIntents.create({ amount: 700, currency: 'usd', customer: customer.id, payment_method: 'pm_card_authenticationRequiredOnSetup', setup_future_usage: 'off_session', confirm: true });
    expect(first.status).toBe('requires_action');
    await fetch(`${emulator.url}/3ds/${first.id}`, { method: 'POST', body: new URLSearchParams({ action: 'complete' }) });
    const paymentMethod = await stripe.paymentMethods.retrieve(String(first.payment_method));
    expect(paymentMethod.customer).toBe(customer.id);
    const renewal = await stripe.paymentIntents.create({ amount: 700, currency: 'usd', customer: customer.id, payment_method: paymentMethod.id, confirm: true, off_session: true });
    expect(renewal.status).toBe('succeeded');
  });

  it('cancel → payment_intent.canceled; a canceled PaymentIntent cannot be confirmed', async () => {
    const intent = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_visa' });
    const canceled = await stripe.paymentIntents.cancel(intent.id, { cancellation_reason: 'abandoned' });
    expect(canceled).toMatchObject({ status: 'canceled', cancellation_reason: 'abandoned', canceled_at: expect.any(Number) });
    expect(eventTypes(emulator).at(-1)).toBe('payment_intent.canceled');
    const before = emulator.events().length;
    const error = await failure(stripe.paymentIntents.confirm(intent.id));
    expect(error).toMatchObject({ statusCode: 400, type: 'StripeInvalidRequestError', code: 'payment_intent_unexpected_state' });
    expect(await failure(stripe.paymentIntents.cancel(intent.id))).toMatchObject({ statusCode: 400, code: 'payment_intent_unexpected_state' });
    expect(emulator.events().length).toBe(before);
    expect((await stripe.paymentIntents.retrieve(intent.id)).status).toBe('canceled');
  });

  it('rejects bad input with Stripe-shaped errors and stores nothing', async () => {
    const count = async () => (await stripe.paymentIntents.list({ limit: 100 })).data.length;
    const before = await count();
    const events = emulator.events().length;
    const cases: [() => Promise<unknown>, Record<string, unknown>][] = [
      [() => stripe.rawRequest('POST', '/v1/payment_intents', { currency: 'usd' }), { statusCode: 400, code: 'parameter_missing', param: 'amount' }],
      [() => stripe.rawRequest('POST', '/v1/payment_intents', { amount: 'ten', currency: 'usd' }), { statusCode: 400, param: 'amount' }],
      [() => stripe.rawRequest('POST', '/v1/payment_intents', { amount: 100, currency: 'usd', colour: 'red' }), { statusCode: 400, code: 'parameter_unknown', param: 'colour' }],
      [() => stripe.paymentIntents.create({ amount: 10, currency: 'usd' }), { statusCode: 400, code: 'amount_too_small', param: 'amount' }],
      [() => stripe.paymentIntents.create({ amount: 100, currency: 'usd', customer: 'cus_missing' }), { statusCode: 400, code: 'resource_missing', param: 'customer' }],
      [() => stripe.paymentIntents.create({ amount: 100, currency: 'usd', payment_method: 'pm_nope', confirm: true }), { statusCode: 400, code: 'resource_missing', param: 'payment_method' }],
      [() => stripe.paymentIntents.create({ amount: 100, currency: 'usd', confirm: true }), { statusCode: 400, code: 'payment_intent_unexpected_state' }],
      [() => stripe.paymentIntents.create({ amount: 100, currency: 'usd', capture_method: 'manual' }), { statusCode: 400, param: 'capture_method' }],
      [() => stripe.paymentIntents.retrieve('pi_missing'), { statusCode: 404, code: 'resource_missing' }],
      [() => stripe.paymentIntents.confirm('pi_missing'), { statusCode: 404, code: 'resource_missing' }],
    ];
    for (const [call, expected] of cases) expect(await failure(call())).toMatchObject(expected);
    expect(await count()).toBe(before);
    expect(emulator.events().length).toBe(events);
  });

  it('refuses a PaymentMethod of another customer', async () => {
    const owner = await stripe.customers.create({ payment_method: 'pm_card_visa' });
    const other = await stripe.customers.create();
    const [paymentMethod] = (await stripe.customers.listPaymentMethods(owner.id)).data;
    const error = await failure(stripe.paymentIntents.create({ amount: 100, currency: 'usd', customer: other.id, payment_method: paymentMethod!.id, confirm: true }));
    expect(error).toMatchObject({ statusCode: 400, param: 'payment_method', message: `The provided PaymentMethod ${paymentMethod!.id} does not belong to the Customer ${other.id}.` });
  });
});

describe('disputes', () => {
  it('pm_card_createDisputeInquiry: the charge succeeds, then charge.dispute.created; retrievable and listable', async () => {
    const intent = await stripe.paymentIntents.create({ amount: 4200, currency: 'usd', payment_method: 'pm_card_createDisputeInquiry', confirm: true });
    expect(intent.status).toBe('succeeded');
    expect(eventTypes(emulator).slice(-3)).toEqual(['charge.succeeded', 'payment_intent.succeeded', 'charge.dispute.created']);
    const { data } = await stripe.disputes.list({ payment_intent: intent.id });
    expect(data).toHaveLength(1);
    const dispute = await stripe.disputes.retrieve(data[0]!.id);
    expect(dispute).toMatchObject({ amount: 4200, charge: intent.latest_charge, status: 'warning_needs_response', reason: 'general', is_charge_refundable: true });
    expect((await stripe.charges.retrieve(String(intent.latest_charge))).disputed).toBe(true);
    expect(await stripe.disputes.close(dispute.id)).toMatchObject({ status: 'warning_closed' });
    expect(await failure(stripe.disputes.retrieve('dp_missing'))).toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });
});

describe('Checkout with SEPA Direct Debit', () => {
  const sepaMethod = (iban: string) =>
    stripe.paymentMethods.create({ type: 'sepa_debit', sepa_debit: { iban }, billing_details: { name: 'Jenny Rosen', email: 'jenny@example.com' } });

  it.each([
    ['AT611904300234573201', 'checkout.session.async_payment_succeeded', 'succeeded', 'paid'],
    ['AT861904300235473202', 'checkout.session.async_payment_failed', 'requires_payment_method', 'unpaid'],
  ] as const)('%s: completes unpaid, then %s', async (iban, asyncEvent, intentStatus, paymentStatus) => {
    // The SDK's types no longer list `payment_method_types` for sessions; the API (and the CLI) still send it.
    const session = (await stripe.rawRequest('POST', '/v1/checkout/sessions', {
      mode: 'payment',
      payment_method_types: ['sepa_debit'],
      line_items: [{ price_data: { currency: 'eur', unit_amount: 1500, product_data: { name: 'Credits' } }, quantity: 1 }],
      success_url: 'https://merchant.test/ok',
    })) as unknown as Stripe.Checkout.Session;
    const paymentMethod = await sepaMethod(iban);
    const completed = await stripe.rawRequest('POST', `/v1/payment_pages/${session.id}/confirm`, { payment_method: paymentMethod.id });
    expect(completed).toMatchObject({ status: 'complete', payment_status: 'unpaid' });
    const intentId = String((await stripe.checkout.sessions.retrieve(session.id)).payment_intent);
    expect((await stripe.paymentIntents.retrieve(intentId)).status).toBe('processing');
    await expect.poll(() => eventTypes(emulator).includes(asyncEvent), { timeout: 3000 }).toBe(true);
    expect((await stripe.paymentIntents.retrieve(intentId)).status).toBe(intentStatus);
    expect(await stripe.checkout.sessions.retrieve(session.id)).toMatchObject({ status: 'complete', payment_status: paymentStatus });
  });

  it('refuses SEPA for non-euro sessions and unknown IBANs', async () => {
    expect(
      await failure(
        stripe.rawRequest('POST', '/v1/checkout/sessions', {
          mode: 'payment',
          payment_method_types: ['sepa_debit'],
          line_items: [{ price_data: { currency: 'usd', unit_amount: 100, product_data: { name: 'x' } }, quantity: 1 }],
        }),
      ),
    ).toMatchObject({ statusCode: 400, param: 'payment_method_types' });
    expect(await failure(sepaMethod('DE89370400440532013000'))).toMatchObject({ statusCode: 400, param: 'sepa_debit[iban]' });
  });
});
