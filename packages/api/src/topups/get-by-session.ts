import { and, eq, type Database } from '@tally/db';
import { AppError } from '../errors';

/**
 * The top-up behind a Checkout Session, for the customer who owns it (the success page
 * polls this until `status` is `paid`).
 * @throws AppError NOT_FOUND for unknown sessions or another customer's.
 */
export async function getTopupBySession({ db, customerId, sessionId }: { db: Database; customerId: string; sessionId: string }) {
  const { topups } = db.t;
  const [row] = await db.q
    .select({
      id: topups.id,
      status: topups.status,
      amountMinor: topups.amountMinor,
      creditedAmountMinor: topups.creditedAmountMinor,
      currency: topups.currency,
      createdAt: topups.createdAt,
      paidAt: topups.paidAt,
    })
    .from(topups)
    .where(and(eq(topups.stripeCheckoutSessionId, sessionId), eq(topups.customerId, customerId)));
  if (!row) throw new AppError('NOT_FOUND', 'Top-up not found');
  return row;
}
