import type { Subscription } from '@tally/db';

/** What a customer may use now, derived in one place (this file) from the subscription mirror. */
export type AccessLevel = 'active' | 'trialing' | 'grace' | 'none';

/** Why: a stable code for software and a sentence for people. */
export interface Access {
  access: AccessLevel;
  /** `active`, `active_until_period_end`, `trialing`, `past_due_grace`, `past_due_grace_expired`, `unpaid`, `canceled`, `incomplete`, `incomplete_expired`, `paused`, `no_subscription`. */
  reason: string;
  /** Human-readable reason. */
  message: string;
  /** Last moment of access that is already known to end (trial end, grace end, period end when canceling); null when open-ended. */
  until: Date | null;
  /** Stripe's status of the subscription this was derived from; null without one. */
  status: string | null;
}

/** The subscription fields access depends on. */
export type AccessInput = Pick<Subscription, 'status' | 'trialEnd' | 'currentPeriodEnd' | 'cancelAtPeriodEnd' | 'pastDueSince'>;

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Access of one subscription at `now` (for test-clock customers, the clock's time).
 * Rules (stripe.com/docs/billing/subscriptions/overview#subscription-statuses):
 * - `active` -> active; `trialing` -> trialing;
 * - `past_due` -> grace for `graceDays` after the first failed payment (`pastDueSince`; when
 *   unknown, grace is counted from `now`), then none;
 * - `unpaid`, `canceled`, `incomplete` (first payment not made), `incomplete_expired`,
 *   `paused` and anything unknown -> none.
 */
export function deriveAccess(subscription: AccessInput | null, { now, graceDays }: { now: Date; graceDays: number }): Access {
  if (!subscription) return { access: 'none', reason: 'no_subscription', message: 'No subscription', until: null, status: null };
  const { status } = subscription;
  switch (status) {
    case 'active':
      return subscription.cancelAtPeriodEnd
        ? { access: 'active', reason: 'active_until_period_end', message: 'Active until the end of the period, then canceled', until: subscription.currentPeriodEnd, status }
        : { access: 'active', reason: 'active', message: 'Active', until: null, status };
    case 'trialing':
      return { access: 'trialing', reason: 'trialing', message: 'In its free trial', until: subscription.trialEnd, status };
    case 'past_due': {
      const since = subscription.pastDueSince ?? now;
      const graceEnd = new Date(since.getTime() + graceDays * DAY_MS);
      return now.getTime() < graceEnd.getTime()
        ? { access: 'grace', reason: 'past_due_grace', message: 'Payment failed; access continues through the grace period while Stripe retries', until: graceEnd, status }
        : { access: 'none', reason: 'past_due_grace_expired', message: `Payment failed and the ${graceDays}-day grace period has ended`, until: graceEnd, status };
    }
    case 'unpaid':
      return { access: 'none', reason: 'unpaid', message: 'Unpaid after every payment retry', until: null, status };
    case 'canceled':
      return { access: 'none', reason: 'canceled', message: 'Canceled', until: null, status };
    case 'incomplete':
      return { access: 'none', reason: 'incomplete', message: 'The first payment has not been completed', until: null, status };
    case 'incomplete_expired':
      return { access: 'none', reason: 'incomplete_expired', message: 'The first payment was never completed', until: null, status };
    case 'paused':
      return { access: 'none', reason: 'paused', message: 'Paused', until: null, status };
    default:
      return { access: 'none', reason: 'unknown_status', message: 'Unknown subscription status', until: null, status };
  }
}
