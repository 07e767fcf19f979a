/**
 * The monthly usage close, run by the server itself (issue 9 item 5): after each month ends,
 * every workspace's previous period is closed and its usage invoices issued on Stripe
 * (`closeUsagePeriod`), at most once across several server processes.
 *
 * - Scheduling: croner (a maintained cron library; no home-made timers), in UTC, by default
 *   `15 0 1 * *` (00:15 on the 1st; TALLY_USAGE_CLOSE_SCHEDULE, `off` to disable), with
 *   `protect` so a run never overlaps the previous one in this process.
 * - Catch-up: a run shortly after start, so a month whose scheduled run was missed (every
 *   process down at 00:15 on the 1st, or a run that crashed midway) is closed or resumed.
 * - Once across processes: a run first takes the `usage-period-close` job lease (one
 *   INSERT ... ON CONFLICT DO UPDATE ... WHERE expired; exactly one process gets it), renews it
 *   while it works and releases it at the end; the others skip. Within the run, a workspace
 *   whose period is already `closed` with nothing left to issue is skipped (usage_periods is
 *   the record), and everything closeUsagePeriod does is idempotent anyway (unique invoice
 *   rows, Stripe idempotency keys), so a process that loses its lease mid-run and another that
 *   takes over never bill twice.
 * - Stopping: `stop()` ends the schedule and makes an in-flight run stop at its next step
 *   (resumed by the next run); it resolves once the run has let go.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { acquireJobLease, closeUsagePeriod, periodOf, previousPeriod, releaseJobLease, type Logger, type StripeAccounts, type UsagePeriodCloseSummary } from '@tally/api';
import { and, count, eq, inArray, type Database } from '@tally/db';
import { scheduleJob } from './scheduled-job';
import { DEFAULT_USAGE_CLOSE_SCHEDULE } from '../config';

/** The job lease's name. */
export const USAGE_CLOSE_LEASE = 'usage-period-close';
/** How long a taken lease lasts without renewal, ms (renewed every `LEASE_RENEW_MS` while a run works). */
export const USAGE_CLOSE_LEASE_TTL_MS = 10 * 60_000;
const LEASE_RENEW_MS = 60_000;

/** What one run did per workspace. */
export type UsageCloseWorkspaceResult =
  | { workspaceId: string; outcome: 'closed'; summary: UsagePeriodCloseSummary }
  | { workspaceId: string; outcome: 'skipped'; reason: 'already closed' }
  | { workspaceId: string; outcome: 'error'; error: string };

/** What a run did: `busy` when another process held the lease (nothing done here), `stopped` when the scheduler was stopped. */
export interface UsageCloseRun {
  status: 'ran' | 'busy' | 'stopped';
  period: string;
  workspaces: UsageCloseWorkspaceResult[];
}

export interface UsageCloseScheduler {
  /** Close the previous period of every workspace now (what the schedule and the catch-up run). Concurrent calls in one process share one run. */
  runNow(): Promise<UsageCloseRun>;
  /** End the schedule; an in-flight run stops at its next step. Resolves when it has. */
  stop(): Promise<void>;
  /** When the schedule runs next (null: stopped or `off`). */
  nextRun(): Date | null;
}

class SchedulerStopped extends Error {}
class LeaseLost extends Error {}

/**
 * Start the monthly usage close in this process (see the module doc).
 * @param schedule cron expression in UTC (default `DEFAULT_USAGE_CLOSE_SCHEDULE`), or null for
 *   no schedule (runNow still works).
 * @param owner this process in the lease (default `<hostname>:<pid>:<random>`).
 * @param catchUpDelayMs when the start-up catch-up runs, ms after start (default 5,000); null: none.
 * @param now the clock (tests move it).
 * @throws Error from croner for an invalid `schedule` (config.ts validates it first).
 */
export function startUsageCloseScheduler({
  db,
  stripeAccounts,
  logger,
  schedule = DEFAULT_USAGE_CLOSE_SCHEDULE,
  owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
  catchUpDelayMs = 5_000,
  now = () => new Date(),
}: {
  db: Database;
  stripeAccounts: StripeAccounts;
  logger: Logger;
  schedule?: string | null;
  owner?: string;
  catchUpDelayMs?: number | null;
  now?: () => Date;
}): UsageCloseScheduler {

  const runOnce = async (): Promise<UsageCloseRun> => {
    const at = now();
    const period = previousPeriod(periodOf(at));
    if (job.isStopped()) return { status: 'stopped', period, workspaces: [] };
    if (!(await acquireJobLease(db, { name: USAGE_CLOSE_LEASE, owner, ttlMs: USAGE_CLOSE_LEASE_TTL_MS, now: at }))) {
      logger.info({ period, owner }, 'Usage close: another process holds the lease; skipped here');
      return { status: 'busy', period, workspaces: [] };
    }
    let renewedAt = Date.now();
    const keepLease = async () => {
      if (job.isStopped()) throw new SchedulerStopped('the usage close scheduler was stopped');
      if (Date.now() - renewedAt < LEASE_RENEW_MS) return;
      renewedAt = Date.now();
      if (!(await acquireJobLease(db, { name: USAGE_CLOSE_LEASE, owner, ttlMs: USAGE_CLOSE_LEASE_TTL_MS, now: now() }))) throw new LeaseLost('the usage close lease was taken over by another process');
    };
    const results: UsageCloseWorkspaceResult[] = [];
    try {
      const { workspaces: w, usagePeriods: p, usageInvoices: u } = db.t;
      const workspaces = await db.q.select({ id: w.id }).from(w).orderBy(w.createdAt, w.id);
      for (const { id: workspaceId } of workspaces) {
        await keepLease();
        const [row] = await db.q.select({ status: p.status }).from(p).where(and(eq(p.workspaceId, workspaceId), eq(p.period, period)));
        if (row?.status === 'closed') {
          const [pending] = await db.q
            .select({ n: count() })
            .from(u)
            .where(and(eq(u.workspaceId, workspaceId), eq(u.period, period), inArray(u.status, ['draft', 'failed'])));
          if (Number(pending?.n ?? 0) === 0) {
            results.push({ workspaceId, outcome: 'skipped', reason: 'already closed' });
            continue;
          }
        }
        // The lease is renewed from the progress callback, which is synchronous: renewals
        // are chained and the next callback rethrows a failed one.
        let renewal: Promise<void> = Promise.resolve();
        let renewalError: unknown = null;
        try {
          const summary = await closeUsagePeriod({
            db,
            stripeAccounts,
            workspaceId,
            period,
            now: at,
            logger,
            onProgress: () => {
              if (renewalError) throw renewalError;
              if (job.isStopped()) throw new SchedulerStopped('the usage close scheduler was stopped');
              renewal = renewal.then(keepLease).catch((err: unknown) => {
                renewalError = err;
              });
            },
          });
          await renewal;
          results.push({ workspaceId, outcome: 'closed', summary });
          logger.info({ ...summary }, 'Usage period closed');
        } catch (err) {
          if (err instanceof SchedulerStopped || err instanceof LeaseLost) throw err;
          const error = err instanceof Error ? err.message : String(err);
          results.push({ workspaceId, outcome: 'error', error });
          logger.error({ workspaceId, period, err: error.slice(0, 500) }, 'Usage period close failed; the next run retries');
        }
      }
      return { status: 'ran', period, workspaces: results };
    } catch (err) {
      if (err instanceof SchedulerStopped) return { status: 'stopped', period, workspaces: results };
      if (err instanceof LeaseLost) {
        logger.warn({ period, owner }, 'Usage close: lease lost to another process; stopped here (the other run goes on)');
        return { status: 'busy', period, workspaces: results };
      }
      throw err;
    } finally {
      await releaseJobLease(db, { name: USAGE_CLOSE_LEASE, owner }).catch(() => false);
    }
  };

  const logFailure = (err: unknown) => logger.error({ err: err instanceof Error ? err.message.slice(0, 500) : String(err) }, 'Usage close run failed; the next run retries');
  const job = scheduleJob({ schedule: schedule ?? null, run: runOnce, onFailure: logFailure, catchUpDelayMs });
  return { runNow: job.runNow, nextRun: job.nextRun, stop: job.stop };
}
