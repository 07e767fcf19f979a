import { allPrepared, and, eq, param, placeholder, preparedStatement, runPrepared } from '@tally/db';
import { postLedgerEntry } from '../../ledger/credit';
import { formatMinor } from '../../schemas';
import { publishBillingChange } from '../../stream/publish';
import { paymentIntentIdOf, parseCheckoutSession, topupReferenceOf } from '../checkout-session';
import { paymentMismatches } from '../payment-mismatches';
import { settleEvent, settlingHandler } from '../settle';
import { receiptAccepts, type HandlerOutcome, type SettlingBody, type StripeEventHandlerArgs } from '../types';

/**
 * `checkout.session.completed` and `checkout.session.async_payment_succeeded`: credit the
 * top-up once (reference `topup:<id>`), in the same transaction that marks the event
 * processed (and, for a delivery, that stores it: see settle.ts). Rules, in order:
 * - Sessions that match no top-up of ours (unknown id, no or foreign reference) are `ignored`.
 * - Credit only what Tally asked for (DESIGN.md, "Anomaly"): the session's `amount_total`
 *   must equal the top-up's `amountMinor`, its `currency` the top-up's, its `mode` be
 *   `payment`, and `event.livemode` the deployment's (`expected`). Otherwise nothing is
 *   credited, the top-up is left as it was, and the event is marked `anomaly` with every
 *   mismatch named (a signed event with another amount is either a leaked secret or a
 *   Stripe-side change; retrying cannot fix either).
 * - Fulfil on `payment_status` `paid` or `no_payment_required`, never on `complete` alone
 *   (stripe.com/docs/payments/checkout/fulfill-orders).
 * Once committed, a credit publishes `topup.credited` and `balance.changed` (live stream).
 */
export function creditTopupBody({ db, event, receipt, expected }: StripeEventHandlerArgs): SettlingBody {
  return function* (tx) {
    const t = db.t;
    const settle = (outcome: HandlerOutcome, afterCommit?: () => void) => settleEvent(tx, t, { scope: receipt.scope, id: event.id }, outcome, afterCommit);
    const parsed = parseCheckoutSession(event);
    if (!parsed.success) return yield* settle({ status: 'ignored', outcome: 'Not a Checkout Session payload Tally understands' });
    const session = parsed.data;
    const ref = topupReferenceOf(session);
    if ('none' in ref) return yield* settle({ status: 'ignored', outcome: 'Checkout Session has no Tally top-up reference' });
    if ('foreign' in ref) return yield* settle({ status: 'ignored', outcome: `No top-up for Checkout Session ${session.id}: its reference is not a Tally top-up id` });

    const [topup] = yield* allPrepared(topupOfSession, { topupId: ref.topupId, sessionId: session.id });
    // An event at workspace B's URL never touches workspace A's top-up (it reads as unknown).
    if (!topup || !receiptAccepts(receipt, topup.workspaceId)) return yield* settle({ status: 'ignored', outcome: `No top-up ${ref.topupId} for Checkout Session ${session.id}` });

    const mismatches = paymentMismatches({
      requested: { amountMinor: topup.amountMinor, currency: topup.currency, mode: 'payment' },
      reported: { amountTotal: session.amount_total, currency: session.currency, mode: session.mode, livemode: event.livemode },
      expected,
    });
    if (mismatches.length > 0) {
      return yield* settle({ status: 'anomaly', outcome: `Nothing credited to top-up ${topup.id}: ${mismatches.join('; ')}`, workspaceId: topup.workspaceId });
    }
    if (session.payment_status !== 'paid' && session.payment_status !== 'no_payment_required') {
      return yield* settle({
        status: 'processed',
        outcome: `Payment status ${/^[a-z_]{1,40}$/.test(session.payment_status ?? '') ? session.payment_status : 'unknown'}: nothing credited (waiting for async_payment_succeeded)`,
        workspaceId: topup.workspaceId,
      });
    }
    // Equal to `amount_total` and `currency` (checked above): the credit is what Tally asked for.
    const { amountMinor, currency } = topup;
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
    if (!credit.posted) return yield* settle({ status: 'processed', outcome: `Top-up ${topup.id} was already credited`, workspaceId: topup.workspaceId });
    yield* runPrepared(markTopupPaid, { topupId: topup.id, amountMinor, paymentIntentId: paymentIntentIdOf(session), now: new Date() });
    const outcome: HandlerOutcome = {
      status: 'processed',
      outcome: `Credited ${formatMinor(amountMinor, currency, 'en-US')} (${amountMinor} ${currency} minor units) to top-up ${topup.id}`,
      workspaceId: topup.workspaceId,
    };
    return yield* settle(outcome, () => {
      const ids = { workspaceId: topup.workspaceId, customerId: topup.customerId };
      publishBillingChange({ kind: 'topup.credited', ...ids, topupId: topup.id, amountMinor, currency });
      publishBillingChange({ kind: 'balance.changed', ...ids, balanceMinor: credit.balanceMinor, currency });
    });
  };
}

export const handleCheckoutSessionPaid = settlingHandler(creditTopupBody);

/** The top-up a session names, if that session is its own (prepared once per database: the credit path). */
const topupOfSession = preparedStatement<{ topupId: string; sessionId: string }, { id: string; workspaceId: string; customerId: string; amountMinor: number; currency: string }>(
  'tally_topup_of_checkout_session',
  (q, { topups }) =>
    q
      .select({ id: topups.id, workspaceId: topups.workspaceId, customerId: topups.customerId, amountMinor: topups.amountMinor, currency: topups.currency })
      .from(topups)
      .where(and(eq(topups.id, placeholder('topupId')), eq(topups.stripeCheckoutSessionId, placeholder('sessionId'))))
      .limit(1),
);

/** A credited top-up: paid, with the credited amount and the PaymentIntent. */
const markTopupPaid = preparedStatement<{ topupId: string; amountMinor: number; paymentIntentId: string | null; now: Date }>('tally_mark_topup_paid', (q, { topups }) =>
  q
    .update(topups)
    .set({
      status: 'paid',
      creditedAmountMinor: param('amountMinor', topups.creditedAmountMinor),
      stripePaymentIntentId: param('paymentIntentId', topups.stripePaymentIntentId),
      paidAt: param('now', topups.paidAt),
      updatedAt: param('now', topups.updatedAt),
    })
    .where(eq(topups.id, placeholder('topupId'))),
);
