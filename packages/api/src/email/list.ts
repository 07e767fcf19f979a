import { and, desc, eq, inArray, isNull, lt, or, sql, type Database, type Tables } from '@tally/db';
import type { ApiConfig } from '../services';

/** The outbox columns lists show (the admin page, the dev mailbox); bodies are chosen per caller. */
export const emailSummaryColumns = (o: Tables['emailOutbox']) => ({
  id: o.id,
  kind: o.kind,
  toAddress: o.toAddress,
  subject: o.subject,
  status: o.status,
  attempts: o.attempts,
  lastError: o.lastError,
  createdAt: o.createdAt,
  nextAttemptAt: o.nextAttemptAt,
  sentAt: o.sentAt,
});

/** Outbox row statuses, in lifecycle order. */
export const EMAIL_STATUS_VALUES = ['pending', 'sending', 'sent', 'failed'] as const;
export type EmailStatus = (typeof EMAIL_STATUS_VALUES)[number];

/**
 * The outbox as an admin of `workspaceId` may see it, newest first: emails about the
 * workspace, plus account emails (no workspace: verification, password reset) addressed to a
 * user who belongs to it (an admin, or a member of one of its customers).
 *
 * `textBody` is returned only outside production: verification and reset emails carry
 * sign-in links, and showing them to an admin would let the admin take over any account.
 * Ids are UUIDv7 (time-ordered), so newest first is id order and the cursor is the last id seen.
 */
export async function listEmails({
  db,
  workspaceId,
  environment,
  status,
  limit,
  cursor,
}: {
  db: Database;
  workspaceId: string;
  /** `config.environment`: production never returns bodies. */
  environment: ApiConfig['environment'];
  status?: EmailStatus | undefined;
  limit: number;
  /** The last id of the previous page (a UUID, validated by the caller). */
  cursor?: string | null | undefined;
}) {
  const { emailOutbox: o, users, workspaceMembers, customers, customerMemberships } = db.t;
  const admins = db.q
    .select({ email: users.email })
    .from(workspaceMembers)
    .innerJoin(users, eq(users.id, workspaceMembers.userId))
    .where(eq(workspaceMembers.workspaceId, workspaceId));
  const members = db.q
    .select({ email: users.email })
    .from(customerMemberships)
    .innerJoin(customers, eq(customers.id, customerMemberships.customerId))
    .innerJoin(users, eq(users.id, customerMemberships.userId))
    .where(eq(customers.workspaceId, workspaceId));
  const scope = or(eq(o.workspaceId, workspaceId), and(isNull(o.workspaceId), or(inArray(o.toAddress, admins), inArray(o.toAddress, members))));
  const conditions = [scope, status ? eq(o.status, status) : undefined];
  if (cursor) conditions.push(lt(o.id, cursor));
  const showBodies = environment !== 'production';
  const rows = await db.q
    .select({
      ...emailSummaryColumns(o),
      // Bodies hold sign-in links: in production they are not even read.
      textBody: showBodies ? o.textBody : sql<string | null>`null`,
    })
    .from(o)
    .where(and(...conditions))
    .orderBy(desc(o.id))
    .limit(limit + 1);
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? last.id : null };
}
