/**
 * `GET /api/v1/customers/:customerId/access` over real HTTP against the real app (issue 8
 * item 4): workspace API keys only (401 for anything else), 400 for a bad id, 404 for another
 * workspace's customer, and every access level as `accessForCustomer` derives it from the
 * subscriptions mirror (rows inserted directly), with TALLY_DUNNING_GRACE_DAYS. Both dialects.
 */
import type { AddressInfo } from 'node:net';
import { createApiKey, recordingLogger, revokeApiKey, type Services } from '@tally/api';
import { eq, type Subscription } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../../packages/api/src/ids';
import { seedTenants } from '../../../packages/api/test/helpers';
import { customerAccessRoutes } from '../src/http/customer-access';
import { errorHandler } from '../src/http/errors';
import { serverStripeAccounts, startServer, testApiConfig } from './harness';

const DAY_MS = 86_400_000;
const GRACE_DAYS = 5;

type Server = Awaited<ReturnType<typeof startServer>>;

describe.each(testDialects)('customer access API ($name)', ({ create }) => {
  let db: TestDatabase;
  let server: Server;
  let acme: Awaited<ReturnType<typeof seedTenants>>;
  let globex: Awaited<ReturnType<typeof seedTenants>>;
  let acmeKey: string;
  let globexKey: string;
  let teamPlanId: string;

  beforeAll(async () => {
    db = await create();
    server = await startServer(db, { config: { dunningGraceDays: GRACE_DAYS } });
    acme = await seedTenants(db);
    globex = await seedTenants(db);
    acmeKey = (await createApiKey(db, { workspaceId: acme.workspaceId, name: 'acme backend', mode: 'test' })).key;
    globexKey = (await createApiKey(db, { workspaceId: globex.workspaceId, name: 'globex backend', mode: 'live' })).key;
    teamPlanId = newId();
    await db.q.insert(db.t.plans).values({ id: teamPlanId, workspaceId: acme.workspaceId, code: 'team', name: 'Team', stripePriceId: 'price_team' });
  });
  afterAll(async () => {
    await server?.close();
    await db?.destroy();
  });

  const get = (customerId: string, headers: Record<string, string> = {}, query = '') => fetch(`${server.url}/api/v1/customers/${customerId}/access${query}`, { headers });
  const withKey = (customerId: string, key = acmeKey) => get(customerId, { authorization: `Bearer ${key}` });

  /** A new customer of Acme with one subscription mirror row (or none). */
  async function customerWith(sub: Partial<Subscription> | null) {
    const customerId = newId();
    await db.q.insert(db.t.customers).values({ id: customerId, workspaceId: acme.workspaceId, name: 'C', email: `c-${customerId}@example.test` });
    if (sub) {
      await db.q.insert(db.t.subscriptions).values({
        id: newId(),
        workspaceId: acme.workspaceId,
        customerId,
        stripeSubscriptionId: `sub_${newId().replace(/-/g, '')}`,
        stripeCustomerId: `cus_${customerId.replace(/-/g, '')}`,
        planId: teamPlanId,
        status: 'active',
        ...sub,
      });
    }
    return customerId;
  }

  it('401 JSON for a missing, malformed, unknown or revoked key, and for credentials anywhere but the Authorization header', async () => {
    const customerId = acme.alice.customerId;
    const revoked = await createApiKey(db, { workspaceId: acme.workspaceId, name: 'old', mode: 'test' });
    await revokeApiKey(db, { workspaceId: acme.workspaceId, keyId: revoked.id });
    const cases: Array<[string, Record<string, string>, string?]> = [
      ['no header', {}],
      ['Basic', { authorization: `Basic ${Buffer.from(`${acmeKey}:`).toString('base64')}` }],
      ['Bearer without a key', { authorization: 'Bearer' }],
      ['Bearer and spaces', { authorization: 'Bearer    ' }],
      ['two tokens', { authorization: `Bearer ${acmeKey} ${acmeKey}` }],
      ['the key without a scheme', { authorization: acmeKey }],
      ['a short key', { authorization: 'Bearer tly_test_abc' }],
      ['a Stripe key', { authorization: `Bearer sk_test_${'a'.repeat(43)}` }],
      ['unknown, well formed', { authorization: `Bearer tly_test_${'A'.repeat(43)}` }],
      ['one character off', { authorization: `Bearer ${acmeKey.slice(0, -1)}${acmeKey.endsWith('x') ? 'y' : 'x'}` }],
      ['revoked', { authorization: `Bearer ${revoked.key}` }],
      ['huge', { authorization: `Bearer ${'a'.repeat(8000)}` }],
      ['cookie', { cookie: `tally_api_key=${acmeKey}` }],
      ['query string', {}, `?api_key=${acmeKey}`],
    ];
    for (const [label, headers, query] of cases) {
      const res = await get(customerId, headers, query);
      expect(res.status, label).toBe(401);
      expect(res.headers.get('content-type'), label).toMatch(/^application\/json/);
      expect(res.headers.get('cache-control'), label).toBe('no-store');
      expect(res.headers.get('www-authenticate'), label).toMatch(/^Bearer realm="tally"/);
      const body = (await res.json()) as { error: string };
      expect(Object.keys(body), label).toEqual(['error']);
      expect(body.error, label).toMatch(/API key|Authorization/);
      // Never an echo of what was sent.
      expect(JSON.stringify(body), label).not.toContain(acmeKey.slice(12));
    }
    // The scheme is case-insensitive (RFC 9110 §11.1).
    expect((await get(customerId, { authorization: `bearer ${acmeKey}` })).status).toBe(200);
  });

  it('400 for an id that is not a Tally customer id, checked after the key', async () => {
    for (const bad of ['not-a-uuid', '123', `${acme.alice.customerId}x`, '%00', encodeURIComponent("'; drop table customers; --"), 'a'.repeat(300), `${acme.alice.customerId.slice(0, -1)}%00`]) {
      const res = await withKey(bad);
      expect(res.status, bad).toBe(400);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.json()).toEqual({ error: 'customerId must be a Tally customer id (a UUID)' });
    }
    // Without a key the same request is 401: nothing about the id is said to strangers.
    expect((await get('not-a-uuid')).status).toBe(401);
  });

  it("404 for another workspace's customer and for an unknown one; each key sees only its workspace", async () => {
    for (const [customerId, key] of [
      [globex.alice.customerId, acmeKey],
      [acme.alice.customerId, globexKey],
      [newId(), acmeKey],
    ] as const) {
      const res = await withKey(customerId, key);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: 'Customer not found' });
    }
    expect((await withKey(globex.alice.customerId, globexKey)).status).toBe(200);
  });

  it('200 with no subscription: access none', async () => {
    const res = await withKey(acme.bob.customerId);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.json()).toEqual({ customerId: acme.bob.customerId, access: 'none', reason: 'no_subscription', message: 'No subscription', until: null, status: null, subscription: null });
  });

  it('200 with every access level from the mirror, past due within and after the grace days', async () => {
    const now = Date.now();
    const periodEnd = new Date(now + 20 * DAY_MS);
    const trialEnd = new Date(now + 10 * DAY_MS);
    const within = new Date(now - 2 * DAY_MS);
    const after = new Date(now - (GRACE_DAYS + 1) * DAY_MS);
    const cases: Array<[string, Partial<Subscription>, Record<string, unknown>]> = [
      ['active', { status: 'active', currentPeriodEnd: periodEnd }, { access: 'active', reason: 'active', until: null, status: 'active' }],
      ['canceling', { status: 'active', currentPeriodEnd: periodEnd, cancelAtPeriodEnd: true }, { access: 'active', reason: 'active_until_period_end', until: periodEnd.toISOString() }],
      ['trialing', { status: 'trialing', trialEnd, currentPeriodEnd: trialEnd }, { access: 'trialing', reason: 'trialing', until: trialEnd.toISOString(), status: 'trialing' }],
      ['past due, in grace', { status: 'past_due', pastDueSince: within }, { access: 'grace', reason: 'past_due_grace', until: new Date(within.getTime() + GRACE_DAYS * DAY_MS).toISOString(), status: 'past_due' }],
      ['past due, grace over', { status: 'past_due', pastDueSince: after }, { access: 'none', reason: 'past_due_grace_expired', until: new Date(after.getTime() + GRACE_DAYS * DAY_MS).toISOString(), status: 'past_due' }],
      ['unpaid', { status: 'unpaid' }, { access: 'none', reason: 'unpaid', status: 'unpaid' }],
      ['canceled', { status: 'canceled', canceledAt: new Date(now - DAY_MS) }, { access: 'none', reason: 'canceled', status: 'canceled' }],
      ['incomplete_expired', { status: 'incomplete_expired' }, { access: 'none', reason: 'incomplete_expired' }],
    ];
    for (const [label, sub, expected] of cases) {
      const customerId = await customerWith(sub);
      const res = await withKey(customerId);
      expect(res.status, label).toBe(200);
      const body = (await res.json()) as Record<string, unknown> & { subscription: Record<string, unknown> };
      expect(body, label).toMatchObject({ customerId, ...expected });
      expect(typeof body.message, label).toBe('string');
      expect(body.subscription, label).toEqual({
        id: expect.stringMatching(/^sub_/),
        plan: 'team',
        status: sub.status,
        currentPeriodEnd: sub.currentPeriodEnd?.toISOString() ?? null,
        trialEnd: sub.trialEnd?.toISOString() ?? null,
        cancelAtPeriodEnd: sub.cancelAtPeriodEnd ?? false,
      });
    }
  });

  it('a test-clock customer is judged at its clock; a price no plan has reads plan null; an upper-case id is the same customer', async () => {
    const clockId = `clock_${newId().replace(/-/g, '')}`;
    const frozen = new Date(Date.now() - 30 * DAY_MS);
    await db.q.insert(db.t.stripeTestClocks).values({ workspaceId: acme.workspaceId, stripeTestClockId: clockId, frozenTime: frozen });
    // Past due 31 days ago by the wall clock, 1 day by the test clock: still in grace.
    const customerId = await customerWith({ status: 'past_due', pastDueSince: new Date(frozen.getTime() - DAY_MS), stripeTestClockId: clockId, planId: null, stripePriceId: 'price_elsewhere' });
    const res = await withKey(customerId.toUpperCase());
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ customerId, access: 'grace', reason: 'past_due_grace', subscription: { plan: null, status: 'past_due' } });
  });

  it('records when the key was last used', async () => {
    const created = await createApiKey(db, { workspaceId: acme.workspaceId, name: 'fresh', mode: 'test' });
    const lastUsed = async () => (await db.q.select({ at: db.t.apiKeys.lastUsedAt }).from(db.t.apiKeys).where(eq(db.t.apiKeys.id, created.id)))[0]!.at;
    expect(await lastUsed()).toBeNull();
    expect((await withKey(acme.alice.customerId, created.key)).status).toBe(200);
    expect((await lastUsed())!.getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('only GET: other methods are not this route', async () => {
    const res = await fetch(`${server.url}/api/v1/customers/${acme.alice.customerId}/access`, { method: 'POST', headers: { authorization: `Bearer ${acmeKey}` } });
    expect(res.status).toBe(404);
  });

  it('rate limited per key across processes (the rate_limits table): 429 JSON over the limit, other keys unaffected', async () => {
    const services: Services = { db, stripeAccounts: serverStripeAccounts(), config: { ...testApiConfig, dunningGraceDays: GRACE_DAYS }, logger: recordingLogger() };
    const start = async () => {
      const app = express();
      app.use(customerAccessRoutes(services, { perKey: { limit: 3, windowMs: 60_000 } }));
      app.use(errorHandler({ logger: services.logger }));
      const listener = app.listen(0, '127.0.0.1');
      await new Promise<void>((resolve) => listener.once('listening', () => resolve()));
      return { url: `http://127.0.0.1:${(listener.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => listener.close(() => resolve())) };
    };
    // Two "processes" sharing the database.
    const [one, two] = await Promise.all([start(), start()]);
    try {
      const limited = (await createApiKey(db, { workspaceId: acme.workspaceId, name: 'busy', mode: 'test' })).key;
      const call = (url: string, key: string) => fetch(`${url}/api/v1/customers/${acme.alice.customerId}/access`, { headers: { authorization: `Bearer ${key}` } });
      const statuses = [];
      for (const url of [one.url, two.url, one.url, two.url]) statuses.push((await call(url, limited)).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const refused = await call(one.url, limited);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('cache-control')).toBe('no-store');
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(((await refused.json()) as { error: string }).error).toMatch(/^Too many requests for this API key; try again in \d+ s$/);
      const other = (await createApiKey(db, { workspaceId: acme.workspaceId, name: 'quiet', mode: 'test' })).key;
      expect((await call(two.url, other)).status).toBe(200);
      // Bad keys are refused before the limiter: they never fill anyone's window.
      expect((await call(one.url, `tly_test_${'B'.repeat(43)}`)).status).toBe(401);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});
