import { all, and, eq } from '@tally/db';
import { parseCheckoutSession, topupReferenceOf } from '../checkout-session';
import { livemodeMismatch } from '../payment-mismatches';
import { settleEvent, settlingHandler } from '../settle';
import { receiptAccepts, type HandlerOutcome, type StripeEventHandler } from '../types';

/**
 * `checkout.session.expired` -> top-up `expired`; `checkout.session.async_payment_failed`
 * -> top-up `failed`. Only a `pending` top-up moves: a paid one never goes back, whatever
 * order events arrive in. An event whose `livemode` is not the deployment's changes
 * nothing and is marked `anomaly`. The move and the event's status commit together.
 */
export function closeTopupHandler(to: 'expired' | 'failed'): StripeEventHandler {
  return settlingHandler(({ db, event, receipt, expected }) => function* (tx) {
    const t = db.t;
    const settle = (outcome: HandlerOutcome) => settleEvent(tx, t, { scope: receipt.scope, id: event.id }, outcome);
    const parsed = parseCheckoutSession(event);
    if (!parsed.success) return yield* settle({ status: 'ignored', outcome: 'Not a Checkout Session payload Tally understands' });
    const ref = topupReferenceOf(parsed.data);
    if ('none' in ref) return yield* settle({ status: 'ignored', outcome: 'Checkout Session has no Tally top-up reference' });
    if ('foreign' in ref) return yield* settle({ status: 'ignored', outcome: `No top-up for Checkout Session ${parsed.data.id}: its reference is not a Tally top-up id` });
    const { topups } = t;
    const [topup] = yield* all(
      tx
        .select({ id: topups.id, workspaceId: topups.workspaceId })
        .from(topups)
        .where(and(eq(topups.id, ref.topupId), eq(topups.stripeCheckoutSessionId, parsed.data.id)))
        .limit(1),
    );
    if (!topup || !receiptAccepts(receipt, topup.workspaceId)) return yield* settle({ status: 'ignored', outcome: `No top-up ${ref.topupId} for Checkout Session ${parsed.data.id}` });
    const live = livemodeMismatch(event.livemode, expected);
    if (live) return yield* settle({ status: 'anomaly', outcome: `Top-up ${topup.id} left unchanged: ${live}`, workspaceId: topup.workspaceId });
    const moved = yield* all(
      tx
        .update(topups)
        .set({ status: to, updatedAt: new Date() })
        .where(and(eq(topups.id, topup.id), eq(topups.status, 'pending')))
        .returning({ id: topups.id }),
    );
    return yield* settle({
      status: 'processed',
      outcome: moved.length ? `Top-up ${topup.id} marked ${to}` : `Top-up ${topup.id} is no longer pending: unchanged`,
      workspaceId: topup.workspaceId,
    });
  });
}
