import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { FUTURE_EXPIRY, alertText, createSession, postForm, readSharedJson, startTestEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(() => emulator.close());

const card = (cardNumber: string, extra: Record<string, string> = {}) => ({
  email: 'payer@example.com',
  cardNumber,
  cardExpiry: FUTURE_EXPIRY,
  cardCvc: '123',
  ...extra,
});

/** The real `generic_decline` message, from Stripe's recorded 402 body. */
const GENERIC_DECLINE_MESSAGE = readSharedJson<{ error: { message: string } }>('card-errors/2025-04-30.basil__payment_intent_card_declined_response.json').error.message;

describe('hosted checkout page', () => {
  it('shows the line items, total, labelled inputs, Pay and Cancel', async () => {
    const session = await createSession(stripe);
    const response = await fetch(session.url!);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    expect(response.headers.get('request-id')).toMatch(/^req_/);
    const page = await response.text();
    expect(page).toContain('Stripe emulator — test mode');
    expect(page).toContain('Pro plan');
    expect(page).toContain('$30.00');
    for (const [name, label] of [['email', 'Email'], ['cardNumber', 'Card number'], ['cardExpiry', 'Expiry'], ['cardCvc', 'CVC']]) {
      expect(page).toContain(`<label for="${name}">${label}</label>`);
      expect(page).toContain(`name="${name}"`);
    }
    expect(page).toContain('placeholder="MM / YY"');
    expect(page).toMatch(/<button type="submit">Pay<\/button>/);
    expect(page).toContain('<a href="https://merchant.test/cancel">Cancel</a>');
    expect(alertText(page)).toBeNull();
  });

  it('asks no email when the session has a customer', async () => {
    const customer = await stripe.customers.create({ email: 'known@example.com' });
    const page = await (await fetch((await createSession(stripe, { customer: customer.id })).url!)).text();
    expect(page).not.toContain('name="email"');
  });

  it('4242 4242 4242 4242 pays and redirects (303) to success_url with the session id', async () => {
    const session = await createSession(stripe);
    const response = await postForm(session.url!, card('4242 4242 4242 4242'));
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(`https://merchant.test/success?session_id=${session.id}`);

    const paid = await stripe.checkout.sessions.retrieve(session.id);
    expect(paid).toMatchObject({ status: 'complete', payment_status: 'paid', customer_details: { email: 'payer@example.com' } });
    expect(paid.customer).toMatch(/^cus_/);
    expect(paid.payment_intent).toMatch(/^pi_/);

    const page = await (await fetch(session.url!)).text();
    expect(page).toContain('Payment complete');
    expect(page).not.toContain('name="cardNumber"');
  });

  it('4000 0000 0000 0002 declines with an alert; the session stays open and can be paid again', async () => {
    const session = await createSession(stripe);
    const declined = await postForm(session.url!, card('4000 0000 0000 0002'));
    expect(declined.status).toBe(402);
    expect(alertText(await declined.text())).toBe(GENERIC_DECLINE_MESSAGE);
    expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe('open');

    const retried = await postForm(session.url!, card('4242424242424242'));
    expect(retried.status).toBe(303);
    const paid = await stripe.checkout.sessions.retrieve(session.id);
    expect(paid.status).toBe('complete');
    expect((await stripe.charges.list({ payment_intent: String(paid.payment_intent) })).data.map((charge) => charge.status)).toEqual(['succeeded', 'failed']);
  });

  it('4000 0000 0000 9995 declines for insufficient funds', async () => {
    const session = await createSession(stripe);
    const response = await postForm(session.url!, card('4000000000009995'));
    expect(response.status).toBe(402);
    expect(alertText(await response.text())).toBe('Your card has insufficient funds.');
    expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe('open');
  });

  it('4000 0025 0000 3155 asks for 3-D Secure; completing it pays', async () => {
    const session = await createSession(stripe);
    const response = await postForm(session.url!, card('4000 0025 0000 3155'));
    expect(response.status).toBe(303);
    const challengeUrl = new URL(response.headers.get('location')!, emulator.url).href;
    expect(challengeUrl).toBe(`${emulator.url}/c/pay/${session.id}/authenticate`);

    const challenge = await (await fetch(challengeUrl)).text();
    expect(challenge).toContain('Complete authentication');
    expect(challenge).toContain('Fail authentication');
    const pending = await stripe.checkout.sessions.retrieve(session.id, { expand: ['payment_intent'] });
    expect(pending.payment_intent).toMatchObject({ status: 'requires_action', next_action: { type: 'redirect_to_url', redirect_to_url: { url: challengeUrl } } });

    const done = await postForm(challengeUrl, { action: 'complete' });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe(`https://merchant.test/success?session_id=${session.id}`);
    const paid = await stripe.checkout.sessions.retrieve(session.id, { expand: ['payment_intent.latest_charge'] });
    expect(paid.status).toBe('complete');
    const charge = (paid.payment_intent as Stripe.PaymentIntent).latest_charge as Stripe.Charge;
    expect(charge.payment_method_details?.card?.three_d_secure).toMatchObject({ result: 'authenticated' });
  });

  it('failing 3-D Secure shows Stripe’s authentication failure; the session stays open', async () => {
    const session = await createSession(stripe);
    await postForm(session.url!, card('4000002500003155'));
    const failed = await postForm(`${session.url}/authenticate`, { action: 'fail' });
    expect(failed.status).toBe(402);
    expect(alertText(await failed.text())).toBe('We are unable to authenticate your payment method. Please choose a different payment method and try again.');
    const open = await stripe.checkout.sessions.retrieve(session.id, { expand: ['payment_intent'] });
    expect(open.status).toBe('open');
    expect(open.payment_intent).toMatchObject({ status: 'requires_payment_method', last_payment_error: { code: 'payment_intent_authentication_failure' } });
  });

  it('refuses other numbers, bad expiries and CVCs without changing state', async () => {
    const session = await createSession(stripe);
    const eventsBefore = emulator.events().length;
    const cases: [Record<string, string>, string][] = [
      [card('4111 1111 1111 1111'), 'Your card number is incorrect.'],
      [card('4242 4242 4242 4241'), 'Your card number is invalid.'],
      [card('4242424242424242', { cardExpiry: '01 / 20' }), "Your card's expiration date is in the past."],
      [card('4242424242424242', { cardExpiry: '13 / 40' }), "Your card's expiration month is invalid."],
      [card('4242424242424242', { cardCvc: '1' }), "Your card's security code is incomplete."],
      [card('4242424242424242', { email: 'not-an-email' }), 'Your email address is invalid.'],
    ];
    for (const [fields, message] of cases) {
      const response = await postForm(session.url!, fields);
      expect(response.status).toBe(400);
      expect(alertText(await response.text())).toBe(message);
    }
    expect(emulator.events().length).toBe(eventsBefore);
    expect((await stripe.checkout.sessions.retrieve(session.id)).payment_intent).toBeNull();
  });

  it('shows a clear page for an expired session and for an unknown one', async () => {
    const session = await createSession(stripe);
    await stripe.checkout.sessions.expire(session.id);
    const expired = await fetch(session.url!);
    expect(await expired.text()).toContain('This checkout session has expired');
    const paid = await postForm(session.url!, card('4242424242424242'));
    expect(paid.status).toBe(303);
    expect(paid.headers.get('location')).toBe(`/c/pay/${session.id}`);
    expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe('expired');

    expect((await fetch(`${emulator.url}/c/pay/cs_test_unknown`)).status).toBe(404);
  });
});
