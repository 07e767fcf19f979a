import { and, eq, ne, type Database } from '@tally/db';
import { isNotNull } from 'drizzle-orm';
import Stripe from 'stripe';
import type { Logger } from '../logger';
import type { StripeAccounts } from '../stripe/accounts';
import { describeError } from '../webhooks/text';

/**
 * Once a record is PAID or VOID, expire its other `open` Checkout Sessions through the
 * workspace's Stripe client (`POST /v1/checkout/sessions/:id/expire`, which only open sessions
 * accept: stripe.com/docs/api/checkout/sessions/expire), so nobody pays it again. Runs outside
 * any transaction and never throws: failures are logged (ids and Stripe's code only), and a
 * session that completed or expired meanwhile is fine (its own webhook settles its row; a late
 * completion becomes an overpayment). Each expired session's row is marked `expired`.
 * Returns the session ids expired and those that could not be.
 */
export async function expireOpenCheckouts({
  db,
  stripeAccounts,
  logger,
  record,
  keepSessionId = null,
  logFields = {},
}: {
  db: Database;
  stripeAccounts: StripeAccounts;
  logger: Logger;
  record: { id: string; workspaceId: string };
  /** The session that paid it (not expired). */
  keepSessionId?: string | null;
  /** Ids for log lines (request or event id). */
  logFields?: Record<string, unknown>;
}): Promise<{ expired: string[]; notExpired: string[] }> {
  const result = { expired: [] as string[], notExpired: [] as string[] };
  try {
    const { billingRecordCheckouts: k } = db.t;
    const open = await db.q
      .select({ id: k.id, sessionId: k.stripeCheckoutSessionId })
      .from(k)
      .where(
        and(
          eq(k.billingRecordId, record.id),
          eq(k.status, 'open'),
          isNotNull(k.stripeCheckoutSessionId),
          keepSessionId ? ne(k.stripeCheckoutSessionId, keepSessionId) : undefined,
        ),
      );
    if (open.length === 0) return result;
    const stripe = await stripeAccounts.forWorkspace(db, record.workspaceId);
    if (!stripe.configured) {
      logger.warn({ ...logFields, billingRecordId: record.id, sessions: open.length }, 'Cannot expire open Checkout Sessions of a settled billing record: the workspace has no usable Stripe');
      result.notExpired.push(...open.map((o) => o.sessionId!));
      return result;
    }
    await Promise.all(
      open.map(async ({ id, sessionId }) => {
        try {
          await stripe.client.checkout.sessions.expire(sessionId!);
          await db.q
            .update(k)
            .set({ status: 'expired', updatedAt: new Date() })
            .where(and(eq(k.id, id), eq(k.status, 'open')));
          result.expired.push(sessionId!);
        } catch (err) {
          result.notExpired.push(sessionId!);
          const fields = { ...logFields, billingRecordId: record.id, checkoutSessionId: sessionId };
          if (err instanceof Stripe.errors.StripeInvalidRequestError) {
            // Already complete or expired: nothing to do.
            logger.info({ ...fields, stripeCode: err.code ?? null, stripeRequestId: err.requestId ?? null }, 'Checkout Session of a settled billing record was no longer open');
          } else if (err instanceof Stripe.errors.StripeError) {
            logger.warn({ ...fields, stripeErrorClass: err.type, stripeCode: err.code ?? null, stripeStatusCode: err.statusCode ?? null, stripeRequestId: err.requestId ?? null }, 'Could not expire a Checkout Session of a settled billing record');
          } else {
            logger.warn({ ...fields, err: describeError(err) }, 'Could not expire a Checkout Session of a settled billing record');
          }
        }
      }),
    );
  } catch (err) {
    logger.error({ ...logFields, billingRecordId: record.id, err: describeError(err) }, 'Could not expire the open Checkout Sessions of a settled billing record');
  }
  return result;
}
