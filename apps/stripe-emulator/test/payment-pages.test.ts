import qs from 'qs';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { TEST_KEY, createSession, eventTypes, readSharedJson, startTestEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(() => emulator.close());

interface TriggerFixture {
  fixtures: { name: string; path: string; method: 'get' | 'post'; params?: Record<string, unknown> }[];
}

/** Replays a `stripe trigger` fixture file the way the Stripe CLI does: form-encoded requests, `${name:field}` references. */
async function runTrigger(file: string): Promise<Record<string, Record<string, unknown>>> {
  const { fixtures } = readSharedJson<TriggerFixture>(`triggers/${file}`);
  const results: Record<string, Record<string, unknown>> = {};
  const substitute = (text: string) =>
    text.replace(/\$\{(\w+):([\w.]+)\}/g, (_, name: string, field: string) =>
      String(field.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], results[name])),
    );
  const resolveRefs = (value: unknown): unknown => {
    if (typeof value === 'string') return substitute(value);
    if (Array.isArray(value)) return value.map(resolveRefs);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolveRefs(item)]));
    return value;
  };
  for (const fixture of fixtures) {
    const response = await fetch(`${emulator.url}${substitute(fixture.path)}`, {
      method: fixture.method.toUpperCase(),
      headers: { Authorization: `Bearer ${TEST_KEY}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      ...(fixture.params ? { body: qs.stringify(resolveRefs(fixture.params), { arrayFormat: 'indices' }) } : {}),
    });
    const json = (await response.json()) as Record<string, unknown>;
    expect(response.status, `${fixture.name}: ${JSON.stringify(json)}`).toBe(200);
    results[fixture.name] = json;
  }
  return results;
}

describe('the Stripe CLI’s private payment page endpoints', () => {
  it('runs `stripe trigger checkout.session.completed` end to end', async () => {
    const results = await runTrigger('checkout.session.completed.json');
    const sessionId = String(results.checkout_session!.id);
    expect(results.payment_page).toMatchObject({ id: sessionId, status: 'open', amount_total: 3000 });
    expect(results.payment_method).toMatchObject({ object: 'payment_method', type: 'card', card: { last4: '4242' }, billing_details: { email: 'stripe@example.com' } });
    expect(results.payment_page_confirm).toMatchObject({ id: sessionId, status: 'complete', payment_status: 'paid' });

    const session = await stripe.checkout.sessions.retrieve(sessionId, { expand: ['payment_intent'] });
    expect(session.payment_intent).toMatchObject({ status: 'succeeded', amount: 3000, shipping: { name: 'Jenny Rosen', address: { city: 'San Francisco' } } });
    const completed = emulator.events().findLast((event) => event.type === 'checkout.session.completed');
    expect(completed?.request).toMatchObject({ id: expect.stringMatching(/^req_/) });
    expect(eventTypes(emulator)).toEqual(expect.arrayContaining(['product.created', 'price.created', 'charge.succeeded', 'payment_intent.succeeded', 'checkout.session.completed']));
  });

  it('runs `stripe trigger checkout.session.expired`', async () => {
    const results = await runTrigger('checkout.session.expired.json');
    expect(results.checkout_session_expired).toMatchObject({ status: 'expired' });
    expect(eventTypes(emulator).at(-1)).toBe('checkout.session.expired');
  });

  const confirm = (sessionId: string, params: Record<string, string | number>) =>
    stripe.rawRequest('POST', `/v1/payment_pages/${sessionId}/confirm`, params).then(
      () => null,
      (error: { statusCode: number; raw: Record<string, unknown> }) => error,
    );

  it('declines pm_card_chargeDeclined with a 402 card_error carrying the PaymentIntent', async () => {
    const session = await createSession(stripe);
    const error = await confirm(session.id, { payment_method: 'pm_card_chargeDeclined', expected_amount: 3000 });
    expect(error?.statusCode).toBe(402);
    expect(error?.raw).toMatchObject({
      type: 'card_error',
      code: 'card_declined',
      decline_code: 'generic_decline',
      message: 'Your card was declined.',
      payment_intent: { status: 'requires_payment_method' },
      payment_method: { object: 'payment_method' },
    });
    const insufficient = await confirm(session.id, { payment_method: 'pm_card_visa_chargeDeclinedInsufficientFunds' });
    expect(insufficient?.raw).toMatchObject({ decline_code: 'insufficient_funds' });
    expect(await confirm(session.id, { payment_method: 'pm_card_visa' })).toBeNull();
    expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe('complete');
  });

  it('checks expected_amount and the payment method', async () => {
    const session = await createSession(stripe);
    expect(await confirm(session.id, { payment_method: 'pm_card_visa', expected_amount: 100 })).toMatchObject({ statusCode: 400, raw: { param: 'expected_amount' } });
    expect(await confirm(session.id, { payment_method: 'pm_nope' })).toMatchObject({ statusCode: 400, raw: { code: 'resource_missing', param: 'payment_method' } });
    expect((await stripe.checkout.sessions.retrieve(session.id)).payment_intent).toBeNull();
  });
});
