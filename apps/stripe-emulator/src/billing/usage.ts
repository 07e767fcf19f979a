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
