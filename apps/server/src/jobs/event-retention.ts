/**
 * Daily pruning of Stripe event payloads (issue 10 item 7): payloads of `processed` and
 * `ignored` events older than TALLY_EVENT_RETENTION_DAYS (ServerConfig.eventRetentionDays,
 * default 90) are emptied (`pruneStripeEventPayloads`, in chunks of a few hundred rows per
 * transaction); failed, dead, received and anomaly events keep theirs.
 *
 * - Scheduling: croner, `30 3 * * *` in UTC (03:30 daily) by default, with `protect`, `unref`.
 * - Once across processes: a run takes the `stripe-event-retention` job lease; a process that
 *   does not get it skips the run (pruning is idempotent anyway: a pruned row no longer matches).
 * - Stopping: `stop()` ends the schedule; an in-flight run stops after its current chunk.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { acquireJobLease, pruneStripeEventPayloads, releaseJobLease, type Logger, type PruneSummary } from '@tally/api';
import type { Database } from '@tally/db';
import { scheduleJob } from './scheduled-job';

/** Daily at 03:30 UTC. */
export const EVENT_RETENTION_SCHEDULE = '30 3 * * *';
/** The job lease's name. */
export const EVENT_RETENTION_LEASE = 'stripe-event-retention';
const LEASE_TTL_MS = 30 * 60_000;

/** What a run did: `busy` when another process held the lease, `stopped` once stopped. */
export type EventRetentionRun = { status: 'ran'; summary: PruneSummary } | { status: 'busy' | 'stopped' };

export interface EventRetention {
  /** Prune now (what the schedule runs); concurrent calls in one process share one run. */
  runNow(): Promise<EventRetentionRun>;
  stop(): Promise<void>;
  /** When the schedule runs next (null: stopped, or no schedule). */
  nextRun(): Date | null;
}

/**
 * Start the daily payload pruning in this process (see the module doc).
 * @param retentionDays ServerConfig.eventRetentionDays (whole days, >= 1).
 * @param schedule cron expression in UTC, or null for none (runNow still works).
 * @param now the clock (tests move it).
 * @throws RangeError for `retentionDays` out of range; Error from croner for an invalid schedule.
 */
export function startEventRetention({
  db,
  logger,
  retentionDays,
  schedule = EVENT_RETENTION_SCHEDULE,
  owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
  now = () => new Date(),
}: {
  db: Database;
  logger: Logger;
  retentionDays: number;
  schedule?: string | null;
  owner?: string;
  now?: () => Date;
}): EventRetention {
  if (!Number.isSafeInteger(retentionDays) || retentionDays < 1 || retentionDays > 36_500) throw new RangeError(`retentionDays must be a whole number of days from 1 to 36500, got ${retentionDays}`);

  const runOnce = async (): Promise<EventRetentionRun> => {
    if (job.isStopped()) return { status: 'stopped' };
    if (!(await acquireJobLease(db, { name: EVENT_RETENTION_LEASE, owner, ttlMs: LEASE_TTL_MS }))) return { status: 'busy' };
    try {
      const summary = await pruneStripeEventPayloads(db, { olderThanDays: retentionDays, now: now(), shouldStop: () => job.isStopped() });
      if (summary.pruned > 0) logger.info({ pruned: summary.pruned, chunks: summary.chunks, retentionDays, cutoff: summary.cutoff.toISOString() }, 'Pruned the payloads of old processed and ignored Stripe events');
      return { status: 'ran', summary };
    } finally {
      await releaseJobLease(db, { name: EVENT_RETENTION_LEASE, owner }).catch(() => false);
    }
  };

  const logFailure = (err: unknown) => logger.error({ err: err instanceof Error ? err.message.slice(0, 500) : String(err) }, 'Stripe event payload pruning failed; the next run retries');
  const job = scheduleJob({ schedule: schedule ?? null, run: runOnce, onFailure: logFailure });
  return { runNow: job.runNow, nextRun: job.nextRun, stop: job.stop };
}
