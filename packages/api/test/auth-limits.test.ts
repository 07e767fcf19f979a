import { eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseRateLimitStorage } from '../src/auth/rate-limit-storage';
import { clearSignInFailures, countSignInAttempt, forgiveSignInAttempt, SIGN_IN_FAILURE_LIMIT, SIGN_IN_FAILURE_WINDOW_MS, signInFailureKey } from '../src/auth/sign-in-throttle';
import { newId } from '../src/ids';
import { silentLogger } from '../src/logger';

describe('signInFailureKey', () => {
  it('is case-insensitive and refuses what cannot be an email', () => {
    expect(signInFailureKey(' Owner@Example.COM ')).toBe('signin-fail:owner@example.com');
    expect(signInFailureKey(42)).toBeNull();
    expect(signInFailureKey('')).toBeNull();
    expect(signInFailureKey(`${'a'.repeat(250)}@x.io`)).toBeNull();
  });
});

describe.each(testDialects)('auth limits in rate_limits ($name)', ({ create }) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await create();
  });
  afterAll(() => db.destroy());
  const row = async (key: string) => (await db.q.select().from(db.t.rateLimits).where(eq(db.t.rateLimits.key, key)))[0];

  it('better-auth storage: max requests per window per key, then a retry-after within the window', async () => {
    const storage = databaseRateLimitStorage({ db, logger: silentLogger, longestWindowSeconds: 60 });
    const rule = { window: 60, max: 3 };
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await storage.consume('203.0.113.7|/sign-in/email', rule));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results[3]!.retryAfter).toBeGreaterThan(0);
    expect(results[3]!.retryAfter).toBeLessThanOrEqual(60);
    expect(await storage.consume('198.51.100.9|/sign-in/email', rule)).toEqual({ allowed: true, retryAfter: null });
    expect(await row('auth:203.0.113.7|/sign-in/email')).toMatchObject({ count: 4 });
  });

  it('better-auth storage: concurrent requests are all counted (one atomic upsert each)', async () => {
    const storage = databaseRateLimitStorage({ db, logger: silentLogger, longestWindowSeconds: 60 });
    const results = await Promise.all(Array.from({ length: 20 }, () => storage.consume('192.0.2.1|/sign-up/email', { window: 60, max: 5 })));
    expect(results.filter((r) => r.allowed)).toHaveLength(5);
  });

  it('pruning removes only expired auth rows, never the other counters sharing the table', async () => {
    const old = Date.now() - 3_600_000;
    const keys = ['auth:192.0.2.50|/sign-in/email', 'signin-fail:old@example.test', 'mail:verify_email:old@example.test', 'mutation-ip:192.0.2.50'];
    for (const key of keys) await db.q.insert(db.t.rateLimits).values({ id: newId(), key, count: 3, lastRequest: old });
    const storage = databaseRateLimitStorage({ db, logger: silentLogger, longestWindowSeconds: 60, pruneEveryMs: 0 });
    await storage.consume('192.0.2.51|/sign-in/email', { window: 60, max: 10 });
    expect(await row(keys[0]!)).toBeUndefined();
    for (const key of keys.slice(1)) expect(await row(key)).toMatchObject({ count: 3 });
    expect(await row('auth:192.0.2.51|/sign-in/email')).toMatchObject({ count: 1 });
  });

  it('failed sign-in throttle: 5 attempts per window, forgiven and cleared on request', async () => {
    const key = signInFailureKey('victim@example.test')!;
    const now = Date.now();
    const attempts = [];
    for (let i = 0; i < SIGN_IN_FAILURE_LIMIT + 1; i++) attempts.push(await countSignInAttempt(db, { key, now }));
    expect(attempts.map((a) => a.allowed)).toEqual([true, true, true, true, true, false]);
    expect(attempts[5]!.retryAfterSeconds).toBe(SIGN_IN_FAILURE_WINDOW_MS / 1000);
    await forgiveSignInAttempt(db, { key });
    await forgiveSignInAttempt(db, { key });
    expect(await countSignInAttempt(db, { key, now })).toMatchObject({ allowed: true });
    // The window passes: counting starts again.
    expect(await countSignInAttempt(db, { key, now: now + SIGN_IN_FAILURE_WINDOW_MS })).toMatchObject({ allowed: true });
    await clearSignInFailures(db, { key });
    expect(await row(key)).toBeUndefined();
  });
});
