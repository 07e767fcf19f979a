import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { createSession, eventTypes, startTestEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(() => emulator.close());

describe('checkout sessions', () => {
  it('creates a payment session from price_data', async () => {
    const before = Math.floor(Date.now() / 1000);
    const session = await createSession(stripe, { client_reference_id: 'order_42', metadata: { order: '42' }, payment_intent_data: { metadata: { order: '42' } } });
    expect(session.id).toMatch(/^cs_test_a1[A-Za-z0-9]+$/);
    expect(session).toMatchObject({
      object: 'checkout.session',
      mode: 'payment',
      status: 'open',
      payment_status: 'unpaid',
      amount_subtotal: 3000,
      amount_total: 3000,
      currency: 'usd',
      client_reference_id: 'order_42',
      metadata: { order: '42' },
      customer: null,
      payment_intent: null,
      success_url: 'https://merchant.test/success?session_id={CHECKOUT_SESSION_ID}',
      cancel_url: 'https://merchant.test/cancel',
      url: `${emulator.url}/c/pay/${session.id}`,
      livemode: false,
    });
    expect(session.expires_at - before).toBeGreaterThanOrEqual(24 * 3600 - 5);

    const items = await stripe.checkout.sessions.listLineItems(session.id);
    expect(items.data).toHaveLength(1);
    expect(items.data[0]).toMatchObject({ object: 'item', description: 'Pro plan', quantity: 2, amount_total: 3000, currency: 'usd', price: { unit_amount: 1500 } });
  });

  it('creates a session from a price id (minimal products and prices)', async () => {
    const product = await stripe.products.create({ name: 'Credits pack' });
    const price = await stripe.prices.create({ product: product.id, unit_amount: 1250, currency: 'eur' });
    expect(price).toMatchObject({ object: 'price', type: 'one_time', unit_amount: 1250, currency: 'eur', product: product.id });
    expect((await stripe.prices.retrieve(price.id, { expand: ['product'] })).product).toMatchObject({ id: product.id, name: 'Credits pack' });

    const session = await stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: [{ price: price.id, quantity: 3 }],
      success_url: 'https://merchant.test/ok',
    });
    expect(session).toMatchObject({ amount_total: 3750, currency: 'eur' });
    const expanded = await stripe.checkout.sessions.retrieve(session.id, { expand: ['line_items'] });
    expect(expanded.line_items?.data[0]).toMatchObject({ description: 'Credits pack', quantity: 3, price: { id: price.id } });
    expect(eventTypes(emulator)).toEqual(expect.arrayContaining(['product.created', 'price.created']));
  });

  it('rejects recurring prices in payment mode and unsupported modes', async () => {
    const price = await stripe.prices.create({ product_data: { name: 'Monthly' }, unit_amount: 900, currency: 'usd', recurring: { interval: 'month' } });
    await expect(stripe.checkout.sessions.create({ mode: 'payment', line_items: [{ price: price.id, quantity: 1 }] })).rejects.toMatchObject({
      statusCode: 400,
      param: 'line_items[0][price]',
    });
    // `subscription` mode is supported (see checkout-subscription.test.ts); `setup` is not.
    await expect(stripe.checkout.sessions.create({ mode: 'setup', line_items: [{ price: price.id, quantity: 1 }] })).rejects.toMatchObject({
      statusCode: 400,
      type: 'StripeInvalidRequestError',
      param: 'mode',
    });
  });

  it('retrieves with expanded customer, payment_intent and latest_charge once paid', async () => {
    const customer = await stripe.customers.create({ email: 'buyer@example.com' });
    const session = await createSession(stripe, { customer: customer.id });
    expect(await emulator.completeCheckoutSession(session.id)).toEqual({ ok: true });

    const paid = await stripe.checkout.sessions.retrieve(session.id, { expand: ['customer', 'payment_intent.latest_charge'] });
    expect(paid).toMatchObject({ status: 'complete', payment_status: 'paid', url: null, customer: { id: customer.id, email: 'buyer@example.com' } });
    const intent = paid.payment_intent as Stripe.PaymentIntent;
    expect(intent).toMatchObject({ object: 'payment_intent', status: 'succeeded', amount: 3000, amount_received: 3000, customer: customer.id });
    expect(intent.latest_charge).toMatchObject({ object: 'charge', status: 'succeeded', paid: true, amount: 3000 });

    expect((await stripe.paymentIntents.retrieve(intent.id)).id).toBe(intent.id);
    expect((await stripe.paymentIntents.list({ customer: customer.id })).data.map((pi) => pi.id)).toEqual([intent.id]);
    const charges = await stripe.charges.list({ payment_intent: intent.id });
    expect(charges.data).toHaveLength(1);
    expect((await stripe.charges.retrieve(charges.data[0]!.id)).payment_intent).toBe(intent.id);
  });

  it('lists sessions filtered by payment_intent and customer', async () => {
    const customer = await stripe.customers.create({ email: 'lister@example.com' });
    const first = await createSession(stripe, { customer: customer.id });
    const second = await createSession(stripe, { customer: customer.id });
    await emulator.completeCheckoutSession(first.id);
    const paid = await stripe.checkout.sessions.retrieve(first.id);

    const byCustomer = await stripe.checkout.sessions.list({ customer: customer.id });
    expect(byCustomer.data.map((session) => session.id)).toEqual([second.id, first.id]);
    const byIntent = await stripe.checkout.sessions.list({ payment_intent: String(paid.payment_intent), expand: ['data.payment_intent'] });
    expect(byIntent.data.map((session) => session.id)).toEqual([first.id]);
    expect(byIntent.data[0]!.payment_intent).toMatchObject({ id: paid.payment_intent, status: 'succeeded' });
    await expect(stripe.checkout.sessions.list({ expand: ['data.nonsense'] })).rejects.toMatchObject({ statusCode: 400, param: 'expand' });
  });

  it('expires an open session once; expiring again is a 400', async () => {
    const session = await createSession(stripe);
    const expired = await stripe.checkout.sessions.expire(session.id);
    expect(expired).toMatchObject({ id: session.id, status: 'expired', url: null });
    const event = emulator.events().findLast((e) => e.type === 'checkout.session.expired');
    expect(event?.data.object).toMatchObject({ id: session.id, status: 'expired' });

    await expect(stripe.checkout.sessions.expire(session.id)).rejects.toMatchObject({ statusCode: 400, type: 'StripeInvalidRequestError' });
  });

  it('validates expires_at (30 minutes to 24 hours) and customer vs customer_email', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect(createSession(stripe, { expires_at: now + 60 })).rejects.toMatchObject({ statusCode: 400, param: 'expires_at' });
    await expect(createSession(stripe, { expires_at: now + 25 * 3600 })).rejects.toMatchObject({ statusCode: 400, param: 'expires_at' });
    expect((await createSession(stripe, { expires_at: now + 3600 })).expires_at).toBe(now + 3600);

    const customer = await stripe.customers.create({});
    await expect(createSession(stripe, { customer: customer.id, customer_email: 'x@example.com' })).rejects.toMatchObject({ statusCode: 400 });
    await expect(createSession(stripe, { customer: 'cus_missing' })).rejects.toMatchObject({ statusCode: 400, code: 'resource_missing', param: 'customer' });
  });
});
