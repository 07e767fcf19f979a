import type Stripe from 'stripe';
import { priceAmount } from './usage';

/**
 * Proration math (https://docs.stripe.com/billing/subscriptions/prorations): the share of a
 * period's price for the time left in it, to the second, rounded to the nearest minor unit
 * (Stripe rounds each proration line). Amounts in minor units, times in unix seconds.
 */

/**
 * The part of `amount` (for the whole period `[start, end)`) that covers `[at, end)`.
 * `at` outside the period is clamped: before it → the whole amount, after it → 0.
 */
export function prorate(amount: number, period: { start: number; end: number }, at: number): number {
  const length = period.end - period.start;
  if (length <= 0) return 0;
  const remaining = Math.min(length, Math.max(0, period.end - at));
  return Math.round((amount * remaining) / length);
}

/** What one licensed subscription item costs per period (unit amount × quantity, after `transform_quantity`); metered items have no fixed price: 0. */
export function periodAmount(item: Pick<Stripe.SubscriptionItem, 'price' | 'quantity'> | null): number {
  if (!item || item.price.recurring?.usage_type === 'metered') return 0;
  return priceAmount(item.price, item.quantity ?? 1);
}

/**
 * The two prorations of replacing `before` by `after` at `at` within `period` (either may be
 * `null` for an added or removed item): `credit`, the unused time of `before` (to refund, ≥ 0),
 * and `debit`, the remaining time of `after` (to charge, ≥ 0).
 */
export function prorationAmounts(
  before: Pick<Stripe.SubscriptionItem, 'price' | 'quantity'> | null,
  after: Pick<Stripe.SubscriptionItem, 'price' | 'quantity'> | null,
  period: { start: number; end: number },
  at: number,
): { credit: number; debit: number } {
  return { credit: prorate(periodAmount(before), period, at), debit: prorate(periodAmount(after), period, at) };
}
