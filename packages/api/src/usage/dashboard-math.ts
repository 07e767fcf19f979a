/**
 * Pure arithmetic of the usage dashboards (dashboard.ts): projections, costs that never throw,
 * zero-filled days and the prepaid runway. Integers only: quantities in the meter's units,
 * money in the workspace currency's minor units.
 */
import type { Meter, MeterAggregation, MeterBillingMode } from '@tally/db';
import { aggregateQuantity, costMinor, type UsageTotals } from './pricing';
import { daysOf } from './periods';

/** The shortest elapsed time a projection divides by (one hour), so the first minutes of a period do not project absurd totals or divide by zero. */
export const MIN_PROJECTION_ELAPSED_MS = 3_600_000;

/** How many days the prepaid burn rate averages over: the 7 UTC days ending today (today included). */
export const BURN_WINDOW_DAYS = 7;

const DAY_MS = 86_400_000;

/**
 * The period's quantity at the current rate: `ceil(quantity * periodMs / elapsedMs)` for `sum`
 * and `count` meters (exact, in BigInt), the current maximum for `max` meters. `elapsedMs` is
 * clamped to [MIN_PROJECTION_ELAPSED_MS, periodMs]; the result to Number.MAX_SAFE_INTEGER.
 */
export function projectQuantity(aggregation: string, quantity: number, elapsedMs: number, periodMs: number): number {
  if (aggregation === 'max' || quantity <= 0) return quantity;
  const elapsed = Math.min(periodMs, Math.max(MIN_PROJECTION_ELAPSED_MS, Math.floor(elapsedMs)));
  if (elapsed >= periodMs) return quantity;
  const e = BigInt(elapsed);
  const projected = (BigInt(quantity) * BigInt(periodMs) + e - 1n) / e;
  return projected > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(projected);
}

/** `costMinor(quantity, meter)`, or Number.MAX_SAFE_INTEGER when that is out of range (a dashboard never fails on a huge projection). */
export function boundedCostMinor(quantity: number, meter: Pick<Meter, 'blockSize' | 'priceMinor'>): number {
  try {
    return costMinor(quantity, { blockSize: Number(meter.blockSize), priceMinor: Number(meter.priceMinor) });
  } catch {
    return Number.MAX_SAFE_INTEGER;
  }
}

/**
 * A period's cost for one customer and meter: prepaid meters cost what was charged
 * (`chargedMinor` summed over the rollups); `invoice` and `stripe_meter` meters cost
 * `costMinor(aggregateQuantity(aggregation, totals))`.
 */
export function periodCostMinor(meter: Pick<Meter, 'aggregation' | 'billingMode' | 'blockSize' | 'priceMinor'>, totals: UsageTotals, chargedMinor: number): number {
  if (meter.billingMode === 'prepaid') return chargedMinor;
  return boundedCostMinor(aggregateQuantity(meter.aggregation, totals), meter);
}

/** The value a meter charts for one day's totals: sum of quantities, event count or maximum. */
export function dailyValue(aggregation: string, totals: UsageTotals): number {
  return aggregateQuantity(aggregation, totals);
}

/**
 * The days a chart of `period` shows, in order: every day up to `today` (inclusive) for the
 * current period, every day of a past period, none of a future one; plus any later day that
 * has data (`extra`, e.g. an event a few minutes in the future across midnight).
 */
export function chartDays(period: string, today: string, extra: Iterable<string> = []): string[] {
  const all = daysOf(period);
  const keep = new Set(all.filter((d) => d <= today));
  for (const d of extra) if (d.startsWith(period)) keep.add(d);
  return all.filter((d) => keep.has(d));
}

/** The UTC day `n` days before `day` (`YYYY-MM-DD`). */
export function dayMinus(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - n * DAY_MS).toISOString().slice(0, 10);
}

/**
 * Prepaid runway from the charges of the burn window (`chargedInWindowMinor`, the sum over
 * BURN_WINDOW_DAYS days): `burnPerDayMinor = ceil(sum / 7)`; `runwayDays = floor(balance * 7 /
 * sum)` whole days (0 when the balance is 0 or negative), null when nothing was charged.
 */
export function prepaidRunway(balanceMinor: number, chargedInWindowMinor: number): { balanceMinor: number; burnPerDayMinor: number; runwayDays: number | null } {
  if (chargedInWindowMinor <= 0) return { balanceMinor, burnPerDayMinor: 0, runwayDays: null };
  const burnPerDayMinor = Math.ceil(chargedInWindowMinor / BURN_WINDOW_DAYS);
  const runwayDays = balanceMinor <= 0 ? 0 : Math.floor((balanceMinor * BURN_WINDOW_DAYS) / chargedInWindowMinor);
  return { balanceMinor, burnPerDayMinor, runwayDays };
}

/** The meter fields every dashboard shows (int64 columns as numbers). */
export function meterFields(m: Meter) {
  return {
    meterId: m.id,
    key: m.key,
    displayName: m.displayName,
    unit: m.unit,
    aggregation: m.aggregation as MeterAggregation,
    billingMode: m.billingMode as MeterBillingMode,
    priceMinor: Number(m.priceMinor),
    blockSize: Number(m.blockSize),
  };
}
