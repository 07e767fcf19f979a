import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context';
import { meterUsage } from './meter-usage';

/**
 * The quantity billed for a metered price (`recurring[usage_type]=metered` with
 * `recurring[meter]`) for one customer over `[start, end)` (unix seconds): the meter's
 * aggregate of the customer's meter events in that period
 * (https://docs.stripe.com/billing/subscriptions/usage-based/recording-usage). A metered price
 * without a meter, or whose meter is unknown, bills 0.
 */
export function billedUsage(ctx: EmulatorContext, price: Stripe.Price, customer: string, period: { start: number; end: number }): number {
  const meter = price.recurring?.meter;
  if (!meter || !ctx.store.billingMeters.get(meter)) return 0;
  return meterUsage(ctx, { meterId: meter, stripeCustomerId: customer, start: period.start, end: period.end });
}

/**
 * The quantity a price charges for `quantity` units: with `transform_quantity`, `quantity /
 * divide_by` rounded `up` or `down` to a whole number (e.g. `divide_by: 1000, round: up` bills
 * 1,001 words as 2 packages); without it, `quantity` itself
 * (https://docs.stripe.com/products-prices/pricing-models#transform-quantity). For metered
 * prices it is applied once to the period's aggregate, not per meter event.
 */
export function chargedQuantity(price: Pick<Stripe.Price, 'transform_quantity'>, quantity: number): number {
  const transform = price.transform_quantity;
  if (!transform) return quantity;
  const divided = quantity / transform.divide_by;
  return transform.round === 'up' ? Math.ceil(divided) : Math.floor(divided);
}

/** What `quantity` units of `price` cost, minor units: `unit_amount` × {@link chargedQuantity}, rounded to a whole minor unit. */
export function priceAmount(price: Pick<Stripe.Price, 'transform_quantity' | 'unit_amount'>, quantity: number): number {
  return Math.round(chargedQuantity(price, quantity) * (price.unit_amount ?? 0));
}
