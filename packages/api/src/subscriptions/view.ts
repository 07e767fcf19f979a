/**
 * What customers and admins see of a subscription: from the mirror row, or from Stripe's own
 * answer to a change Tally just made (the mirror follows when the webhook arrives).
 */
import { and, eq, or, type Database, type Plan, type Subscription } from '@tally/db';
import type Stripe from 'stripe';

/** The plan a subscription bills, as shown next to it. */
export interface SubscriptionPlanRef {
  id: string;
  code: string;
  name: string;
  perSeat: boolean;
  issuesLicenses: boolean;
}

/**
 * A subscription as the SPA shows it. Times are `Date`s (Stripe's unix seconds), null when
 * Stripe has none; `seats` is the first item's quantity (1 for flat plans); `plan` null for a
 * price no plan of the workspace has.
 */
export interface SubscriptionView {
  /** Tally's id of the mirror row. */
  id: string;
  stripeSubscriptionId: string;
  plan: SubscriptionPlanRef | null;
  /** Stripe's status: incomplete, incomplete_expired, trialing, active, past_due, canceled, unpaid, paused. */
  status: string;
  seats: number;
  /**
   * Which of the plan's prices is billed: `month` (its `stripePriceId`), `year` (its
   * `stripeYearlyPriceId`), null when the price is neither (no plan, or a price changed since).
   */
  interval: 'month' | 'year' | null;
  /** Lowercase ISO 4217; null until Stripe has told. */
  currency: string | null;
  currentPeriodStart: Date | null;
  currentPeriodEnd: Date | null;
  trialEnd: Date | null;
  /** Scheduled to end at `currentPeriodEnd` (can be resumed until then). */
  cancelAtPeriodEnd: boolean;
  /** When it is scheduled to end (period end, or another date set at Stripe). */
  cancelAt: Date | null;
  /** When cancellation was requested (or happened). */
  canceledAt: Date | null;
  endedAt: Date | null;
}

const planRef = (plan: Plan | undefined | null): SubscriptionPlanRef | null =>
  plan ? { id: plan.id, code: plan.code, name: plan.name, perSeat: plan.perSeat, issuesLicenses: plan.issuesLicenses } : null;

async function planById(db: Database, workspaceId: string, planId: string | null): Promise<Plan | null> {
  if (!planId) return null;
  const { plans } = db.t;
  const [plan] = await db.q.select().from(plans).where(and(eq(plans.workspaceId, workspaceId), eq(plans.id, planId)));
  return plan ?? null;
}

/** The workspace's plan billed by `priceId` (its monthly or yearly price), or null. */
export async function planByPrice(db: Database, workspaceId: string, priceId: string | null): Promise<Plan | null> {
  if (!priceId) return null;
  const { plans } = db.t;
  const [plan] = await db.q
    .select()
    .from(plans)
    .where(and(eq(plans.workspaceId, workspaceId), or(eq(plans.stripePriceId, priceId), eq(plans.stripeYearlyPriceId, priceId))));
  return plan ?? null;
}

/** Whether `priceId` is `plan`'s monthly (`month`) or yearly (`year`) price; null when it is neither. */
export function intervalOf(plan: Pick<Plan, 'stripePriceId' | 'stripeYearlyPriceId'> | null | undefined, priceId: string | null | undefined): 'month' | 'year' | null {
  if (!plan || !priceId) return null;
  if (priceId === plan.stripePriceId) return 'month';
  if (priceId === plan.stripeYearlyPriceId) return 'year';
  return null;
}

/** The plan a mirror row bills: by its `planId`, else by its price; null when neither is a plan of the workspace. */
export async function planOfSubscription(db: Database, row: Subscription): Promise<Plan | null> {
  return (await planById(db, row.workspaceId, row.planId)) ?? (await planByPrice(db, row.workspaceId, row.stripePriceId));
}

/** The view of a mirror row. */
export async function subscriptionView(db: Database, row: Subscription): Promise<SubscriptionView> {
  const plan = await planOfSubscription(db, row);
  return {
    id: row.id,
    stripeSubscriptionId: row.stripeSubscriptionId,
    plan: planRef(plan),
    status: row.status,
    seats: row.seats,
    interval: intervalOf(plan, row.stripePriceId),
    currency: row.currency,
    currentPeriodStart: row.currentPeriodStart,
    currentPeriodEnd: row.currentPeriodEnd,
    trialEnd: row.trialEnd,
    cancelAtPeriodEnd: row.cancelAtPeriodEnd,
    cancelAt: row.cancelAt,
    canceledAt: row.canceledAt,
    endedAt: row.endedAt,
  };
}

const seconds = (value: unknown): Date | null => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? new Date(value * 1000) : null);

/**
 * The first item of a Stripe Subscription and the current period: on the item (API
 * 2025-03-31 and later) or on the subscription (older versions).
 */
export function firstItemOf(subscription: Stripe.Subscription): { item: Stripe.SubscriptionItem | null; periodStart: number | null; periodEnd: number | null } {
  const item = subscription.items?.data?.[0] ?? null;
  const loose = subscription as unknown as Record<string, unknown>;
  const looseItem = (item ?? {}) as unknown as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return {
    item,
    periodStart: num(looseItem.current_period_start) ?? num(loose.current_period_start),
    periodEnd: num(looseItem.current_period_end) ?? num(loose.current_period_end),
  };
}

/**
 * The view of Stripe's answer (a Subscription object, stripe.com/docs/api/subscriptions/object)
 * for mirror row `row`: what Tally shows right after changing it, before the webhook updates the mirror.
 */
export async function subscriptionViewFromStripe(db: Database, row: Subscription, subscription: Stripe.Subscription): Promise<SubscriptionView> {
  const { item, periodStart, periodEnd } = firstItemOf(subscription);
  const priceId = item?.price?.id ?? null;
  const plan = (await planByPrice(db, row.workspaceId, priceId)) ?? (priceId === row.stripePriceId ? await planById(db, row.workspaceId, row.planId) : null);
  return {
    id: row.id,
    stripeSubscriptionId: subscription.id,
    plan: planRef(plan),
    status: subscription.status,
    seats: item?.quantity ?? 1,
    interval: intervalOf(plan, priceId),
    currency: subscription.currency ?? row.currency,
    currentPeriodStart: seconds(periodStart),
    currentPeriodEnd: seconds(periodEnd),
    trialEnd: seconds(subscription.trial_end),
    cancelAtPeriodEnd: subscription.cancel_at_period_end === true,
    cancelAt: seconds(subscription.cancel_at),
    canceledAt: seconds(subscription.canceled_at),
    endedAt: seconds(subscription.ended_at),
  };
}
