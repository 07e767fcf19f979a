import { desc, type Database } from '@tally/db';
import { emailSummaryColumns } from './list';

/**
 * The newest outbox rows of every workspace with their bodies, for the development mailbox
 * (`GET /api/dev/mailbox`). Development only: bodies hold sign-in links, so the server mounts
 * the mailbox only when `config.environment` is `development`.
 * @param limit most rows, newest first.
 */
export async function listRecentEmails({ db, limit = 50 }: { db: Database; limit?: number }) {
  const o = db.t.emailOutbox;
  return db.q
    .select({ ...emailSummaryColumns(o), textBody: o.textBody })
    .from(o)
    .orderBy(desc(o.id))
    .limit(limit);
}
