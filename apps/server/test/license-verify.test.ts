/**
 * `POST /api/v1/licenses/verify` through the real Express app on both dialects: answers for
 * valid, trialing, suspended, revoked, malformed and unknown keys, fingerprint binding, the
 * per-IP and per-key limits (429 with Retry-After, counted in the shared table), 415, 413,
 * 400, 405, and that the key is never logged nor stored in `rate_limits`.
 */
import { recordingLogger } from '@tally/api';
import { asc, eq, type Subscription } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../../packages/api/src/ids';
import { generateLicenseKey } from '../../../packages/api/src/licenses/key';
import { reconcileLicensesForSubscription } from '../../../packages/api/src/licenses/reconcile';
import { decryptSecret } from '../../../packages/api/src/secrets/encryption';
import { seedTenants } from '../../../packages/api/test/helpers';
import { startServer, TEST_KEYRING } from './harness';

const DAY = 24 * 60 * 60 * 1000;
const INVALID = { valid: false, status: 'invalid', plan: null, expiresAt: null };

describe.each(testDialects)('license verify endpoint ($name)', ({ create }) => {
  let db: TestDatabase;
  let server: Awaited<ReturnType<typeof startServer>>;
  const logger = recordingLogger();
  let tenants: Awaited<ReturnType<typeof seedTenants>>;
  let enterprise: string;
  let ipSeq = 0;
  /** A fresh client IP (X-Forwarded-For, trusted from loopback), so tests do not share the per-IP count. */
  const newIp = () => `203.0.113.${(++ipSeq % 250) + 1}`;
  const revealedKeys: string[] = [];

  beforeAll(async () => {
    db = await create();
    server = await startServer(db, { logger, trustProxy: ['loopback'] });
    tenants = await seedTenants(db);
    enterprise = newId();
    await db.q.insert(db.t.plans).values({ id: enterprise, workspaceId: tenants.workspaceId, code: 'enterprise', name: 'Enterprise', stripePriceId: 'price_enterprise_v', issuesLicenses: true });
  });
  afterEach(async () => {
    await db.q.delete(db.t.rateLimits);
  });
  afterAll(async () => {
    // Nothing logged or stored for limits ever holds a key.
    const logs = JSON.stringify(logger.records);
    for (const key of revealedKeys) expect(logs).not.toContain(key.slice(4, 18));
    await server.close();
    await db.destroy();
  });

  /** A subscription mirror row with licenses issued by reconcile; returns its keys (opened as the list would). */
  async function licensed(fields: Partial<Subscription> = {}) {
    const id = newId();
    const now = Date.now();
    await db.q.insert(db.t.subscriptions).values({
      id,
      workspaceId: tenants.workspaceId,
      customerId: tenants.alice.customerId,
      stripeSubscriptionId: `sub_${id.replace(/-/g, '')}`,
      stripeCustomerId: 'cus_verifytest',
      planId: enterprise,
      status: 'active',
      seats: 1,
      currentPeriodStart: new Date(now - DAY),
      currentPeriodEnd: new Date(Math.floor(now / 1000) * 1000 + 20 * DAY),
      ...fields,
    });
    await reconcileLicensesForSubscription(db, { subscriptionId: id, keyring: TEST_KEYRING, graceDays: 7 });
    const rows = await db.q.select().from(db.t.licenses).where(eq(db.t.licenses.subscriptionId, id)).orderBy(asc(db.t.licenses.sequence));
    const keys = rows.map((l) => decryptSecret({ keyring: TEST_KEYRING, workspaceId: l.workspaceId, sealed: l.keyCiphertext! }));
    revealedKeys.push(...keys);
    return { subscriptionId: id, key: keys[0]!, licenseId: rows[0]!.id, periodEnd: (await db.q.select().from(db.t.subscriptions).where(eq(db.t.subscriptions.id, id)))[0]!.currentPeriodEnd! };
  }
  const setSub = (id: string, fields: Partial<Subscription>) => db.q.update(db.t.subscriptions).set(fields).where(eq(db.t.subscriptions.id, id));

  async function verify(body: unknown, { ip = newIp(), contentType = 'application/json', raw }: { ip?: string; contentType?: string | null; raw?: string } = {}) {
    const res = await fetch(`${server.url}/api/v1/licenses/verify`, {
      method: 'POST',
      headers: { ...(contentType ? { 'content-type': contentType } : {}), 'x-forwarded-for': ip },
      body: raw ?? JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null, headers: res.headers };
  }

  it('answers a valid key with its plan and period end, in any typed form; sets lastVerifiedAt; never cached', async () => {
    const { key, licenseId, periodEnd } = await licensed();
    const ok = await verify({ key });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ valid: true, status: 'active', plan: 'enterprise', expiresAt: periodEnd.toISOString() });
    expect(ok.headers.get('cache-control')).toBe('no-store');
    expect(ok.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect((await verify({ key: key.toLowerCase().replace(/-/g, '') })).body).toMatchObject({ valid: true });
    expect((await verify({ key: ` ${key.replace(/-/g, ' ')} `, extra: 'ignored' })).body).toMatchObject({ valid: true });
    const [row] = await db.q.select().from(db.t.licenses).where(eq(db.t.licenses.id, licenseId));
    expect(row!.lastVerifiedAt).toBeInstanceOf(Date);
  });

  it('answers malformed and unknown keys identically (200, same body)', async () => {
    const { key } = await licensed();
    const flipped = key.slice(0, 5) + (key[5] === 'A' ? 'B' : 'A') + key.slice(6);
    const candidates = [generateLicenseKey(), flipped, key.slice(0, -1), `${key}0`, '', 'garbage', 'x'.repeat(3000), 'TLY-0000-0000', '\u0000'.repeat(30), key.replace('TLY', 'TLX')];
    const answers = await Promise.all(candidates.map((k) => verify({ key: k })));
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.body).toEqual(INVALID);
      expect(Object.keys(a.body!)).toEqual(Object.keys(INVALID));
    }
  });

  it('trialing is valid until the trial end; past due is suspended; paid again is active; canceled is revoked', async () => {
    const trialEnd = new Date(Math.floor(Date.now() / 1000) * 1000 + 5 * DAY);
    const trial = await licensed({ status: 'trialing', trialEnd });
    expect((await verify({ key: trial.key })).body).toEqual({ valid: true, status: 'trialing', plan: 'enterprise', expiresAt: trialEnd.toISOString() });

    const sub = await licensed();
    await setSub(sub.subscriptionId, { status: 'past_due', pastDueSince: new Date(Date.now() - DAY) });
    expect((await verify({ key: sub.key })).body).toEqual({ valid: false, status: 'suspended', plan: 'enterprise', expiresAt: sub.periodEnd.toISOString() });
    // Grace over (a week later): still suspended.
    await setSub(sub.subscriptionId, { pastDueSince: new Date(Date.now() - 8 * DAY) });
    expect((await verify({ key: sub.key })).body).toMatchObject({ valid: false, status: 'suspended' });
    await setSub(sub.subscriptionId, { status: 'active', pastDueSince: null });
    expect((await verify({ key: sub.key })).body).toMatchObject({ valid: true, status: 'active' });
    await setSub(sub.subscriptionId, { status: 'canceled', canceledAt: new Date() });
    expect((await verify({ key: sub.key })).body).toEqual({ valid: false, status: 'revoked', plan: 'enterprise', expiresAt: null });
  });

  it('a license revoked by a seat reduction answers revoked while the remaining seat stays valid', async () => {
    const sub = await licensed({ seats: 2 });
    const rows = await db.q.select().from(db.t.licenses).where(eq(db.t.licenses.subscriptionId, sub.subscriptionId)).orderBy(asc(db.t.licenses.sequence));
    const second = decryptSecret({ keyring: TEST_KEYRING, workspaceId: rows[1]!.workspaceId, sealed: rows[1]!.keyCiphertext! });
    revealedKeys.push(second);
    await setSub(sub.subscriptionId, { seats: 1 });
    expect((await verify({ key: second })).body).toMatchObject({ valid: false, status: 'revoked' });
    expect((await verify({ key: sub.key })).body).toMatchObject({ valid: true, status: 'active' });
  });

  it('binds the first fingerprint; another one or none is refused with a reason; bad fingerprints are 400', async () => {
    const { key } = await licensed();
    expect((await verify({ key, fingerprint: 'host-a:5f3e' })).body).toMatchObject({ valid: true, status: 'active' });
    expect((await verify({ key, fingerprint: 'host-a:5f3e' })).body).toMatchObject({ valid: true });
    expect((await verify({ key, fingerprint: 'host-b:0000' })).body).toMatchObject({ valid: false, status: 'active', reason: 'fingerprint_mismatch' });
    expect((await verify({ key })).body).toMatchObject({ valid: false, status: 'active', reason: 'fingerprint_required' });
    for (const fingerprint of ['', 'x'.repeat(201), 'line\nbreak', 'tab\there', 'caf\u00e9', '\u0000', 42, null, ['a']]) {
      const r = await verify({ key, fingerprint });
      expect(r.status, JSON.stringify(fingerprint)).toBe(400);
      expect(String(r.body?.error)).toMatch(/fingerprint/);
    }
    expect((await verify({ key, fingerprint: 'x'.repeat(200) })).body).toMatchObject({ valid: false, reason: 'fingerprint_mismatch' });
  });

  it('limits each key to 10 checks a minute whatever the IP and the typed form: 429 JSON with Retry-After; other keys are unaffected', async () => {
    const { key } = await licensed();
    const forms = [key, key.toLowerCase(), key.replace(/-/g, '')];
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await verify({ key: forms[i % 3] })).status);
    expect(statuses).toEqual(Array(10).fill(200));
    const limited = await verify({ key: forms[1] });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(limited.body).toMatchObject({ error: expect.stringMatching(/Too many/), retryAfterSeconds: Number(limited.headers.get('retry-after')) });
    expect(limited.headers.get('ratelimit')).toContain('"license-verify-per-key"; r=0');
    expect(limited.headers.get('ratelimit-policy')).toContain('"license-verify-per-key"; q=10; w=60');
    // Unknown keys are limited the same way (nothing tells them apart).
    const unknown = generateLicenseKey();
    for (let i = 0; i < 10; i++) expect((await verify({ key: unknown })).status).toBe(200);
    expect((await verify({ key: unknown })).status).toBe(429);
    expect((await verify({ key: (await licensed()).key })).status).toBe(200);

    const stored = (await db.q.select({ key: db.t.rateLimits.key }).from(db.t.rateLimits)).map((r) => r.key);
    expect(stored.some((k) => k.startsWith('lic-key:'))).toBe(true);
    for (const k of stored) {
      expect(k).not.toContain(key.slice(4, 18));
      expect(k).not.toContain(key.replace(/-/g, '').slice(3, 17));
      expect(k).not.toContain(unknown.slice(4, 18));
    }
  });

  it('limits each client IP to 60 checks a minute (junk counts); another IP is unaffected', async () => {
    const ip = '198.51.100.7';
    const statuses: number[] = [];
    for (let i = 0; i < 59; i++) statuses.push((await verify({ key: generateLicenseKey() }, { ip })).status);
    statuses.push((await verify(null, { ip, contentType: 'text/plain', raw: 'hello' })).status);
    expect(statuses.slice(0, 59)).toEqual(Array(59).fill(200));
    expect(statuses[59]).toBe(415);
    const limited = await verify({ key: generateLicenseKey() }, { ip });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(limited.headers.get('ratelimit')).toContain('"license-verify-per-ip"; r=0');
    expect(limited.body).toMatchObject({ retryAfterSeconds: expect.any(Number) });
    expect((await verify({ key: generateLicenseKey() }, { ip: '198.51.100.8' })).status).toBe(200);
  });

  it('refuses other media types (415), oversized bodies (413, declared or chunked), bad JSON and shapes (400), other methods (405)', async () => {
    const { key } = await licensed();
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', null]) {
      const r = await verify({ key }, { contentType });
      expect(r.status, String(contentType)).toBe(415);
      expect(r.body).toMatchObject({ error: expect.stringMatching(/JSON/), requestId: expect.any(String) });
    }
    expect((await verify({ key }, { contentType: 'application/json; charset=utf-8' })).status).toBe(200);

    const big = await verify({ key, pad: 'x'.repeat(5000) });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ error: 'Body larger than 4096 bytes' });
    const payload = JSON.stringify({ key, pad: 'y'.repeat(6000) });
    const chunked = await fetch(`${server.url}/api/v1/licenses/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': newIp() },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < payload.length; i += 1000) controller.enqueue(new TextEncoder().encode(payload.slice(i, i + 1000)));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect((await verify({ key, pad: 'z'.repeat(3500) })).status).toBe(200);

    const badJson = await verify(null, { raw: `{"key": "${key}", ` });
    expect(badJson.status).toBe(400);
    expect(badJson.body).toMatchObject({ error: 'Body is not valid JSON' });
    expect(JSON.stringify(badJson.body)).not.toContain(key.slice(4, 18));
    for (const body of [{}, { key: 42 }, { key: null }, [key], { fingerprint: 'a' }]) {
      const r = await verify(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body).toMatchObject({ error: expect.any(String), requestId: expect.any(String) });
    }
    expect((await verify(null, { raw: `"${key}"` })).status).toBe(400);

    const get = await fetch(`${server.url}/api/v1/licenses/verify`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });
});
