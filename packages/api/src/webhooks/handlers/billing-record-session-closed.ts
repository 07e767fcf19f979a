import { recordBillingCheckoutStatus } from '../../billing-records/record-checkout-status';
import { livemodeMismatch } from '../payment-mismatches';
import type { HandlerOutcome } from '../types';
import { findBillingRecordSession, type BillingRecordHandlerArgs } from './billing-record-session';

/**
 * `checkout.session.expired` (checkout row -> `expired`) and
 * `checkout.session.async_payment_failed` (-> `failed`) for a billing record's session: the
 * record stays as it is (DUE stays DUE, with `stripePaymentStatus` and `stripeLastEventAt`
 * recorded; PAID and VOID are final). Unmatched sessions are `ignored`; a `livemode` other than
 * the account's changes nothing and is an `anomaly`.
 */
export function closeBillingRecordSessionHandler(to: 'expired' | 'failed') {
  return async (args: BillingRecordHandlerArgs): Promise<HandlerOutcome & { marked?: boolean }> => {
    const { db, event, receipt, expected } = args;
    const match = await findBillingRecordSession({ db, event, receipt });
    if (!match.ok) return match.outcome;
    const { session, record, checkout } = match;
    const live = livemodeMismatch(event.livemode, expected);
    if (live) return { status: 'anomaly', outcome: `Billing record ${record.id} left unchanged: ${live}`, workspaceId: record.workspaceId };
    const what = to === 'expired' ? 'expired' : 'payment failed';
    return recordBillingCheckoutStatus({
      db,
      event,
      receipt,
      record,
      checkout,
      session,
      checkoutStatus: to,
      outcome: `Checkout Session ${session.id} ${what}: billing record ${record.id} ${record.status === 'DUE' ? 'stays DUE' : `is ${record.status}, unchanged`}`,
    });
  };
}
