/**
 * The Stripe event log for an operator (`pnpm tally events list`, issue 10 item 2): every
 * scope and workspace, newest first, filtered. Admins see their workspace's through
 * `listStripeEvents` (activity/) instead.
 */
import { and, desc, eq, gte, STRIPE_EVENT_STATUSES, type Database, type StripeEventStatus } from '@tally/db';
import { AppError } from '../errors';
import { isTallyId } from '../ids';

/** Most rows one listing returns. */
export const MAX_EVENT_LOG_LIST = 1000;

/** One row of the log as listed (no payload). */
export interface EventLogListing {
  scope: string;
  id: string;
  type: string;
  status: string;
  attempts: number;
  workspaceId: string | null;
  receivedAt: Date;
  processedAt: Date | null;
  nextAttemptAt: Date | null;
  outcome: string | null;
  lastError: string | null;
  payloadPruned: boolean;
}

/**
 * List the Stripe event log, newest received first.
 * @param filter.status one status (`STRIPE_EVENT_STATUSES` of @tally/db); `type` one Stripe type; `since` received at or after it;
 *   `workspaceId` events received at its URL or attributed to it by a handler; `limit` 1..1000.
 * @throws AppError BAD_REQUEST for a status not in `STRIPE_EVENT_STATUSES`, a type without
 *   Stripe's shape, an invalid date, a workspace id that is not a UUID or a limit out of range.
 */
export async function listEventLog(
  db: Database,
  filter: { status?: string; type?: string; since?: Date; workspaceId?: string; limit: number },
): Promise<EventLogListing[]> {
  const bad = (message: string) => new AppError('BAD_REQUEST', message);
  if (filter.status !== undefined && !(STRIPE_EVENT_STATUSES as readonly string[]).includes(filter.status)) throw bad(`status must be one of ${STRIPE_EVENT_STATUSES.join(', ')}, got "${filter.status.slice(0, 40)}"`);
  if (filter.type !== undefined && !/^[a-z0-9_]+(?:\.[a-z0-9_]+){0,9}$/.test(filter.type)) throw bad('type must be a Stripe event type such as checkout.session.completed');
  if (filter.since !== undefined && Number.isNaN(filter.since.getTime())) throw bad('since must be a valid date');
  if (filter.workspaceId !== undefined && !isTallyId(filter.workspaceId)) throw bad('workspaceId must be a Tally id (a UUID)');
  if (!Number.isSafeInteger(filter.limit) || filter.limit < 1 || filter.limit > MAX_EVENT_LOG_LIST) throw bad(`limit must be a whole number from 1 to ${MAX_EVENT_LOG_LIST}`);
  const { stripeEvents: e } = db.t;
  const rows = await db.q
    .select({
      scope: e.scope,
      id: e.id,
      type: e.type,
      status: e.status,
      attempts: e.attempts,
      workspaceId: e.workspaceId,
      receivedAt: e.receivedAt,
      processedAt: e.processedAt,
      nextAttemptAt: e.nextAttemptAt,
      outcome: e.outcome,
      lastError: e.lastError,
      payloadPrunedAt: e.payloadPrunedAt,
    })
    .from(e)
    .where(
      and(
        filter.status ? eq(e.status, filter.status as StripeEventStatus) : undefined,
        filter.type ? eq(e.type, filter.type) : undefined,
        filter.since ? gte(e.receivedAt, filter.since) : undefined,
        filter.workspaceId ? eq(e.workspaceId, filter.workspaceId) : undefined,
      ),
    )
    .orderBy(desc(e.receivedAt), desc(e.id))
    .limit(filter.limit);
  return rows.map(({ payloadPrunedAt, ...row }) => ({ ...row, payloadPruned: payloadPrunedAt !== null }));
}
