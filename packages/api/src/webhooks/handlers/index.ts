import type { StripeEventHandler } from '../types';
import { closeTopupHandler } from './checkout-session-closed';
import { handleCheckoutSessionPaid } from './checkout-session-paid';

/** Stripe event type -> handler. Types not listed are stored and marked `ignored`. */
export const stripeEventHandlers: Readonly<Record<string, StripeEventHandler>> = {
  'checkout.session.completed': handleCheckoutSessionPaid,
  'checkout.session.async_payment_succeeded': handleCheckoutSessionPaid,
  'checkout.session.expired': closeTopupHandler('expired'),
  'checkout.session.async_payment_failed': closeTopupHandler('failed'),
};
