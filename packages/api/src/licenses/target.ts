import type { Plan, Subscription } from '@tally/db';
import type { Access } from '../subscriptions/access';

/**
 * What a subscription's licenses should be, from its mirror, its plan and its access
 * (`deriveAccess`, judged at Stripe's "now" for it; access is never derived here):
 * - `revokeAll`: the plan issues no licenses (or the price matches no plan), or the
 *   subscription is over (`canceled`, `incomplete_expired`).
 * - `keep`: licenses stay, with `status`; `issue` says whether the count follows `seats` (issue
 *   the missing ones, revoke the newest beyond it); `answer` is what verify reports while the
 *   license is not revoked.
 */
export type LicenseTarget =
  | { kind: 'revokeAll'; why: 'plan_without_licenses' | 'ended' }
  | { kind: 'keep'; status: 'active' | 'suspended'; issue: boolean; answer: 'active' | 'trialing' | 'suspended' };

/** Statuses whose subscription holds its seats' licenses (suspended or not). */
const HOLDS_SEATS = new Set(['active', 'trialing', 'past_due', 'unpaid', 'paused']);
/** Statuses after which a subscription never comes back (stripe.com/docs/billing/subscriptions/overview#subscription-statuses). */
const ENDED = new Set(['canceled', 'incomplete_expired']);

/**
 * - access `active` -> active; `trialing` -> active (verify answers `trialing`);
 * - `grace` or `none` while `past_due`, `unpaid` or `paused` -> suspended (active again once paid);
 * - `incomplete` (first payment pending) -> nothing issued, any existing suspended;
 * - `canceled`, `incomplete_expired`, or a plan without licenses -> all revoked.
 */
export function licenseTarget(subscription: Pick<Subscription, 'status'>, plan: Pick<Plan, 'issuesLicenses'> | null, access: Pick<Access, 'access'>): LicenseTarget {
  if (!plan?.issuesLicenses) return { kind: 'revokeAll', why: 'plan_without_licenses' };
  if (ENDED.has(subscription.status)) return { kind: 'revokeAll', why: 'ended' };
  const issue = HOLDS_SEATS.has(subscription.status);
  if (access.access === 'active') return { kind: 'keep', status: 'active', issue, answer: 'active' };
  if (access.access === 'trialing') return { kind: 'keep', status: 'active', issue, answer: 'trialing' };
  return { kind: 'keep', status: 'suspended', issue, answer: 'suspended' };
}
