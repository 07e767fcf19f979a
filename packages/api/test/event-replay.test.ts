/**
 * Issue 10 item 2, replay: through the delivery's exactly-once path, by id or by status; a dry
 * run changes nothing at all; settled events are never run again; bad ids are clear errors.
 */
import { eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import type Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors';
import { replayStripeEvent, replayStripeEvents } from '../src/events/replay';
import { storeStripeEvent } from '../src/webhooks/receive';
import { DEPLOYMENT_SCOPE } from '../src/webhooks/types';
import { allowCredits, deliver, DEPLOYMENT, errorRows, eventRow, FAILING_AMOUNT, ledgerOf, paidEvent, recoveryDeps, refuseCredits, seedTopup, snapshot } from './event-recovery-helpers';

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return err instanceof AppError ? `${err.code}: ${err.message}` : `not an AppError: ${String(err)}`;
  }
};

describe.each(testDialects)('Stripe event replay ($name)', ({ create }) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await create();
  });
  afterAll(async () => {
    await db.destroy();
  });
  afterEach(async () => {
    await allowCredits(db);
  });

  /** A delivered event whose handler threw once (credits refused), now able to succeed. */
  async function failedOnce(amountMinor = FAILING_AMOUNT) {
    const deps = recoveryDeps(db);
    const topup = await seedTopup(db, amountMinor);
    const event = paidEvent(topup);
    await refuseCredits(db);
    expect(await deliver(deps, event)).toMatchObject({ httpStatus: 500, status: 'failed' });
    await allowCredits(db);
    return { deps, topup, event };
  }

  it('a failed event replayed by id is processed once; replaying it again changes nothing', async () => {
    const { deps, topup, event } = await failedOnce();
    const result = await replayStripeEvent(deps, { eventId: event.id });
    expect(result).toEqual({ scope: DEPLOYMENT_SCOPE, eventId: event.id, type: 'checkout.session.completed', statusBefore: 'failed', statusAfter: 'processed', action: 'processed', detail: expect.stringContaining(topup.topupId) });
    expect(await eventRow(db, event.id)).toMatchObject({ status: 'processed', attempts: 2, nextAttemptAt: null, lastError: null });
    expect((await ledgerOf(db, topup.customerId)).map((e) => e.amountMinor)).toEqual([FAILING_AMOUNT]);
    expect((await errorRows(db, event.id)).map((r) => r.source)).toEqual(['webhook']);

    const before = await snapshot(db);
    expect(await replayStripeEvent(deps, { eventId: event.id, scope: DEPLOYMENT_SCOPE })).toMatchObject({ action: 'unchanged', statusBefore: 'processed', statusAfter: 'processed' });
    expect(await snapshot(db)).toEqual(before);
  });

  it('a dry run says what the handler would do and changes nothing (full rows compared)', async () => {
    const { deps, topup, event } = await failedOnce();
    const before = await snapshot(db);
    const result = await replayStripeEvent(deps, { eventId: event.id }, { dryRun: true });
    expect(result).toMatchObject({ action: 'would_run', statusBefore: 'failed', statusAfter: 'failed' });
    expect(result.detail).toContain('checkout.session.completed -> handler for top-ups, billing record payments and subscription checkouts');
    expect(result.detail).toContain(`top-up ${topup.topupId} pending, would be credited 4,242 usd minor units`);
    expect(result.detail).toContain('failed -> processed');
    const batch = await replayStripeEvents(deps, { status: 'failed' }, { dryRun: true });
    expect(batch.map((r) => [r.eventId, r.action])).toContainEqual([event.id, 'would_run']);
    expect(await snapshot(db)).toEqual(before);
  });

  it('replaying processed, ignored and anomaly events changes nothing', async () => {
    const deps = recoveryDeps(db);
    const topup = await seedTopup(db, 2100);
    const processed = paidEvent(topup);
    expect(await deliver(deps, processed)).toMatchObject({ status: 'processed' });
    const ignored = { ...paidEvent(topup), type: 'customer.created' };
    expect(await deliver(deps, ignored)).toMatchObject({ status: 'ignored' });
    const other = await seedTopup(db, 2200);
    const anomaly = paidEvent(other);
    anomaly.data.object.amount_total = 99_999;
    expect(await deliver(deps, anomaly)).toMatchObject({ status: 'anomaly' });
    const before = await snapshot(db);
    for (const [event, status] of [[processed, 'processed'], [ignored, 'ignored'], [anomaly, 'anomaly']] as const) {
      for (const dryRun of [false, true]) {
        expect(await replayStripeEvent(deps, { eventId: event.id }, { dryRun })).toMatchObject({ action: 'unchanged', statusBefore: status, statusAfter: status });
      }
    }
    expect(await snapshot(db)).toEqual(before);
  });

  it('unknown, malformed and ambiguous ids are clear errors; a scope picks one', async () => {
    const deps = recoveryDeps(db);
    expect(await codeOf(replayStripeEvent(deps, { eventId: 'evt_not_in_the_log' }))).toBe('NOT_FOUND: Stripe event evt_not_in_the_log is not in the event log');
    for (const bad of ['', 'evt_', 'evt-123', 'ch_123', `evt_${'a'.repeat(256)}`, 'evt_1 OR 1=1', 'evt_\u0000']) {
      expect(await codeOf(replayStripeEvent(deps, { eventId: bad }))).toMatch(/^BAD_REQUEST: Event id must have Stripe's shape/);
    }
    expect(await codeOf(replayStripeEvent(deps, { eventId: 'evt_123', scope: 'not-a-scope' }))).toMatch(/^BAD_REQUEST: scope must be "deployment" or a workspace id/);

    // One event id under two scopes (one Stripe account feeding the deployment and a workspace).
    const topup = await seedTopup(db, 2300);
    const event = paidEvent(topup);
    const payload = JSON.stringify(event);
    const at = new Date();
    await storeStripeEvent(db, { receipt: DEPLOYMENT, event: event as unknown as Stripe.Event, payload, now: at });
    await storeStripeEvent(db, { receipt: { scope: topup.workspaceId, workspaceId: topup.workspaceId }, event: event as unknown as Stripe.Event, payload, now: at });
    const ambiguous = await codeOf(replayStripeEvent(deps, { eventId: event.id }));
    expect(ambiguous).toContain(`BAD_REQUEST: Stripe event ${event.id} is in the event log under 2 scopes`);
    expect(ambiguous).toContain(DEPLOYMENT_SCOPE);
    expect(ambiguous).toContain(topup.workspaceId);
    expect(await replayStripeEvent(deps, { eventId: event.id, scope: DEPLOYMENT_SCOPE })).toMatchObject({ scope: DEPLOYMENT_SCOPE, action: 'processed' });
    expect(await ledgerOf(db, topup.customerId)).toHaveLength(1);
  });

  it('an event whose payload was pruned is reported, and nothing is done', async () => {
    const { deps, topup, event } = await failedOnce();
    await db.q.update(db.t.stripeEvents).set({ payload: '', payloadPrunedAt: new Date() }).where(eq(db.t.stripeEvents.id, event.id));
    const before = await snapshot(db);
    expect(await replayStripeEvent(deps, { eventId: event.id })).toMatchObject({ action: 'payload_pruned', statusAfter: 'failed' });
    expect(await snapshot(db)).toEqual(before);
    expect(await ledgerOf(db, topup.customerId)).toEqual([]);
  });

  it('a dead event replayed once it can succeed ends processed; a failing replay is recorded with source replay', async () => {
    const deps = recoveryDeps(db);
    const topup = await seedTopup(db, FAILING_AMOUNT);
    const event = paidEvent(topup);
    await refuseCredits(db);
    expect(await deliver(deps, event)).toMatchObject({ httpStatus: 500 });
    await db.q.update(db.t.stripeEvents).set({ status: 'dead', nextAttemptAt: null }).where(eq(db.t.stripeEvents.id, event.id));
    expect(await replayStripeEvent(deps, { eventId: event.id })).toMatchObject({ statusBefore: 'dead', statusAfter: 'dead', action: 'dead', detail: expect.stringContaining('simulated credit failure') });
    expect((await errorRows(db, event.id)).map((r) => [r.attempt, r.source])).toEqual([
      [1, 'webhook'],
      [2, 'replay'],
    ]);
    await allowCredits(db);
    expect(await replayStripeEvent(deps, { eventId: event.id })).toMatchObject({ statusBefore: 'dead', statusAfter: 'processed', action: 'processed' });
    expect(await ledgerOf(db, topup.customerId)).toHaveLength(1);
  });

  it('replays by status with progress, and validates the filter', async () => {
    const since = new Date(Date.now() - 1);
    const a = await failedOnce();
    const b = await failedOnce();
    const progress: [number, number][] = [];
    const results = await replayStripeEvents(a.deps, { status: 'failed', type: 'checkout.session.completed', since }, { onProgress: (done, total) => progress.push([done, total]) });
    expect(results.map((r) => [r.eventId, r.action])).toEqual([
      [a.event.id, 'processed'],
      [b.event.id, 'processed'],
    ]);
    expect(progress).toEqual([
      [0, 2],
      [1, 2],
      [2, 2],
    ]);
    expect(await replayStripeEvents(a.deps, { status: 'failed', since })).toEqual([]);
    for (const [filter, message] of [
      [{ status: 'processed' }, 'status must be one of failed, dead, received'],
      [{ status: 'failed', since: new Date('nope') }, 'since must be a valid date'],
      [{ status: 'failed', workspaceId: 'ws_1' }, 'workspaceId must be a Tally id'],
      [{ status: 'failed', type: 'Checkout Session' }, 'type must be a Stripe event type'],
      [{ status: 'failed', limit: 0 }, 'limit must be a whole number from 1 to 1000'],
      [{ status: 'failed', limit: 1001 }, 'limit must be a whole number from 1 to 1000'],
    ] as const) {
      expect(await codeOf(replayStripeEvents(a.deps, filter as Parameters<typeof replayStripeEvents>[1]))).toContain(`BAD_REQUEST: ${message}`);
    }
  });
});
