/**
 * Recovery by itself (issue 10 item 3): one sweep of the Stripe event log reprocesses
 * - events left `received` for more than 5 minutes (a process crashed, or could not record a
 *   failure, between storing an event and settling it), and
 * - `failed` events whose retry is due (`nextAttemptAt` <= now; `nextAttemptAt` null: a failure
 *   from before the retry schedule existed, due at once),
 * through the delivery path (`runLoggedEvent` -> `processStoredEvent`), oldest first, at most
 * `limit` per sweep. A failure moves the event along the retry schedule
 * (`EVENT_RETRY_BACKOFF_MS`) and finally to `dead`.
 *
 * Once at a time across processes: a sweep first takes the `stripe-event-sweeper` job lease
 * (`acquireJobLease`, one upsert on both dialects), renews it while it works and releases it at
 * the end; a process that does not get it does nothing (`busy`). Each event is also claimed by a
 * conditional update (same status and attempts as read), so even two sweeps that both read a
 * row never both run it; and the handlers are exactly-once anyway (unique references).
 */
import { and, asc, count, eq, isNull, lte, or, type Database, type StripeEventRow } from '@tally/db';
import { acquireJobLease, releaseJobLease } from '../usage/job-lease';
import { describeError } from '../webhooks/text';
import { runLoggedEvent, type EventProcessingDeps, type EventReplayResult, type ReplayAction } from './replay';

/** The job lease a sweep holds. */
export const EVENT_SWEEPER_LEASE = 'stripe-event-sweeper';
/** A `received` event untouched this long (ms) is taken as stuck by a crash: 5 minutes (issue 10 item 3). */
export const STUCK_RECEIVED_AFTER_MS = 5 * 60_000;
/** Most events one sweep processes (default). */
export const DEFAULT_SWEEP_LIMIT = 100;
const DEFAULT_LEASE_TTL_MS = 5 * 60_000;

/** What one sweep did: `busy` when another process held the lease (nothing done here). */
export interface EventSweepSummary {
  status: 'ran' | 'busy';
  /** Events selected (stuck `received` + due `failed`). */
  picked: number;
  /** How many ended in each action (`unchanged`: taken by another process meanwhile). */
  counts: Partial<Record<ReplayAction, number>>;
  results: EventReplayResult[];
}

/**
 * Run one sweep (see the module doc).
 * @param now the sweep's clock: which events are stuck or due, and the retry schedule (tests move
 *   it); the lease itself always runs on the real clock.
 * @param limit most events this sweep processes, 1..1000 (default 100).
 * @param owner this process in the lease (e.g. `<hostname>:<pid>:<random>`).
 * @param shouldStop checked between events: a stopping server ends the sweep early.
 * @throws RangeError for a limit out of range; the database's error when the selection fails
 *   (an event's own failure is recorded on it, not thrown).
 */
export async function sweepStripeEvents(
  deps: EventProcessingDeps,
  { now = new Date(), limit = DEFAULT_SWEEP_LIMIT, owner, leaseTtlMs = DEFAULT_LEASE_TTL_MS, shouldStop }: { now?: Date; limit?: number; owner: string; leaseTtlMs?: number; shouldStop?: () => boolean },
): Promise<EventSweepSummary> {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw new RangeError(`limit must be a whole number from 1 to 1000, got ${limit}`);
  const { db } = deps;
  if (!(await acquireJobLease(db, { name: EVENT_SWEEPER_LEASE, owner, ttlMs: leaseTtlMs }))) return { status: 'busy', picked: 0, counts: {}, results: [] };
  const results: EventReplayResult[] = [];
  let picked: number;
  try {
    const { stripeEvents: e } = db.t;
    const stuck = await db.q
      .select()
      .from(e)
      .where(and(eq(e.status, 'received'), lte(e.updatedAt, new Date(now.getTime() - STUCK_RECEIVED_AFTER_MS))))
      .orderBy(asc(e.receivedAt), asc(e.scope), asc(e.id))
      .limit(limit);
    const due =
      stuck.length >= limit
        ? []
        : await db.q
            .select()
            .from(e)
            .where(and(eq(e.status, 'failed'), or(isNull(e.nextAttemptAt), lte(e.nextAttemptAt, now))))
            .orderBy(asc(e.nextAttemptAt), asc(e.receivedAt), asc(e.id))
            .limit(limit - stuck.length);
    const rows: StripeEventRow[] = [...stuck, ...due];
    picked = rows.length;
    let renewedAt = Date.now();
    for (const row of rows) {
      if (shouldStop?.()) break;
      if (Date.now() - renewedAt > leaseTtlMs / 3) {
        renewedAt = Date.now();
        if (!(await acquireJobLease(db, { name: EVENT_SWEEPER_LEASE, owner, ttlMs: leaseTtlMs }))) {
          deps.logger.warn({ owner }, 'Stripe event sweeper: lease lost to another process; stopped here');
          break;
        }
      }
      try {
        results.push(await runLoggedEvent(deps, row, { source: 'sweeper', claim: 'exact', now }));
      } catch (err) {
        const detail = describeError(err);
        deps.logger.error({ eventId: row.id, type: row.type, err: detail }, 'Stripe event sweeper could not run an event; the next sweep retries');
        results.push({ scope: row.scope, eventId: row.id, type: row.type, statusBefore: row.status, statusAfter: row.status, action: 'failed', detail });
      }
    }
  } finally {
    await releaseJobLease(db, { name: EVENT_SWEEPER_LEASE, owner }).catch(() => false);
  }
  const counts: Partial<Record<ReplayAction, number>> = {};
  for (const r of results) counts[r.action] = (counts[r.action] ?? 0) + 1;
  return { status: 'ran', picked, counts, results };
}

/**
 * The sweeper's backlog now, for metrics and admin pages: events stuck `received` (untouched
 * for more than 5 minutes), `failed` events whose retry is due, `failed` events waiting for a
 * later retry, and `dead` events (waiting for an operator).
 */
export async function stripeEventBacklog(db: Database, { now = new Date() }: { now?: Date } = {}): Promise<{ stuckReceived: number; dueFailed: number; waitingFailed: number; dead: number }> {
  const { stripeEvents: e } = db.t;
  const n = async (where: ReturnType<typeof and>) => Number((await db.q.select({ n: count() }).from(e).where(where))[0]?.n ?? 0);
  const dueFailed = await n(and(eq(e.status, 'failed'), or(isNull(e.nextAttemptAt), lte(e.nextAttemptAt, now))));
  return {
    stuckReceived: await n(and(eq(e.status, 'received'), lte(e.updatedAt, new Date(now.getTime() - STUCK_RECEIVED_AFTER_MS)))),
    dueFailed,
    waitingFailed: (await n(eq(e.status, 'failed'))) - dueFailed,
    dead: await n(eq(e.status, 'dead')),
  };
}
