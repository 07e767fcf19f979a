/**
 * Who a subscription procedure acts for, and on what: the customer (a member's own, or any of
 * an admin's workspace), its current subscription in the mirror, and a plan by code. Shared by
 * the customer and admin procedures, so both apply the same rules; every lookup here runs
 * before any Stripe call.
 */
import { and, desc, eq, ne, sql, type Database, type Plan, type Subscription } from '@tally/db';
import Stripe from 'stripe';
import type { Actor } from '../context';
import { resolveCustomerForActor, type ActingCustomer } from '../customers/resolve-for-actor';
import { AppError, notFound } from '../errors';
import type { Logger } from '../logger';
import type { BillingInterval } from '../schemas/subscriptions';
import type { ApiConfig } from '../services';
import type { StripeAccounts } from '../stripe/accounts';
import { stripeUnavailable } from '../topups/stripe-unavailable';
import { accessForCustomer } from './customer-access';

/**
 * The customer an operation is for and who asks: `customer` (a member acting for their own
 * customer) or `admin` (an admin of the customer's workspace; their actions are audited).
 */
export interface SubscriptionScope {
  customer: ActingCustomer;
  audience: 'customer' | 'admin';
  actor: Actor;
}

/**
 * A member's own customer: `customerId` if they are its member, else their oldest membership.
 * @throws AppError NOT_FOUND when they are not a member (another tenant's id reads as missing).
 */
export async function customerScope(db: Database, actor: Actor, customerId: string | undefined): Promise<SubscriptionScope> {
  return { customer: await resolveCustomerForActor({ db, userId: actor.userId, customerId }), audience: 'customer', actor };
}

/**
 * A customer of the admin's workspace.
 * @throws AppError NOT_FOUND when the customer does not exist or belongs to another workspace.
 */
export async function adminScope(db: Database, actor: Actor, workspaceId: string, customerId: string): Promise<SubscriptionScope> {
  const { customers, workspaces } = db.t;
  const [row] = await db.q
    .select({
      id: customers.id,
      name: customers.name,
      email: customers.email,
      workspaceId: customers.workspaceId,
      stripeCustomerId: customers.stripeCustomerId,
      currency: workspaces.currency,
    })
    .from(customers)
    .innerJoin(workspaces, eq(workspaces.id, customers.workspaceId))
    .where(and(eq(customers.id, customerId), eq(customers.workspaceId, workspaceId)));
  if (!row) throw notFound('Customer');
  return { customer: row, audience: 'admin', actor };
}

/** Statuses of a subscription that has ended for good: Stripe accepts no change to it (stripe.com/docs/billing/subscriptions/overview#subscription-statuses). */
export const ENDED_STATUSES = ['canceled', 'incomplete_expired'] as const;

/** Whether `status` is a subscription that still exists at Stripe (can be changed, canceled, resumed). */
export const isLive = (status: string) => !(ENDED_STATUSES as readonly string[]).includes(status);

/**
 * The customer's subscription that operations act on, from the mirror: the one deciding access
 * (`accessForCustomer`) when it has not ended, else the newest one that has not ended; null
 * when every subscription has ended (or there is none).
 */
export async function currentSubscription(db: Database, customer: Pick<ActingCustomer, 'id' | 'workspaceId'>, graceDays: number): Promise<Subscription | null> {
  const deciding = (await accessForCustomer(db, { workspaceId: customer.workspaceId, customerId: customer.id, graceDays })).subscription;
  if (deciding && isLive(deciding.status)) return deciding;
  const { subscriptions: s } = db.t;
  const [newest] = await db.q
    .select()
    .from(s)
    .where(and(eq(s.workspaceId, customer.workspaceId), eq(s.customerId, customer.id), ...ENDED_STATUSES.map((status) => ne(s.status, status))))
    .orderBy(desc(s.stripeCreated), desc(s.createdAt))
    .limit(1);
  return newest ?? null;
}

/**
 * The live subscription an operation needs.
 * @throws AppError NOT_FOUND `No subscription to <what>: ...` when there is none (nothing is called at Stripe).
 */
export async function requireCurrentSubscription(db: Database, customer: Pick<ActingCustomer, 'id' | 'workspaceId'>, graceDays: number, what: string): Promise<Subscription> {
  const subscription = await currentSubscription(db, customer, graceDays);
  if (!subscription) throw new AppError('NOT_FOUND', `No subscription to ${what}: subscribe to a plan first`);
  return subscription;
}

/**
 * A plan of the workspace by code, for subscribing or changing to it. An inactive plan is
 * refused unless it is `currentPlanId` (a subscriber may still change seats on it).
 * @throws AppError NOT_FOUND (no such plan in this workspace), BAD_REQUEST (no longer offered).
 */
export async function planByCode(db: Database, workspaceId: string, code: string, currentPlanId: string | null = null): Promise<Plan> {
  const { plans } = db.t;
  const [plan] = await db.q.select().from(plans).where(and(eq(plans.workspaceId, workspaceId), eq(plans.code, code)));
  if (!plan) throw new AppError('NOT_FOUND', `Plan "${code}" not found`);
  if (!plan.active && plan.id !== currentPlanId) throw new AppError('BAD_REQUEST', `Plan "${code}" is no longer offered`);
  return plan;
}

/**
 * The Stripe Price that bills `plan` every `interval`: its monthly `stripePriceId` or its
 * yearly `stripeYearlyPriceId`.
 * @throws AppError BAD_REQUEST for `year` on a plan without a yearly price.
 */
export function priceIdFor(plan: Pick<Plan, 'name' | 'stripePriceId' | 'stripeYearlyPriceId'>, interval: BillingInterval): string {
  if (interval === 'month') return plan.stripePriceId;
  if (!plan.stripeYearlyPriceId) throw new AppError('BAD_REQUEST', `${plan.name} has no yearly billing: choose monthly billing`);
  return plan.stripeYearlyPriceId;
}

/**
 * Whether the customer may still get a free trial: one trial per customer, so false once any
 * of its subscriptions (mirror rows, ended ones too) had a trial (`trialStart` or `trialEnd` set).
 */
export async function isTrialEligible(db: Database, customer: Pick<ActingCustomer, 'id' | 'workspaceId'>): Promise<boolean> {
  const { subscriptions: s } = db.t;
  const [had] = await db.q
    .select({ id: s.id })
    .from(s)
    .where(and(eq(s.workspaceId, customer.workspaceId), eq(s.customerId, customer.id), sql`(${s.trialStart} IS NOT NULL OR ${s.trialEnd} IS NOT NULL)`))
    .limit(1);
  return !had;
}

/**
 * The quantity to bill for `plan`: `seats` for a per-seat plan (default `fallback`, else 1);
 * 1 for a flat plan.
 * @throws AppError BAD_REQUEST for more than one seat on a flat plan.
 */
export function quantityFor(plan: Pick<Plan, 'code' | 'name' | 'perSeat'>, seats: number | undefined, fallback = 1): number {
  if (plan.perSeat) return seats ?? fallback;
  if (seats !== undefined && seats !== 1) throw new AppError('BAD_REQUEST', `${plan.name} is not priced per seat: seats must be 1 or omitted`);
  return 1;
}

/** What the subscription operations use of a procedure's context. */
export interface SubscriptionCtx {
  db: Database;
  stripeAccounts: StripeAccounts;
  config: ApiConfig;
  logger: Logger;
  requestId: string;
  /** The request's `Origin` (Checkout and portal redirects go back there when it is allowed). */
  origin: string | null;
}

/**
 * Run one Stripe call; a Stripe error (refused, unreachable) is logged with `ids` and becomes
 * BAD_GATEWAY "Payments are unavailable right now" (Stripe's text is never shown), unless
 * `refine` maps it to a clearer error first.
 */
export async function stripeCall<T>(
  ctx: Pick<SubscriptionCtx, 'logger' | 'requestId'>,
  step: string,
  ids: Record<string, string>,
  fn: () => Promise<T>,
  refine?: (err: Stripe.errors.StripeError) => AppError | null,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof Stripe.errors.StripeError) {
      const refined = refine?.(err);
      if (refined) {
        ctx.logger.warn({ requestId: ctx.requestId, step, ...ids, stripeCode: err.code ?? null, stripeParam: err.param ?? null, stripeRequestId: err.requestId ?? null }, `Stripe call ${step} refused`);
        throw refined;
      }
      throw stripeUnavailable({ logger: ctx.logger, requestId: ctx.requestId, step, err, ids });
    }
    throw err;
  }
}
