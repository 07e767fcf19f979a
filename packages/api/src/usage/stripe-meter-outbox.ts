/**
 * The Stripe meter outbox drainer (issue 9, `stripe_meter` billing mode): sends the
 * `stripe_meter_outbox` rows that ingestion writes in its transaction (one per accepted event of
 * a `stripe_meter` meter) to Stripe as Billing meter events, so ingestion never waits for Stripe.
 *
 * Claiming: one short transaction selects due rows (`pending`, `nextAttemptAt <= now`) and
 * moves their `nextAttemptAt` forward by a lease with a guarded UPDATE that repeats the due
 * condition; only rows whose UPDATE matched are returned. On Postgres a concurrent claimant
 * blocks on the row lock and then re-checks the WHERE on the new row version (READ COMMITTED),
 * so it skips rows another process just leased; SQLite writers run one at a time. No
 * transaction is held open while talking to Stripe. The lease time (`nextAttemptAt` as leased)
 * is the claim's token: the row is marked `sent` or rescheduled only while it still holds it.
 * A process that dies mid-send leaves the row to be claimed again after the lease; the resend
 * carries the same `identifier`, and Stripe answers a repeated identifier with a 400 ("An event
 * already exists with identifier ...") which is taken as proof it was delivered: `sent`.
 *
 * Sending: per workspace, with that workspace's Stripe client (`stripeAccounts.forWorkspace`),
 * `stripe.billing.meterEvents.create({ event_name, payload: { stripe_customer_id, value },
 * identifier, timestamp })` (https://docs.stripe.com/api/billing/meter-event/create), a few at
 * a time. Outcomes:
 * - accepted, or the identifier already exists -> `sent` (`sentAt`, `lastError` cleared);
 * - outside Stripe's window (`occurredAt` more than 35 days ago, checked before sending, or
 *   Stripe's `timestamp_too_far_in_past`) -> `dead` at once: no retry can succeed;
 * - another 4xx that retrying cannot fix (invalid request, 404, `timestamp_in_future`) ->
 *   `attempts + 1` and backoff, `dead` after `permanentMaxAttempts` (default 5, ~21 minutes);
 * - Stripe unreachable, 5xx, 429, 409, auth errors, the workspace has no usable Stripe ->
 *   `attempts + 1` and backoff (10 s, 1 min, 5 min, 15 min, 30 min, then hourly), never `dead`
 *   by count: such a row dies only when it leaves the 35-day window. After the first such
 *   failure the workspace's other claimed rows are not tried in this pass (Stripe is down for
 *   it): they are released to the same retry time with `lastError` saying so, attempts unchanged.
 * The `identifier` is the usage event's idempotency key (hashed when over Stripe's 100
 * characters, see `stripeMeterIdentifier`).
 * Events up to 5 minutes ahead are sent as they are (Stripe's window); further ahead (another
 * server's clock) they wait until they are within it.
 */
import { createHash } from 'node:crypto';
import { all, and, eq, inArray, lt, lte, type Database } from '@tally/db';
import type Stripe from 'stripe';
import { silentLogger, type Logger } from '../logger';
import type { StripeAccounts } from '../stripe/accounts';

/** Stripe accepts meter event timestamps up to 35 days in the past ... */
export const STRIPE_METER_MAX_PAST_MS = 35 * 24 * 60 * 60_000;
/** ... and up to 5 minutes in the future (https://docs.stripe.com/api/billing/meter-event/create#create_billing_meter_event-timestamp). */
export const STRIPE_METER_MAX_FUTURE_MS = 5 * 60_000;

/** Stripe's longest meter event `identifier`, characters (Tally's idempotency keys may be up to 255). */
export const STRIPE_METER_IDENTIFIER_MAX = 100;

/**
 * The meter event `identifier` sent for a usage event's idempotency key: the key itself, or for
 * a key longer than Stripe's 100 characters `tally-sha256-` + the first 64 hex digits of its
 * SHA-256 (deterministic, so a resend is still recognised as a duplicate).
 */
export function stripeMeterIdentifier(idempotencyKey: string): string {
  if (idempotencyKey.length <= STRIPE_METER_IDENTIFIER_MAX) return idempotencyKey;
  return `tally-sha256-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 64)}`;
}

/** How the drainer retries and batches. */
export interface StripeMeterOutboxPolicy {
  /** Delays after the 1st, 2nd, ... failed attempt, ms; the last one repeats. */
  retryDelaysMs: readonly number[];
  /** Attempts after which a row failing with a permanent error (a 4xx retrying cannot fix) is `dead`. */
  permanentMaxAttempts: number;
  /** How long a claim lasts, ms: longer than a claimed batch can take to send (the SDK's 80 s timeout, retries). */
  leaseMs: number;
  /** Requests in flight at once per workspace. */
  concurrency: number;
}

/** 10 s, 1 min, 5 min, 15 min, 30 min, then every hour; permanent errors dead after 5 attempts; 10-minute lease; 8 requests at once. */
export const DEFAULT_STRIPE_METER_POLICY: StripeMeterOutboxPolicy = {
  retryDelaysMs: [10_000, 60_000, 5 * 60_000, 15 * 60_000, 30 * 60_000, 60 * 60_000],
  permanentMaxAttempts: 5,
  leaseMs: 10 * 60_000,
  concurrency: 8,
};

/** Delay before the next attempt after `attempts` (>= 1) failed ones, ms. */
export function stripeMeterRetryDelayMs(attempts: number, policy: Pick<StripeMeterOutboxPolicy, 'retryDelaysMs'> = DEFAULT_STRIPE_METER_POLICY): number {
  const delays = policy.retryDelaysMs;
  return delays[Math.min(Math.max(attempts, 1), delays.length) - 1] ?? 60_000;
}

export interface DrainStripeMeterOutboxOptions {
  db: Database;
  stripeAccounts: StripeAccounts;
  /** The clock: rows due at or before it are claimed; backoff and the 35-day window count from it. Default: now. */
  now?: Date;
  /** Most rows claimed in this pass (default 500); the worker calls again while a pass comes back full. */
  limit?: number;
  logger?: Logger;
  policy?: StripeMeterOutboxPolicy;
}

/** What one pass did. `claimed` = sent + failed + dead(after sending) + deferred. */
export interface DrainStripeMeterOutboxResult {
  /** Rows leased by this pass. */
  claimed: number;
  /** Rows Stripe now holds (accepted, or already had that identifier). */
  sent: number;
  /** Rows whose attempt failed and that will be retried (`attempts` + 1, `nextAttemptAt` pushed back). */
  failed: number;
  /** Rows given up on this pass (`dead`): outside Stripe's window, or permanent errors out of attempts. */
  dead: number;
  /** Rows not tried because Stripe failed for their workspace earlier in this pass (rescheduled, attempts unchanged). */
  deferred: number;
}

type OutboxRow = Database['t']['stripeMeterOutbox']['$inferSelect'];

/** What an error from `meterEvents.create` means for the row. */
export type MeterEventErrorVerdict = 'duplicate' | 'expired' | 'permanent' | 'transient';

/** Longest `lastError` stored, characters. */
const MAX_ERROR_LENGTH = 500;

function errorText(err: unknown): string {
  const e = err as { type?: unknown; code?: unknown; statusCode?: unknown; message?: unknown } | null;
  const message = err instanceof Error ? err.message : String(err);
  const prefix = [typeof e?.statusCode === 'number' ? String(e.statusCode) : null, typeof e?.code === 'string' ? e.code : null].filter(Boolean).join(' ');
  return `${prefix ? `${prefix}: ` : ''}${message || 'unknown error'}`.slice(0, MAX_ERROR_LENGTH);
}

/**
 * Classifies a `stripe.billing.meterEvents.create` failure (a `Stripe.errors.StripeError` or
 * anything else thrown). Stripe answers a repeated `identifier` with 400 invalid_request_error
 * "An event already exists with identifier <id>." (the emulator adds `code:
 * resource_already_exists`, `param: identifier`): both are `duplicate`.
 */
export function classifyMeterEventError(err: unknown): MeterEventErrorVerdict {
  const e = (err ?? {}) as { type?: unknown; rawType?: unknown; code?: unknown; param?: unknown; statusCode?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : '';
  const status = typeof e.statusCode === 'number' ? e.statusCode : null;
  const invalid = e.type === 'StripeInvalidRequestError' || e.rawType === 'invalid_request_error';
  if (invalid && (/already exists with identifier/i.test(message) || (e.code === 'resource_already_exists' && e.param === 'identifier'))) return 'duplicate';
  if (invalid && (e.code === 'timestamp_too_far_in_past' || /within the past 35/i.test(message))) return 'expired';
  if (e.type === 'StripeIdempotencyError' || e.code === 'idempotency_error') return 'transient';
  if (status === 400 || status === 402 || status === 404 || status === 422) return 'permanent';
  return 'transient';
}

/** Claims up to `limit` due rows with a lease; returns them with `nextAttemptAt` = the lease end (the claim's token). */
async function claim(db: Database, now: Date, limit: number, leaseMs: number): Promise<OutboxRow[]> {
  const o = db.t.stripeMeterOutbox;
  const leaseUntil = new Date(now.getTime() + leaseMs);
  const due = and(eq(o.status, 'pending'), lte(o.nextAttemptAt, now));
  return db.transaction(function* (tx) {
    const ids = (yield* all(tx.select({ id: o.id }).from(o).where(due).orderBy(o.nextAttemptAt, o.id).limit(limit))).map((r) => r.id);
    if (ids.length === 0) return [];
    return yield* all(tx.update(o).set({ nextAttemptAt: leaseUntil }).where(and(inArray(o.id, ids), due)).returning());
  });
}

/**
 * Send due `stripe_meter_outbox` rows to Stripe as meter events, once each (see the module
 * comment for claiming, outcomes and backoff).
 * @returns counts of this pass: `{ claimed, sent, failed, dead, deferred }`.
 * @throws only on database errors (Stripe errors are recorded on the rows).
 */
export async function drainStripeMeterOutbox({
  db,
  stripeAccounts,
  now = new Date(),
  limit = 500,
  logger = silentLogger,
  policy = DEFAULT_STRIPE_METER_POLICY,
}: DrainStripeMeterOutboxOptions): Promise<DrainStripeMeterOutboxResult> {
  const o = db.t.stripeMeterOutbox;
  const result: DrainStripeMeterOutboxResult = { claimed: 0, sent: 0, failed: 0, dead: 0, deferred: 0 };
  const at = now.getTime();

  // Too old for Stripe: nothing to send, whoever holds them.
  const expired = await db.q
    .update(o)
    .set({ status: 'dead', lastError: "occurredAt is more than 35 days ago: outside the window Stripe accepts meter events in (not sent)" })
    .where(and(eq(o.status, 'pending'), lte(o.nextAttemptAt, now), lt(o.occurredAt, new Date(at - STRIPE_METER_MAX_PAST_MS))))
    .returning({ id: o.id, workspaceId: o.workspaceId });
  result.dead += expired.length;
  if (expired.length > 0) logger.error({ rows: expired.length, outboxIds: expired.slice(0, 20).map((r) => r.id) }, 'stripe meter events dead: older than 35 days');

  const rows = await claim(db, now, limit, policy.leaseMs);
  result.claimed = rows.length;
  if (rows.length === 0) return result;

  /** Our claim on `row`: still pending and still holding the lease we set. */
  const ours = (row: OutboxRow) => and(eq(o.id, row.id), eq(o.status, 'pending'), eq(o.nextAttemptAt, row.nextAttemptAt));
  const markSent = async (row: OutboxRow) => {
    const done = await db.q.update(o).set({ status: 'sent', sentAt: new Date(), lastError: null }).where(ours(row)).returning({ id: o.id });
    if (done.length === 0) logger.warn({ outboxId: row.id, workspaceId: row.workspaceId }, 'stripe meter event sent after its lease passed (another worker may resend it; Stripe dedupes by identifier)');
    result.sent += 1;
  };
  const markDead = async (row: OutboxRow, error: string, attempts: number) => {
    await db.q.update(o).set({ status: 'dead', attempts, lastError: error }).where(ours(row));
    result.dead += 1;
    logger.error({ outboxId: row.id, workspaceId: row.workspaceId, attempts, error }, 'stripe meter event dead: not retried');
  };
  /** Reschedules a failed row; returns the next attempt time. */
  const markFailed = async (row: OutboxRow, error: string): Promise<Date> => {
    const attempts = row.attempts + 1;
    // From the later of the pass's clock and the real one: a long pass does not retry at once.
    const nextAttemptAt = new Date(Math.max(at, Date.now()) + stripeMeterRetryDelayMs(attempts, policy));
    await db.q.update(o).set({ attempts, nextAttemptAt, lastError: error }).where(ours(row));
    result.failed += 1;
    return nextAttemptAt;
  };

  const byWorkspace = new Map<string, OutboxRow[]>();
  for (const row of rows) {
    const list = byWorkspace.get(row.workspaceId);
    if (list) list.push(row);
    else byWorkspace.set(row.workspaceId, [row]);
  }

  for (const [workspaceId, batch] of byWorkspace) {
    const workspaceStripe = await stripeAccounts.forWorkspace(db, workspaceId);
    if (!workspaceStripe.configured) {
      for (const row of batch) await markFailed(row, `not sent: ${workspaceStripe.reason}`.slice(0, MAX_ERROR_LENGTH));
      logger.warn({ workspaceId, rows: batch.length }, 'stripe meter events not sent: the workspace has no usable Stripe account; will retry');
      continue;
    }
    const stripe: Stripe = workspaceStripe.client;
    /** Set by the first transient failure: Stripe is failing for this workspace now. */
    const state: { down: { error: string; retryAt: Date } | null } = { down: null };
    const before = { sent: result.sent, failed: result.failed, dead: result.dead };
    let next = 0;

    const sendOne = async (row: OutboxRow) => {
      const occurred = row.occurredAt.getTime();
      if (occurred > at + STRIPE_METER_MAX_FUTURE_MS) {
        // Another server's clock ran ahead: wait until Stripe takes it (not an attempt).
        await db.q.update(o).set({ nextAttemptAt: new Date(occurred - STRIPE_METER_MAX_FUTURE_MS) }).where(ours(row));
        result.deferred += 1;
        return;
      }
      try {
        await stripe.billing.meterEvents.create({
          event_name: row.eventName,
          payload: { stripe_customer_id: row.stripeCustomerId, value: String(row.value) },
          identifier: stripeMeterIdentifier(row.identifier),
          timestamp: Math.floor(occurred / 1000),
        });
        await markSent(row);
      } catch (err) {
        const verdict = classifyMeterEventError(err);
        const error = errorText(err);
        if (verdict === 'duplicate') {
          await markSent(row);
          logger.info({ outboxId: row.id, workspaceId }, 'stripe meter event already at Stripe (identifier exists): marked sent');
        } else if (verdict === 'expired') {
          await markDead(row, error, row.attempts + 1);
        } else if (verdict === 'permanent' && row.attempts + 1 >= policy.permanentMaxAttempts) {
          await markDead(row, error, row.attempts + 1);
        } else {
          const retryAt = await markFailed(row, error);
          if (verdict === 'transient' && !state.down) {
            state.down = { error, retryAt };
            logger.warn({ workspaceId, outboxId: row.id, attempts: row.attempts + 1, error, nextAttemptAt: retryAt.toISOString() }, 'stripe meter events: Stripe failed; the rest of this batch waits for the retry');
          } else if (verdict === 'permanent') {
            logger.warn({ workspaceId, outboxId: row.id, attempts: row.attempts + 1, error, nextAttemptAt: retryAt.toISOString() }, 'stripe meter event refused by Stripe; will retry, then give up');
          }
        }
      }
    };

    const lane = async () => {
      while (next < batch.length && !state.down) await sendOne(batch[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(policy.concurrency, batch.length) }, lane));

    if (state.down) {
      const { error, retryAt } = state.down;
      const rest = batch.slice(next);
      for (const row of rest) await db.q.update(o).set({ nextAttemptAt: retryAt, lastError: `not tried: Stripe failed for another event of this workspace (${error})`.slice(0, MAX_ERROR_LENGTH) }).where(ours(row));
      result.deferred += rest.length;
    }
    logger.info(
      { workspaceId, sent: result.sent - before.sent, failed: result.failed - before.failed, dead: result.dead - before.dead, claimed: batch.length },
      'stripe meter events drained',
    );
  }
  return result;
}
