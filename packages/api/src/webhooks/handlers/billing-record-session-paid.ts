import { applyBillingRecordPayment } from '../../billing-records/apply-payment';
import { expireOpenCheckouts } from '../../billing-records/expire-open-checkouts';
import { recordBillingCheckoutStatus } from '../../billing-records/record-checkout-status';
import { silentLogger } from '../../logger';
import { paymentMismatches } from '../payment-mismatches';
import type { HandlerOutcome } from '../types';
import { findBillingRecordSession, type BillingRecordHandlerArgs } from './billing-record-session';

/**
 * `checkout.session.completed` and `checkout.session.async_payment_succeeded` for a billing
 * record's session. Rules, in order:
 * - Sessions that match no record of ours, a record of another workspace than the receipt's,
 *   or a session id not among the record's checkouts, are `ignored` (`findBillingRecordSession`).
 * - Credit only what Tally asked for: `amount_total` and `currency` must equal the checkout
 *   row's (what the session was created for), `mode` be `payment`, `livemode` the account's;
 *   otherwise the event is an `anomaly` and nothing is applied.
 * - Fulfil on `payment_status` `paid` or `no_payment_required` only
 *   (stripe.com/docs/payments/checkout/fulfill-orders); a completed session still processing
 *   records its status and waits for `async_payment_succeeded`.
 * - The payment is applied once (`applyBillingRecordPayment`): DUE -> PAID, or an `overpayment`
 *   credit when the record was already PAID by something else, or VOID.
 * - Once the record is PAID, its other open sessions are expired (best effort).
 */
export async function handleBillingRecordSessionPaid(args: BillingRecordHandlerArgs): Promise<HandlerOutcome & { marked?: boolean }> {
  const { db, event, receipt, expected } = args;
  const match = await findBillingRecordSession({ db, event, receipt });
  if (!match.ok) return match.outcome;
  const { session, record, checkout } = match;

  const mismatches = paymentMismatches({
    requested: { amountMinor: checkout.amountMinor, currency: checkout.currency, mode: 'payment' },
    reported: { amountTotal: session.amount_total, currency: session.currency, mode: session.mode, livemode: event.livemode },
    expected,
  });
  if (mismatches.length > 0) {
    return { status: 'anomaly', outcome: `Nothing applied to billing record ${record.id}: ${mismatches.join('; ')}`, workspaceId: record.workspaceId };
  }

  if (session.payment_status !== 'paid' && session.payment_status !== 'no_payment_required') {
    const shown = /^[a-z_]{1,40}$/.test(session.payment_status ?? '') ? session.payment_status : 'unknown';
    return recordBillingCheckoutStatus({
      db,
      event,
      receipt,
      record,
      checkout,
      session,
      checkoutStatus: 'complete',
      outcome: `Payment status ${shown}: billing record ${record.id} stays DUE (waiting for async_payment_succeeded)`,
    });
  }

  const { becamePaid, ...result } = await applyBillingRecordPayment({ db, event, receipt, record, checkout, session });
  if (becamePaid && args.stripeAccounts) {
    await expireOpenCheckouts({
      db,
      stripeAccounts: args.stripeAccounts,
      logger: args.logger ?? silentLogger,
      record,
      keepSessionId: session.id,
      logFields: { eventId: event.id },
    });
  }
  return result;
}
