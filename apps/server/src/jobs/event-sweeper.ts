/**
 * The Stripe event sweeper, run by the server itself (issue 10 item 3): every 30 s one sweep
 * (`sweepStripeEvents`) reprocesses events left `received` by a crash (older than 5 minutes)
 * and `failed` events whose retry is due (backoff 1 min, 5 min, 30 min, 2 h, 12 h, then
 * `dead`), at most `limit` per sweep, through the delivery path.
 *
 * - Scheduling: croner (`*\/30 * * * * *`, seconds field) with `protect`, so a sweep never
 *   overlaps the previous one in this process; `unref` so it never keeps the process alive.
 * - Once across processes: each sweep takes the `stripe-event-sweeper` job lease (works on
 *   both dialects); a process that does not get it skips that sweep. Each event is also
 *   claimed by a conditional update, and handlers are exactly-once (unique references).
 * - Logging: a sweep that did something logs one summary line (counts per action, no payload).
 * - Stopping: `stop()` ends the schedule and makes an in-flight sweep stop before its next
 *   event; it resolves once the sweep has let go.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { sweepStripeEvents, type EventSweepSummary, type Logger, type StripeAccounts } from '@tally/api';
import type { Database } from '@tally/db';
import { scheduleJob } from './scheduled-job';

/** Every 30 seconds (croner's optional seconds field), UTC. */
export const EVENT_SWEEP_SCHEDULE = '*/30 * * * * *';

export interface EventSweeper {
  /** Sweep now (what the schedule runs); concurrent calls in one process share one sweep. Resolves `null` once stopped. */
  runNow(): Promise<EventSweepSummary | null>;
  /** End the schedule; an in-flight sweep stops before its next event. Resolves when it has. */
  stop(): Promise<void>;
}

/**
 * Start the sweeper in this process (see the module doc).
 * @param config.publicUrl ServerConfig.publicUrl (named in endpoint errors); `graceDays` and `webUrl`
 *   are handed to handlers as a delivery's are (config.api.dunningGraceDays, config.api.webUrl).
 * @param schedule croner expression (default every 30 s), or null for none (runNow still works).
 * @param limit most events per sweep (default 100).
 * @param owner this process in the lease (default `<hostname>:<pid>:<random>`).
 * @param now the clock (tests move it).
 * @throws Error from croner for an invalid `schedule`.
 */
export function startEventSweeper({
  db,
  stripeAccounts,
  logger,
  config,
  schedule = EVENT_SWEEP_SCHEDULE,
  limit = 100,
  owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
  now = () => new Date(),
}: {
  db: Database;
  stripeAccounts: StripeAccounts;
  logger: Logger;
  config: { publicUrl: string; graceDays?: number; webUrl?: string };
  schedule?: string | null;
  limit?: number;
  owner?: string;
  now?: () => Date;
}): EventSweeper {
  const deps = {
    db,
    logger,
    stripeAccounts,
    publicUrl: config.publicUrl,
    ...(config.graceDays !== undefined ? { graceDays: config.graceDays } : {}),
    ...(config.webUrl ? { webUrl: config.webUrl } : {}),
  };

  const sweepOnce = async (): Promise<EventSweepSummary | null> => {
    if (job.isStopped()) return null;
    const summary = await sweepStripeEvents(deps, { now: now(), limit, owner, shouldStop: () => job.isStopped() });
    if (summary.status === 'ran' && summary.results.length > 0) {
      logger.info({ picked: summary.picked, ...summary.counts, owner }, 'Stripe event sweeper: reprocessed stuck and due events');
    }
    return summary;
  };

  const logFailure = (err: unknown) => logger.error({ err: err instanceof Error ? err.message.slice(0, 500) : String(err) }, 'Stripe event sweep failed; the next sweep retries');
  const job = scheduleJob({ schedule: schedule ?? null, run: sweepOnce, onFailure: logFailure });
  return { runNow: job.runNow, stop: job.stop };
}
