import { desc, type Database } from '@tally/db';

/**
 * The newest outbox rows of every workspace with their bodies, for the development mailbox
 * (`GET /api/dev/mailbox`). Development only: bodies hold sign-in links, so the server mounts
 * the mailbox only when `config.environment` is `development`.
 * @param limit most rows, newest first.
 */
export async function listRecentEmails({ db, limit = 50 }: { db: Database; limit?: number }) {
  const o = db.t.emailOutbox;
  return db.q
    .select({
      id: o.id,
      kind: o.kind,
      toAddress: o.toAddress,
      subject: o.subject,
      status: o.status,
      attempts: o.attempts,
      lastError: o.lastError,
      createdAt: o.createdAt,
      sentAt: o.sentAt,
      textBody: o.textBody,
    })
    .from(o)
    .orderBy(desc(o.id))
    .limit(limit);
}
