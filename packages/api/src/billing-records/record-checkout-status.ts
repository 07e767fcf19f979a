import { and, eq, inArray, isNull, lte, or, run, type BillingRecordCheckout, type Database } from '@tally/db';
import type Stripe from 'stripe';
import { paymentStatusOf, type CheckoutSessionPayload } from '../webhooks/checkout-session';
import { markEventInTx } from '../webhooks/mark-event';
import type { EventReceipt, HandlerOutcome } from '../webhooks/types';
import { stripeEventTime } from './apply-payment';
import type { BillingRecordRow } from './view';

/** Which checkout row statuses each webhook may move from (a row never goes back to `open`). */
const MOVES_FROM: Record<'complete' | 'expired' | 'failed', BillingRecordCheckout['status'][]> = {
  /** `checkout.session.completed` with the payment still processing. */
  complete: ['creating', 'open'],
  /** `checkout.session.expired`. */
  expired: ['creating', 'open'],
  /** `checkout.session.async_payment_failed` (after a completed, processing session). */
  failed: ['creating', 'open', 'complete'],
};

/**
 * A Checkout Session event of a billing record without a payment to apply
 * (`checkout.session.expired`, `checkout.session.async_payment_failed`, or `completed` while
 * the payment is processing): the checkout row moves to `checkoutStatus`, and a record still
 * DUE gets the session's `stripePaymentStatus` and `stripeLastEventAt` (unless a later event
 * was already recorded); it stays DUE. One transaction, which also marks the event processed.
 */
export async function recordBillingCheckoutStatus({
  db,
  event,
  receipt,
  record,
  checkout,
  session,
  checkoutStatus,
  outcome,
}: {
  db: Database;
  event: Stripe.Event;
  receipt: EventReceipt;
  record: BillingRecordRow;
  checkout: BillingRecordCheckout;
  session: CheckoutSessionPayload;
  checkoutStatus: 'complete' | 'expired' | 'failed';
  outcome: string;
}): Promise<HandlerOutcome & { marked: true }> {
  const t = db.t;
  const { billingRecords: r, billingRecordCheckouts: k } = t;
  const paymentStatus = paymentStatusOf(session);
  return db.transaction(function* (tx) {
    const now = new Date();
    const eventAt = stripeEventTime(event, now);
    yield* run(
      tx
        .update(k)
        .set({ status: checkoutStatus, updatedAt: now })
        .where(and(eq(k.id, checkout.id), inArray(k.status, MOVES_FROM[checkoutStatus]))),
    );
    yield* run(
      tx
        .update(r)
        .set({ stripePaymentStatus: paymentStatus, stripeLastEventAt: eventAt, updatedAt: now })
        .where(and(eq(r.id, record.id), eq(r.status, 'DUE'), or(isNull(r.stripeLastEventAt), lte(r.stripeLastEventAt, eventAt)))),
    );
    const result: HandlerOutcome = { status: 'processed', outcome, workspaceId: record.workspaceId };
    yield* markEventInTx(tx, t, { scope: receipt.scope, id: event.id }, result);
    return { ...result, marked: true as const };
  });
}
