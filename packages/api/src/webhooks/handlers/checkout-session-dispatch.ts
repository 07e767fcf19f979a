import { eq } from '@tally/db';
import { CheckoutSessionPayload, claimsBillingRecord, claimsTopup } from '../checkout-session';
import type { StripeEventHandler, StripeEventHandlerArgs } from '../types';

/**
 * One `checkout.session.*` event type, routed by whose session it is: a billing record's
 * (its metadata has `tally_billing_record_id`, or its id is in `billing_record_checkouts`) goes
 * to `billingRecord`, anything else (top-ups, foreign or unparsable sessions) to `topup`,
 * exactly as before billing records existed.
 */
export function routeCheckoutSession<A extends StripeEventHandlerArgs>({
  billingRecord,
  topup,
}: {
  billingRecord: (args: A) => ReturnType<StripeEventHandler>;
  topup: StripeEventHandler;
}): (args: A) => ReturnType<StripeEventHandler> {
  return async (args) => {
    const parsed = CheckoutSessionPayload.safeParse(args.event.data?.object);
    if (!parsed.success || claimsTopup(parsed.data)) return topup(args);
    if (claimsBillingRecord(parsed.data)) return billingRecord(args);
    const { billingRecordCheckouts: k } = args.db.t;
    const [checkout] = await args.db.q.select({ id: k.id }).from(k).where(eq(k.stripeCheckoutSessionId, parsed.data.id)).limit(1);
    return checkout ? billingRecord(args) : topup(args);
  };
}
