/**
 * Issue 10 item 2, the admin's event detail page: `event.get` (the row, payload, errors and
 * effect; the selected workspace's events only) and `event.replay` (failed and dead events
 * only, through the delivery path: processed once; a dry run changes nothing; audited).
 */
import { asc, eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { TRPCError } from '@trpc/server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/ids';
import { DEPLOYMENT_SCOPE } from '../src/webhooks/types';
import { allowCredits, deliver, eventRow, FAILING_AMOUNT, ledgerOf, paidEvent, recoveryDeps, refuseCredits, snapshot } from './event-recovery-helpers';
import { callerFor, seedTenants } from './helpers';

const failure = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return err instanceof TRPCError ? `${err.code}: ${err.message}` : `not a TRPCError: ${String(err)}`;
  }
};

describe.each(testDialects)('event.get and event.replay ($name)', ({ create }) => {
  let db: TestDatabase;
  // The first workspace seeded is the primary one (the oldest).
  let a: Awaited<ReturnType<typeof seedTenants>>;
  let b: Awaited<ReturnType<typeof seedTenants>>;
  beforeAll(async () => {
    db = await create();
    a = await seedTenants(db);
    b = await seedTenants(db);
  });
  afterAll(async () => {
    await db.destroy();
  });
  afterEach(async () => {
    await allowCredits(db);
  });

  const deps = () => recoveryDeps(db);
  const adminOf = (tenant: typeof a) => callerFor(db, deps().stripeAccounts, tenant.admin);
  const auditOf = (workspaceId: string) => db.q.select().from(db.t.auditLog).where(eq(db.t.auditLog.workspaceId, workspaceId)).orderBy(asc(db.t.auditLog.id));

  /** A pending top-up of workspace A's customer, its `checkout.session.completed` delivered while credits fail: `failed`. */
  async function failedTopupEvent() {
    const topupId = newId();
    const sessionId = `cs_test_${newId().replace(/-/g, '')}`;
    await db.q.insert(db.t.topups).values({ id: topupId, workspaceId: a.workspaceId, customerId: a.alice.customerId, amountMinor: FAILING_AMOUNT, currency: 'usd', status: 'pending', stripeCheckoutSessionId: sessionId });
    const event = paidEvent({ topupId, sessionId, amountMinor: FAILING_AMOUNT });
    await refuseCredits(db);
    expect(await deliver(deps(), event)).toMatchObject({ status: 'failed' });
    await allowCredits(db);
    return { topupId, sessionId, event };
  }

  it('shows a failed event: the row, the parsed payload, its error with time, the top-up it is about, and that it can be replayed', async () => {
    const { topupId, sessionId, event } = await failedTopupEvent();
    const detail = await adminOf(a).event.get({ eventId: event.id, scope: DEPLOYMENT_SCOPE });
    expect(detail.event).toMatchObject({ scope: DEPLOYMENT_SCOPE, id: event.id, type: 'checkout.session.completed', status: 'failed', attempts: 1, processedAt: null, payloadPrunedAt: null });
    expect(detail.event.nextAttemptAt).toBeInstanceOf(Date);
    expect(detail.event.lastError).toContain('simulated credit failure');
    expect(detail.payload).toEqual(event);
    expect(detail.errors).toEqual([{ id: expect.any(String), attempt: 1, source: 'webhook', error: expect.stringContaining('simulated credit failure'), createdAt: expect.any(Date) }]);
    expect(detail.replayable).toBe(true);
    expect(detail.effect).toMatchObject({ objectType: 'checkout.session', objectId: sessionId, ledgerEntries: [], billingRecords: [], subscriptions: [], invoices: [] });
    expect(detail.effect.topups).toEqual([
      expect.objectContaining({ id: topupId, customerId: a.alice.customerId, status: 'pending', amountMinor: FAILING_AMOUNT, currency: 'usd', link: { to: `/admin/customers/${a.alice.customerId}`, label: 'alice' } }),
    ]);
    // Found without naming the scope too.
    expect((await adminOf(a).event.get({ eventId: event.id })).event.id).toBe(event.id);
  });

  it('a dry run changes nothing (every row compared, no audit entry); the replay processes it once, audited; it cannot be replayed again', async () => {
    const { topupId, event } = await failedTopupEvent();
    const before = await snapshot(db);
    const audits = (await auditOf(a.workspaceId)).length;
    const preview = await adminOf(a).event.replay({ eventId: event.id, dryRun: true });
    expect(preview).toMatchObject({ eventId: event.id, action: 'would_run', statusBefore: 'failed', statusAfter: 'failed' });
    expect(preview.detail).toContain(`top-up ${topupId} pending, would be credited`);
    expect(await snapshot(db)).toEqual(before);
    expect(await auditOf(a.workspaceId)).toHaveLength(audits);

    const result = await adminOf(a).event.replay({ eventId: event.id, scope: DEPLOYMENT_SCOPE });
    expect(result).toMatchObject({ scope: DEPLOYMENT_SCOPE, eventId: event.id, statusBefore: 'failed', statusAfter: 'processed', action: 'processed' });
    const credits = (await ledgerOf(db, a.alice.customerId)).filter((l) => l.topupId === topupId);
    expect(credits.map((l) => l.amountMinor)).toEqual([FAILING_AMOUNT]);
    const audit = (await auditOf(a.workspaceId)).at(-1)!;
    expect(audit).toMatchObject({ action: 'stripe_event.replay', targetType: 'stripe_event', targetId: `${DEPLOYMENT_SCOPE}/${event.id}`, actorUserId: a.admin.userId });
    expect(JSON.parse(audit.before!)).toEqual({ type: 'checkout.session.completed', status: 'failed', attempts: 1 });
    expect(JSON.parse(audit.after!)).toMatchObject({ status: 'processed', action: 'processed' });

    const detail = await adminOf(a).event.get({ eventId: event.id });
    expect(detail.event).toMatchObject({ status: 'processed', attempts: 2, lastError: null });
    expect(detail.replayable).toBe(false);
    expect(detail.errors).toHaveLength(1);
    expect(detail.effect.ledgerEntries).toEqual([expect.objectContaining({ id: credits[0]!.id, kind: 'topup', amountMinor: FAILING_AMOUNT, currency: 'usd', reference: `topup:${topupId}`, byThisEvent: true, link: { to: `/admin/customers/${a.alice.customerId}`, label: 'alice' } })]);
    expect(detail.effect.topups).toEqual([expect.objectContaining({ id: topupId, status: 'paid' })]);

    // Processed now: BAD_REQUEST, and nothing changes (dry run or not).
    const after = await snapshot(db);
    for (const dryRun of [false, true]) {
      expect(await failure(adminOf(a).event.replay({ eventId: event.id, dryRun }))).toMatch(/^BAD_REQUEST: .*only failed or dead events can be replayed$/);
    }
    expect(await snapshot(db)).toEqual(after);
    expect((await ledgerOf(db, a.alice.customerId)).filter((l) => l.topupId === topupId)).toHaveLength(1);
  });

  it('a dead event can be replayed; received and ignored events cannot', async () => {
    const { event } = await failedTopupEvent();
    await db.q.update(db.t.stripeEvents).set({ status: 'dead', nextAttemptAt: null }).where(eq(db.t.stripeEvents.id, event.id));
    expect((await adminOf(a).event.get({ eventId: event.id })).replayable).toBe(true);
    expect(await adminOf(a).event.replay({ eventId: event.id })).toMatchObject({ statusBefore: 'dead', statusAfter: 'processed' });
    for (const status of ['received', 'ignored', 'anomaly'] as const) {
      const id = `evt_${status}_${newId().replace(/-/g, '')}`;
      await db.q.insert(db.t.stripeEvents).values({ scope: a.workspaceId, id, type: 'customer.created', livemode: false, stripeCreatedAt: new Date(), payload: JSON.stringify({ id, object: 'event', type: 'customer.created', data: { object: { id: 'cus_1', object: 'customer' } } }), status, workspaceId: a.workspaceId });
      expect((await adminOf(a).event.get({ eventId: id, scope: a.workspaceId })).replayable).toBe(false);
      expect(await failure(adminOf(a).event.replay({ eventId: id, scope: a.workspaceId }))).toBe(`BAD_REQUEST: Stripe event ${id} is ${status}: only failed or dead events can be replayed`);
    }
  });

  it("another workspace's events are NOT_FOUND, replay included (nothing changes); unattributed deployment events only for the primary workspace", async () => {
    const { event } = await failedTopupEvent();
    const before = await snapshot(db);
    // `event` is a deployment event; a failed handler attributes it to no workspace: the primary (A) sees it, B does not.
    expect((await eventRow(db, event.id))?.workspaceId ?? null).toBe(null);
    expect(await failure(adminOf(b).event.get({ eventId: event.id }))).toBe(`NOT_FOUND: Stripe event ${event.id} not found in this workspace's event log`);
    expect(await failure(adminOf(b).event.get({ eventId: event.id, scope: DEPLOYMENT_SCOPE }))).toMatch(/^NOT_FOUND/);
    expect(await failure(adminOf(b).event.replay({ eventId: event.id }))).toMatch(/^NOT_FOUND/);
    expect(await failure(adminOf(b).event.replay({ eventId: event.id, dryRun: true }))).toMatch(/^NOT_FOUND/);
    expect(await snapshot(db)).toEqual(before);

    // A deployment event attributed to B: B sees it, the primary workspace does not.
    const id = `evt_b_${newId().replace(/-/g, '')}`;
    await db.q.insert(db.t.stripeEvents).values({ scope: DEPLOYMENT_SCOPE, id, type: 'invoice.paid', livemode: false, stripeCreatedAt: new Date(), payload: '{"id":"x"}', status: 'processed', workspaceId: b.workspaceId });
    expect((await adminOf(b).event.get({ eventId: id })).event.workspaceId).toBe(b.workspaceId);
    expect(await failure(adminOf(a).event.get({ eventId: id }))).toMatch(/^NOT_FOUND/);
    // Under B's own endpoint scope, with A naming that scope: still NOT_FOUND.
    const own = `evt_bown_${newId().replace(/-/g, '')}`;
    await db.q.insert(db.t.stripeEvents).values({ scope: b.workspaceId, id: own, type: 'invoice.paid', livemode: false, stripeCreatedAt: new Date(), payload: '{}', status: 'failed', workspaceId: null });
    expect((await adminOf(b).event.get({ eventId: own, scope: b.workspaceId })).event.scope).toBe(b.workspaceId);
    expect(await failure(adminOf(a).event.get({ eventId: own, scope: b.workspaceId }))).toMatch(/^NOT_FOUND/);
    expect(await failure(adminOf(a).event.replay({ eventId: own, scope: b.workspaceId }))).toMatch(/^NOT_FOUND/);
  });

  it('a pruned payload reads as null; a stored payload that is not JSON says so', async () => {
    const pruned = `evt_pruned_${newId().replace(/-/g, '')}`;
    await db.q.insert(db.t.stripeEvents).values({ scope: a.workspaceId, id: pruned, type: 'customer.created', livemode: false, stripeCreatedAt: new Date(), payload: '', payloadPrunedAt: new Date(), status: 'processed', workspaceId: a.workspaceId });
    const detail = await adminOf(a).event.get({ eventId: pruned });
    expect(detail).toMatchObject({ payload: null, payloadError: null, effect: { objectId: null, ledgerEntries: [], topups: [] } });
    expect(detail.event.payloadPrunedAt).toBeInstanceOf(Date);
    const garbled = `evt_garbled_${newId().replace(/-/g, '')}`;
    await db.q.insert(db.t.stripeEvents).values({ scope: a.workspaceId, id: garbled, type: 'customer.created', livemode: false, stripeCreatedAt: new Date(), payload: '{not json', status: 'failed', workspaceId: a.workspaceId });
    expect(await adminOf(a).event.get({ eventId: garbled })).toMatchObject({ payload: null, payloadError: expect.stringMatching(/^The stored payload is not JSON/) });
  });

  it('bad input is BAD_REQUEST naming the field', async () => {
    expect(await failure(adminOf(a).event.get({ eventId: 'ch_123' }))).toMatch(/^BAD_REQUEST: .*eventId must be a Stripe event id/s);
    expect(await failure(adminOf(a).event.get({ eventId: `evt_${'x'.repeat(300)}` }))).toMatch(/^BAD_REQUEST: .*eventId must be a Stripe event id/s);
    expect(await failure(adminOf(a).event.get({ eventId: 'evt_1', scope: 'workspace' }))).toMatch(/^BAD_REQUEST: .*scope must be "deployment" or a workspace id/s);
    expect(await failure(adminOf(a).event.replay({ eventId: 'evt_1', dryRun: 'yes' as unknown as boolean }))).toMatch(/^BAD_REQUEST: .*dryRun must be true or false/s);
  });
});
