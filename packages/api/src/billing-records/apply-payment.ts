import { all, and, eq, run, type BillingRecordCheckout, type Database } from '@tally/db';
import type Stripe from 'stripe';
import { postLedgerEntry } from '../ledger/credit';
import { formatMinor } from '../schemas';
import { publishBillingChange } from '../stream/publish';
import { paymentIntentIdOf, paymentStatusOf, type CheckoutSessionPayload } from '../webhooks/checkout-session';
import { markEventInTx } from '../webhooks/mark-event';
import type { EventReceipt, HandlerOutcome } from '../webhooks/types';
import type { BillingRecordRow } from './view';

/** When Stripe created the event (`created`, unix seconds), else `fallback`. */
export function stripeEventTime(event: { created?: unknown }, fallback: Date): Date {
  const created = event.created;
  return typeof created === 'number' && Number.isSafeInteger(created) && created > 0 ? new Date(created * 1000) : fallback;
}

/**
 * The webhook effect of a paid Checkout Session of a billing record (`payment_status` `paid`
 * or `no_payment_required`, already reconciled with the checkout row by `paymentMismatches`),
 * in ONE transaction that also marks the event (`markEventInTx`):
 * 1. A guarded UPDATE moves the record DUE -> PAID (`paymentMethod` `stripe`, `paidAt`, the
 *    session and PaymentIntent ids, `stripePaymentStatus`, `stripeLastEventAt`, no `paidByUserId`).
 * 2. If it moved no row, the record was already PAID (by hand, or by another session) or VOID.
 *    Unless this very session/PaymentIntent is what paid it (a redelivery, or the event at a
 *    second URL), the payment is credited to the customer's balance: a ledger entry of kind
 *    `overpayment` for the checkout's amount (minor units), reference `overpayment:<pi_...>`
 *    (`overpayment:<cs_...>` without a PaymentIntent), linked to the record.
 * 3. The checkout row becomes `complete`.
 * Exactly once whatever delivers it (redelivery, concurrent delivery, two endpoints): the
 * guarded UPDATE lets one transaction win, and the reference is unique.
 * Returns the outcome (`marked: true`) and whether this call made the record PAID.
 */
export async function applyBillingRecordPayment({
  db,
  event,
  receipt,
  record,
  checkout,
  session,
}: {
  db: Database;
  event: Stripe.Event;
  receipt: EventReceipt;
  record: BillingRecordRow;
  checkout: BillingRecordCheckout;
  session: CheckoutSessionPayload;
}): Promise<HandlerOutcome & { marked: true; becamePaid: boolean }> {
  const t = db.t;
  const { billingRecords: r, billingRecordCheckouts: k } = t;
  const pi = paymentIntentIdOf(session);
  const paymentStatus = paymentStatusOf(session);
  const amount = `${formatMinor(checkout.amountMinor, checkout.currency, 'en-US')} (${checkout.amountMinor} ${checkout.currency} minor units)`;
  // The overpayment's resulting balance, for the live stream after commit (reset per attempt of the body).
  const credited: { balanceMinor: number | null } = { balanceMinor: null };
  const applied = await db.transaction(function* (tx) {
    credited.balanceMinor = null;
    const now = new Date();
    const eventAt = stripeEventTime(event, now);
    const paid = yield* all(
      tx
        .update(r)
        .set({
          status: 'PAID',
          paidAt: now,
          paymentMethod: 'stripe',
          stripeCheckoutSessionId: session.id,
          stripePaymentIntentId: pi,
          stripePaymentStatus: paymentStatus,
          stripeLastEventAt: eventAt,
          paidByUserId: null,
          updatedAt: now,
        })
        .where(and(eq(r.id, record.id), eq(r.status, 'DUE')))
        .returning({ id: r.id }),
    );
    const becamePaid = paid.length > 0;
    let outcome: string;
    if (becamePaid) {
      outcome = `Billing record ${record.id} paid: ${amount} through Checkout Session ${session.id}`;
    } else {
      const [current] = yield* all(
        tx
          .select({ status: r.status, paymentMethod: r.paymentMethod, sessionId: r.stripeCheckoutSessionId, paymentIntentId: r.stripePaymentIntentId })
          .from(r)
          .where(eq(r.id, record.id)),
      );
      const samePayment =
        current?.status === 'PAID' && current.paymentMethod === 'stripe' && (current.sessionId === session.id || (pi !== null && current.paymentIntentId === pi));
      if (samePayment) {
        outcome = `Billing record ${record.id} was already paid by Checkout Session ${session.id}`;
      } else {
        const settledAs = current?.status === 'VOID' ? 'void' : 'already paid';
        const reference = `overpayment:${pi ?? session.id}`;
        const credit = yield* postLedgerEntry(tx, t, {
          workspaceId: record.workspaceId,
          customerId: record.customerId,
          currency: checkout.currency,
          amountMinor: checkout.amountMinor,
          kind: 'overpayment',
          reference,
          description: `Payment for billing record "${shorten(record.description)}" received after it was ${settledAs}: credited to the balance`,
          stripeEventId: event.id,
          billingRecordId: record.id,
        });
        if (credit.posted) credited.balanceMinor = credit.balanceMinor;
        outcome = credit.posted
          ? `Billing record ${record.id} is ${settledAs}: ${amount} from Checkout Session ${session.id} credited to the customer's balance as an overpayment (${reference})`
          : `Billing record ${record.id} is ${settledAs}: the overpayment ${reference} was already credited`;
      }
    }
    yield* run(tx.update(k).set({ status: 'complete', updatedAt: now }).where(eq(k.id, checkout.id)));
    const result: HandlerOutcome = { status: 'processed', outcome, workspaceId: record.workspaceId };
    yield* markEventInTx(tx, t, { scope: receipt.scope, id: event.id }, result);
    return { ...result, marked: true as const, becamePaid };
  });
  // Committed: tell the live stream (issue 10).
  const ids = { workspaceId: record.workspaceId, customerId: record.customerId };
  if (applied.becamePaid) publishBillingChange({ kind: 'billing_record.paid', ...ids, billingRecordId: record.id, amountMinor: record.amountMinor, currency: record.currency });
  if (credited.balanceMinor !== null) publishBillingChange({ kind: 'balance.changed', ...ids, balanceMinor: credited.balanceMinor, currency: checkout.currency });
  return applied;
}

function shorten(text: string): string {
  return text.length > 100 ? `${text.slice(0, 99)}…` : text;
}
