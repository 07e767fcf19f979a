import { and, eq } from '@tally/db';
import { CheckoutSessionPayload, topupIdOf } from '../checkout-session';
import type { StripeEventHandler } from '../types';

/**
 * `checkout.session.expired` -> top-up `expired`; `checkout.session.async_payment_failed`
 * -> top-up `failed`. Only a `pending` top-up moves: a paid one never goes back, whatever
 * order events arrive in.
 */
export function closeTopupHandler(to: 'expired' | 'failed'): StripeEventHandler {
  return async ({ db, event }) => {
    const parsed = CheckoutSessionPayload.safeParse(event.data?.object);
    if (!parsed.success) return { status: 'ignored', outcome: 'Not a Checkout Session payload Tally understands' };
    const topupId = topupIdOf(parsed.data);
    if (!topupId) return { status: 'ignored', outcome: 'Checkout Session has no Tally top-up reference' };
    const { topups } = db.t;
    const [topup] = await db.q
      .select({ id: topups.id, workspaceId: topups.workspaceId })
      .from(topups)
      .where(and(eq(topups.id, topupId), eq(topups.stripeCheckoutSessionId, parsed.data.id)));
    if (!topup) return { status: 'ignored', outcome: `No top-up ${topupId} for Checkout Session ${parsed.data.id}` };
    const moved = await db.q
      .update(topups)
      .set({ status: to, updatedAt: new Date() })
      .where(and(eq(topups.id, topup.id), eq(topups.status, 'pending')))
      .returning({ id: topups.id });
    return {
      status: 'processed',
      outcome: moved.length ? `Top-up ${topup.id} marked ${to}` : `Top-up ${topup.id} is no longer pending: unchanged`,
      workspaceId: topup.workspaceId,
    };
  };
}
