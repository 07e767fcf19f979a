import { and, eq, run } from '@tally/db';
import { postLedgerEntry } from '../../ledger/credit';
import { formatMinor } from '../../schemas';
import { publishBillingChange } from '../../stream/publish';
import { CheckoutSessionPayload, paymentIntentIdOf, topupReferenceOf } from '../checkout-session';
import { markEventInTx } from '../mark-event';
import { paymentMismatches } from '../payment-mismatches';
import { receiptAccepts, type HandlerOutcome, type StripeEventHandler } from '../types';

/**
 * `checkout.session.completed` and `checkout.session.async_payment_succeeded`: credit the
 * top-up once (reference `topup:<id>`), in the same transaction that marks the event
 * processed. Rules, in order:
 * - Sessions that match no top-up of ours (unknown id, no or foreign reference) are `ignored`.
 * - Credit only what Tally asked for (DESIGN.md, "Anomaly"): the session's `amount_total`
 *   must equal the top-up's `amountMinor`, its `currency` the top-up's, its `mode` be
 *   `payment`, and `event.livemode` the deployment's (`expected`). Otherwise nothing is
 *   credited, the top-up is left as it was, and the event is marked `anomaly` with every
 *   mismatch named, in one transaction (a signed event with another amount is either a
 *   leaked secret or a Stripe-side change; retrying cannot fix either).
 * - Fulfil on `payment_status` `paid` or `no_payment_required`, never on `complete` alone
 *   (stripe.com/docs/payments/checkout/fulfill-orders).
 */
export const handleCheckoutSessionPaid: StripeEventHandler = async ({ db, event, receipt, expected }) => {
  const parsed = CheckoutSessionPayload.safeParse(event.data?.object);
  if (!parsed.success) return { status: 'ignored', outcome: 'Not a Checkout Session payload Tally understands' };
  const session = parsed.data;
  const ref = topupReferenceOf(session);
  if ('none' in ref) return { status: 'ignored', outcome: 'Checkout Session has no Tally top-up reference' };
  if ('foreign' in ref) return { status: 'ignored', outcome: `No top-up for Checkout Session ${session.id}: its reference is not a Tally top-up id` };

  const { topups } = db.t;
  const [topup] = await db.q
    .select()
    .from(topups)
    .where(and(eq(topups.id, ref.topupId), eq(topups.stripeCheckoutSessionId, session.id)));
  // An event at workspace B's URL never touches workspace A's top-up (it reads as unknown).
  if (!topup || !receiptAccepts(receipt, topup.workspaceId)) return { status: 'ignored', outcome: `No top-up ${ref.topupId} for Checkout Session ${session.id}` };

  const mismatches = paymentMismatches({
    requested: { amountMinor: topup.amountMinor, currency: topup.currency, mode: 'payment' },
    reported: { amountTotal: session.amount_total, currency: session.currency, mode: session.mode, livemode: event.livemode },
    expected,
  });
  if (mismatches.length > 0) {
    // Nothing else is written: receive marks the event `anomaly` in one statement.
    return { status: 'anomaly', outcome: `Nothing credited to top-up ${topup.id}: ${mismatches.join('; ')}`, workspaceId: topup.workspaceId };
  }

  if (session.payment_status !== 'paid' && session.payment_status !== 'no_payment_required') {
    return {
      status: 'processed',
      outcome: `Payment status ${/^[a-z_]{1,40}$/.test(session.payment_status ?? '') ? session.payment_status : 'unknown'}: nothing credited (waiting for async_payment_succeeded)`,
      workspaceId: topup.workspaceId,
    };
  }
  // Equal to `amount_total` and `currency` (checked above): the credit is what Tally asked for.
  const { amountMinor, currency } = topup;

  const { outcome, credit } = await db.transaction(function* (tx) {
    const t = db.t;
    const credit = yield* postLedgerEntry(tx, t, {
      workspaceId: topup.workspaceId,
      customerId: topup.customerId,
      currency,
      amountMinor,
      kind: 'topup',
      reference: `topup:${topup.id}`,
      description: 'Top-up via Stripe Checkout',
      topupId: topup.id,
      stripeEventId: event.id,
    });
    const posted = credit.posted;
    if (posted) {
      const now = new Date();
      yield* run(
        tx
          .update(t.topups)
          .set({ status: 'paid', creditedAmountMinor: amountMinor, stripePaymentIntentId: paymentIntentIdOf(session), paidAt: now, updatedAt: now })
          .where(eq(t.topups.id, topup.id)),
      );
    }
    const result: HandlerOutcome = {
      status: 'processed',
      outcome: posted ? `Credited ${formatMinor(amountMinor, currency, 'en-US')} (${amountMinor} ${currency} minor units) to top-up ${topup.id}` : `Top-up ${topup.id} was already credited`,
      workspaceId: topup.workspaceId,
    };
    yield* markEventInTx(tx, t, { scope: receipt.scope, id: event.id }, result);
    return { outcome: { ...result, marked: true }, credit };
  });
  // Committed: tell the live stream (issue 10), only when this delivery credited it.
  if (credit.posted) {
    const ids = { workspaceId: topup.workspaceId, customerId: topup.customerId };
    publishBillingChange({ kind: 'topup.credited', ...ids, topupId: topup.id, amountMinor, currency });
    publishBillingChange({ kind: 'balance.changed', ...ids, balanceMinor: credit.balanceMinor, currency });
  }
  return outcome;
};

