import { nowSeconds } from '../core/clock';
import type { EmulatorContext } from '../core/context';

/** A recurring price's interval (https://docs.stripe.com/api/prices/object#price_object-recurring-interval). */
export type Interval = 'day' | 'week' | 'month' | 'year';

const DAY = 86_400;

/**
 * The instant `n` intervals of `count` × `interval` after `anchor` (unix seconds, UTC), as
 * Stripe bills: days and weeks are fixed lengths; months and years keep the anchor's day of
 * month and time of day, clamped to the month's last day (an anchor on the 31st bills on
 * Feb 28/29, then on Mar 31) (https://docs.stripe.com/billing/subscriptions/billing-cycle).
 * Counting from the anchor (not from the previous period end) is what keeps the 31st.
 */
export function addIntervals(anchor: number, interval: Interval, count: number, n = 1): number {
  const steps = count * n;
  if (interval === 'day') return anchor + steps * DAY;
  if (interval === 'week') return anchor + steps * 7 * DAY;
  const date = new Date(anchor * 1000);
  const months = interval === 'year' ? steps * 12 : steps;
  const totalMonths = date.getUTCFullYear() * 12 + date.getUTCMonth() + months;
  const year = Math.floor(totalMonths / 12);
  const month = totalMonths - year * 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(date.getUTCDate(), lastDay);
  return Date.UTC(year, month, day, date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()) / 1000;
}

/**
 * The period `[start, end)` of a subscription anchored at `anchor` that contains `at`
 * (unix seconds, `at >= anchor`), i.e. the `n`-th period with `n` the largest such that
 * `addIntervals(anchor, n) <= at`.
 */
export function periodContaining(anchor: number, interval: Interval, count: number, at: number): { start: number; end: number } {
  let n = 0;
  while (addIntervals(anchor, interval, count, n + 1) <= at) n += 1;
  return { start: addIntervals(anchor, interval, count, n), end: addIntervals(anchor, interval, count, n + 1) };
}

/** The current time of a test clock (`frozen_time`, unix seconds), or `null` for an unknown clock. */
export function clockTime(ctx: EmulatorContext, clockId: string): number | null {
  return ctx.store.testClocks.get(clockId)?.frozen_time ?? null;
}

/**
 * "Now" for a customer, in unix seconds: the `frozen_time` of the customer's test clock, or
 * real time for customers without one (and unknown customers). Every billing timestamp of a
 * customer's objects (`created`, periods, trial ends...) is taken from it, as with Stripe's
 * test clocks (https://docs.stripe.com/billing/testing/test-clocks).
 */
export function customerNow(ctx: EmulatorContext, customerId: string | null | undefined): number {
  const clock = customerId ? ctx.store.customers.get(customerId)?.test_clock : null;
  const clockId = typeof clock === 'string' ? clock : (clock?.id ?? null);
  return (clockId ? clockTime(ctx, clockId) : null) ?? nowSeconds();
}

/** The id of a customer's test clock, or `null`. */
export function customerClock(ctx: EmulatorContext, customerId: string | null | undefined): string | null {
  const clock = customerId ? ctx.store.customers.get(customerId)?.test_clock : null;
  return typeof clock === 'string' ? clock : (clock?.id ?? null);
}
