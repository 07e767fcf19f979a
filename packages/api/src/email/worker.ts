/**
 * The outbox worker: runs `sendPendingEmails` every `pollMs` (and at once on `kick()`), in
 * every server process; the guarded claim makes concurrent workers safe. `stop()` waits for
 * the pass in flight, so shutdown never leaves a row `sending` unless the process is killed
 * (then the lease frees it).
 */
import type { Database } from '@tally/db';
import type { Logger } from '../logger';
import { onEmailEnqueued } from './enqueue';
import { DEFAULT_OUTBOX_POLICY, sendPendingEmails, type OutboxPolicy } from './send-pending';
import type { MailTransport } from './transport';

export interface EmailWorker {
  /** Run a pass now (e.g. right after enqueueing), instead of at the next poll. */
  kick(): void;
  /** Stop polling and wait for the pass in flight; idempotent. Does not close the transport. */
  stop(): Promise<void>;
}

/** Default poll interval, ms: a verification email leaves within about a second. */
export const EMAIL_POLL_MS = 1_000;

/**
 * Start the worker. A pass that fails (database unreachable) is logged and retried at the
 * next poll; it never throws out of the loop.
 */
export function startEmailWorker({
  db,
  transport,
  from,
  logger,
  policy = DEFAULT_OUTBOX_POLICY,
  pollMs = EMAIL_POLL_MS,
  batchSize = 20,
}: {
  db: Database;
  transport: MailTransport;
  from: string;
  logger: Logger;
  policy?: OutboxPolicy;
  pollMs?: number;
  batchSize?: number;
}): EmailWorker {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | null = null;
  let again = false;

  const schedule = (ms: number) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(tick, ms);
    timer.unref?.();
  };

  async function pass() {
    try {
      // Full batches mean more is due: keep going until a pass comes back short.
      for (;;) {
        const result = await sendPendingEmails({ db, transport, from, logger, policy, batchSize });
        if (stopped || result.claimed < batchSize) break;
      }
    } catch (err) {
      logger.error({ error: err instanceof Error ? err.message : String(err) }, 'email outbox pass failed; retrying at the next poll');
    }
  }

  function tick() {
    if (stopped) return;
    if (running) {
      again = true; // a kick during a pass: run once more right after it
      return;
    }
    running = pass().finally(() => {
      running = null;
      if (again) {
        again = false;
        schedule(0);
      } else schedule(pollMs);
    });
  }

  const kick = () => {
    if (stopped) return;
    if (running) again = true;
    else schedule(0);
  };
  // Mail enqueued in this process on this database leaves at once.
  const unsubscribe = onEmailEnqueued((enqueuedOn) => {
    if (enqueuedOn === db) kick();
  });

  schedule(0);
  return {
    kick,
    async stop() {
      stopped = true;
      unsubscribe();
      clearTimeout(timer);
      await running;
    },
  };
}
