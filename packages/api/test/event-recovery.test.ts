/**
 * Issue 10 item 3, recovery by itself: a failed handler is recorded (error row, retry time),
 * the sweeper retries it on the backoff schedule until `dead`, events stuck in `received` by
 * a crash are processed once, and two sweepers on two connections never run one event twice.
 */
import type { Database } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runLoggedEvent } from '../src/events/replay';
import { stripeEventBacklog, sweepStripeEvents, STUCK_RECEIVED_AFTER_MS } from '../src/events/sweeper';
import type { BillingChange } from '../src/stream/messages';
import { setBillingChangeSink } from '../src/stream/publish';
import { EVENT_RETRY_BACKOFF_MS, recordEventFailure } from '../src/webhooks/mark-event';
import { storeStripeEvent } from '../src/webhooks/receive';
import { DEPLOYMENT_SCOPE } from '../src/webhooks/types';
import type Stripe from 'stripe';
import { allowCredits, deliver, DEPLOYMENT, errorRows, eventRow, FAILING_AMOUNT, ledgerOf, paidEvent, recoveryDeps, refuseCredits, seedTopup, topupRow } from './event-recovery-helpers';

const MIN = 60_000;
const later = (ms: number, from = new Date()) => new Date(from.getTime() + ms);

describe.each(testDialects)('Stripe event recovery ($name)', ({ create }) => {
  let db: TestDatabase;
  const published: BillingChange[] = [];
  let restoreSink: () => void;
  beforeAll(async () => {
    db = await create();
    restoreSink = setBillingChangeSink((change) => published.push(change));
  });
  afterAll(async () => {
    restoreSink();
    await db.destroy();
  });
  afterEach(async () => {
    await allowCredits(db);
    published.length = 0;
  });
  const sweep = (now: Date, database: Database = db, owner = 'test-sweeper') => sweepStripeEvents(recoveryDeps(database), { now, owner });

  it('a handler that throws is failed with an error row and a retry in 1 min; the sweeper then credits it once', async () => {
    const deps = recoveryDeps(db);
    const topup = await seedTopup(db, FAILING_AMOUNT);
    const event = paidEvent(topup);
    await refuseCredits(db);
    const before = Date.now();
    expect(await deliver(deps, event)).toMatchObject({ httpStatus: 500, status: 'failed', error: expect.stringContaining('simulated credit failure') });
    const failed = await eventRow(db, event.id);
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, lastError: expect.stringContaining('simulated credit failure'), processedAt: null });
    const retryIn = failed!.nextAttemptAt!.getTime() - before;
    expect(retryIn).toBeGreaterThanOrEqual(EVENT_RETRY_BACKOFF_MS[0]);
    expect(retryIn).toBeLessThan(EVENT_RETRY_BACKOFF_MS[0] + 30_000);
    expect((await errorRows(db, event.id)).map((r) => [r.scope, r.attempt, r.source, r.error.includes('simulated credit failure')])).toEqual([[DEPLOYMENT_SCOPE, 1, 'webhook', true]]);
    expect(await ledgerOf(db, topup.customerId)).toEqual([]);
    expect(published).toEqual([
      { kind: 'event.received', workspaceId: null, eventId: event.id, type: event.type },
      { kind: 'event.failed', workspaceId: null, eventId: event.id, type: event.type },
    ]);

    await allowCredits(db);
    // Not due yet: the sweeper leaves it.
    expect(await sweep(later(30_000))).toMatchObject({ status: 'ran', picked: 0 });
    expect(await eventRow(db, event.id)).toMatchObject({ status: 'failed', attempts: 1 });
    const run = await sweep(later(MIN + 1000));
    expect(run.results).toEqual([expect.objectContaining({ eventId: event.id, statusBefore: 'failed', statusAfter: 'processed', action: 'processed' })]);
    expect(await eventRow(db, event.id)).toMatchObject({ status: 'processed', attempts: 2, nextAttemptAt: null, lastError: null, workspaceId: topup.workspaceId });
    expect((await ledgerOf(db, topup.customerId)).map((e) => [e.amountMinor, e.reference])).toEqual([[FAILING_AMOUNT, `topup:${topup.topupId}`]]);
    expect(await topupRow(db, topup.topupId)).toMatchObject({ status: 'paid', creditedAmountMinor: FAILING_AMOUNT });
    expect(published.at(-1)).toEqual({ kind: 'event.processed', workspaceId: topup.workspaceId, eventId: event.id, type: event.type });
    // Processed: later sweeps and a redelivery change nothing.
    expect(await sweep(later(24 * 60 * MIN))).toMatchObject({ picked: 0 });
    expect(await deliver(deps, event)).toMatchObject({ httpStatus: 200, status: 'processed', duplicate: true });
    expect(await ledgerOf(db, topup.customerId)).toHaveLength(1);
  });

  it('each failed retry schedules the next (1 min, 5 min, 30 min, 2 h, 12 h), then dead; a redelivery of a dead event still runs it', async () => {
    const deps = recoveryDeps(db);
    const topup = await seedTopup(db, FAILING_AMOUNT);
    const event = paidEvent(topup);
    await refuseCredits(db);
    expect(await deliver(deps, event)).toMatchObject({ httpStatus: 500 });
    let now = (await eventRow(db, event.id))!.nextAttemptAt!;
    expect(now.getTime() - (await eventRow(db, event.id))!.updatedAt.getTime()).toBe(EVENT_RETRY_BACKOFF_MS[0]);
    for (const [i, delay] of EVENT_RETRY_BACKOFF_MS.slice(1).entries()) {
      const run = await sweep(now);
      expect(run.results.map((r) => [r.eventId, r.action])).toEqual([[event.id, 'failed']]);
      const row = (await eventRow(db, event.id))!;
      expect(row).toMatchObject({ status: 'failed', attempts: i + 2 });
      expect(row.nextAttemptAt!.getTime() - now.getTime()).toBe(delay);
      now = row.nextAttemptAt!;
    }
    // The retry after 12 h fails too: dead, no retry scheduled, never swept again.
    const last = await sweep(now);
    expect(last.results.map((r) => [r.action, r.statusAfter])).toEqual([['dead', 'dead']]);
    expect(published.at(-1)).toEqual({ kind: 'event.dead', workspaceId: null, eventId: event.id, type: event.type });
    expect(await eventRow(db, event.id)).toMatchObject({ status: 'dead', attempts: 6, nextAttemptAt: null, lastError: expect.stringContaining('simulated credit failure') });
    expect((await errorRows(db, event.id)).map((r) => [r.attempt, r.source])).toEqual([
      [1, 'webhook'],
      [2, 'sweeper'],
      [3, 'sweeper'],
      [4, 'sweeper'],
      [5, 'sweeper'],
      [6, 'sweeper'],
    ]);
    expect(await sweep(later(30 * 24 * 60 * MIN))).toMatchObject({ picked: 0 });
    expect(await stripeEventBacklog(db, { now: later(30 * 24 * 60 * MIN) })).toMatchObject({ dead: 1, dueFailed: 0 });
    // Stripe's redelivery still runs the handler: failing keeps it dead, succeeding processes it.
    expect(await deliver(deps, event)).toMatchObject({ httpStatus: 500, status: 'dead' });
    expect(await eventRow(db, event.id)).toMatchObject({ status: 'dead', attempts: 7 });
    await allowCredits(db);
    expect(await deliver(deps, event)).toMatchObject({ httpStatus: 200, status: 'processed' });
    expect(await eventRow(db, event.id)).toMatchObject({ status: 'processed', attempts: 8, nextAttemptAt: null, lastError: null });
    expect(await ledgerOf(db, topup.customerId)).toHaveLength(1);
  });

  it('an event left received by a crash is processed by the sweeper after 5 minutes, once', async () => {
    const topup = await seedTopup(db, 2000);
    const event = paidEvent(topup);
    // What a process killed between storing and processing leaves behind.
    const storedAt = new Date();
    expect(await storeStripeEvent(db, { receipt: DEPLOYMENT, event: event as unknown as Stripe.Event, payload: JSON.stringify(event), now: storedAt })).toEqual({ inserted: true, status: 'received' });
    expect(await sweep(later(STUCK_RECEIVED_AFTER_MS - 1000, storedAt))).toMatchObject({ picked: 0 });
    expect(await stripeEventBacklog(db, { now: later(STUCK_RECEIVED_AFTER_MS - 1000, storedAt) })).toMatchObject({ stuckReceived: 0 });
    expect(await stripeEventBacklog(db, { now: later(STUCK_RECEIVED_AFTER_MS + 1000, storedAt) })).toMatchObject({ stuckReceived: 1 });
    const run = await sweep(later(STUCK_RECEIVED_AFTER_MS + 1000, storedAt));
    expect(run.results.map((r) => [r.eventId, r.statusBefore, r.action])).toEqual([[event.id, 'received', 'processed']]);
    expect(await eventRow(db, event.id)).toMatchObject({ status: 'processed', attempts: 2 });
    expect(await ledgerOf(db, topup.customerId)).toHaveLength(1);
    expect(await sweep(later(60 * MIN, storedAt))).toMatchObject({ picked: 0 });
    expect(await ledgerOf(db, topup.customerId)).toHaveLength(1);
    expect(await errorRows(db, event.id)).toEqual([]);
  });

  it('two sweepers on two connections at once never process one event twice', async () => {
    const other = await db.connectAgain();
    const storedAt = new Date();
    const topups = await Promise.all(Array.from({ length: 12 }, () => seedTopup(db, 1500)));
    const events = topups.map(paidEvent);
    for (const event of events) await storeStripeEvent(db, { receipt: DEPLOYMENT, event: event as unknown as Stripe.Event, payload: JSON.stringify(event), now: storedAt });
    const at = later(STUCK_RECEIVED_AFTER_MS + 1000, storedAt);
    const runs = [];
    for (let round = 0; round < 3; round++) runs.push(...(await Promise.all([sweep(at, db, 'sweeper-a'), sweep(at, other, 'sweeper-b')])));
    const processed = runs.flatMap((r) => r.results.filter((x) => x.action === 'processed').map((x) => x.eventId));
    expect(processed.sort()).toEqual(events.map((e) => e.id).sort());
    for (const [i, topup] of topups.entries()) {
      expect(await ledgerOf(db, topup.customerId)).toHaveLength(1);
      expect(await eventRow(db, events[i]!.id)).toMatchObject({ status: 'processed', attempts: 2 });
    }
  });

  it('two sweeps that read the same row: only one claims and runs it (without the lease)', async () => {
    const other = await db.connectAgain();
    const topup = await seedTopup(db, 1700);
    const event = paidEvent(topup);
    const storedAt = new Date(Date.now() - STUCK_RECEIVED_AFTER_MS - 1000);
    await storeStripeEvent(db, { receipt: DEPLOYMENT, event: event as unknown as Stripe.Event, payload: JSON.stringify(event), now: storedAt });
    const row = (await eventRow(db, event.id))!;
    const results = await Promise.all([runLoggedEvent(recoveryDeps(db), row, { source: 'sweeper', claim: 'exact' }), runLoggedEvent(recoveryDeps(other), row, { source: 'sweeper', claim: 'exact' })]);
    expect(results.map((r) => r.action).sort()).toEqual(['processed', 'unchanged']);
    expect(await eventRow(db, event.id)).toMatchObject({ status: 'processed', attempts: 2 });
    expect(await ledgerOf(db, topup.customerId)).toHaveLength(1);
  });

  it('a sweep finds the lease taken and does nothing', async () => {
    const { acquireJobLease, releaseJobLease } = await import('../src/usage/job-lease');
    const topup = await seedTopup(db, 1800);
    const event = paidEvent(topup);
    await storeStripeEvent(db, { receipt: DEPLOYMENT, event: event as unknown as Stripe.Event, payload: JSON.stringify(event), now: new Date(Date.now() - 10 * MIN) });
    expect(await acquireJobLease(db, { name: 'stripe-event-sweeper', owner: 'someone-else', ttlMs: MIN })).toBe(true);
    expect(await sweep(new Date())).toEqual({ status: 'busy', picked: 0, counts: {}, results: [] });
    expect(await eventRow(db, event.id)).toMatchObject({ status: 'received', attempts: 1 });
    await releaseJobLease(db, { name: 'stripe-event-sweeper', owner: 'someone-else' });
    expect((await sweep(new Date())).results.map((r) => [r.eventId, r.action])).toEqual([[event.id, 'processed']]);
  });

  it('state only moves forward: a failure recorded after success leaves the event processed', async () => {
    const deps = recoveryDeps(db);
    const topup = await seedTopup(db, 1900);
    const event = paidEvent(topup);
    expect(await deliver(deps, event)).toMatchObject({ httpStatus: 200, status: 'processed' });
    const recorded = await recordEventFailure(db, { scope: DEPLOYMENT_SCOPE, id: event.id }, { error: 'late failure of a concurrent attempt', source: 'webhook' });
    expect(recorded).toMatchObject({ status: 'processed', nextAttemptAt: null });
    expect(await eventRow(db, event.id)).toMatchObject({ status: 'processed', lastError: null, nextAttemptAt: null });
    expect(await recordEventFailure(db, { scope: DEPLOYMENT_SCOPE, id: 'evt_not_in_the_log' }, { error: 'x', source: 'webhook' })).toBeNull();
  });

  it('rejects a sweep limit out of range', async () => {
    for (const limit of [0, -1, 1.5, 1001]) await expect(sweepStripeEvents(recoveryDeps(db), { owner: 'x', limit })).rejects.toThrow(RangeError);
  });
});
