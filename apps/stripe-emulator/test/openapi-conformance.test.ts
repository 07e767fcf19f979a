import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { acceptedParams, routeTable, type RouteTableEntry } from '../src/http/api-router';
import { RESOURCES } from '../src/resources';
import { SHARED_STRIPE_DIR, startTestEmulator, TEST_KEY } from './helpers';

/**
 * Checks every route the emulator serves (iterating the route table, so routes other modules add
 * are covered too) against Stripe's OpenAPI spec at API 2024-04-10:
 * 1. the method + path exists in the spec (modulo the allow-list below);
 * 2. every top-level request parameter the route accepts is one the spec declares for it (query
 *    parameters, or properties of the `application/x-www-form-urlencoded` body schema).
 *
 * What a route accepts is learnt at run time: the router records the schema each handler validates
 * its parameters with (`acceptedParams`). To reach that point for every route, the test seeds a few
 * objects, then calls each route once with ids taken from the first item of the matching list
 * endpoint. A route whose handler never got to validate its parameters (e.g. it 404s first on
 * every id the probe could find) fails.
 */

interface SpecOperation {
  parameters?: { name: string; in: string }[];
  requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
}
type Spec = { paths: Record<string, Record<string, SpecOperation>> };

const spec = JSON.parse(readFileSync(resolve(SHARED_STRIPE_DIR, 'spec3.2024-04-10.json'), 'utf8')) as Spec;

/** `/v1/customers/{customer}` and `/v1/customers/:id` both → `/v1/customers/{}`. */
const normalise = (path: string) => path.replace(/\{[^}]+\}/g, '{}').replace(/:[A-Za-z_]\w*/g, '{}');

const specOperations = new Map<string, SpecOperation>();
for (const [path, operations] of Object.entries(spec.paths)) {
  for (const [method, operation] of Object.entries(operations)) specOperations.set(`${method} ${normalise(path)}`, operation);
}

/**
 * Routes absent from the 2024-04-10 spec on purpose:
 * - `payment_pages`: private endpoints the Stripe CLI calls for Checkout triggers (never in the public spec).
 */
const NOT_IN_SPEC: readonly RegExp[] = [
  /^\/v1\/payment_pages(\/|$)/,
  // - `invoice_payments`: added with API 2025-03-31.basil (the SDK's `InvoicePayments.d.ts`: list, retrieve).
  /^\/v1\/invoice_payments(\/|$)/,
  // - API v2 (`/v2/billing/meter_event_session`, `/v2/billing/meter_event_stream`, `/v2/core/events`):
  //   not part of the v1 spec at all; their shapes are checked against the SDK's `V2/**.d.ts` in
  //   `meter-event-stream.test.ts`.
  /^\/v2\//,
];

/**
 * Parameters newer than the 2024-04-10 spec, per route, each checked in the `stripe` package's
 * `.d.ts` (23.1.0). Add an entry only with such evidence.
 */
const NEWER_PARAMS: Readonly<Record<string, readonly string[]>> = {
  // `InvoiceItemCreateParams.pricing` (`pricing[price]`, which replaced `price` in 2025-03-31.basil).
  'post /v1/invoiceitems': ['pricing'],
  // `BillingPortal.ConfigurationCreateParams.name` / `ConfigurationUpdateParams.name`.
  'post /v1/billing_portal/configurations': ['name'],
  'post /v1/billing_portal/configurations/{}': ['name'],
};

/** Parameters the spec declares for an operation: query parameters and form body properties. */
function declaredParams(operation: SpecOperation): Set<string> {
  const names = new Set((operation.parameters ?? []).filter((param) => param.in === 'query').map((param) => param.name));
  for (const name of Object.keys(operation.requestBody?.content?.['application/x-www-form-urlencoded']?.schema?.properties ?? {})) names.add(name);
  return names;
}

const routes = routeTable(RESOURCES);
let emulator: StripeEmulator;

async function api(method: string, path: string, body?: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${emulator.url}${path}`, {
    method: method.toUpperCase(),
    headers: { Authorization: `Bearer ${TEST_KEY}`, ...(body ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) },
    body: body ? new URLSearchParams(body) : undefined,
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Creates a few objects so that list endpoints have ids to probe with; failures are tolerated (modules may be mid-change). */
async function seed(): Promise<void> {
  const customer = await api('post', '/v1/customers', { email: 'probe@example.com' });
  const product = await api('post', '/v1/products', { name: 'Probe' });
  await api('post', '/v1/prices', { product: String(product.json.id), currency: 'usd', unit_amount: '1000' });
  await api('post', '/v1/checkout/sessions', {
    mode: 'payment',
    'line_items[0][price_data][currency]': 'usd',
    'line_items[0][price_data][unit_amount]': '1000',
    'line_items[0][price_data][product_data][name]': 'Probe',
    'line_items[0][quantity]': '1',
    success_url: 'https://example.com/s',
  });
  await api('post', '/v1/billing/meters', { display_name: 'Probe', event_name: 'probe', 'default_aggregation[formula]': 'sum' });
  await api('post', '/v1/webhook_endpoints', { url: 'http://127.0.0.1:9/hook', 'enabled_events[0]': 'customer.created' });
  await api('post', '/v1/payment_methods', { type: 'card', 'card[token]': 'tok_visa' });
  await api('post', '/v1/payment_intents', { amount: '1000', currency: 'usd', customer: String(customer.json.id) });
}

/** A concrete URL for `path`: each `:param` is replaced by the first id of the list endpoint at that prefix, if any. */
async function concretePath(path: string): Promise<string> {
  const segments = path.split('/');
  const out: string[] = [];
  for (const segment of segments) {
    if (!segment.startsWith(':')) {
      out.push(segment);
      continue;
    }
    const listPath = out.join('/');
    const listed = routes.some((entry) => entry.method === 'get' && normalise(entry.path) === normalise(listPath))
      ? await api('get', `${listPath}?limit=1`)
      : null;
    const first = listed?.status === 200 ? (listed.json.data as { id?: string }[] | undefined)?.[0]?.id : undefined;
    out.push(first ?? 'probe_unknown_id');
  }
  return out.join('/');
}

beforeAll(async () => {
  ({ emulator } = await startTestEmulator());
  await seed();
  // Reads first, then writes, then deletions, so that probing one route does not delete another's object.
  const order = { get: 0, post: 1, delete: 2 } as const;
  for (const entry of [...routes].sort((a, b) => order[a.method] - order[b.method])) {
    await api(entry.method, await concretePath(entry.path), entry.method === 'post' ? {} : undefined);
  }
}, 60_000);

afterAll(async () => {
  await emulator.close();
});

const label = (entry: RouteTableEntry) => `${entry.method.toUpperCase()} ${entry.path}`;

describe('OpenAPI conformance (spec 2024-04-10)', () => {
  it('serves at least the routes of this package', () => {
    expect(routes.map(label)).toEqual(expect.arrayContaining(['GET /v1/events', 'POST /v1/billing/meters', 'POST /v1/webhook_endpoints']));
  });

  describe.each(routes.map((entry) => [label(entry), entry] as const))('%s', (_name, entry) => {
    const operation = specOperations.get(`${entry.method} ${normalise(entry.path)}`);
    const allowListed = NOT_IN_SPEC.some((pattern) => pattern.test(entry.path));

    it('exists in Stripe\'s spec (or is allow-listed)', () => {
      expect(operation !== undefined || allowListed, `${label(entry)} is not in spec3.2024-04-10.json`).toBe(true);
    });

    // Allow-listed routes have no spec operation to compare parameters with (their existence is checked above).
    if (!operation) return;
    it('accepts only parameters Stripe declares for it', () => {
      const accepted = acceptedParams(entry.route);
      expect(accepted, `the probe never reached the parameter validation of ${label(entry)}`).toBeDefined();
      if (!accepted) return;
      const declared = declaredParams(operation);
      for (const name of NEWER_PARAMS[`${entry.method} ${normalise(entry.path)}`] ?? []) declared.add(name);
      expect([...accepted].filter((name) => !declared.has(name)), `parameters of ${label(entry)} that Stripe does not declare`).toEqual([]);
      if (entry.method !== 'delete') expect(declared.has('expand'), `${label(entry)}: the router accepts expand[] everywhere`).toBe(true);
    });
  });
});
