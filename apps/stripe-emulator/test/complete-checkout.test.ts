import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { createSession, readSharedJson, startTestEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(() => emulator.close());

/** Events about one session's payment, in publication order. */
function eventsOf(sessionId: string, paymentIntentId: string | null) {
  return emulator.events().filter((event) => {
    const object = event.data.object as { id: string; payment_intent?: unknown; object: string };
    return object.id === sessionId || object.id === paymentIntentId || (object.object === 'charge' && object.payment_intent === paymentIntentId);
  });
}

const declineBody = readSharedJson<{ error: Record<string, unknown> }>('card-errors/2025-04-30.basil__payment_intent_card_declined_response.json').error;

describe('completeCheckoutSession (same path as the hosted page)', () => {
  it('4242: charge.succeeded, payment_intent.succeeded, checkout.session.completed; creates the customer', async () => {
    const session = await createSession(stripe, { customer_email: 'new@example.com', payment_intent_data: { metadata: { order: '7' } } });
    expect(await emulator.completeCheckoutSession(session.id)).toEqual({ ok: true });
    const paid = await stripe.checkout.sessions.retrieve(session.id);
    const intentId = String(paid.payment_intent);
    expect(eventsOf(session.id, intentId).map((event) => event.type)).toEqual([
      'payment_intent.created',
      'charge.succeeded',
      'payment_intent.succeeded',
      'checkout.session.completed',
    ]);
    const completed = eventsOf(session.id, intentId).at(-1)!.data.object as Stripe.Checkout.Session;
    expect(completed).toMatchObject({ status: 'complete', payment_status: 'paid', payment_intent: intentId, customer_details: { email: 'new@example.com' } });
    const customer = await stripe.customers.retrieve(String(completed.customer));
    expect(customer).toMatchObject({ email: 'new@example.com' });
    expect(emulator.events().some((event) => event.type === 'customer.created' && (event.data.object as Stripe.Customer).id === customer.id)).toBe(true);
    expect(await stripe.paymentIntents.retrieve(intentId)).toMatchObject({ metadata: { order: '7' }, customer: customer.id, status: 'succeeded' });
  });

  it('leaves customer null with customer_creation=if_required', async () => {
    const session = await createSession(stripe, { customer_email: 'guest@example.com', customer_creation: 'if_required' });
    await emulator.completeCheckoutSession(session.id);
    expect(await stripe.checkout.sessions.retrieve(session.id)).toMatchObject({ status: 'complete', customer: null, customer_details: { email: 'guest@example.com' } });
  });

  it.each([
    ['4000000000000002', 'generic_decline', 'Your card was declined.'],
    ['4000000000009995', 'insufficient_funds', 'Your card has insufficient funds.'],
  ])('%s declines with %s: charge.failed and payment_intent.payment_failed', async (number, declineCode, message) => {
    const session = await createSession(stripe);
    expect(await emulator.completeCheckoutSession(session.id, { card: number })).toEqual({ ok: false, code: declineCode, message });
    const open = await stripe.checkout.sessions.retrieve(session.id);
    expect(open.status).toBe('open');
    const intentId = String(open.payment_intent);
    expect(eventsOf(session.id, intentId).map((event) => event.type)).toEqual(['payment_intent.created', 'charge.failed', 'payment_intent.payment_failed']);

    const intent = await stripe.paymentIntents.retrieve(intentId);
    expect(intent.status).toBe('requires_payment_method');
    expect(intent.last_payment_error).toMatchObject({ type: declineBody.type, code: declineBody.code, decline_code: declineCode, doc_url: declineBody.doc_url, message });
    expect(intent.last_payment_error?.payment_method).toMatchObject({ object: 'payment_method', type: 'card', card: { last4: number.slice(-4) } });
    const charge = await stripe.charges.retrieve(String(intent.latest_charge));
    expect(charge).toMatchObject({ status: 'failed', paid: false, failure_code: 'card_declined', failure_message: message, outcome: { reason: declineCode } });
  });

  it('matches the wording of Stripe’s recorded generic decline', () => {
    expect(declineBody).toMatchObject({ code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' });
  });

  it('3DS card: authentication completes by default, or fails on request', async () => {
    const approved = await createSession(stripe);
    expect(await emulator.completeCheckoutSession(approved.id, { card: '4000002500003155' })).toEqual({ ok: true });
    const approvedIntent = String((await stripe.checkout.sessions.retrieve(approved.id)).payment_intent);
    expect(eventsOf(approved.id, approvedIntent).map((event) => event.type)).toEqual([
      'payment_intent.created',
      'payment_intent.requires_action',
      'charge.succeeded',
      'payment_intent.succeeded',
      'checkout.session.completed',
    ]);

    const refused = await createSession(stripe);
    expect(await emulator.completeCheckoutSession(refused.id, { card: '4000 0025 0000 3155', authentication: 'fail' })).toEqual({
      ok: false,
      code: 'payment_intent_authentication_failure',
      message: 'We are unable to authenticate your payment method. Please choose a different payment method and try again.',
    });
    const refusedSession = await stripe.checkout.sessions.retrieve(refused.id);
    expect(refusedSession.status).toBe('open');
    expect(eventsOf(refused.id, String(refusedSession.payment_intent)).map((event) => event.type)).toEqual([
      'payment_intent.created',
      'payment_intent.requires_action',
      'payment_intent.payment_failed',
    ]);
  });

  it('reports unknown cards and closed sessions, and rejects unknown ids', async () => {
    const session = await createSession(stripe);
    expect(await emulator.completeCheckoutSession(session.id, { card: '5555555555554444' })).toMatchObject({ ok: false, code: 'incorrect_number' });
    await emulator.completeCheckoutSession(session.id);
    expect(await emulator.completeCheckoutSession(session.id)).toMatchObject({ ok: false, code: 'checkout_session_not_open' });
    await expect(emulator.completeCheckoutSession('cs_test_nope')).rejects.toThrow("No such checkout.session: 'cs_test_nope'");
  });
});
