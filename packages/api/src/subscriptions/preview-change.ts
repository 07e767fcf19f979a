import type { Plan, Subscription } from '@tally/db';
import type Stripe from 'stripe';
import { AppError } from '../errors';
import type { SubscriptionPreviewChangeInput } from '../schemas/subscriptions';
import { requireStripeFor } from '../stripe/require-configured';
import { stripeNowFor } from './customer-access';
import type { BillingInterval } from '../schemas/subscriptions';
import { isLive, planByCode, priceIdFor, quantityFor, requireCurrentSubscription, stripeCall, type SubscriptionCtx, type SubscriptionScope } from './find-for-customer';
import { firstItemOf, intervalOf, planOfSubscription } from './view';

/** A change of plan or seats, checked against the mirror and then against Stripe's subscription. */
export interface PlanChange {
  /** The mirror row of the subscription being changed. */
  subscription: Subscription;
  /** The plan moved to (may be the current one, with other seats). */
  plan: Plan;
  /** Seats after the change (1 for a flat plan). */
  quantity: number;
  /** The billing interval after the change, and the plan's Stripe Price for it. */
  interval: BillingInterval;
  priceId: string;
  stripe: Stripe;
  /** The subscription as Stripe has it now. */
  stripeSubscription: Stripe.Subscription;
  /** Its first item, the one whose price and quantity change. */
  item: Stripe.SubscriptionItem;
}

/**
 * Check a change of plan, seats or billing interval: the customer's live subscription (mirror),
 * the target plan (`seats` default: the current seats for a per-seat plan, 1 for a flat one;
 * `interval` default: the current one, `year` when the subscription bills its plan's yearly
 * price, else `month`) and its price for that interval, something to change; only then read the
 * subscription from Stripe for its item id.
 * @throws AppError NOT_FOUND (no subscription, no such plan), BAD_REQUEST (plan no longer
 * offered, seats on a flat plan, yearly on a plan without a yearly price, nothing to change), CONFLICT (the workspace has no Stripe, or
 * Stripe says the subscription has ended), BAD_GATEWAY (Stripe unreachable). No Stripe call
 * before the mirror checks pass.
 */
export async function resolvePlanChange(
  ctx: SubscriptionCtx,
  scope: SubscriptionScope,
  input: { plan: string; seats?: number | undefined; interval?: BillingInterval | undefined },
): Promise<PlanChange> {
  const { db, config } = ctx;
  const { customer } = scope;
  const subscription = await requireCurrentSubscription(db, customer, config.dunningGraceDays, 'change');
  const plan = await planByCode(db, customer.workspaceId, input.plan, subscription.planId);
  const quantity = quantityFor(plan, input.seats, subscription.seats);
  const currentInterval = intervalOf(await planOfSubscription(db, subscription), subscription.stripePriceId) ?? 'month';
  const interval = input.interval ?? currentInterval;
  const priceId = priceIdFor(plan, interval);
  const samePlan = subscription.planId === plan.id || subscription.stripePriceId === plan.stripePriceId || subscription.stripePriceId === plan.stripeYearlyPriceId;
  if (samePlan && quantity === subscription.seats && interval === currentInterval) {
    throw new AppError('BAD_REQUEST', `Already on ${plan.name}${plan.perSeat ? ` with ${quantity} seat${quantity === 1 ? '' : 's'}` : ''}: nothing to change`);
  }
  const { client: stripe } = await requireStripeFor(ctx, customer.workspaceId);
  const ids = { customerId: customer.id, subscriptionId: subscription.id };
  const stripeSubscription = await stripeCall(ctx, 'subscriptions.retrieve', ids, () => stripe.subscriptions.retrieve(subscription.stripeSubscriptionId));
  const { item } = firstItemOf(stripeSubscription);
  if (!isLive(stripeSubscription.status) || !item) {
    throw new AppError('CONFLICT', `The subscription has ended (${stripeSubscription.status}): subscribe to a plan instead`);
  }
  return { subscription, plan, quantity, interval, priceId, stripe, stripeSubscription, item };
}

/** One line of a previewed invoice, minor units (negative: a credit). */
export interface PreviewLine {
  description: string;
  amountMinor: number;
  quantity: number | null;
  /** A proration (the unused or remaining part of a period), not a whole period. */
  proration: boolean;
}

/** `subscription.previewChange`: the customer's next invoice if the change were made at `prorationDate`, as Stripe previews it. */
export interface PlanChangePreview {
  plan: { code: string; name: string };
  seats: number;
  /** The billing interval after the change (its plan's monthly or yearly price). */
  interval: BillingInterval;
  /** What the next invoice would ask, minor units (0 when credits exceed charges). */
  amountDueMinor: number;
  /** Its total including credits, minor units (negative: credit left on the customer's balance). */
  totalMinor: number;
  currency: string;
  /** Unix seconds the prorations are computed for: pass it to `subscription.changePlan` to be charged what was shown. */
  prorationDate: number;
  lines: PreviewLine[];
  /** When that invoice is billed: the end of the current period (or now, when the billing interval changes). */
  invoiceAt: Date | null;
}

const MAX_LINES = 20;
const secondsToDate = (s: number | null | undefined) => (typeof s === 'number' && s > 0 ? new Date(s * 1000) : null);

/** Stripe has no next invoice to preview (`invoice_upcoming_none`): the subscription is scheduled to cancel at the end of its period. */
const noUpcomingInvoice = (err: Stripe.errors.StripeError) =>
  err.code === 'invoice_upcoming_none'
    ? new AppError('CONFLICT', 'The subscription is scheduled to cancel at the end of its period, so there is no next invoice: resume it to change the plan or seats')
    : null;

/**
 * Preview a change of plan or seats (`resolvePlanChange`) with Stripe's upcoming invoice
 * (`POST /v1/invoices/create_preview` with `subscription_details.items`,
 * `proration_behavior: create_prorations` and `proration_date`,
 * stripe.com/docs/api/invoices/create_preview,
 * stripe.com/docs/billing/subscriptions/prorations#preview-proration): Stripe's lines (credit
 * for the unused time, charge for the remaining time, pending invoice items, the next period),
 * `amount_due`, `total`, `currency`. `prorationDate` is now at Stripe (the test clock's time for
 * test-clock customers); `subscription.changePlan` with it bills what was shown. Nothing is changed.
 * @throws as `resolvePlanChange`; CONFLICT when Stripe has no next invoice (cancellation
 * scheduled at the period end); BAD_GATEWAY when Stripe refuses otherwise or is unreachable.
 */
export async function previewPlanChange({
  ctx,
  scope,
  input,
}: {
  ctx: SubscriptionCtx;
  scope: SubscriptionScope;
  input: Omit<SubscriptionPreviewChangeInput, 'customerId'>;
}): Promise<PlanChangePreview> {
  const change = await resolvePlanChange(ctx, scope, input);
  const { subscription, plan, quantity, interval, priceId, stripe, item } = change;
  const prorationDate = Math.floor((await stripeNowFor(ctx.db, subscription)).getTime() / 1000);
  const ids = { customerId: scope.customer.id, subscriptionId: subscription.id };
  const invoice = await stripeCall(
    ctx,
    'invoices.createPreview',
    ids,
    () =>
      stripe.invoices.createPreview({
        customer: subscription.stripeCustomerId,
        subscription: subscription.stripeSubscriptionId,
        subscription_details: {
          items: [{ id: item.id, price: priceId, quantity }],
          proration_behavior: 'create_prorations',
          proration_date: prorationDate,
        },
      }),
    noUpcomingInvoice,
  );
  const lines = invoice.lines.data.slice(0, MAX_LINES).map((line) => ({
    description: (line.description ?? '').slice(0, 300),
    amountMinor: line.amount,
    quantity: line.quantity ?? null,
    proration: isProration(line),
  }));
  const { periodEnd } = firstItemOf(change.stripeSubscription);
  return {
    plan: { code: plan.code, name: plan.name },
    seats: quantity,
    interval,
    prorationDate,
    amountDueMinor: invoice.amount_due,
    totalMinor: invoice.total,
    currency: invoice.currency,
    lines,
    invoiceAt: secondsToDate(invoice.next_payment_attempt) ?? secondsToDate(periodEnd),
  };
}

/**
 * A line's proration flag: `parent.subscription_item_details.proration` (a proration Stripe
 * previews), `parent.invoice_item_details.proration` (an earlier proration waiting as a
 * pending invoice item) or `proration` (API versions before 2025-03-31.basil).
 */
function isProration(line: Stripe.InvoiceLineItem): boolean {
  const loose = line as unknown as {
    proration?: unknown;
    parent?: { subscription_item_details?: { proration?: unknown } | null; invoice_item_details?: { proration?: unknown } | null } | null;
  };
  return loose.parent?.subscription_item_details?.proration === true || loose.parent?.invoice_item_details?.proration === true || loose.proration === true;
}
