import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { recurringPrice } from './billing-helpers';
import { FUTURE_EXPIRY, postForm, startTestEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(() => emulator.close());

const subscriptionSession = (price: string, extra: Partial<Stripe.Checkout.SessionCreateParams> = {}) =>
  stripe.checkout.sessions.create({
    mode: 'subscription',
    line_items: [{ price, quantity: 1 }],
    success_url: 'https://merchant.test/success?session_id={CHECKOUT_SESSION_ID}',
    ...extra,
  });

describe('Checkout in subscription mode', () => {
  it('paying on the hosted page creates the customer, the subscription and its paid first invoice', async () => {
    const price = await recurringPrice(stripe, 1900);
    const session = await subscriptionSession(price.id, { subscription_data: { metadata: { plan: 'pro' } } });
    expect(session).toMatchObject({ mode: 'subscription', amount_total: 1900, status: 'open', subscription: null, customer_creation: null });

    const response = await postForm(session.url!, { email: 'subscriber@example.com', cardNumber: '4242 4242 4242 4242', cardExpiry: FUTURE_EXPIRY, cardCvc: '123' });
    expect(response.status).toBe(303);
    const done = await stripe.checkout.sessions.retrieve(session.id);
    expect(done).toMatchObject({ status: 'complete', payment_status: 'paid', payment_intent: null, customer_details: { email: 'subscriber@example.com' } });
    const subscription = await stripe.subscriptions.retrieve(done.subscription as string);
    expect(subscription).toMatchObject({ status: 'active', customer: done.customer, metadata: { plan: 'pro' } });
    expect(subscription.default_payment_method).toMatch(/^pm_/);
    expect(await stripe.invoices.retrieve(done.invoice as string)).toMatchObject({ status: 'paid', amount_paid: 1900, billing_reason: 'subscription_create' });

    const completed = emulator.events().find((event) => event.type === 'checkout.session.completed' && (event.data.object as Stripe.Checkout.Session).id === session.id)!;
    expect(completed.data.object).toMatchObject({ subscription: subscription.id, invoice: done.invoice, customer: done.customer });
  });

  it('with a trial: nothing due today, the subscription is trialing', async () => {
    const price = await recurringPrice(stripe, 1900);
    const session = await subscriptionSession(price.id, { subscription_data: { trial_period_days: 7 } });
    expect(session.amount_total).toBe(0);
    const result = await emulator.completeCheckoutSession(session.id, { card: '4242424242424242' });
    expect(result).toEqual({ ok: true });
    const done = await stripe.checkout.sessions.retrieve(session.id);
    expect(done).toMatchObject({ status: 'complete', payment_status: 'no_payment_required' });
    expect(await stripe.subscriptions.retrieve(done.subscription as string)).toMatchObject({ status: 'trialing' });
  });

  it('a declined card keeps the session open; a second card completes it with the same subscription', async () => {
    const price = await recurringPrice(stripe, 1900);
    const session = await subscriptionSession(price.id);
    expect(await emulator.completeCheckoutSession(session.id, { card: '4000000000000002' })).toMatchObject({ ok: false, code: 'generic_decline' });
    expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe('open');
    expect(await emulator.completeCheckoutSession(session.id, { card: '4000000000003220' })).toEqual({ ok: true });
    const done = await stripe.checkout.sessions.retrieve(session.id);
    expect(done.status).toBe('complete');
    const subscriptions = await stripe.subscriptions.list({ customer: done.customer as string, status: 'all' });
    expect(subscriptions.data.map((subscription) => subscription.status)).toEqual(['active']);
  });

  it('the CLI private confirm endpoint works for subscription sessions', async () => {
    const price = await recurringPrice(stripe, 1900);
    const session = await subscriptionSession(price.id, { customer_email: 'cli@example.com' });
    const response = await fetch(`${emulator.url}/v1/payment_pages/${session.id}/confirm`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk_test_emulator_tests_key', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ payment_method: 'pm_card_visa', expected_amount: '1900' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'complete', mode: 'subscription', subscription: expect.stringMatching(/^sub_/) });
  });

  it('refuses recurring prices in payment mode and one-time-only line items in subscription mode', async () => {
    const recurring = await recurringPrice(stripe);
    const oneTime = await stripe.prices.create({ currency: 'usd', unit_amount: 500, product_data: { name: 'Setup' } });
    expect(await stripe.checkout.sessions.create({ mode: 'payment', line_items: [{ price: recurring.id, quantity: 1 }] }).catch((error: unknown) => error)).toMatchObject({ statusCode: 400 });
    expect(await subscriptionSession(oneTime.id).catch((error: unknown) => error)).toMatchObject({ statusCode: 400, param: 'line_items' });
  });
});
