/**
 * The part of a Stripe Subscription object Tally mirrors, parsed defensively: a payload of any
 * API version (or a foreign, truncated or hostile one) never crashes processing. Ids are
 * shape-checked (`sub_`, `cus_`, `price_`, `clock_`, `in_`), so a NUL byte or a megabyte string
 * never reaches a query; a field of the wrong type reads as absent rather than failing the
 * whole object. Only `id`, `customer` and `status` are required.
 *
 * Both API shapes are understood (stripe.com/docs/changelog/basil/2025-03-31/deprecate-subscription-current-period-start-and-end):
 * - older versions (e.g. 2024-04-10) put `current_period_start` / `current_period_end` on the
 *   subscription;
 * - current versions (2025-03-31.basil and later, the emulator's 2026-10-28.endive) put them on
 *   each item (`items.data[].current_period_start|end`).
 * Expandable fields (`customer`, `latest_invoice`, `test_clock`, `items.data[].price`) may be a
 * string id or an expanded object with an `id`.
 * Source: stripe.com/docs/api/subscriptions/object
 */
import { z } from 'zod';

export const STRIPE_SUBSCRIPTION_ID_PATTERN = /^sub_[A-Za-z0-9_]{1,255}$/;
export const STRIPE_CUSTOMER_ID_PATTERN = /^cus_[A-Za-z0-9_]{1,255}$/;
export const STRIPE_PRICE_ID_PATTERN = /^price_[A-Za-z0-9_]{1,255}$/;
export const STRIPE_INVOICE_ID_PATTERN = /^in_[A-Za-z0-9_]{1,255}$/;
export const STRIPE_TEST_CLOCK_ID_PATTERN = /^clock_[A-Za-z0-9_]{1,255}$/;

/** Stripe's subscription statuses (stripe.com/docs/billing/subscriptions/overview#subscription-statuses). */
export const SUBSCRIPTION_STATUSES = ['incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];
/** Statuses a subscription never leaves (Stripe cannot reactivate them). */
export const TERMINAL_SUBSCRIPTION_STATUSES: readonly string[] = ['canceled', 'incomplete_expired'];

/** Unix seconds Stripe can mean (0 to year 5138); anything else reads as absent. */
const unixSeconds = z.number().int().min(0).max(100_000_000_000);
/** A value that reads as `null` when it is not what `schema` accepts. */
const lenient = <T extends z.ZodType>(schema: T) => schema.nullish().catch(null);

/** A string id (or an expanded object's `id`) matching `pattern`, else null. */
export function idOf(value: unknown, pattern: RegExp): string | null {
  const id = typeof value === 'string' ? value : typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : null;
  return typeof id === 'string' && id.length <= 260 && pattern.test(id) ? id : null;
}

/** A timestamp in unix seconds as a Date, or null. */
export const dateOfSeconds = (s: number | null | undefined): Date | null => (typeof s === 'number' ? new Date(s * 1000) : null);

const expandable = (pattern: RegExp) => z.unknown().optional().transform((v) => idOf(v, pattern));

const Item = z.object({
  price: expandable(STRIPE_PRICE_ID_PATTERN),
  quantity: lenient(z.number().int().min(0).max(1_000_000_000)),
  current_period_start: lenient(unixSeconds),
  current_period_end: lenient(unixSeconds),
});

const SubscriptionObject = z.object({
  id: z.string().regex(STRIPE_SUBSCRIPTION_ID_PATTERN),
  object: z.literal('subscription').optional().catch(undefined),
  customer: expandable(STRIPE_CUSTOMER_ID_PATTERN),
  status: z.enum(SUBSCRIPTION_STATUSES),
  items: lenient(z.object({ data: z.array(z.unknown()).max(1000) })),
  currency: lenient(z.string().regex(/^[a-z]{3}$/)),
  current_period_start: lenient(unixSeconds),
  current_period_end: lenient(unixSeconds),
  trial_start: lenient(unixSeconds),
  trial_end: lenient(unixSeconds),
  cancel_at_period_end: lenient(z.boolean()),
  cancel_at: lenient(unixSeconds),
  canceled_at: lenient(unixSeconds),
  ended_at: lenient(unixSeconds),
  latest_invoice: expandable(STRIPE_INVOICE_ID_PATTERN),
  test_clock: expandable(STRIPE_TEST_CLOCK_ID_PATTERN),
  livemode: lenient(z.boolean()),
  created: lenient(unixSeconds),
});

/** What Tally keeps of a Subscription; every value is safe to store. */
export interface SubscriptionSnapshot {
  stripeSubscriptionId: string;
  stripeCustomerId: string;
  status: SubscriptionStatus;
  /** The first item's price (`price_...`), or null. */
  stripePriceId: string | null;
  /** The first item's quantity (1 when absent). */
  seats: number;
  currency: string | null;
  currentPeriodStart: Date | null;
  currentPeriodEnd: Date | null;
  trialStart: Date | null;
  trialEnd: Date | null;
  cancelAtPeriodEnd: boolean;
  cancelAt: Date | null;
  canceledAt: Date | null;
  endedAt: Date | null;
  latestStripeInvoiceId: string | null;
  stripeTestClockId: string | null;
  livemode: boolean;
  stripeCreated: Date | null;
}

/**
 * A Stripe Subscription (any API version) as a `SubscriptionSnapshot`, or null when it is not
 * one Tally can mirror (no `sub_` id, no `cus_` customer, or an unknown status).
 */
export function parseSubscription(value: unknown): SubscriptionSnapshot | null {
  const parsed = SubscriptionObject.safeParse(value);
  if (!parsed.success || parsed.data.customer === null) return null;
  const s = parsed.data;
  const customer = parsed.data.customer;
  const first = s.items?.data[0] !== undefined ? Item.safeParse(s.items.data[0]) : null;
  const item = first?.success ? first.data : null;
  // Older API versions: on the subscription; current ones: on the item.
  const periodStart = s.current_period_start ?? item?.current_period_start ?? null;
  const periodEnd = s.current_period_end ?? item?.current_period_end ?? null;
  return {
    stripeSubscriptionId: s.id,
    stripeCustomerId: customer,
    status: s.status,
    stripePriceId: item?.price ?? null,
    seats: item?.quantity ?? 1,
    currency: s.currency ?? null,
    currentPeriodStart: dateOfSeconds(periodStart),
    currentPeriodEnd: dateOfSeconds(periodEnd),
    trialStart: dateOfSeconds(s.trial_start),
    trialEnd: dateOfSeconds(s.trial_end),
    cancelAtPeriodEnd: s.cancel_at_period_end === true,
    cancelAt: dateOfSeconds(s.cancel_at),
    canceledAt: dateOfSeconds(s.canceled_at),
    endedAt: dateOfSeconds(s.ended_at),
    latestStripeInvoiceId: s.latest_invoice,
    stripeTestClockId: s.test_clock,
    livemode: s.livemode === true,
    stripeCreated: dateOfSeconds(s.created),
  };
}
