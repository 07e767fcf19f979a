import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { TEST_KEY, createSession, startTestEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(() => emulator.close());

/** A raw API call, for what the SDK would not send. */
async function call(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${TEST_KEY}`, 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    ...(body === undefined ? {} : { body }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as { error?: Record<string, unknown> } & Record<string, unknown> };
}

const counts = async () => ({
  customers: (await stripe.customers.list({ limit: 100 })).data.length,
  sessions: (await stripe.checkout.sessions.list({ limit: 100 })).data.length,
  prices: (await stripe.prices.list({ limit: 100 })).data.length,
  events: emulator.events().length,
});

describe('Stripe-shaped errors', () => {
  it('400 for a missing required param, with its bracket path', async () => {
    const error = await stripe.checkout.sessions.create({ mode: 'payment', line_items: [{ price_data: { currency: 'usd', product_data: { name: 'X' } }, quantity: 1 }] } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error).toMatchObject({
      statusCode: 400,
      type: 'StripeInvalidRequestError',
      code: 'parameter_missing',
      param: 'line_items[0][price_data][unit_amount]',
      message: 'Missing required param: line_items[0][price_data][unit_amount].',
    });
    expect((error as Stripe.errors.StripeError).requestId).toMatch(/^req_/);
    await expect(stripe.checkout.sessions.create({ mode: 'payment' } as never)).rejects.toMatchObject({ param: 'line_items', code: 'parameter_missing' });
  });

  it('400 for unknown params, top-level and nested', async () => {
    await expect(stripe.customers.create({ favourite_colour: 'blue' } as never)).rejects.toMatchObject({
      statusCode: 400,
      code: 'parameter_unknown',
      param: 'favourite_colour',
      message: 'Received unknown parameter: favourite_colour',
    });
    await expect(createSession(stripe, { line_items: [{ price_data: { currency: 'usd', unit_amount: 100, product_data: { name: 'X', colour: 'red' } }, quantity: 1 }] } as never)).rejects.toMatchObject({
      param: 'line_items[0][price_data][product_data][colour]',
    });
  });

  it('400 for values of the wrong type or outside the allowed set', async () => {
    const raw = await call('POST', '/v1/checkout/sessions', 'mode=payment&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=12.5&line_items[0][price_data][product_data][name]=X&line_items[0][quantity]=1');
    expect(raw.status).toBe(400);
    expect(raw.body).toEqual({
      error: {
        type: 'invalid_request_error',
        code: 'parameter_invalid_integer',
        doc_url: 'https://stripe.com/docs/error-codes/parameter-invalid-integer',
        message: 'Invalid integer: 12.5',
        param: 'line_items[0][price_data][unit_amount]',
      },
    });
    await expect(createSession(stripe, { mode: 'teleport' } as never)).rejects.toMatchObject({ param: 'mode', message: 'Invalid mode: must be one of payment, setup, or subscription' });
    await expect(createSession(stripe, { success_url: 'not a url' })).rejects.toMatchObject({ param: 'success_url', code: 'url_invalid' });
    await expect(stripe.customers.create({ email: 'nope' })).rejects.toMatchObject({ param: 'email', code: 'email_invalid' });
    await expect(stripe.customers.list({ limit: 500 })).rejects.toMatchObject({ param: 'limit' });
    await expect(createSession(stripe, { line_items: [{ price_data: { currency: 'zzz', unit_amount: 1, product_data: { name: 'X' } }, quantity: 1 }] })).rejects.toMatchObject({
      param: 'line_items[0][price_data][currency]',
    });
  });

  it('404 resource_missing for unknown ids', async () => {
    const error = await stripe.customers.retrieve('cus_x').catch((e: unknown) => e);
    expect(error).toMatchObject({ statusCode: 404, code: 'resource_missing', param: 'id', message: "No such customer: 'cus_x'" });
    await expect(stripe.checkout.sessions.retrieve('cs_test_x')).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
    await expect(stripe.paymentIntents.retrieve('pi_x')).rejects.toMatchObject({ statusCode: 404, message: "No such payment_intent: 'pi_x'" });
    await expect(stripe.charges.retrieve('ch_x')).rejects.toMatchObject({ statusCode: 404 });
    await expect(stripe.checkout.sessions.expire('cs_test_x')).rejects.toMatchObject({ statusCode: 404 });
    const unknownRoute = await call('GET', '/v1/teleporters');
    expect(unknownRoute.status).toBe(404);
    expect(unknownRoute.body.error).toMatchObject({ type: 'invalid_request_error', message: expect.stringContaining('Unrecognized request URL (GET: /v1/teleporters)') });
  });

  it('401 without a usable test API key', async () => {
    const missing = await call('GET', '/v1/customers', undefined, { Authorization: '' });
    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatchObject({ type: 'invalid_request_error', message: expect.stringContaining('You did not provide an API key') });
    expect(missing.headers.get('request-id')).toMatch(/^req_/);

    for (const key of ['sk_live_fake_0000000', 'sk_test_1', 'pk_test_123456789012']) {
      const client = new Stripe(key, { host: '127.0.0.1', port: emulator.port, protocol: 'http', maxNetworkRetries: 0 });
      await expect(client.customers.list()).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    }
    const restricted = new Stripe('rk_test_123456789012', { host: '127.0.0.1', port: emulator.port, protocol: 'http' });
    expect((await restricted.customers.list()).object).toBe('list');
  });

  it('a bad request changes nothing', async () => {
    await stripe.customers.create({ email: 'existing@example.com' });
    const before = await counts();
    const bad: Promise<unknown>[] = [
      stripe.customers.create({ email: 'ok@example.com', bogus: 1 } as never),
      createSession(stripe, { line_items: [{ price_data: { currency: 'usd', unit_amount: 100, product_data: { name: 'fine' } }, quantity: 1 }, { price: 'price_missing', quantity: 1 }] }),
      createSession(stripe, { line_items: [{ price_data: { currency: 'usd', unit_amount: 100, product_data: { name: 'fine' } }, quantity: 1 }], expand: ['nonsense'] }),
      createSession(stripe, { customer: 'cus_missing' }),
      stripe.prices.create({ currency: 'usd', unit_amount: 100, product: 'prod_missing' }),
    ];
    for (const request of bad) await expect(request).rejects.toMatchObject({ statusCode: 400 });
    expect(await counts()).toEqual(before);
  });

  it('accepts JSON bodies too', async () => {
    const created = await call('POST', '/v1/customers', JSON.stringify({ email: 'json@example.com', metadata: { via: 'json' } }), { 'Content-Type': 'application/json' });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ object: 'customer', email: 'json@example.com', metadata: { via: 'json' } });
    const broken = await call('POST', '/v1/customers', '{"email":', { 'Content-Type': 'application/json' });
    expect(broken.status).toBe(400);
  });

  it('puts a Request-Id header on every response', async () => {
    for (const path of ['/v1/customers', '/v1/nope', '/_emulator', '/_emulator/deliveries', '/c/pay/cs_test_nope']) {
      const response = await fetch(`${emulator.url}${path}`, { headers: { Authorization: `Bearer ${TEST_KEY}` } });
      expect(response.headers.get('request-id'), path).toMatch(/^req_/);
    }
  });
});
