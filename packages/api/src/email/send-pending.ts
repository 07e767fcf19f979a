/**
 * One pass of the outbox worker: claim due `email_outbox` rows one at a time and hand each to
 * the transport. Claiming is a single guarded UPDATE (status -> `sending`, a lease in
 * `lockedUntil`, `attempts + 1`), so any number of server processes can run the worker on one
 * database and a row is sent by whoever won its UPDATE, never by two (the transactional outbox
 * pattern; microservices.io/patterns/data/transactional-outbox.html). No transaction is held
 * open while talking to SMTP.
 */
import { and, eq, gte, lt, lte, or, sql, type Database } from '@tally/db';
import type { Logger } from '../logger';
import type { MailTransport } from './transport';

/** When to give up and how long to wait between attempts. */
export interface OutboxPolicy {
  /** Attempts (including the first) before a row is `failed`. */
  maxAttempts: number;
  /** Delay after the first failure, ms; doubles after each further failure. */
  baseDelayMs: number;
  /** Longest delay between attempts, ms. */
  maxDelayMs: number;
  /**
   * How long a claim lasts, ms. A `sending` row whose lease passed belongs to a worker that
   * stopped mid-send (crash, kill) and may be claimed again. Must exceed the transport's
   * worst-case send time (see SMTP_TIMEOUTS_MS), or a slow send could be repeated.
   */
  leaseMs: number;
}

/** 8 attempts over about 1 h (30 s, 1, 2, 4, 8, 16, 32 min), 2-minute lease. */
export const DEFAULT_OUTBOX_POLICY: OutboxPolicy = { maxAttempts: 8, baseDelayMs: 30_000, maxDelayMs: 60 * 60_000, leaseMs: 2 * 60_000 };

/**
 * Delay before the next attempt after `attempts` failed ones (>= 1): exponential backoff,
 * `baseDelayMs * 2^(attempts-1)` capped at `maxDelayMs`, in ms.
 */
export function retryDelayMs(attempts: number, policy: Pick<OutboxPolicy, 'baseDelayMs' | 'maxDelayMs'>): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempts - 1));
}

/** What one pass did: rows claimed, and how each claimed row ended. */
export interface SendPendingResult {
  claimed: number;
  sent: number;
  retrying: number;
  failed: number;
}

/** Longest `lastError` stored, characters. */
const MAX_ERROR_LENGTH = 500;

/**
 * The error as stored in `lastError`: its message only (SMTP reply text), never a stack or
 * the message being sent, cut to 500 characters.
 */
function errorText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return (message || 'unknown error').slice(0, MAX_ERROR_LENGTH);
}

/** For logs: SMTP replies often quote the recipient; addresses are personal data. */
function withoutAddresses(text: string): string {
  return text.replace(/[^\s<>"'(),;:]+@[^\s<>"'(),;:]+/g, '[address]');
}

/**
 * Send every due email once: rows `pending` with `nextAttemptAt <= now`, and `sending` rows
 * whose lease passed. Each success sets `sent`, `sentAt` and the transport's `messageId`; a
 * failure sets `lastError` and either `pending` with `nextAttemptAt = now + retryDelayMs` or,
 * at `maxAttempts`, `failed`. Logs ids, kinds, attempt counts and error messages with addresses
 * removed; never a recipient, subject or body.
 * @param batchSize most rows claimed in this pass; the worker calls again while a pass is full.
 * @throws only on database errors (transport errors are recorded on the row).
 */
export async function sendPendingEmails({
  db,
  transport,
  from,
  logger,
  policy = DEFAULT_OUTBOX_POLICY,
  batchSize = 20,
  now = () => new Date(),
}: {
  db: Database;
  transport: MailTransport;
  /** Sender (`config.mail.from`, MAIL_FROM). */
  from: string;
  logger: Logger;
  policy?: OutboxPolicy;
  batchSize?: number;
  now?: () => Date;
}): Promise<SendPendingResult> {
  const o = db.t.emailOutbox;
  const result: SendPendingResult = { claimed: 0, sent: 0, retrying: 0, failed: 0 };
  const start = now();

  // A worker stopped mid-send on its last allowed attempt: nothing more to try.
  const abandoned = await db.q
    .update(o)
    .set({ status: 'failed', lockedUntil: null, lastError: 'the worker stopped while sending (lease expired) on the last attempt' })
    .where(and(eq(o.status, 'sending'), lt(o.lockedUntil, start), gte(o.attempts, policy.maxAttempts)))
    .returning({ id: o.id });
  for (const row of abandoned) logger.error({ emailId: row.id }, 'email failed: lease expired on the last attempt');

  const due = (at: Date) =>
    or(and(eq(o.status, 'pending'), lte(o.nextAttemptAt, at)), and(eq(o.status, 'sending'), lt(o.lockedUntil, at), lt(o.attempts, policy.maxAttempts)));
  const candidates = await db.q.select({ id: o.id }).from(o).where(due(start)).orderBy(o.nextAttemptAt, o.id).limit(batchSize);

  for (const { id } of candidates) {
    const claimedAt = now();
    // The claim: only one UPDATE can move this row out of "due" (Postgres re-checks the WHERE
    // on the latest row version after waiting for a concurrent writer; SQLite has one writer).
    const [row] = await db.q
      .update(o)
      .set({ status: 'sending', lockedUntil: new Date(claimedAt.getTime() + policy.leaseMs), attempts: sql`${o.attempts} + 1` })
      .where(and(eq(o.id, id), due(claimedAt)))
      .returning();
    if (!row) continue; // another worker has it
    result.claimed += 1;
    // Our own claim, and only while it is still ours (a later claimant bumped `attempts`).
    const ours = and(eq(o.id, row.id), eq(o.status, 'sending'), eq(o.attempts, row.attempts));
    try {
      const { messageId } = await transport.send({ from, to: row.toAddress, subject: row.subject, text: row.textBody, html: row.htmlBody });
      const done = await db.q
        .update(o)
        .set({ status: 'sent', sentAt: now(), messageId: messageId || null, lockedUntil: null, lastError: null })
        .where(ours)
        .returning({ id: o.id });
      if (done.length === 0) logger.warn({ emailId: row.id, attempts: row.attempts }, 'email sent after its lease expired: another worker may send it again');
      result.sent += 1;
      logger.info({ emailId: row.id, kind: row.kind, attempts: row.attempts, transport: transport.name }, 'email sent');
    } catch (err) {
      const message = errorText(err);
      const code = (err as { code?: unknown; responseCode?: unknown } | null) ?? {};
      const fields = { emailId: row.id, kind: row.kind, attempts: row.attempts, code: code.code, responseCode: code.responseCode, error: withoutAddresses(message) };
      if (row.attempts >= policy.maxAttempts) {
        await db.q.update(o).set({ status: 'failed', lockedUntil: null, lastError: message }).where(ours);
        result.failed += 1;
        logger.error(fields, 'email failed: no attempts left');
      } else {
        const nextAttemptAt = new Date(now().getTime() + retryDelayMs(row.attempts, policy));
        await db.q.update(o).set({ status: 'pending', lockedUntil: null, lastError: message, nextAttemptAt }).where(ours);
        result.retrying += 1;
        logger.warn({ ...fields, nextAttemptAt: nextAttemptAt.toISOString() }, 'email not sent: will retry');
      }
    }
  }
  return result;
}
