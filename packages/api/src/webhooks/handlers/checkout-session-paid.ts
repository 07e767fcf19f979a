import { and, eq, run } from '@tally/db';
import { postLedgerEntry } from '../../ledger/credit';
import { formatMinor } from '../../schemas';
import { CheckoutSessionPayload, paymentIntentIdOf, topupIdOf } from '../checkout-session';
import { markEventInTx } from '../mark-event';
import type { HandlerOutcome, StripeEventHandler } from '../types';

/**
 * `checkout.session.completed` and `checkout.session.async_payment_succeeded`: credit the
 * top-up with Stripe's `amount_total`, once per top-up (reference `topup:<id>`), in the
 * same transaction that marks the event processed. Fulfil on `payment_status` `paid` or
 * `no_payment_required`, never on `complete` alone
 * (stripe.com/docs/payments/checkout/fulfill-orders). Sessions that match no top-up of
 * ours are ignored.
 */
export const handleCheckoutSessionPaid: StripeEventHandler = async ({ db, event }) => {
  const parsed = CheckoutSessionPayload.safeParse(event.data?.object);
  if (!parsed.success) return { status: 'ignored', outcome: 'Not a Checkout Session payload Tally understands' };
  const session = parsed.data;
  if (session.mode !== 'payment') return { status: 'ignored', outcome: `Checkout Session in ${session.mode ?? 'unknown'} mode: not a top-up` };
  const topupId = topupIdOf(session);
  if (!topupId) return { status: 'ignored', outcome: 'Checkout Session has no Tally top-up reference' };

  const { topups } = db.t;
  const [topup] = await db.q
    .select()
    .from(topups)
    .where(and(eq(topups.id, topupId), eq(topups.stripeCheckoutSessionId, session.id)));
  if (!topup) return { status: 'ignored', outcome: `No top-up ${topupId} for Checkout Session ${session.id}` };

  if (session.payment_status !== 'paid' && session.payment_status !== 'no_payment_required') {
    return {
      status: 'processed',
      outcome: `Payment status ${session.payment_status ?? 'unknown'}: nothing credited (waiting for async_payment_succeeded)`,
      workspaceId: topup.workspaceId,
    };
  }
  const amountMinor = session.amount_total;
  const currency = session.currency?.toLowerCase();
  if (amountMinor == null || !currency) {
    return { status: 'ignored', outcome: 'Paid Checkout Session without amount_total or currency', workspaceId: topup.workspaceId };
  }

  return db.transaction(function* (tx) {
    const t = db.t;
    const { posted } = yield* postLedgerEntry(tx, t, {
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
    yield* markEventInTx(tx, t, event.id, result);
    return { ...result, marked: true };
  });
};
