import { and, eq } from '@tally/db';
import { CheckoutSessionPayload, topupReferenceOf } from '../checkout-session';
import { livemodeMismatch } from '../payment-mismatches';
import { receiptAccepts, type StripeEventHandler } from '../types';

/**
 * `checkout.session.expired` -> top-up `expired`; `checkout.session.async_payment_failed`
 * -> top-up `failed`. Only a `pending` top-up moves: a paid one never goes back, whatever
 * order events arrive in. An event whose `livemode` is not the deployment's changes
 * nothing and is marked `anomaly`.
 */
export function closeTopupHandler(to: 'expired' | 'failed'): StripeEventHandler {
  return async ({ db, event, receipt, expected }) => {
    const parsed = CheckoutSessionPayload.safeParse(event.data?.object);
    if (!parsed.success) return { status: 'ignored', outcome: 'Not a Checkout Session payload Tally understands' };
    const ref = topupReferenceOf(parsed.data);
    if ('none' in ref) return { status: 'ignored', outcome: 'Checkout Session has no Tally top-up reference' };
    if ('foreign' in ref) return { status: 'ignored', outcome: `No top-up for Checkout Session ${parsed.data.id}: its reference is not a Tally top-up id` };
    const { topups } = db.t;
    const [topup] = await db.q
      .select({ id: topups.id, workspaceId: topups.workspaceId })
      .from(topups)
      .where(and(eq(topups.id, ref.topupId), eq(topups.stripeCheckoutSessionId, parsed.data.id)));
    if (!topup || !receiptAccepts(receipt, topup.workspaceId)) return { status: 'ignored', outcome: `No top-up ${ref.topupId} for Checkout Session ${parsed.data.id}` };
    const live = livemodeMismatch(event.livemode, expected);
    if (live) return { status: 'anomaly', outcome: `Top-up ${topup.id} left unchanged: ${live}`, workspaceId: topup.workspaceId };
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
