import type { StripeEventHandler } from '../types';
import { closeBillingRecordSessionHandler } from './billing-record-session-closed';
import { handleBillingRecordSessionPaid } from './billing-record-session-paid';
import { closeTopupHandler } from './checkout-session-closed';
import { routeCheckoutSession } from './checkout-session-dispatch';
import { handleCheckoutSessionPaid } from './checkout-session-paid';

/**
 * Stripe event type -> handler. Types not listed are stored and marked `ignored`. Checkout
 * Session events go to the billing record handlers for billing records' sessions and to the
 * top-up handlers otherwise (`routeCheckoutSession`). Handlers also accept optional
 * `stripeAccounts` and `logger` (see `BillingRecordHandlerArgs`).
 */
export const stripeEventHandlers: Readonly<Record<string, StripeEventHandler>> = {
  'checkout.session.completed': routeCheckoutSession({ billingRecord: handleBillingRecordSessionPaid, topup: handleCheckoutSessionPaid }),
  'checkout.session.async_payment_succeeded': routeCheckoutSession({ billingRecord: handleBillingRecordSessionPaid, topup: handleCheckoutSessionPaid }),
  'checkout.session.expired': routeCheckoutSession({ billingRecord: closeBillingRecordSessionHandler('expired'), topup: closeTopupHandler('expired') }),
  'checkout.session.async_payment_failed': routeCheckoutSession({ billingRecord: closeBillingRecordSessionHandler('failed'), topup: closeTopupHandler('failed') }),
};
