import type { StripeEventHandler } from '../types';
import { closeBillingRecordSessionHandler } from './billing-record-session-closed';
import { handleBillingRecordSessionPaid } from './billing-record-session-paid';
import { closeTopupHandler } from './checkout-session-closed';
import { routeCheckoutSession } from './checkout-session-dispatch';
import { handleCheckoutSessionPaid } from './checkout-session-paid';
import { handleCheckoutSessionSubscription } from './checkout-session-subscription';
import { handleCustomerSubscriptionCreated } from './customer-subscription-created';
import { handleCustomerSubscriptionDeleted } from './customer-subscription-deleted';
import { handleCustomerSubscriptionPaused } from './customer-subscription-paused';
import { handleCustomerSubscriptionResumed } from './customer-subscription-resumed';
import { handleCustomerSubscriptionTrialWillEnd } from './customer-subscription-trial-will-end';
import { handleCustomerSubscriptionUpdated } from './customer-subscription-updated';
import { handleInvoiceCreated } from './invoice-created';
import { handleInvoiceFinalized } from './invoice-finalized';
import { handleInvoiceMarkedUncollectible } from './invoice-marked-uncollectible';
import { handleInvoicePaid } from './invoice-paid';
import { handleInvoicePaymentActionRequired } from './invoice-payment-action-required';
import { handleInvoicePaymentFailed } from './invoice-payment-failed';
import { handleInvoicePaymentSucceeded } from './invoice-payment-succeeded';
import { handleInvoiceVoided } from './invoice-voided';
import { handleTestClock } from './test-clock';

/**
 * Stripe event type -> handler. Types not listed are stored and marked `ignored`. Checkout
 * Session events go to the billing record handlers for billing records' sessions, completed
 * `subscription`-mode sessions to the subscription mirror, and the rest to the top-up handlers
 * (`routeCheckoutSession`). Subscription, invoice and test clock events keep Tally's mirrors
 * (subscriptions/sync-subscription.ts, invoices/sync-invoice.ts). Handlers also accept optional
 * `stripeAccounts` and `logger` (see `BillingRecordHandlerArgs`).
 */
export const stripeEventHandlers: Readonly<Record<string, StripeEventHandler>> = {
  'checkout.session.completed': routeCheckoutSession({ billingRecord: handleBillingRecordSessionPaid, topup: handleCheckoutSessionPaid, subscription: handleCheckoutSessionSubscription }),
  'checkout.session.async_payment_succeeded': routeCheckoutSession({ billingRecord: handleBillingRecordSessionPaid, topup: handleCheckoutSessionPaid }),
  'checkout.session.expired': routeCheckoutSession({ billingRecord: closeBillingRecordSessionHandler('expired'), topup: closeTopupHandler('expired') }),
  'checkout.session.async_payment_failed': routeCheckoutSession({ billingRecord: closeBillingRecordSessionHandler('failed'), topup: closeTopupHandler('failed') }),
  'customer.subscription.created': handleCustomerSubscriptionCreated,
  'customer.subscription.updated': handleCustomerSubscriptionUpdated,
  'customer.subscription.deleted': handleCustomerSubscriptionDeleted,
  'customer.subscription.paused': handleCustomerSubscriptionPaused,
  'customer.subscription.resumed': handleCustomerSubscriptionResumed,
  'customer.subscription.trial_will_end': handleCustomerSubscriptionTrialWillEnd,
  'invoice.created': handleInvoiceCreated,
  'invoice.finalized': handleInvoiceFinalized,
  'invoice.paid': handleInvoicePaid,
  'invoice.payment_succeeded': handleInvoicePaymentSucceeded,
  'invoice.payment_failed': handleInvoicePaymentFailed,
  'invoice.payment_action_required': handleInvoicePaymentActionRequired,
  'invoice.voided': handleInvoiceVoided,
  'invoice.marked_uncollectible': handleInvoiceMarkedUncollectible,
  'test_helpers.test_clock.ready': handleTestClock,
  'test_helpers.test_clock.advancing': handleTestClock,
};
