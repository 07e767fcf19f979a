import type Stripe from 'stripe';
import type { Identified } from '../core/collection';

/**
 * What the emulator keeps about a subscription besides its public object (`id` is the
 * subscription id). Timestamps are unix seconds.
 */
export interface SubscriptionState extends Identified {
  /** Whether `customer.subscription.trial_will_end` was sent for the current trial. */
  trialWillEndSent: boolean;
}

/** What the emulator keeps about an invoice besides its public object (`id` is the invoice id). */
export interface InvoiceState extends Identified {
  /** The invoice's PaymentIntent (`pi_...`), made at the first payment attempt and reused by retries, as Stripe does. */
  paymentIntent: string | null;
  /** Unix seconds of the first failed automatic attempt: the retry schedule counts from it. */
  firstFailureAt: number | null;
}

/** A Customer Portal session (`bps_...`), with what the portal page needs; Stripe's sessions cannot be retrieved by API. */
export interface PortalSessionRecord extends Identified {
  session: Stripe.BillingPortal.Session;
  /** Unix seconds (real time) after which the page refuses the session. */
  expiresAt: number;
}
