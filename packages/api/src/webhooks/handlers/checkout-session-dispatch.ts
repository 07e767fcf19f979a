import { eq } from '@tally/db';
import { claimsBillingRecord, claimsTopup, parseCheckoutSession, topupReferenceOf } from '../checkout-session';
import type { StripeEventHandler, StripeEventHandlerArgs } from '../types';

/**
 * One `checkout.session.*` event type, routed by whose session it is: a top-up's (metadata
 * `tally_topup_id`, and unparsable sessions) goes to `topup`; a billing record's (metadata
 * `tally_billing_record_id`) to `billingRecord`; then, when a `subscription` handler is given, a
 * `mode: 'subscription'` session of Tally's (metadata `tally_customer_id`) or naming no top-up to it; then a session whose id is in `billing_record_checkouts`
 * to `billingRecord`, anything else (top-ups, foreign sessions) to `topup`, exactly as before
 * billing records and subscriptions existed. A session claiming a top-up (and an unparsable
 * one) is settled by the top-up handler's transaction body when it has one (`inTransaction`:
 * a delivery is then one transaction, see settle.ts); the others need the async handlers.
 */
export function routeCheckoutSession<A extends StripeEventHandlerArgs>({
  billingRecord,
  topup,
  subscription,
}: {
  billingRecord: (args: A) => ReturnType<StripeEventHandler>;
  topup: StripeEventHandler;
  subscription?: StripeEventHandler;
}): ((args: A) => ReturnType<StripeEventHandler>) & Pick<StripeEventHandler, 'inTransaction'> {
  const route = async (args: A) => {
    const parsed = parseCheckoutSession(args.event);
    if (!parsed.success || claimsTopup(parsed.data)) return topup(args);
    if (claimsBillingRecord(parsed.data)) return billingRecord(args);
    // A subscription checkout is Tally's (metadata `tally_customer_id`) or names no top-up; a
    // "subscription" session carrying a top-up's reference goes to the top-up handler, which
    // records the mode mismatch as an anomaly (and credits nothing).
    if (subscription && parsed.data.mode === 'subscription' && (typeof parsed.data.metadata?.tally_customer_id === 'string' || 'none' in topupReferenceOf(parsed.data))) {
      return subscription(args);
    }
    const { billingRecordCheckouts: k } = args.db.t;
    const [checkout] = await args.db.q.select({ id: k.id }).from(k).where(eq(k.stripeCheckoutSessionId, parsed.data.id)).limit(1);
    return checkout ? billingRecord(args) : topup(args);
  };
  const inTransaction = (args: StripeEventHandlerArgs) => {
    const parsed = parseCheckoutSession(args.event);
    return !parsed.success || claimsTopup(parsed.data) ? (topup.inTransaction?.(args) ?? null) : null;
  };
  return Object.assign(route, { inTransaction });
}
