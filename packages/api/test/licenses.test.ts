/**
 * Licenses (issue 8 item 6) on both dialects, with subscription mirror rows inserted directly:
 * reconcile (one per seat, seats down revokes the newest, status follows access, canceled
 * revokes, plan changes, no keyring, idempotent, concurrent), the reveal-once list, the admin
 * list, fingerprint reset, and the verify domain function.
 */
import { asc, eq, type Database, type Subscription } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/ids';
import { generateLicenseKey, hashLicenseKey, parseLicenseKey } from '../src/licenses/key';
import { reconcileLicensesForSubscription, reconcileSubscriptionLicenses } from '../src/licenses/reconcile';
import { INVALID_LICENSE, verifyLicense } from '../src/licenses/verify';
import { decryptSecret } from '../src/secrets/encryption';
import { callerFor, ORIGIN, seedTenants, testStripeAccounts, TEST_KEYRING } from './helpers';

const DAY = 24 * 60 * 60 * 1000;
const code = (e: unknown) => (e instanceof TRPCError ? e.code : `not a TRPCError: ${String(e)}`);

describe.each(testDialects)('licenses ($name)', ({ create }) => {
  let db: TestDatabase;
  let db2: Database;
  const accounts = testStripeAccounts(null);
  beforeAll(async () => {
    db = await create();
    db2 = await db.connectAgain();
  });
  afterAll(async () => {
    // destroy() closes connectAgain()'s connections too.
    await db.destroy();
  });

  async function setup() {
    const tenants = await seedTenants(db);
    const plan = async (code: string, issuesLicenses: boolean) => {
      const id = newId();
      await db.q.insert(db.t.plans).values({ id, workspaceId: tenants.workspaceId, code, name: code[0]!.toUpperCase() + code.slice(1), stripePriceId: `price_${code}_${id.slice(0, 8)}`, issuesLicenses });
      return id;
    };
    return { ...tenants, enterprise: await plan('enterprise', true), onprem: await plan('onprem', true), team: await plan('team', false) };
  }
  type Setup = Awaited<ReturnType<typeof setup>>;

  async function insertSub(s: Setup, customerId: string, fields: Partial<Subscription> = {}) {
    const id = newId();
    const now = Date.now();
    await db.q.insert(db.t.subscriptions).values({
      id,
      workspaceId: s.workspaceId,
      customerId,
      stripeSubscriptionId: `sub_${id.replace(/-/g, '')}`,
      stripeCustomerId: `cus_${customerId.replace(/-/g, '').slice(0, 14)}`,
      planId: s.enterprise,
      status: 'active',
      seats: 1,
      currency: 'usd',
      currentPeriodStart: new Date(now - DAY),
      currentPeriodEnd: new Date(now + 29 * DAY),
      ...fields,
    });
    return id;
  }
  const setSub = (id: string, fields: Partial<Subscription>) => db.q.update(db.t.subscriptions).set(fields).where(eq(db.t.subscriptions.id, id));
  const licensesOf = (subscriptionId: string) => db.q.select().from(db.t.licenses).where(eq(db.t.licenses.subscriptionId, subscriptionId)).orderBy(asc(db.t.licenses.sequence));
  const reconcile = (subscriptionId: string, opts: { keyring?: typeof TEST_KEYRING | null; on?: Database; now?: Date } = {}) =>
    reconcileSubscriptionLicenses(opts.on ?? db, { subscriptionId, keyring: opts.keyring === undefined ? TEST_KEYRING : opts.keyring, graceDays: 7, ...(opts.now ? { now: opts.now } : {}) });
  const statuses = async (subscriptionId: string) => (await licensesOf(subscriptionId)).map((l) => `${l.sequence}:${l.status}`);
  /** Open a license's sealed key as the list would. */
  const keyOf = (l: { keyCiphertext: string | null; workspaceId: string }) => decryptSecret({ keyring: TEST_KEYRING, workspaceId: l.workspaceId, sealed: l.keyCiphertext! });

  describe('reconcile', () => {
    it('issues one active license per seat with sealed, hashed keys; a second run changes nothing', async () => {
      const s = await setup();
      const sub = await insertSub(s, s.alice.customerId, { seats: 3 });
      const first = await reconcile(sub);
      expect(first).toMatchObject({ issued: 3, revoked: 0, changed: 0, pending: 0, target: { kind: 'keep', status: 'active' } });
      const rows = await licensesOf(sub);
      expect(rows.map((l) => [l.sequence, l.status, l.planId, l.customerId, l.workspaceId])).toEqual([1, 2, 3].map((n) => [n, 'active', s.enterprise, s.alice.customerId, s.workspaceId]));
      for (const l of rows) {
        const key = keyOf(l);
        expect(parseLicenseKey(key)).toBe(key);
        expect(l.keyHash).toBe(hashLicenseKey(key));
        expect(l.keyLast4).toBe(key.slice(-4));
        expect(l.keyCiphertext).not.toContain(key);
        expect(l.revealedAt).toBeNull();
      }
      expect(new Set(rows.map((l) => l.keyHash)).size).toBe(3);

      const again = await reconcile(sub);
      expect(again).toMatchObject({ issued: 0, revoked: 0, changed: 0 });
      await reconcileLicensesForSubscription(db, { subscriptionId: sub, keyring: TEST_KEYRING, graceDays: 7 });
      expect(await licensesOf(sub)).toEqual(rows);
    });

    it('issues nothing for a plan without licenses, a price with no plan, or an incomplete first payment; an unknown id is a no-op', async () => {
      const s = await setup();
      const team = await insertSub(s, s.alice.customerId, { planId: s.team, seats: 4 });
      const noPlan = await insertSub(s, s.alice.customerId, { planId: null, stripePriceId: 'price_unknown' });
      const incomplete = await insertSub(s, s.alice.customerId, { status: 'incomplete', seats: 2 });
      for (const id of [team, noPlan, incomplete]) await reconcile(id);
      expect([...(await licensesOf(team)), ...(await licensesOf(noPlan)), ...(await licensesOf(incomplete))]).toEqual([]);
      expect(await reconcile(newId())).toBeNull();
      // The first payment succeeds: issued.
      await setSub(incomplete, { status: 'active' });
      await reconcile(incomplete);
      expect(await statuses(incomplete)).toEqual(['1:active', '2:active']);
    });

    it('seats down revokes the newest (erasing their sealed keys); seats up issues new sequences, never un-revokes', async () => {
      const s = await setup();
      const sub = await insertSub(s, s.alice.customerId, { seats: 3 });
      await reconcile(sub);
      await setSub(sub, { seats: 1 });
      expect(await reconcile(sub)).toMatchObject({ revoked: 2, issued: 0 });
      const rows = await licensesOf(sub);
      expect(rows.map((l) => `${l.sequence}:${l.status}`)).toEqual(['1:active', '2:revoked', '3:revoked']);
      expect(rows.map((l) => l.keyCiphertext === null)).toEqual([false, true, true]);
      expect(rows[1]!.revokedAt).toBeInstanceOf(Date);
      await setSub(sub, { seats: 4 });
      expect(await reconcile(sub)).toMatchObject({ issued: 3, revoked: 0 });
      expect(await statuses(sub)).toEqual(['1:active', '2:revoked', '3:revoked', '4:active', '5:active', '6:active']);
      await setSub(sub, { seats: 0 });
      await reconcile(sub);
      expect((await statuses(sub)).filter((x) => x.endsWith('active'))).toEqual([]);
    });

    it('status follows access: past due in grace and after it -> suspended, paid again -> active, unpaid -> suspended, trialing -> active', async () => {
      const s = await setup();
      const sub = await insertSub(s, s.alice.customerId, { seats: 2 });
      await reconcile(sub);
      await setSub(sub, { status: 'past_due', pastDueSince: new Date(Date.now() - DAY) });
      expect(await reconcile(sub)).toMatchObject({ access: { access: 'grace' }, changed: 2 });
      const suspended = await licensesOf(sub);
      expect(suspended.map((l) => l.status)).toEqual(['suspended', 'suspended']);
      expect(suspended[0]!.suspendedAt).toBeInstanceOf(Date);
      // Grace over (time passing): still suspended, nothing rewritten.
      expect(await reconcile(sub, { now: new Date(Date.now() + 10 * DAY) })).toMatchObject({ access: { access: 'none' }, changed: 0 });
      expect(await licensesOf(sub)).toEqual(suspended);
      // Paid: active again, same keys.
      await setSub(sub, { status: 'active', pastDueSince: null });
      expect(await reconcile(sub)).toMatchObject({ changed: 2 });
      const active = await licensesOf(sub);
      expect(active.map((l) => [l.status, l.suspendedAt, l.keyHash])).toEqual(suspended.map((l) => ['active', null, l.keyHash]));
      await setSub(sub, { status: 'unpaid' });
      await reconcile(sub);
      expect(await statuses(sub)).toEqual(['1:suspended', '2:suspended']);
      await setSub(sub, { status: 'trialing', trialEnd: new Date(Date.now() + 3 * DAY) });
      await reconcile(sub);
      expect(await statuses(sub)).toEqual(['1:active', '2:active']);
      // Seats rise while suspended: the new one is suspended too.
      await setSub(sub, { status: 'past_due', pastDueSince: new Date(), seats: 3 });
      await reconcile(sub);
      expect(await statuses(sub)).toEqual(['1:suspended', '2:suspended', '3:suspended']);
    });

    it('canceled or incomplete_expired -> every license revoked, and it stays so', async () => {
      const s = await setup();
      const sub = await insertSub(s, s.alice.customerId, { seats: 2 });
      await reconcile(sub);
      await setSub(sub, { status: 'past_due', pastDueSince: new Date() });
      await reconcile(sub);
      await setSub(sub, { status: 'canceled', canceledAt: new Date() });
      expect(await reconcile(sub)).toMatchObject({ revoked: 2, target: { kind: 'revokeAll', why: 'ended' } });
      expect(await statuses(sub)).toEqual(['1:revoked', '2:revoked']);
      expect((await licensesOf(sub)).every((l) => l.keyCiphertext === null && l.revokedAt)).toBe(true);
      expect(await reconcile(sub)).toMatchObject({ revoked: 0, issued: 0 });

      const expired = await insertSub(s, s.bob.customerId, { status: 'trialing', trialEnd: new Date(Date.now() + DAY) });
      await reconcile(expired);
      await setSub(expired, { status: 'incomplete_expired' });
      await reconcile(expired);
      expect(await statuses(expired)).toEqual(['1:revoked']);
    });

    it('plan changes: licensing -> not licensing revokes, -> licensing issues anew, licensing -> licensing keeps the keys on the new plan', async () => {
      const s = await setup();
      const sub = await insertSub(s, s.alice.customerId, { seats: 2 });
      await reconcile(sub);
      const keys = (await licensesOf(sub)).map((l) => l.keyHash);
      await setSub(sub, { planId: s.onprem });
      expect(await reconcile(sub)).toMatchObject({ changed: 2, issued: 0, revoked: 0 });
      expect((await licensesOf(sub)).map((l) => [l.keyHash, l.planId, l.status])).toEqual(keys.map((k) => [k, s.onprem, 'active']));
      await setSub(sub, { planId: s.team });
      expect(await reconcile(sub)).toMatchObject({ revoked: 2, target: { kind: 'revokeAll', why: 'plan_without_licenses' } });
      await setSub(sub, { planId: s.enterprise });
      expect(await reconcile(sub)).toMatchObject({ issued: 2 });
      const rows = await licensesOf(sub);
      expect(rows.map((l) => `${l.sequence}:${l.status}:${l.planId === s.enterprise ? 'ent' : 'other'}`)).toEqual(['1:revoked:other', '2:revoked:other', '3:active:ent', '4:active:ent']);
    });

    it('without a keyring issues nothing (pending), and a later call with one issues them', async () => {
      const s = await setup();
      const sub = await insertSub(s, s.alice.customerId, { seats: 2 });
      expect(await reconcile(sub, { keyring: null })).toMatchObject({ issued: 0, pending: 2 });
      expect(await licensesOf(sub)).toEqual([]);
      expect(await reconcile(sub)).toMatchObject({ issued: 2, pending: 0 });
      // Revocation works without a keyring.
      await setSub(sub, { status: 'canceled' });
      expect(await reconcile(sub, { keyring: null })).toMatchObject({ revoked: 2 });
    });

    it('concurrent reconciles on two connections issue each seat once', async () => {
      const s = await setup();
      for (const seats of [1, 5]) {
        const sub = await insertSub(s, s.alice.customerId, { seats });
        const outcomes = await Promise.all([reconcile(sub), reconcile(sub, { on: db2 }), reconcile(sub), reconcile(sub, { on: db2 })]);
        expect(outcomes.reduce((n, o) => n + o!.issued, 0)).toBe(seats);
        expect(await statuses(sub)).toEqual(Array.from({ length: seats }, (_, i) => `${i + 1}:active`));
        // And concurrent seat reductions revoke the same newest ones.
        await setSub(sub, { seats: Math.max(0, seats - 2) });
        await Promise.all([reconcile(sub), reconcile(sub, { on: db2 }), reconcile(sub)]);
        expect((await statuses(sub)).filter((x) => x.endsWith(':active'))).toEqual(Array.from({ length: Math.max(0, seats - 2) }, (_, i) => `${i + 1}:active`));
      }
    });
  });

  describe('license.list and license.listForCustomer', () => {
    it('reconciles on read, reveals each full key once, then shows it masked; the sealed key is erased', async () => {
      const s = await setup();
      const sub = await insertSub(s, s.alice.customerId, { seats: 2 });
      const alice = callerFor(db, accounts, s.alice);
      const first = await alice.license.list();
      expect(first).toHaveLength(2);
      const stored = await licensesOf(sub);
      for (const [i, view] of first.entries()) {
        expect(view).toMatchObject({ id: stored[i]!.id, sequence: i + 1, status: 'active', plan: { code: 'enterprise', name: 'Enterprise' }, fingerprintBound: false, lastVerifiedAt: null });
        expect(parseLicenseKey(view.fullKey)).toBe(view.fullKey);
        expect(hashLicenseKey(view.fullKey!)).toBe(stored[i]!.keyHash);
        expect(view.maskedKey).toBe(`TLY-••••-••••-••••-••••-••••-••••-${view.fullKey!.slice(-4)}`);
        expect(view.revealedAt).toBeInstanceOf(Date);
        expect(stored[i]!.keyCiphertext).toBeNull();
        expect(stored[i]!.revealedAt).toBeInstanceOf(Date);
      }
      const second = await alice.license.list({ customerId: s.alice.customerId });
      expect(second.map((v) => v.fullKey)).toEqual([null, null]);
      expect(second.map((v) => v.maskedKey)).toEqual(first.map((v) => v.maskedKey));
      expect(JSON.stringify(second)).not.toContain(first[0]!.fullKey!.slice(4, 18));
    });

    it('two concurrent lists (two connections) reveal each key to exactly one of them', async () => {
      const s = await setup();
      const sub = await insertSub(s, s.alice.customerId, { seats: 3 });
      await reconcile(sub);
      const [a, b, c] = await Promise.all([callerFor(db, accounts, s.alice).license.list(), callerFor(db2, accounts, s.alice).license.list(), callerFor(db, accounts, s.alice).license.list()]);
      for (let i = 0; i < 3; i++) {
        const shown = [a[i]!.fullKey, b[i]!.fullKey, c[i]!.fullKey].filter((k) => k !== null);
        expect(shown).toHaveLength(1);
      }
    });

    it('a revoked license is never revealed; no keyring: the key stays sealed until one is there', async () => {
      const s = await setup();
      const sub = await insertSub(s, s.alice.customerId, { seats: 2 });
      await reconcile(sub);
      await setSub(sub, { seats: 1 });
      const noKeyring = testStripeAccounts(null, { keyring: null });
      const blind = await callerFor(db, noKeyring, s.alice).license.list();
      expect(blind.map((v) => [v.status, v.fullKey])).toEqual([
        ['active', null],
        ['revoked', null],
      ]);
      expect((await licensesOf(sub))[0]!.keyCiphertext).not.toBeNull();
      const seen = await callerFor(db, accounts, s.alice).license.list();
      expect(seen[0]!.fullKey).toMatch(/^TLY-/);
      expect(seen[1]!.fullKey).toBeNull();
    });

    it('customers see only their own licenses; foreign ids are NOT_FOUND, signed out UNAUTHORIZED, bad ids BAD_REQUEST', async () => {
      const s = await setup();
      const sub = await insertSub(s, s.alice.customerId, { seats: 1 });
      await reconcile(sub);
      const [license] = await licensesOf(sub);
      const bob = callerFor(db, accounts, s.bob);
      expect(await bob.license.list()).toEqual([]);
      expect(code(await bob.license.list({ customerId: s.alice.customerId }).catch((e: unknown) => e))).toBe('NOT_FOUND');
      expect(code(await bob.license.resetFingerprint({ licenseId: license!.id }).catch((e: unknown) => e))).toBe('NOT_FOUND');
      expect(code(await bob.license.resetFingerprint({ licenseId: license!.id, customerId: s.alice.customerId }).catch((e: unknown) => e))).toBe('NOT_FOUND');
      expect(code(await callerFor(db, accounts, null).license.list().catch((e: unknown) => e))).toBe('UNAUTHORIZED');
      expect(code(await bob.license.list({ customerId: 'x'.repeat(5000) }).catch((e: unknown) => e))).toBe('BAD_REQUEST');
      expect(code(await bob.license.resetFingerprint({ licenseId: 'not-a-uuid\u0000' }).catch((e: unknown) => e))).toBe('BAD_REQUEST');
      // Alice's key was not revealed by Bob's attempts.
      expect((await callerFor(db, accounts, s.alice).license.list())[0]!.fullKey).toMatch(/^TLY-/);
    });

    it('admins list a customer of their workspace with masked keys only (revealing nothing); another workspace is NOT_FOUND, a customer FORBIDDEN', async () => {
      const s = await setup();
      const other = await setup();
      const sub = await insertSub(s, s.alice.customerId, { seats: 2 });
      const admin = callerFor(db, accounts, s.admin, ORIGIN, s.workspaceId);
      const listed = await admin.license.listForCustomer({ customerId: s.alice.customerId });
      expect(listed).toHaveLength(2);
      for (const v of listed) {
        expect(v).not.toHaveProperty('fullKey');
        expect(v).toMatchObject({ subscriptionId: sub, status: 'active', revealedAt: null, maskedKey: expect.stringMatching(/^TLY-(••••-){6}[0-9A-Z]{4}$/) });
      }
      expect(JSON.stringify(listed)).not.toMatch(/TLY-[0-9A-Z]{4}-/);
      // The customer still gets the keys once.
      expect((await callerFor(db, accounts, s.alice).license.list()).every((v) => v.fullKey !== null)).toBe(true);
      expect((await admin.license.listForCustomer({ customerId: s.alice.customerId })).every((v) => v.revealedAt instanceof Date)).toBe(true);

      expect(code(await admin.license.listForCustomer({ customerId: other.alice.customerId }).catch((e: unknown) => e))).toBe('NOT_FOUND');
      expect(code(await callerFor(db, accounts, other.admin, ORIGIN, other.workspaceId).license.listForCustomer({ customerId: s.alice.customerId }).catch((e: unknown) => e))).toBe('NOT_FOUND');
      expect(code(await callerFor(db, accounts, other.admin, ORIGIN, s.workspaceId).license.listForCustomer({ customerId: s.alice.customerId }).catch((e: unknown) => e))).toBe('FORBIDDEN');
      expect(code(await callerFor(db, accounts, s.alice).license.listForCustomer({ customerId: s.alice.customerId }).catch((e: unknown) => e))).toBe('FORBIDDEN');
      expect(code(await admin.license.listForCustomer({ customerId: 'nope' } as never).catch((e: unknown) => e))).toBe('BAD_REQUEST');
    });
  });

  describe('verifyLicense', () => {
    const verify = (key: unknown, fingerprint?: string, on: Database = db) => verifyLicense(on, { key, fingerprint, keyring: TEST_KEYRING, graceDays: 7 });

    async function issued(s: Setup, fields: Partial<Subscription> = {}) {
      const sub = await insertSub(s, s.alice.customerId, fields);
      await reconcile(sub);
      const [license] = await licensesOf(sub);
      return { sub, license: license!, key: keyOf(license!) };
    }

    it('active: valid with the plan and the period end; updates lastVerifiedAt; typed variants of the key work', async () => {
      const s = await setup();
      const periodEnd = new Date(Math.floor(Date.now() / 1000) * 1000 + 20 * DAY);
      const { license, key } = await issued(s, { currentPeriodEnd: periodEnd });
      expect(await verify(key)).toEqual({ valid: true, status: 'active', plan: 'enterprise', expiresAt: periodEnd.toISOString() });
      expect(await verify(key.toLowerCase().replace(/-/g, ' '))).toMatchObject({ valid: true });
      const [row] = await db.q.select().from(db.t.licenses).where(eq(db.t.licenses.id, license.id));
      expect(row!.lastVerifiedAt).toBeInstanceOf(Date);
    });

    it('trialing: valid, status trialing, expires at the trial end', async () => {
      const s = await setup();
      const trialEnd = new Date(Math.floor(Date.now() / 1000) * 1000 + 5 * DAY);
      const { key } = await issued(s, { status: 'trialing', trialEnd });
      expect(await verify(key)).toEqual({ valid: true, status: 'trialing', plan: 'enterprise', expiresAt: trialEnd.toISOString() });
    });

    it('malformed and unknown keys get the same answer', async () => {
      const s = await setup();
      const { key } = await issued(s);
      const oneOff = key.slice(0, -1) + (key.endsWith('0') ? '1' : '0');
      const answers = await Promise.all([verify(generateLicenseKey()), verify(oneOff), verify(''), verify('TLY'), verify('x'.repeat(10_000)), verify(null), verify(key.slice(0, -5))]);
      for (const a of answers) expect(a).toEqual({ ...INVALID_LICENSE });
      expect(Object.keys(answers[0]!)).toEqual(Object.keys(answers[1]!));
    });

    it('judged live: a past-due mirror not yet reconciled answers suspended; canceled answers revoked without expiry', async () => {
      const s = await setup();
      const { sub, key } = await issued(s);
      await setSub(sub, { status: 'past_due', pastDueSince: new Date(Date.now() - 30 * DAY) });
      expect(await verify(key)).toMatchObject({ valid: false, status: 'suspended', plan: 'enterprise' });
      expect(await statuses(sub)).toEqual(['1:suspended']);
      await setSub(sub, { status: 'active', pastDueSince: null });
      expect(await verify(key)).toMatchObject({ valid: true, status: 'active' });
      await setSub(sub, { status: 'canceled' });
      expect(await verify(key)).toEqual({ valid: false, status: 'revoked', plan: 'enterprise', expiresAt: null });
      // Revoked for good, even if the mirror were to say active again.
      await setSub(sub, { status: 'active' });
      expect(await verify(key)).toMatchObject({ valid: false, status: 'revoked' });
    });

    it('fingerprint: the first one binds; the same passes, another or none is refused with a reason; reset unbinds; concurrent binds: one wins', async () => {
      const s = await setup();
      const { license, key } = await issued(s);
      expect(await verify(key)).toMatchObject({ valid: true });
      expect(await verify(key, 'machine-A')).toEqual({ valid: true, status: 'active', plan: 'enterprise', expiresAt: expect.any(String) });
      expect(await verify(key, 'machine-A')).toMatchObject({ valid: true });
      expect(await verify(key, 'machine-B')).toMatchObject({ valid: false, status: 'active', reason: 'fingerprint_mismatch' });
      expect(await verify(key)).toMatchObject({ valid: false, status: 'active', reason: 'fingerprint_required' });
      const alice = callerFor(db, accounts, s.alice);
      expect((await alice.license.list())[0]!.fingerprintBound).toBe(true);
      expect(await alice.license.resetFingerprint({ licenseId: license.id })).toEqual({ id: license.id, fingerprintBound: false });
      expect(await verify(key, 'machine-B')).toMatchObject({ valid: true });
      expect(await verify(key, 'machine-A')).toMatchObject({ valid: false, reason: 'fingerprint_mismatch' });

      await alice.license.resetFingerprint({ licenseId: license.id });
      const race = await Promise.all(['m1', 'm2', 'm3', 'm4'].map((fp, i) => verify(key, fp, i % 2 ? db2 : db)));
      expect(race.filter((r) => r.valid)).toHaveLength(1);
      expect(race.filter((r) => r.reason === 'fingerprint_mismatch')).toHaveLength(3);
    });

    it('a revoked license binds no fingerprint and reports no fingerprint reason', async () => {
      const s = await setup();
      const { sub, license, key } = await issued(s);
      await setSub(sub, { status: 'canceled' });
      expect(await verify(key, 'machine-A')).toEqual({ valid: false, status: 'revoked', plan: 'enterprise', expiresAt: null });
      const [row] = await db.q.select().from(db.t.licenses).where(eq(db.t.licenses.id, license.id));
      expect(row!.fingerprint).toBeNull();
    });
  });
});
