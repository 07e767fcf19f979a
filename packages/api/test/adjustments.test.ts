import { and, eq, sql } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/ids';
import { callerFor, countingStripe, seedTenants } from './helpers';

const code = (e: unknown) => (e instanceof TRPCError ? e.code : `not a TRPCError: ${String(e)}`);
const fail = async (p: Promise<unknown>) => code(await p.then(() => 'resolved', (e: unknown) => e));

describe.each(testDialects)('balance adjustments ($name)', ({ create }) => {
  let db: TestDatabase;
  let acme: Awaited<ReturnType<typeof seedTenants>>;
  let globex: Awaited<ReturnType<typeof seedTenants>>;
  const { stripe } = countingStripe();
  const admin = () => callerFor(db, stripe, acme.admin);

  beforeAll(async () => {
    db = await create();
    acme = await seedTenants(db);
    globex = await seedTenants(db);
  });
  afterAll(() => db.destroy());

  const entriesOf = (customerId: string) => db.q.select().from(db.t.ledgerEntries).where(eq(db.t.ledgerEntries.customerId, customerId)).orderBy(db.t.ledgerEntries.id);
  const cacheOf = async (customerId: string, currency = 'usd') =>
    (await db.q.select().from(db.t.customerBalances).where(and(eq(db.t.customerBalances.customerId, customerId), eq(db.t.customerBalances.currency, currency))))[0]?.amountMinor ?? 0;
  const sumOf = async (customerId: string, currency = 'usd') =>
    (
      await db.q
        .select({ sum: sql<number>`coalesce(sum(${db.t.ledgerEntries.amountMinor}), 0)`.mapWith(Number) })
        .from(db.t.ledgerEntries)
        .where(and(eq(db.t.ledgerEntries.customerId, customerId), eq(db.t.ledgerEntries.currency, currency)))
    )[0]!.sum;
  const auditOf = async (customerId: string) =>
    (await db.q.select().from(db.t.auditLog).where(and(eq(db.t.auditLog.action, 'ledger.adjustment'), eq(db.t.auditLog.targetId, customerId))).orderBy(db.t.auditLog.id)).map((r) => ({
      ...r,
      before: JSON.parse(r.before!) as { balanceMinor: number; currency: string },
      after: JSON.parse(r.after!) as { balanceMinor: number; currency: string; entryId: string; amountMinor: number; reason: string },
    }));
  const everything = async () => ({
    entries: (await db.q.select().from(db.t.ledgerEntries)).length,
    balances: await db.q.select().from(db.t.customerBalances).orderBy(db.t.customerBalances.customerId, db.t.customerBalances.currency),
    audit: (await db.q.select().from(db.t.auditLog)).length,
  });

  it.each([
    ['zero', { amountMinor: 0 }],
    ['1.5', { amountMinor: 1.5 }],
    ['10^8', { amountMinor: 100_000_000 }],
    ['-10^8', { amountMinor: -100_000_000 }],
    ['the string "5"', { amountMinor: '5' }],
    ['NaN', { amountMinor: Number.NaN }],
    ['Infinity', { amountMinor: Number.POSITIVE_INFINITY }],
    ['2^53', { amountMinor: 2 ** 53 }],
    ['a missing amount', { amountMinor: undefined }],
    ['an empty reason', { reason: '' }],
    ['a blank reason', { reason: '   ' }],
    ['a reason with a NUL', { reason: 'typo\u0000fix' }],
    ['a 501-character reason', { reason: 'r'.repeat(501) }],
    ['a missing reason', { reason: undefined }],
    ['a malformed customer id', { customerId: 'alice' }],
  ])('%s is BAD_REQUEST and nothing is stored', async (_label, patch) => {
    const before = await everything();
    const input = { customerId: acme.alice.customerId, amountMinor: 100, reason: 'goodwill credit', ...patch };
    expect(await fail(admin().customers.adjustBalance(input as never))).toBe('BAD_REQUEST');
    expect(await everything()).toEqual(before);
  });

  it('credits and debits as signed adjustment entries, with the admin, the reason and a unique reference, audited in before/after balances', async () => {
    const customerId = acme.alice.customerId;
    const credit = await admin().customers.adjustBalance({ customerId, amountMinor: 1_500, reason: '  Goodwill credit for the outage  ' });
    expect(credit).toEqual({ entryId: expect.any(String), balanceMinor: 1_500, currency: 'usd' });
    const debit = await admin().customers.adjustBalance({ customerId, amountMinor: -500, reason: 'Correcting a double credit' });
    expect(debit).toEqual({ entryId: expect.any(String), balanceMinor: 1_000, currency: 'usd' });

    const entries = await entriesOf(customerId);
    expect(entries).toMatchObject([
      { id: credit.entryId, workspaceId: acme.workspaceId, kind: 'adjustment', amountMinor: 1_500, currency: 'usd', description: 'Goodwill credit for the outage', createdByUserId: acme.admin.userId, billingRecordId: null, topupId: null },
      { id: debit.entryId, kind: 'adjustment', amountMinor: -500, description: 'Correcting a double credit', createdByUserId: acme.admin.userId },
    ]);
    expect(entries.every((e) => /^adjustment:[0-9a-f-]{36}$/.test(e.reference))).toBe(true);
    expect(new Set(entries.map((e) => e.reference)).size).toBe(2);
    expect(await cacheOf(customerId)).toBe(1_000);
    expect(await sumOf(customerId)).toBe(1_000);

    const audit = await auditOf(customerId);
    expect(audit).toMatchObject([
      {
        workspaceId: acme.workspaceId,
        actorUserId: acme.admin.userId,
        actorLabel: acme.admin.email,
        targetType: 'customer',
        before: { balanceMinor: 0, currency: 'usd' },
        after: { balanceMinor: 1_500, currency: 'usd', entryId: credit.entryId, amountMinor: 1_500, reason: 'Goodwill credit for the outage' },
      },
      { before: { balanceMinor: 1_500 }, after: { balanceMinor: 1_000, entryId: debit.entryId, amountMinor: -500 } },
    ]);
    // The customer sees it in their own ledger and balance.
    const alice = callerFor(db, stripe, acme.alice);
    expect(await alice.balance.get()).toEqual({ amountMinor: 1_000, currency: 'usd' });
    expect((await alice.ledger.list({})).items.map((i) => i.amountMinor)).toEqual([-500, 1_500]);
    expect((await admin().customers.ledger({ customerId })).items.map((i) => [i.kind, i.amountMinor])).toEqual([['adjustment', -500], ['adjustment', 1_500]]);
  });

  it('a debit may take the balance below zero (an admin correcting a credit already spent); the audit shows it', async () => {
    const customerId = acme.bob.customerId;
    await admin().customers.adjustBalance({ customerId, amountMinor: 300, reason: 'credited twice by mistake' });
    const result = await admin().customers.adjustBalance({ customerId, amountMinor: -1_000, reason: 'reverse the mistaken credits' });
    expect(result.balanceMinor).toBe(-700);
    expect(await cacheOf(customerId)).toBe(-700);
    expect(await sumOf(customerId)).toBe(-700);
    expect((await auditOf(customerId)).at(-1)).toMatchObject({ before: { balanceMinor: 300 }, after: { balanceMinor: -700, amountMinor: -1_000 } });
  });

  it('the bounds are inclusive: +-99,999,999 minor units', async () => {
    const { customerId } = (await seedTenants(db)).alice;
    const ws = (await db.q.select().from(db.t.customers).where(eq(db.t.customers.id, customerId)))[0]!.workspaceId;
    const [member] = await db.q.select().from(db.t.workspaceMembers).where(eq(db.t.workspaceMembers.workspaceId, ws));
    const [user] = await db.q.select().from(db.t.users).where(eq(db.t.users.id, member!.userId));
    const caller = callerFor(db, stripe, { userId: user!.id, email: user!.email });
    expect((await caller.customers.adjustBalance({ customerId, amountMinor: 99_999_999, reason: 'max' })).balanceMinor).toBe(99_999_999);
    expect((await caller.customers.adjustBalance({ customerId, amountMinor: -99_999_999, reason: 'min' })).balanceMinor).toBe(0);
    expect((await caller.customers.adjustBalance({ customerId, amountMinor: -99_999_999, reason: 'min' })).balanceMinor).toBe(-99_999_999);
  });

  it('concurrent adjustments: cache == sum of entries, and the audited before/after balances form one unbroken chain', async () => {
    const { id: customerId } = await admin().customers.create({ name: 'Busy Corp' });
    const amounts = [700, -250, 1_200, -3_000, 45, 99, -1, 5_000, -640, 12];
    const results = await Promise.all(amounts.map((amountMinor, i) => admin().customers.adjustBalance({ customerId, amountMinor, reason: `concurrent ${i}` })));
    const total = amounts.reduce((a, b) => a + b, 0);
    expect(await cacheOf(customerId)).toBe(total);
    expect(await sumOf(customerId)).toBe(total);
    expect(new Set(results.map((r) => r.entryId)).size).toBe(amounts.length);
    const audit = await auditOf(customerId);
    expect(audit).toHaveLength(amounts.length);
    for (const a of audit) expect(a.after.balanceMinor - a.before.balanceMinor).toBe(a.after.amountMinor);
    // Each adjustment started from the balance the previous one left.
    const byBefore = new Map(audit.map((a) => [a.before.balanceMinor, a]));
    let balance = 0;
    for (let i = 0; i < audit.length; i++) {
      const next = byBefore.get(balance);
      expect(next).toBeDefined();
      balance = next!.after.balanceMinor;
    }
    expect(balance).toBe(total);
    expect(results.map((r) => r.balanceMinor).sort((a, b) => a - b)).toEqual(audit.map((a) => a.after.balanceMinor).sort((a, b) => a - b));
  });

  it("uses the workspace's currency", async () => {
    const ws = await seedTenants(db);
    await db.q.update(db.t.workspaces).set({ currency: 'eur' }).where(eq(db.t.workspaces.id, ws.workspaceId));
    const result = await callerFor(db, stripe, ws.admin).customers.adjustBalance({ customerId: ws.alice.customerId, amountMinor: 250, reason: 'euro credit' });
    expect(result).toMatchObject({ balanceMinor: 250, currency: 'eur' });
    expect(await entriesOf(ws.alice.customerId)).toMatchObject([{ currency: 'eur', amountMinor: 250 }]);
    expect(await cacheOf(ws.alice.customerId, 'eur')).toBe(250);
  });

  it("another workspace's customer (or a missing one) is NOT_FOUND and nothing changes", async () => {
    const before = await everything();
    expect(await fail(admin().customers.adjustBalance({ customerId: globex.alice.customerId, amountMinor: 100, reason: 'not mine' }))).toBe('NOT_FOUND');
    expect(await fail(admin().customers.adjustBalance({ customerId: newId(), amountMinor: 100, reason: 'nobody' }))).toBe('NOT_FOUND');
    expect(await everything()).toEqual(before);
  });

  it('a customer member (even adjusting their own customer) is FORBIDDEN and nothing changes', async () => {
    const before = await everything();
    for (const who of [acme.alice, globex.bob]) {
      expect(await fail(callerFor(db, stripe, who).customers.adjustBalance({ customerId: who.customerId, amountMinor: 1_000_000, reason: 'free money' }))).toBe('FORBIDDEN');
    }
    expect(await everything()).toEqual(before);
  });
});
