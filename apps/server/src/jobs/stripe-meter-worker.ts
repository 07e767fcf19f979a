/**
 * The Stripe meter outbox worker: runs `drainStripeMeterOutbox` every `intervalMs` in every
 * server process (the claim's lease makes concurrent workers safe; see
 * packages/api/src/usage/stripe-meter-outbox.ts). Passes never overlap: a timer tick or a
 * `drainNow()` during a pass waits for it. A full pass (as many rows as `limit`) is followed
 * at once by another, so a backlog drains without waiting for the timer. `stop()` stops the
 * timer and waits for the pass in flight, so shutdown never leaves a send half-recorded unless
 * the process is killed (then the lease frees the rows and Stripe's identifier dedupe keeps the
 * resend from counting twice).
 */
import { drainStripeMeterOutbox, type DrainStripeMeterOutboxResult, type Logger, type StripeAccounts, type StripeMeterOutboxPolicy } from '@tally/api';
import type { Database } from '@tally/db';

/** Default poll interval, ms: usage reaches Stripe within about a second. */
export const STRIPE_METER_POLL_MS = 1_000;

export interface StripeMeterWorker {
  /** Stop polling and wait for the pass in flight; idempotent. Later `drainNow()` calls resolve with zero counts. */
  stop(): Promise<void>;
  /**
   * Run a pass now (after the one in flight, if any), draining until a pass comes back short;
   * resolves with the totals of the passes it ran. Database errors reject (the timer loop logs them instead).
   */
  drainNow(): Promise<DrainStripeMeterOutboxResult>;
}

const zero = (): DrainStripeMeterOutboxResult => ({ claimed: 0, sent: 0, failed: 0, dead: 0, deferred: 0 });

/**
 * Start the worker; the first pass runs at once.
 * @param intervalMs time between the end of a pass and the next, ms (default 1,000).
 * @param limit rows claimed per pass (default 500).
 */
export function startStripeMeterWorker({
  db,
  stripeAccounts,
  logger,
  intervalMs = STRIPE_METER_POLL_MS,
  limit = 500,
  policy,
}: {
  db: Database;
  stripeAccounts: StripeAccounts;
  logger: Logger;
  intervalMs?: number;
  limit?: number;
  policy?: StripeMeterOutboxPolicy;
}): StripeMeterWorker {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  /** The pass in flight (never rejects), or null. */
  let running: Promise<void> | null = null;

  /** Passes until one comes back short; totals. */
  async function drainAll(): Promise<DrainStripeMeterOutboxResult> {
    const total = zero();
    for (;;) {
      const r = await drainStripeMeterOutbox({ db, stripeAccounts, logger, limit, ...(policy ? { policy } : {}) });
      for (const k of Object.keys(total) as (keyof DrainStripeMeterOutboxResult)[]) total[k] += r[k];
      if (stopped || r.claimed < limit) return total;
    }
  }

  /** Runs `drainAll` once no pass is in flight; never two at a time. */
  async function exclusive(): Promise<DrainStripeMeterOutboxResult> {
    while (running) await running;
    if (stopped) return zero();
    const pass = drainAll();
    const mine = pass.then(
      () => undefined,
      () => undefined,
    );
    running = mine;
    try {
      return await pass;
    } finally {
      // Only our own pass: a caller that was waiting may already have started the next one.
      if (running === mine) running = null;
    }
  }

  const schedule = () => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(tick, intervalMs);
    timer.unref?.();
  };

  function tick() {
    if (stopped) return;
    exclusive()
      .catch((err: unknown) => {
        logger.error({ error: err instanceof Error ? err.message : String(err) }, 'stripe meter outbox pass failed; retrying at the next poll');
      })
      .finally(schedule);
  }

  timer = setTimeout(tick, 0);
  timer.unref?.();
  return {
    drainNow: () => exclusive(),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      while (running) await running;
    },
  };
}
