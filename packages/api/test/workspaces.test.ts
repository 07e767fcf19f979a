import { eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueEmail } from '../src/email/enqueue';
import { newId } from '../src/ids';
import { callerFor, countingStripe, seedTenants } from './helpers';

const code = (e: unknown) => (e instanceof TRPCError ? e.code : `not a TRPCError: ${String(e)}`);
const fail = async (p: Promise<unknown>) => code(await p.then(() => 'resolved', (e: unknown) => e));

/**
 * Item 1 of issue 7, on the server: an admin of several workspaces selects one
 * (`X-Tally-Workspace`, `ctx.selectedWorkspaceId`) and every admin procedure acts on it only.
 */
describe.each(testDialects)('workspace selection for admins of several workspaces ($name)', ({ create }) => {
  let db: TestDatabase;
  let acme: Awaited<ReturnType<typeof seedTenants>>;
  let globex: Awaited<ReturnType<typeof seedTenants>>;
  let initech: Awaited<ReturnType<typeof seedTenants>>;
  const { stripe } = countingStripe();
  /** Per workspace: the ids of what was made in it. */
  const made: Record<'acme' | 'globex', { customers: string[]; events: string[]; topups: string[]; emails: string[] }> = {
    acme: { customers: [], events: [], topups: [], emails: [] },
    globex: { customers: [], events: [], topups: [], emails: [] },
  };
  /** The admin of both: Acme's admin, made an admin of Globex later. */
  const boss = () => acme.admin;
  const as = (selected: string | null) => callerFor(db, stripe, boss(), undefined, selected);

  beforeAll(async () => {
    db = await create();
    acme = await seedTenants(db);
    globex = await seedTenants(db);
    initech = await seedTenants(db);
    await db.q.update(db.t.workspaces).set({ name: 'Globex', currency: 'eur' }).where(eq(db.t.workspaces.id, globex.workspaceId));
    await db.q.insert(db.t.workspaceMembers).values({ id: newId(), workspaceId: globex.workspaceId, userId: boss().userId, role: 'admin', createdAt: new Date(Date.now() + 1_000) });
    for (const [key, ws] of [['acme', acme], ['globex', globex]] as const) {
      const caller = as(ws.workspaceId);
      made[key].customers.push(ws.alice.customerId, ws.bob.customerId, (await caller.customers.create({ name: `${key} new customer` })).id);
      const eventId = `evt_${key}_${newId().replace(/-/g, '')}`;
      await db.q.insert(db.t.stripeEvents).values({
        scope: ws.workspaceId,
        id: eventId,
        type: 'checkout.session.completed',
        livemode: false,
        stripeCreatedAt: new Date(),
        payload: '{}',
        status: 'processed',
        workspaceId: ws.workspaceId,
      });
      made[key].events.push(eventId);
      const topupId = newId();
      await db.q.insert(db.t.topups).values({ id: topupId, workspaceId: ws.workspaceId, customerId: ws.alice.customerId, amountMinor: 500, currency: 'usd', status: 'pending' });
      made[key].topups.push(topupId);
      made[key].emails.push((await enqueueEmail(db, { kind: 'receipt', to: `billing@${key}.test`, subject: 'Receipt', text: 'Thanks', workspaceId: ws.workspaceId })).id!);
    }
  });
  afterAll(() => db.destroy());

  const seenBy = async (selected: string | null) => {
    const caller = as(selected);
    return {
      customers: (await caller.customers.list({ limit: 100 })).items.map((i) => i.id),
      events: (await caller.admin.events({ limit: 100 })).items.map((i) => i.id),
      topups: (await caller.admin.topups({ limit: 100 })).items.map((i) => i.id),
      emails: (await caller.admin.emails.list({ limit: 100 })).items.map((i) => i.id),
      audit: (await caller.audit.list({ limit: 100 })).items.map((i) => i.targetId),
    };
  };

  it.each(['acme', 'globex'] as const)('selecting %s shows only its customers, events, top-ups, emails and audit log', async (key) => {
    const [mine, theirs] = key === 'acme' ? [made.acme, made.globex] : [made.globex, made.acme];
    const ws = key === 'acme' ? acme : globex;
    const seen = await seenBy(ws.workspaceId);
    expect([...seen.customers].sort()).toEqual([...mine.customers].sort());
    expect(seen.events).toEqual(mine.events);
    expect(seen.topups).toEqual(mine.topups);
    expect(seen.emails).toEqual(mine.emails);
    expect(seen.audit).toEqual([mine.customers[2]]);
    const all = JSON.stringify(seen);
    for (const id of [...theirs.customers, ...theirs.events, ...theirs.topups, ...theirs.emails]) expect(all).not.toContain(id);
  });

  it('no selection means their first workspace (oldest admin membership)', async () => {
    expect(await seenBy(null)).toEqual(await seenBy(acme.workspaceId));
  });

  it('ids of the workspace not selected are NOT_FOUND, and mutations land in the selected one', async () => {
    const inGlobex = as(globex.workspaceId);
    expect(await fail(inGlobex.customers.get({ customerId: acme.alice.customerId }))).toBe('NOT_FOUND');
    expect(await fail(inGlobex.customers.adjustBalance({ customerId: acme.alice.customerId, amountMinor: 100, reason: 'wrong workspace' }))).toBe('NOT_FOUND');
    expect(await as(acme.workspaceId).customers.get({ customerId: acme.alice.customerId })).toMatchObject({ id: acme.alice.customerId });
    const { id } = await inGlobex.customers.create({ name: 'made while Globex is selected' });
    const [row] = await db.q.select().from(db.t.customers).where(eq(db.t.customers.id, id));
    expect(row!.workspaceId).toBe(globex.workspaceId);
    // The selected workspace's currency, too.
    expect(await inGlobex.customers.adjustBalance({ customerId: id, amountMinor: 100, reason: 'euro' })).toMatchObject({ currency: 'eur', balanceMinor: 100 });
    expect((await inGlobex.customers.get({ customerId: id })).balances).toEqual([{ currency: 'eur', amountMinor: 100 }]);
    made.globex.customers.push(id);
  });

  it.each([
    ['a workspace they do not administer', () => initech.workspaceId],
    ['a workspace that does not exist', () => newId()],
    ['a malformed id', () => 'not-a-uuid'],
    ['SQL', () => "' OR 1=1 --"],
    ['10 KB', () => 'x'.repeat(10_240)],
    ['a NUL', () => `${acme.workspaceId}\u0000`],
    ['an upper-case copy of a foreign id', () => initech.workspaceId.toUpperCase()],
  ])('selecting %s is FORBIDDEN for every admin procedure', async (_label, selected) => {
    const caller = as(selected());
    const calls: Array<() => Promise<unknown>> = [
      () => caller.customers.list({}),
      () => caller.customers.create({ name: 'nope' }),
      () => caller.customers.get({ customerId: initech.alice.customerId }),
      () => caller.customers.adjustBalance({ customerId: initech.alice.customerId, amountMinor: 1, reason: 'nope' }),
      () => caller.admin.events({}),
      () => caller.admin.topups({}),
      () => caller.admin.emails.list({}),
      () => caller.audit.list({}),
    ];
    for (const call of calls) expect(await fail(call())).toBe('FORBIDDEN');
    expect((await caller.me.get()).adminWorkspace).toBeNull();
  });

  it('me.get lists both workspaces for the switcher and reflects the selection', async () => {
    const acmeView = { id: acme.workspaceId, name: 'Acme', currency: 'usd' };
    const globexView = { id: globex.workspaceId, name: 'Globex', currency: 'eur' };
    for (const [selected, expected] of [
      [null, acmeView],
      [acme.workspaceId, acmeView],
      [globex.workspaceId, globexView],
      [initech.workspaceId, null],
    ] as const) {
      const me = await as(selected).me.get();
      expect(me.adminWorkspaces).toEqual([acmeView, globexView]);
      expect(me.adminWorkspace).toEqual(expected);
    }
    // Globex's own admin sees only Globex, whatever they select.
    const globexAdmin = await callerFor(db, stripe, globex.admin, undefined, acme.workspaceId).me.get();
    expect(globexAdmin.adminWorkspaces).toEqual([globexView]);
    expect(globexAdmin.adminWorkspace).toBeNull();
    // A customer member administers nothing.
    expect(await callerFor(db, stripe, acme.alice, undefined, acme.workspaceId).me.get()).toMatchObject({ adminWorkspaces: [], adminWorkspace: null });
  });

  it('a customer member selecting their own workspace is still FORBIDDEN', async () => {
    const member = callerFor(db, stripe, acme.alice, undefined, acme.workspaceId);
    expect(await fail(member.customers.list({}))).toBe('FORBIDDEN');
    expect(await fail(member.admin.events({}))).toBe('FORBIDDEN');
    expect(await fail(member.audit.list({}))).toBe('FORBIDDEN');
  });
});
