import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeTable } from '../src/http/api-router';
import type { StripeEmulator } from '../src/index';
import { RESOURCES } from '../src/resources';
import { SHARED_STRIPE_DIR, TEST_KEY, createSession, startTestEmulator } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are probed field by field
type Json = Record<string, any>;

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(() => emulator.close());

async function raw(method: string, path: string, init: { body?: string; type?: string; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${TEST_KEY}`, ...(init.type ? { 'Content-Type': init.type } : {}), ...init.headers },
    body: init.body,
  });
  return { status: response.status, headers: response.headers, json: (await response.json()) as Json };
}
const form = (path: string, body: string, headers: Record<string, string> = {}) =>
  raw('POST', path, { body, type: 'application/x-www-form-urlencoded', headers });

async function stripeError(call: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  const error = await call.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(Stripe.errors.StripeError);
  return error as Stripe.errors.StripeError;
}

describe('request bodies', () => {
  it('parses form-encoded bracket notation: nested hashes, indexed and empty-bracket arrays', async () => {
    const indexed = await form('/v1/webhook_endpoints', 'url=https%3A%2F%2Fexample.com&enabled_events[0]=customer.created&enabled_events[1]=invoice.paid&metadata[a]=1&metadata[b]=two');
    expect(indexed.status).toBe(200);
    expect(indexed.json).toMatchObject({ enabled_events: ['customer.created', 'invoice.paid'], metadata: { a: '1', b: 'two' } });
    const bracketed = await form('/v1/webhook_endpoints', 'url=https%3A%2F%2Fexample.com&enabled_events[]=customer.created&enabled_events[]=invoice.paid');
    expect(bracketed.json.enabled_events).toEqual(['customer.created', 'invoice.paid']);
    const meter = await form('/v1/billing/meters', 'display_name=M&event_name=form_meter&default_aggregation[formula]=sum&customer_mapping[event_payload_key]=acct&customer_mapping[type]=by_id');
    expect(meter.json).toMatchObject({ default_aggregation: { formula: 'sum' }, customer_mapping: { event_payload_key: 'acct', type: 'by_id' } });
  });

  it('accepts JSON bodies with numbers and booleans', async () => {
    const created = await raw('POST', '/v1/webhook_endpoints', { type: 'application/json', body: JSON.stringify({ url: 'https://example.com/j', enabled_events: ['*'] }) });
    expect(created.status).toBe(200);
    const updated = await raw('POST', `/v1/webhook_endpoints/${created.json.id}`, { type: 'application/json', body: JSON.stringify({ disabled: true }) });
    expect(updated.json.status).toBe('disabled');
    const bad = await raw('POST', '/v1/webhook_endpoints', { type: 'application/json', body: '{not json' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.type).toBe('invalid_request_error');
  });
});

describe('parameter validation, in Stripe\'s words', () => {
  it('names unknown top-level and nested parameters', async () => {
    const top = await form('/v1/billing/meters', 'display_name=M&event_name=e1&default_aggregation[formula]=sum&foo=bar');
    expect(top.status).toBe(400);
    expect(top.json.error).toEqual({
      type: 'invalid_request_error',
      code: 'parameter_unknown',
      doc_url: 'https://stripe.com/docs/error-codes/parameter-unknown',
      message: 'Received unknown parameter: foo',
      param: 'foo',
    });
    const nested = await form('/v1/billing/meters', 'display_name=M&event_name=e1&default_aggregation[formula]=sum&default_aggregation[window]=day');
    expect(nested.json.error).toMatchObject({ message: 'Received unknown parameter: default_aggregation[window]', param: 'default_aggregation[window]' });
    const query = await raw('GET', '/v1/webhook_endpoints?bar=1');
    expect(query.json.error).toMatchObject({ message: 'Received unknown parameter: bar', param: 'bar' });
  });

  it('names missing required parameters', async () => {
    const missing = await form('/v1/billing/meters', 'display_name=M&default_aggregation[formula]=sum');
    expect(missing.status).toBe(400);
    expect(missing.json.error).toMatchObject({ type: 'invalid_request_error', code: 'parameter_missing', message: 'Missing required param: event_name.', param: 'event_name' });
    const nested = await form('/v1/billing/meters', 'display_name=M&event_name=e2&default_aggregation[formula]=sum&value_settings[x]=');
    expect(nested.json.error.param).toMatch(/^value_settings\[/);
  });

  it('rejects wrong types and empty strings for required values', async () => {
    const integer = await form('/v1/billing/meter_events', 'event_name=e&payload[value]=1&timestamp=abc');
    expect(integer.json.error).toMatchObject({ message: 'Invalid integer: abc', param: 'timestamp' });
    const boolean = await raw('GET', '/v1/events?delivery_success=perhaps');
    expect(boolean.json.error).toMatchObject({ message: 'Invalid boolean: perhaps', param: 'delivery_success' });
    const array = await form('/v1/webhook_endpoints', 'url=https%3A%2F%2Fexample.com&enabled_events=customer.created');
    expect(array.json.error).toMatchObject({ param: 'enabled_events' });
    const empty = await form('/v1/billing/meters', 'display_name=&event_name=e3&default_aggregation[formula]=sum');
    expect(empty.json.error).toMatchObject({ code: 'parameter_invalid_empty', param: 'display_name' });
    expect((await stripe.billing.meters.list()).data.map((meter) => meter.event_name)).not.toContain('e3');
  });

  it('answers unknown URLs and missing keys as Stripe does', async () => {
    const unknown = await raw('GET', '/v1/billing/nothing');
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.message).toBe('Unrecognized request URL (GET: /v1/billing/nothing). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.');
    const response = await fetch(`${emulator.url}/v1/events`);
    expect(response.status).toBe(401);
  });
});

describe('expand[]', () => {
  it('expands nested paths on objects and on lists (data.*) and refuses unknown ones', async () => {
    const session = await createSession(stripe, { customer_email: 'expand@example.com' });
    await emulator.completeCheckoutSession(session.id);
    const expanded = await stripe.checkout.sessions.retrieve(session.id, { expand: ['payment_intent.latest_charge.customer'] });
    const intent = expanded.payment_intent as Stripe.PaymentIntent;
    const charge = intent.latest_charge as Stripe.Charge;
    expect(intent.object).toBe('payment_intent');
    expect(charge.object).toBe('charge');
    expect((charge.customer as Stripe.Customer).object).toBe('customer');
    const listed = await stripe.checkout.sessions.list({ limit: 1, expand: ['data.payment_intent.latest_charge'] });
    expect(((listed.data[0]!.payment_intent as Stripe.PaymentIntent).latest_charge as Stripe.Charge).object).toBe('charge');
    const refused = await stripeError(stripe.billing.meters.list({ expand: ['data.customer'] }));
    expect(refused).toMatchObject({ statusCode: 400, param: 'expand', message: 'This property cannot be expanded (data.customer).' });
  });
});

const spec = JSON.parse(readFileSync(resolve(SHARED_STRIPE_DIR, 'spec3.2024-04-10.json'), 'utf8')) as {
  paths: Record<string, { get?: { parameters?: { name: string; in: string; required?: boolean }[] } }>;
};
/** Query parameters Stripe's spec requires for a list path (none for paths absent from the spec). */
const requiredQueryParams = (path: string) =>
  (spec.paths[path]?.get?.parameters ?? []).filter((param) => param.in === 'query' && param.required).map((param) => param.name);

describe('list pagination on every list endpoint', () => {
  const lists = routeTable(RESOURCES).filter((entry) => entry.method === 'get' && entry.route.list && !entry.path.includes(':'));

  it.each(lists.map((entry) => [entry.path] as const))('%s answers a Stripe list object and validates limit', async (path) => {
    // Lists with required filters (e.g. `subscription` for subscription items) must say so first, in Stripe's words.
    const required = requiredQueryParams(path);
    if (required.length) {
      const missing = await raw('GET', `${path}?limit=1`);
      expect(missing.json.error, JSON.stringify(missing.json)).toMatchObject({ code: 'parameter_missing', param: required[0] });
      return;
    }
    const page = await raw('GET', `${path}?limit=1`);
    expect(page.status, JSON.stringify(page.json)).toBe(200);
    expect(page.json).toMatchObject({ object: 'list', url: path, has_more: expect.any(Boolean) });
    expect(Array.isArray(page.json.data)).toBe(true);
    expect(page.json.data.length).toBeLessThanOrEqual(1);
    expect((await raw('GET', `${path}?limit=1000`)).json.error).toMatchObject({ param: 'limit', message: 'This value must be less than or equal to 100.' });
    expect((await raw('GET', `${path}?starting_after=nope_123`)).json.error).toMatchObject({ param: 'starting_after' });
  });

  it('walks all pages in both directions', async () => {
    for (let i = 0; i < 5; i++) await stripe.webhookEndpoints.create({ url: `https://example.com/p${i}`, enabled_events: ['*'] });
    const all = (await stripe.webhookEndpoints.list({ limit: 100 })).data.map((endpoint) => endpoint.id);
    const forward: string[] = [];
    let page = await stripe.webhookEndpoints.list({ limit: 2 });
    forward.push(...page.data.map((endpoint) => endpoint.id));
    while (page.has_more) {
      page = await stripe.webhookEndpoints.list({ limit: 2, starting_after: page.data.at(-1)!.id });
      forward.push(...page.data.map((endpoint) => endpoint.id));
    }
    expect(forward).toEqual(all);
    const backward = await stripe.webhookEndpoints.list({ limit: 2, ending_before: all.at(-1) });
    expect(backward.data.map((endpoint) => endpoint.id)).toEqual(all.slice(-3, -1));
  });
});

describe('Idempotency-Key', () => {
  it('replays the first response for the same key and parameters, without a second object or event', async () => {
    const body = 'display_name=Idem&event_name=idem&default_aggregation[formula]=count';
    const first = await form('/v1/billing/meters', body, { 'Idempotency-Key': 'meter-once' });
    const again = await form('/v1/billing/meters', body, { 'Idempotency-Key': 'meter-once' });
    expect(again.json).toEqual(first.json);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('original-request')).toBe(first.headers.get('request-id'));
    expect(emulator.events().filter((event) => event.type === 'billing.meter.created' && (event.data.object as { id: string }).id === first.json.id)).toHaveLength(1);
  });

  it('rejects the same key with different parameters (400 idempotency_error)', async () => {
    await form('/v1/webhook_endpoints', 'url=https%3A%2F%2Fexample.com%2Fa&enabled_events[0]=*', { 'Idempotency-Key': 'endpoint-key' });
    const conflict = await form('/v1/webhook_endpoints', 'url=https%3A%2F%2Fexample.com%2Fb&enabled_events[0]=*', { 'Idempotency-Key': 'endpoint-key' });
    expect(conflict.status).toBe(400);
    expect(conflict.json.error.type).toBe('idempotency_error');
    expect(conflict.json.error.message).toContain("Try using a key other than 'endpoint-key'");
    const viaSdk = await stripeError(stripe.webhookEndpoints.create({ url: 'https://example.com/c', enabled_events: ['*'] }, { idempotencyKey: 'endpoint-key' }));
    expect(viaSdk).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
  });

  it('does not save validation errors: a corrected retry with the same key succeeds', async () => {
    const bad = await form('/v1/billing/meter_events', 'event_name=x', { 'Idempotency-Key': 'fix-me' });
    expect(bad.status).toBe(400);
    const badAgain = await form('/v1/billing/meter_events', 'event_name=x', { 'Idempotency-Key': 'fix-me' });
    expect(badAgain.headers.get('idempotent-replayed')).toBeNull();
  });
});
