import { and, desc, eq, lt, or, isNull, type Database, type StripeEventStatus } from '@tally/db';
import { findPrimaryWorkspace } from '../workspaces/ensure-primary';

/**
 * The Stripe event log for an admin's workspace, newest first: events received at its own
 * webhook URL or attributed to it by a handler. Events of the deployment endpoint that matched
 * no workspace (unknown types, foreign sessions) are shown to the primary workspace's admins
 * only (the deployment operator's workspace), never to other tenants. Cursor is the last
 * `receivedAt` (ms) and id, as `ms:id`.
 */
export async function listStripeEvents({
  db,
  workspaceId,
  status,
  limit,
  cursor,
}: {
  db: Database;
  workspaceId: string;
  status?: StripeEventStatus | undefined;
  limit: number;
  cursor?: string | null | undefined;
}) {
  const { stripeEvents: e } = db.t;
  const primary = await findPrimaryWorkspace(db);
  const scope = primary?.id === workspaceId ? or(eq(e.workspaceId, workspaceId), isNull(e.workspaceId)) : eq(e.workspaceId, workspaceId);
  const conditions = [scope, status ? eq(e.status, status) : undefined];
  if (cursor) {
    const [ms, id] = splitCursor(cursor);
    const at = new Date(ms);
    conditions.push(or(lt(e.receivedAt, at), and(eq(e.receivedAt, at), lt(e.id, id))));
  }
  const rows = await db.q
    .select({
      id: e.id,
      scope: e.scope,
      type: e.type,
      status: e.status,
      outcome: e.outcome,
      lastError: e.lastError,
      attempts: e.attempts,
      apiVersion: e.apiVersion,
      receivedAt: e.receivedAt,
      processedAt: e.processedAt,
    })
    .from(e)
    .where(and(...conditions))
    .orderBy(desc(e.receivedAt), desc(e.id))
    .limit(limit + 1);
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? `${last.receivedAt.getTime()}:${last.id}` : null };
}

function splitCursor(cursor: string): [number, string] {
  const i = cursor.indexOf(':');
  const ms = Number(cursor.slice(0, i));
  return [Number.isFinite(ms) ? ms : 0, cursor.slice(i + 1)];
}
