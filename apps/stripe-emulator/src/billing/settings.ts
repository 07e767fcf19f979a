import type { EmulatorContext } from '../core/context';

/** What happens to a subscription once the last automatic retry of a renewal invoice failed. */
export type FinalFailureAction = 'cancel' | 'unpaid' | 'past_due';

/**
 * How the emulator's billing engine behaves, in Stripe's terms (all durations in seconds).
 * Defaults follow Stripe's documented defaults; pass overrides with the `billing` option of
 * `startStripeEmulator`.
 */
export interface BillingSettings {
  /**
   * Automatic retries of a failed invoice payment, in days after the first failure.
   * Default `[3, 5, 7]`: 4 attempts in all, like the custom schedule of Stripe's "Manage
   * failed payments" settings (https://docs.stripe.com/billing/revenue-recovery/smart-retries);
   * Smart Retries themselves pick times by machine learning, which the emulator does not.
   */
  retryScheduleDays: readonly number[];
  /**
   * Subscription status after the last retry failed: `cancel` (Stripe's default setting,
   * `customer.subscription.deleted`), `unpaid`, or `past_due` (leave it as is)
   * (https://docs.stripe.com/billing/revenue-recovery/smart-retries#settings).
   */
  afterFinalFailure: FinalFailureAction;
  /**
   * Delay between a subscription renewal invoice's creation (draft) and its automatic
   * finalization and first payment attempt. Stripe waits about one hour
   * (https://docs.stripe.com/billing/subscriptions/overview#subscription-lifecycle). Default 3600.
   */
  renewalFinalizeDelaySeconds: number;
  /** How long an `incomplete` subscription waits for its first payment before `incomplete_expired`: 23 hours in Stripe. */
  incompleteExpirySeconds: number;
  /** How long before a trial ends `customer.subscription.trial_will_end` is sent: 3 days in Stripe. */
  trialWillEndSeconds: number;
}

export const DEFAULT_BILLING_SETTINGS: BillingSettings = {
  retryScheduleDays: [3, 5, 7],
  afterFinalFailure: 'cancel',
  renewalFinalizeDelaySeconds: 3600,
  incompleteExpirySeconds: 23 * 3600,
  trialWillEndSeconds: 3 * 24 * 3600,
};

/** The emulator's billing settings (defaults where none were given). */
export function billingSettings(ctx: EmulatorContext): BillingSettings {
  return { ...DEFAULT_BILLING_SETTINGS, ...ctx.billing };
}
