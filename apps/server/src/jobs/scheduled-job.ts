/**
 * What every background job of the server shares (usage close, event sweeper, event
 * retention): a croner schedule in UTC (`protect`: a run never overlaps the previous one;
 * `unref`: the schedule never keeps the process alive), one run at a time in this process
 * (concurrent `runNow` calls share the run in flight), an optional catch-up run shortly after
 * start, and a `stop()` that ends the schedule and waits for the run in flight. Once across
 * processes is each job's own business (a `job_leases` lease inside `run`).
 */
import { Cron } from 'croner';

export interface ScheduledJob<T> {
  /** Run now (what the schedule runs); concurrent calls in one process share one run. */
  runNow(): Promise<T>;
  /** When the schedule runs next (null: stopped, or no schedule). */
  nextRun(): Date | null;
  /** Whether `stop()` was called: runs check it between units of work. */
  isStopped(): boolean;
  /** End the schedule (and the catch-up), then wait for the run in flight. */
  stop(): Promise<void>;
}

/**
 * @param schedule cron expression (UTC), or null for none (`runNow` still works).
 * @param run one run of the job; it should return early once `isStopped()`.
 * @param onFailure what a scheduled run's error becomes (a log line; the next run retries).
 * @param catchUpDelayMs a run this many ms after start (null or absent: none).
 * @throws Error from croner for an invalid cron expression.
 */
export function scheduleJob<T>({
  schedule,
  run,
  onFailure,
  catchUpDelayMs = null,
}: {
  schedule: string | null;
  run: (isStopped: () => boolean) => Promise<T>;
  onFailure: (err: unknown) => void;
  catchUpDelayMs?: number | null;
}): ScheduledJob<T> {
  let stopped = false;
  let inFlight: Promise<T> | null = null;
  const isStopped = () => stopped;
  const runNow = (): Promise<T> => {
    inFlight ??= run(isStopped).finally(() => {
      inFlight = null;
    });
    return inFlight;
  };
  const cron = schedule
    ? new Cron(schedule, { timezone: 'UTC', protect: true, unref: true }, async () => {
        await runNow().catch(onFailure);
      })
    : null;
  const catchUp = catchUpDelayMs === null ? null : setTimeout(() => void runNow().catch(onFailure), catchUpDelayMs);
  catchUp?.unref();
  return {
    runNow,
    isStopped,
    nextRun: () => (stopped ? null : (cron?.nextRun() ?? null)),
    async stop() {
      stopped = true;
      cron?.stop();
      if (catchUp) clearTimeout(catchUp);
      await inFlight?.catch(() => undefined);
    },
  };
}
