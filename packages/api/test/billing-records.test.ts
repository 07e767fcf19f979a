/**
 * Issue 7, item 6: billing records without Stripe — create/list/get, input validation (nothing
 * stored on bad input), overdue derived, tenant and customer isolation, PAID and VOID final,
 * `pay` without Stripe -> CONFLICT while `markPaid` still works, pay links read signed out.
 */
import { and, count, eq, type Database } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInnerContext } from '../src/context';
import { silentLogger } from '../src/logger';
import { appRouter } from '../src/router/index';
import { PAY_TOKEN_PATTERN } from '../src/schemas/billing-records';
import { createCallerFactory } from '../src/trpc';
import { callerFor, countingStripe, ORIGIN, seedTenants, testConfig, testStripeAccounts } from './helpers';

const code = (e: unknown) => (e instanceof TRPCError ? e.code : `not a TRPCError: ${String(e)}`);
const DAY_MS = 24 * 60 * 60 * 1000;
const utc = (offsetDays: number) => new Date(Date.now() + offsetDays * DAY_MS).toISOString().slice(0, 10);

describe.each(testDialects)('billing records ($name)', ({ create }) => {
  let db: TestDatabase;
  let a: Awaited<ReturnType<typeof seedTenants>>;
  let b: Awaited<ReturnType<typeof seedTenants>>;
  /** No Stripe at all (deployment mode `none`, no workspace keys). */
  const noStripe = testStripeAccounts(null);
  beforeAll(async () => {
    db = await create();
    a = await seedTenants(db);
    b = await seedTenants(db);
  });
  afterAll(() => db.destroy());

  const admin = (t = a) => callerFor(db, noStripe, t.admin);
  const recordsOf = (workspaceId: string) => db.q.select().from(db.t.billingRecords).where(eq(db.t.billingRecords.workspaceId, workspaceId));
  const auditCount = async (workspaceId: string) =>
    (await db.q.select({ n: count() }).from(db.t.auditLog).where(eq(db.t.auditLog.workspaceId, workspaceId)))[0]!.n;
  const newRecord = (over: Record<string, unknown> = {}, t = a) =>
    admin(t).billingRecord.create({ customerId: t.alice.customerId, description: 'March retainer', amountMinor: 120_000, dueDate: utc(30), ...over } as never);

  it('create returns the admin view (DUE, pay link) and audits; get and list return it', async () => {
    const view = await newRecord({ description: '  March retainer  ' });
    expect(view).toMatchObject({
      customerId: a.alice.customerId,
      customerName: 'alice',
      description: 'March retainer',
      amountMinor: 120_000,
      currency: 'usd',
      dueDate: utc(30),
      status: 'DUE',
      overdue: false,
      paidAt: null,
      paymentMethod: null,
      stripeCheckoutSessionId: null,
      overpayments: [],
    });
    expect(view.createdAt).toBeInstanceOf(Date);
    const token = view.payUrl!.slice(`${testConfig.webUrl}/pay/`.length);
    expect(view.payUrl).toBe(`${testConfig.webUrl}/pay/${token}`);
    expect(token).toMatch(PAY_TOKEN_PATTERN);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);

    expect(await admin().billingRecord.get({ recordId: view.id, audience: 'admin' })).toEqual(view);
    // The customer's own view has no pay link.
    const mine = await callerFor(db, noStripe, a.alice).billingRecord.get({ recordId: view.id });
    expect(mine).toEqual({ ...view, payUrl: null });
    const listed = await callerFor(db, noStripe, a.alice).billingRecord.list({});
    expect(listed.items.map((i) => i.id)).toContain(view.id);
    expect(listed.items.every((i) => i.payUrl === null)).toBe(true);
    const adminList = await admin().billingRecord.list({ audience: 'admin', customerId: a.alice.customerId });
    expect(adminList.items.find((i) => i.id === view.id)).toEqual(view);

    const [entry] = await db.q
      .select()
      .from(db.t.auditLog)
      .where(and(eq(db.t.auditLog.workspaceId, a.workspaceId), eq(db.t.auditLog.action, 'billing_record.create'), eq(db.t.auditLog.targetId, view.id)));
    expect(entry).toMatchObject({ actorUserId: a.admin.userId, actorLabel: a.admin.email, targetType: 'billing_record', before: null });
    expect(JSON.parse(entry!.after!)).toMatchObject({ amountMinor: 120_000, currency: 'usd', status: 'DUE' });
    expect(entry!.after).not.toContain(token);
  });

  it('currency is lowercased, defaults to the workspace currency; another ISO code is kept', async () => {
    expect((await newRecord({ currency: 'EUR' })).currency).toBe('eur');
    expect((await newRecord({})).currency).toBe('usd');
  });

  it('bad amounts, dates, currencies and descriptions are BAD_REQUEST with nothing stored', async () => {
    const t = await seedTenants(db);
    const bad: Record<string, unknown>[] = [
      { amountMinor: 0 },
      { amountMinor: -1 },
      { amountMinor: 1.5 },
      { amountMinor: 100_000_000 },
      { amountMinor: '100' },
      { amountMinor: undefined },
      { amountMinor: Number.NaN },
      { amountMinor: Number.POSITIVE_INFINITY },
      { dueDate: '2026-02-30' },
      { dueDate: '2026-02-29' },
      { dueDate: '2026-13-01' },
      { dueDate: '2026-1-1' },
      { dueDate: 'tomorrow' },
      { dueDate: '' },
      { dueDate: undefined },
      { dueDate: '2026-01-01T00:00:00Z' },
      { currency: 'us' },
      { currency: 'usdd' },
      { currency: 'zzz' },
      { currency: '12a' },
      { currency: '' },
      { description: '' },
      { description: '   ' },
      { description: 'x'.repeat(501) },
      { description: 'a\u0000b' },
      { customerId: 'not-a-uuid' },
    ];
    for (const over of bad) {
      const err = await newRecord(over, t).catch((e: unknown) => e);
      expect(code(err), JSON.stringify(over)).toBe('BAD_REQUEST');
    }
    expect(await recordsOf(t.workspaceId)).toHaveLength(0);
    expect(await auditCount(t.workspaceId)).toBe(0);
    // The bounds themselves and a leap day are fine.
    await expect(newRecord({ amountMinor: 1, dueDate: '2028-02-29' }, t)).resolves.toMatchObject({ amountMinor: 1, dueDate: '2028-02-29' });
    await expect(newRecord({ amountMinor: 99_999_999 }, t)).resolves.toMatchObject({ amountMinor: 99_999_999 });
  });

  it('overdue is derived: DUE with the due date passed (UTC); list filters by status and overdue', async () => {
    const t = await seedTenants(db);
    const late = await newRecord({ dueDate: utc(-1) }, t);
    const today = await newRecord({ dueDate: utc(0) }, t);
    const paidLate = await newRecord({ dueDate: utc(-3) }, t);
    expect(late.overdue).toBe(true);
    expect(today.overdue).toBe(false);
    const settled = await admin(t).billingRecord.markPaid({ recordId: paidLate.id, method: 'cash', paidOn: utc(0) });
    expect(settled.overdue).toBe(false);

    const ids = async (input: Record<string, unknown>) => (await admin(t).billingRecord.list({ audience: 'admin', ...input })).items.map((i) => i.id).sort();
    expect(await ids({ overdue: true })).toEqual([late.id]);
    expect(await ids({ overdue: false })).toEqual([today.id, paidLate.id].sort());
    expect(await ids({ status: 'PAID' })).toEqual([paidLate.id]);
    expect(await ids({ status: 'DUE' })).toEqual([late.id, today.id].sort());
    // Pages: newest first, cursor continues.
    const first = await admin(t).billingRecord.list({ audience: 'admin', limit: 2 });
    expect(first.items.map((i) => i.id)).toEqual([paidLate.id, today.id]);
    const second = await admin(t).billingRecord.list({ audience: 'admin', limit: 2, cursor: first.nextCursor });
    expect(second).toMatchObject({ items: [{ id: late.id }], nextCursor: null });
  });

  it("another workspace's record is NOT_FOUND for its admin; another customer's for a member; members get FORBIDDEN on admin calls", async () => {
    const record = await newRecord();
    const adminB = admin(b);
    expect(code(await adminB.billingRecord.get({ recordId: record.id, audience: 'admin' }).catch((e) => e))).toBe('NOT_FOUND');
    expect(code(await adminB.billingRecord.get({ recordId: record.id }).catch((e) => e))).toBe('NOT_FOUND');
    expect(code(await adminB.billingRecord.pay({ recordId: record.id }).catch((e) => e))).toBe('NOT_FOUND');
    expect(code(await adminB.billingRecord.markPaid({ recordId: record.id, method: 'cash', paidOn: utc(0) }).catch((e) => e))).toBe('NOT_FOUND');
    expect(code(await adminB.billingRecord.void({ recordId: record.id, reason: 'x' }).catch((e) => e))).toBe('NOT_FOUND');
    expect(code(await adminB.billingRecord.create({ customerId: a.alice.customerId, description: 'x', amountMinor: 100, dueDate: utc(1) }).catch((e) => e))).toBe('NOT_FOUND');
    expect(code(await adminB.billingRecord.list({ audience: 'admin', customerId: a.alice.customerId }).catch((e) => e))).toBe('NOT_FOUND');
    expect((await adminB.billingRecord.list({ audience: 'admin' })).items.map((i) => i.id)).not.toContain(record.id);
    // Admin of B selecting workspace A: not its admin.
    const adminBonA = callerFor(db, noStripe, b.admin, ORIGIN, a.workspaceId);
    expect(code(await adminBonA.billingRecord.get({ recordId: record.id, audience: 'admin' }).catch((e) => e))).toBe('FORBIDDEN');

    const bob = callerFor(db, noStripe, a.bob);
    expect(code(await bob.billingRecord.get({ recordId: record.id }).catch((e) => e))).toBe('NOT_FOUND');
    expect(code(await bob.billingRecord.pay({ recordId: record.id }).catch((e) => e))).toBe('NOT_FOUND');
    expect(code(await bob.billingRecord.list({ customerId: a.alice.customerId }).catch((e) => e))).toBe('NOT_FOUND');
    expect((await bob.billingRecord.list({})).items.map((i) => i.id)).not.toContain(record.id);
    for (const call of [
      () => bob.billingRecord.create({ customerId: a.bob.customerId, description: 'x', amountMinor: 100, dueDate: utc(1) }),
      () => bob.billingRecord.markPaid({ recordId: record.id, method: 'cash', paidOn: utc(0) }),
      () => bob.billingRecord.void({ recordId: record.id, reason: 'x' }),
      () => bob.billingRecord.list({ audience: 'admin' }),
      () => bob.billingRecord.get({ recordId: record.id, audience: 'admin' }),
    ]) {
      expect(code(await call().catch((e) => e))).toBe('FORBIDDEN');
    }
    const anon = callerFor(db, noStripe, null);
    expect(code(await anon.billingRecord.get({ recordId: record.id }).catch((e) => e))).toBe('UNAUTHORIZED');
    expect(code(await anon.billingRecord.pay({ recordId: record.id }).catch((e) => e))).toBe('UNAUTHORIZED');
    expect((await recordsOf(a.workspaceId)).find((r) => r.id === record.id)).toMatchObject({ status: 'DUE', paymentAttempts: 0 });
  });

  it('pay without Stripe configured is CONFLICT (nothing started); markPaid still works and is audited', async () => {
    const record = await newRecord();
    const err = await callerFor(db, noStripe, a.alice).billingRecord.pay({ recordId: record.id }).catch((e: unknown) => e);
    expect(code(err)).toBe('CONFLICT');
    expect((err as TRPCError).message).toContain('Stripe is not configured');
    const payLink = callerFor(db, noStripe, null);
    expect(code(await payLink.payLink.pay({ token: tokenOf(record.payUrl) }).catch((e) => e))).toBe('CONFLICT');
    expect(await db.q.select().from(db.t.billingRecordCheckouts).where(eq(db.t.billingRecordCheckouts.billingRecordId, record.id))).toHaveLength(0);

    const paid = await admin().billingRecord.markPaid({ recordId: record.id, method: 'bank_transfer', reference: ' TRX-991 ', paidOn: utc(0) });
    expect(paid).toMatchObject({ status: 'PAID', paymentMethod: 'bank_transfer', paymentReference: 'TRX-991', manualPaidOn: utc(0), overdue: false });
    expect(paid.paidAt).toBeInstanceOf(Date);
    const [row] = await db.q.select().from(db.t.billingRecords).where(eq(db.t.billingRecords.id, record.id));
    expect(row!.paidByUserId).toBe(a.admin.userId);
    const [entry] = await db.q
      .select()
      .from(db.t.auditLog)
      .where(and(eq(db.t.auditLog.action, 'billing_record.mark_paid'), eq(db.t.auditLog.targetId, record.id)));
    expect(JSON.parse(entry!.before!)).toEqual({ status: 'DUE' });
    expect(JSON.parse(entry!.after!)).toEqual({ status: 'PAID', paymentMethod: 'bank_transfer', paymentReference: 'TRX-991', manualPaidOn: utc(0) });
    // Paid: paying again is refused before Stripe is even looked at.
    expect(code(await callerFor(db, noStripe, a.alice).billingRecord.pay({ recordId: record.id }).catch((e) => e))).toBe('PRECONDITION_FAILED');
  });

  it('markPaid dates: real calendar dates, tomorrow (UTC) at the latest', async () => {
    const record = await newRecord();
    for (const paidOn of ['2026-02-30', 'yesterday', '', utc(2)]) {
      expect(code(await admin().billingRecord.markPaid({ recordId: record.id, method: 'cash', paidOn }).catch((e) => e)), paidOn).toBe('BAD_REQUEST');
    }
    expect(code(await admin().billingRecord.markPaid({ recordId: record.id, method: 'wire' as never, paidOn: utc(0) }).catch((e) => e))).toBe('BAD_REQUEST');
    expect((await recordsOf(a.workspaceId)).find((r) => r.id === record.id)!.status).toBe('DUE');
    await expect(admin().billingRecord.markPaid({ recordId: record.id, method: 'check', paidOn: utc(1) })).resolves.toMatchObject({ status: 'PAID', manualPaidOn: utc(1) });
  });

  it('PAID and VOID are final: markPaid on VOID and void on PAID are PRECONDITION_FAILED', async () => {
    const toVoid = await newRecord();
    const voided = await admin().billingRecord.void({ recordId: toVoid.id, reason: '  Sent twice  ' });
    expect(voided).toMatchObject({ status: 'VOID', voidReason: 'Sent twice', overdue: false });
    expect(voided.voidedAt).toBeInstanceOf(Date);
    expect(code(await admin().billingRecord.markPaid({ recordId: toVoid.id, method: 'cash', paidOn: utc(0) }).catch((e) => e))).toBe('PRECONDITION_FAILED');
    expect(code(await admin().billingRecord.void({ recordId: toVoid.id, reason: 'again' }).catch((e) => e))).toBe('PRECONDITION_FAILED');
    expect(code(await admin().billingRecord.void({ recordId: toVoid.id, reason: '' }).catch((e) => e))).toBe('BAD_REQUEST');

    const toPay = await newRecord();
    await admin().billingRecord.markPaid({ recordId: toPay.id, method: 'other', paidOn: utc(0) });
    expect(code(await admin().billingRecord.void({ recordId: toPay.id, reason: 'oops' }).catch((e) => e))).toBe('PRECONDITION_FAILED');
    expect(code(await admin().billingRecord.markPaid({ recordId: toPay.id, method: 'cash', paidOn: utc(0) }).catch((e) => e))).toBe('PRECONDITION_FAILED');
    expect(code(await callerFor(db, noStripe, a.alice).billingRecord.pay({ recordId: toVoid.id }).catch((e) => e))).toBe('PRECONDITION_FAILED');

    const rows = Object.fromEntries((await recordsOf(a.workspaceId)).map((r) => [r.id, r]));
    expect(rows[toVoid.id]).toMatchObject({ status: 'VOID', paidAt: null, paymentMethod: null });
    expect(rows[toPay.id]).toMatchObject({ status: 'PAID', paymentMethod: 'other', voidedAt: null, voidReason: null });
    const actions = (await db.q.select().from(db.t.auditLog).where(eq(db.t.auditLog.targetId, toVoid.id))).map((e) => e.action).sort();
    expect(actions).toEqual(['billing_record.create', 'billing_record.void']);
  });

  it('concurrent markPaid and void: exactly one wins', async () => {
    const record = await newRecord();
    const results = await Promise.allSettled([
      admin().billingRecord.markPaid({ recordId: record.id, method: 'cash', paidOn: utc(0) }),
      admin().billingRecord.void({ recordId: record.id, reason: 'race' }),
      admin().billingRecord.markPaid({ recordId: record.id, method: 'check', paidOn: utc(0) }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(code(r.reason)).toBe('PRECONDITION_FAILED');
    const audits = await db.q.select().from(db.t.auditLog).where(eq(db.t.auditLog.targetId, record.id));
    expect(audits).toHaveLength(2);
  });

  it('pay link: read signed out (no emails, no ids); malformed tokens never reach the database; unknown ones are NOT_FOUND', async () => {
    const record = await newRecord({ description: 'April retainer', dueDate: utc(-2) });
    const anon = callerFor(db, noStripe, null);
    const shown = await anon.payLink.get({ token: tokenOf(record.payUrl) });
    expect(shown).toEqual({
      workspaceName: 'Acme',
      customerName: 'alice',
      description: 'April retainer',
      amountMinor: 120_000,
      currency: 'usd',
      dueDate: utc(-2),
      status: 'DUE',
      overdue: true,
    });
    expect(JSON.stringify(shown)).not.toContain('@');

    const untouchable = callerWithoutDatabase(db);
    for (const token of ['', 'short', `${tokenOf(record.payUrl)}x`, `${'a'.repeat(42)}=`, `${'a'.repeat(42)}\u0000`, 'a'.repeat(10_000)]) {
      expect(code(await untouchable.payLink.get({ token }).catch((e) => e))).toBe('BAD_REQUEST');
      expect(code(await untouchable.payLink.pay({ token }).catch((e) => e))).toBe('BAD_REQUEST');
    }
    expect(code(await untouchable.payLink.get({ token: 42 as never }).catch((e) => e))).toBe('BAD_REQUEST');
    const unknown = 'A'.repeat(43);
    expect(code(await anon.payLink.get({ token: unknown }).catch((e) => e))).toBe('NOT_FOUND');
    expect(code(await anon.payLink.pay({ token: unknown }).catch((e) => e))).toBe('NOT_FOUND');
  });

  it('pay requires an allowed Origin (FORBIDDEN, nothing started)', async () => {
    const record = await newRecord();
    const { stripe, calls } = countingStripe();
    const evil = callerFor(db, testStripeAccounts(stripe), a.alice, 'https://evil.example');
    expect(code(await evil.billingRecord.pay({ recordId: record.id }).catch((e) => e))).toBe('FORBIDDEN');
    expect(code(await callerFor(db, testStripeAccounts(stripe), null, null).payLink.pay({ token: tokenOf(record.payUrl) }).catch((e) => e))).toBe('FORBIDDEN');
    expect(calls).toEqual([]);
    expect((await recordsOf(a.workspaceId)).find((r) => r.id === record.id)!.paymentAttempts).toBe(0);
  });

  it('a Stripe failure is BAD_GATEWAY with the generic message, and the checkout is marked failed', async () => {
    const record = await newRecord();
    const { stripe } = countingStripe(); // every call fails
    const err = await callerFor(db, testStripeAccounts(stripe), a.alice).billingRecord.pay({ recordId: record.id }).catch((e: unknown) => e);
    expect(code(err)).toBe('BAD_GATEWAY');
    expect((err as TRPCError).message).toBe('Payments are unavailable right now');
    const checkouts = await db.q.select().from(db.t.billingRecordCheckouts).where(eq(db.t.billingRecordCheckouts.billingRecordId, record.id));
    expect(checkouts).toMatchObject([{ attempt: 1, status: 'failed', stripeCheckoutSessionId: null }]);
  });
});

function tokenOf(payUrl: string | null): string {
  return payUrl!.slice(payUrl!.lastIndexOf('/') + 1);
}

/** A caller whose database throws on any query: proves input checks run before the database. */
function callerWithoutDatabase(db: Database) {
  const trap = new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'q' || prop === 'transaction') throw new Error('the database must not be queried');
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  return createCallerFactory(appRouter)(
    createInnerContext({ db: trap, stripeAccounts: testStripeAccounts(null), config: testConfig, logger: silentLogger, actor: null, origin: ORIGIN }),
  );
}
