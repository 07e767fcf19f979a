import { testDialects, type TestDatabase } from '@tally/db/testing';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAudit } from '../src/audit/record';
import { newId } from '../src/ids';
import { callerFor, countingStripe, seedTenants } from './helpers';

const code = (e: unknown) => (e instanceof TRPCError ? e.code : `not a TRPCError: ${String(e)}`);
const fail = async (p: Promise<unknown>) => code(await p.then(() => 'resolved', (e: unknown) => e));

describe.each(testDialects)('audit.list ($name)', ({ create }) => {
  let db: TestDatabase;
  let acme: Awaited<ReturnType<typeof seedTenants>>;
  let globex: Awaited<ReturnType<typeof seedTenants>>;
  const { stripe } = countingStripe();
  const acmeTargets = new Set<string>();
  const globexTargets = new Set<string>();

  beforeAll(async () => {
    db = await create();
    acme = await seedTenants(db);
    globex = await seedTenants(db);
    // Interleave actions of both workspaces.
    for (let i = 0; i < 3; i++) {
      for (const [ws, targets] of [[acme, acmeTargets], [globex, globexTargets]] as const) {
        const caller = callerFor(db, stripe, ws.admin);
        targets.add((await caller.customers.create({ name: `customer ${i}` })).id);
        await caller.customers.adjustBalance({ customerId: ws.alice.customerId, amountMinor: 100 + i, reason: `adjust ${i}` });
        targets.add(ws.alice.customerId);
      }
    }
    await recordAudit(db, { workspaceId: acme.workspaceId, actor: 'cli', action: 'workspace.create', targetType: 'workspace', targetId: acme.workspaceId, after: { name: 'Acme' } });
    acmeTargets.add(acme.workspaceId);
  });
  afterAll(() => db.destroy());

  it("lists only the selected workspace's entries, newest first, with who, what, before and after", async () => {
    const page = await callerFor(db, stripe, acme.admin).audit.list({ limit: 100 });
    expect(page.items).toHaveLength(7);
    expect(page.nextCursor).toBeNull();
    expect(page.items.every((i) => acmeTargets.has(i.targetId!))).toBe(true);
    expect(page.items.some((i) => globexTargets.has(i.targetId!))).toBe(false);
    const ids = page.items.map((i) => i.id);
    expect([...ids].sort().reverse()).toEqual(ids);
    expect(page.items[0]).toMatchObject({ action: 'workspace.create', actorLabel: 'cli', actorUserId: null, before: null, after: { name: 'Acme' } });
    const adjustment = page.items.find((i) => i.action === 'ledger.adjustment')!;
    expect(adjustment).toMatchObject({
      id: expect.any(String),
      createdAt: expect.any(Date),
      actorLabel: acme.admin.email,
      actorUserId: acme.admin.userId,
      targetType: 'customer',
      targetId: acme.alice.customerId,
      before: { balanceMinor: 201, currency: 'usd' },
      after: { balanceMinor: 303, amountMinor: 102, reason: 'adjust 2' },
    });
    const other = await callerFor(db, stripe, globex.admin).audit.list({});
    expect(other.items).toHaveLength(6);
    expect(other.items.every((i) => globexTargets.has(i.targetId!))).toBe(true);
  });

  it('filters by action and pages with the cursor', async () => {
    const caller = callerFor(db, stripe, acme.admin);
    const creates = await caller.audit.list({ action: 'customer.create' });
    expect(creates.items.map((i) => i.action)).toEqual(['customer.create', 'customer.create', 'customer.create']);
    expect((await caller.audit.list({ action: 'billing_record.void' })).items).toEqual([]);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let n = 0; n < 10; n++) {
      const page: Awaited<ReturnType<typeof caller.audit.list>> = await caller.audit.list({ limit: 2, cursor });
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    expect(seen).toEqual((await caller.audit.list({ limit: 100 })).items.map((i) => i.id));
  });

  it('an admin of both workspaces sees each one only while it is selected', async () => {
    await db.q.insert(db.t.workspaceMembers).values({ id: newId(), workspaceId: globex.workspaceId, userId: acme.admin.userId, role: 'admin' });
    const inAcme = await callerFor(db, stripe, acme.admin, undefined, acme.workspaceId).audit.list({ limit: 100 });
    const inGlobex = await callerFor(db, stripe, acme.admin, undefined, globex.workspaceId).audit.list({ limit: 100 });
    expect(inAcme.items.every((i) => acmeTargets.has(i.targetId!))).toBe(true);
    expect(inGlobex.items.every((i) => globexTargets.has(i.targetId!))).toBe(true);
    expect(inGlobex.items).toHaveLength(6);
    // Globex's own admin selecting Acme is refused.
    expect(await fail(callerFor(db, stripe, globex.admin, undefined, acme.workspaceId).audit.list({}))).toBe('FORBIDDEN');
  });

  it.each([
    ['a malformed action', { action: 'DROP TABLE' }],
    ['a 10 KB action', { action: `a.${'b'.repeat(10_240)}` }],
    ['a NUL in the action', { action: 'customer.create\u0000' }],
    ['a malformed cursor', { cursor: 'yesterday' }],
    ['a limit of 0', { limit: 0 }],
    ['a limit of 101', { limit: 101 }],
  ])('%s is BAD_REQUEST', async (_label, input) => {
    expect(await fail(callerFor(db, stripe, acme.admin).audit.list(input as never))).toBe('BAD_REQUEST');
  });

  it('a customer member is FORBIDDEN, signed out is UNAUTHORIZED', async () => {
    expect(await fail(callerFor(db, stripe, acme.alice).audit.list({}))).toBe('FORBIDDEN');
    expect(await fail(callerFor(db, stripe, acme.alice, undefined, acme.workspaceId).audit.list({}))).toBe('FORBIDDEN');
    expect(await fail(callerFor(db, stripe, null).audit.list({}))).toBe('UNAUTHORIZED');
  });

  it('a Stripe key or webhook secret typed into an audited value is stored as [redacted]; the action still succeeds', async () => {
    const caller = callerFor(db, stripe, acme.admin);
    const key = 'sk_test_pastedIntoADescription_0123456789';
    const whsec = 'whsec_alsoPasted_abcdef012345';
    const created = await caller.billingRecord.create({ customerId: acme.alice.customerId, description: `Pasted ${key} and ${whsec} by mistake`, amountMinor: 100, dueDate: '2030-01-01' });
    const rows = await db.q.select().from(db.t.auditLog);
    const text = JSON.stringify(rows);
    expect(text).not.toContain(key);
    expect(text).not.toContain(whsec);
    const entry = rows.find((r) => r.targetId === created.id)!;
    expect(JSON.parse(entry.after!)).toMatchObject({ description: 'Pasted [redacted] and [redacted] by mistake' });
  });
});
