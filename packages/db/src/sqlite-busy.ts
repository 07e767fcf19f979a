/**
 * Waiting for another process's SQLite write lock without blocking the event loop.
 *
 * SQLite allows one writer per database file. When another connection (a second server
 * process, the `tally` CLI, a backup, the `sqlite3` shell) holds the write lock, a write
 * fails with SQLITE_BUSY once the connection's busy timeout has passed. better-sqlite3 is
 * synchronous: its busy handler sleeps on the JavaScript thread, so a long busy timeout
 * (the old `busy_timeout = 5000`) froze every request of the process for as long as the
 * other connection held the lock. (sqlite.org/rescode.html#busy, sqlite.org/c3ref/busy_timeout.html)
 *
 * The approach:
 * - The connection's busy timeout is short (`SQLITE_BUSY_TIMEOUT_MS`, a few ms): it absorbs
 *   the usual sub-millisecond overlap with another writer's commit, and blocks the thread
 *   for at most that long per attempt.
 * - An attempt that still fails with SQLITE_BUSY is retried asynchronously
 *   (`createBusyRetry`): it waits with exponential backoff and jitter (timers, so the event
 *   loop keeps serving requests and reads, which WAL never blocks), until an overall
 *   deadline (`SQLITE_BUSY_DEADLINE_MS`); then it rejects with `SqliteBusyError` (HTTP 500,
 *   Stripe and clients retry).
 * - Attempts that already met a busy lock wait in one FIFO line per database handle, and
 *   only the head of the line probes the lock: N waiting requests cost one short probe per
 *   backoff step, not N. When the head gets through, the rest follow in order at once.
 *   A new statement tries directly first (most statements are reads, which WAL serves
 *   while another connection writes), and joins the line only if it meets the lock.
 * - What is retried is always a unit that had no effect when it failed: one autocommit
 *   statement (SQLite applies a statement entirely or not at all), or a whole transaction,
 *   which was rolled back (`BEGIN IMMEDIATE` failing means nothing of the body ran; a
 *   transaction body is a generator, so calling it again starts it afresh).
 *
 * Rule for long writes: a Tally write holds the lock for the whole transaction, and every
 * other process's writer waits meanwhile (and gives up after the deadline). So batch jobs
 * (imports, backfills, purges) write in chunks: one short transaction per chunk of at most a
 * few hundred rows or ~50 ms of work, committing between chunks, never one transaction
 * over the whole batch. Each chunk must be idempotent (unique references, `ON CONFLICT`) so
 * a job can resume after a failure.
 */

/** The connection's own busy timeout (ms): how long one attempt may block the thread. */
export const SQLITE_BUSY_TIMEOUT_MS = 5;
/** How long (ms) a statement or transaction keeps retrying a busy lock before it fails. */
export const SQLITE_BUSY_DEADLINE_MS = 10_000;

/** Thrown when the write lock stayed taken by another connection past the deadline. */
export class SqliteBusyError extends Error {
  /** Same code as SQLite's, so code that matches on it keeps working. */
  readonly code = 'SQLITE_BUSY';
  constructor(
    readonly waitedMs: number,
    options?: { cause?: unknown },
  ) {
    super(`SQLite database is locked by another connection: still locked after ${(waitedMs / 1000).toFixed(1)} s (SQLITE_BUSY)`, options);
    this.name = 'SqliteBusyError';
  }
}

/** Whether `err` is SQLite's "database is locked" (SQLITE_BUSY and its extended codes). */
export function isSqliteBusy(err: unknown): boolean {
  // Drizzle wraps some driver errors (e.g. the migrator's statements) with the original as `cause`.
  for (let e = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof SqliteBusyError) return false;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) return true;
  }
  return false;
}

export interface BusyRetryOptions {
  /** Overall deadline per call in ms (default `SQLITE_BUSY_DEADLINE_MS`). */
  deadlineMs?: number;
  /** First backoff delay in ms (default 5), doubled per retry up to `maxDelayMs`. */
  firstDelayMs?: number;
  /** Largest backoff delay in ms (default 100). */
  maxDelayMs?: number;
}

/** Runs `attempt` (synchronous; may throw SQLITE_BUSY) until it gets through or the deadline passes. */
export type BusyRetry = <T>(attempt: () => T) => Promise<T>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const nextMacrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Make the retry runner of one database handle (see the module doc): direct attempt first;
 * on SQLITE_BUSY, a FIFO line where only the head probes, with exponential backoff plus up
 * to 20% jitter, until `deadlineMs` after the call started.
 * @returns a function resolving to `attempt()`'s value; it rejects with `attempt`'s own
 * error if that is not SQLITE_BUSY, or with `SqliteBusyError` after the deadline.
 */
export function createBusyRetry(options: BusyRetryOptions = {}): BusyRetry {
  const deadlineMs = options.deadlineMs ?? SQLITE_BUSY_DEADLINE_MS;
  const firstDelayMs = options.firstDelayMs ?? 5;
  const maxDelayMs = options.maxDelayMs ?? 100;
  let line: Promise<unknown> = Promise.resolve();
  let waiting = 0;

  async function untilThrough<T>(attempt: () => T, started: number, justFailed: boolean): Promise<T> {
    let delay = firstDelayMs;
    let lastError: unknown;
    for (let probe = justFailed; ; probe = true) {
      if (probe) {
        const remaining = deadlineMs - (Date.now() - started);
        if (remaining <= 0) throw new SqliteBusyError(Date.now() - started, { cause: lastError });
        await sleep(Math.min(remaining, delay * (1 + Math.random() * 0.2)));
        delay = Math.min(delay * 2, maxDelayMs);
      } else {
        // A turn that follows another in the line: let the event loop run first, so a line
        // draining past a held lock never chains its probes into one long block.
        await nextMacrotask();
      }
      try {
        return attempt();
      } catch (err) {
        if (!isSqliteBusy(err)) throw err;
        lastError = err;
      }
    }
  }

  return async function withBusyRetry<T>(attempt: () => T): Promise<T> {
    const started = Date.now();
    let justFailed = false;
    if (waiting === 0) {
      try {
        return attempt();
      } catch (err) {
        if (!isSqliteBusy(err)) throw err;
        justFailed = true;
      }
    }
    waiting += 1;
    const turn = line.then(() => untilThrough(attempt, started, justFailed));
    line = turn.then(
      () => undefined,
      () => undefined,
    );
    try {
      return await turn;
    } finally {
      waiting -= 1;
    }
  };
}
