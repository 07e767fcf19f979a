/**
 * Usage pricing: integer arithmetic only, in the workspace currency's minor units.
 *
 * The rule (DESIGN.md "Meter / usage event"; issue 9 item 1): a meter prices one **block** of
 * `blockSize` units at `priceMinor`. A customer's quantity for a meter and period is the
 * meter's aggregation of that period's events (`sum` of quantities, `count` of events, or
 * `max` quantity); the period's cost is `ceil(quantity / blockSize) * priceMinor`. Blocks are
 * rounded up once per customer, meter and period, never per event: 1,001 words at 100 per
 * 1,000 cost 200, however many events they came in. Prepaid meters debit the balance as the
 * cost grows (each event debits `cost(after) - charged so far`), so a period's debits add up to
 * exactly its cost.
 */
import type { MeterAggregation } from '@tally/db';

/** Number of blocks a quantity fills, rounded up: 0 -> 0, 1..blockSize -> 1, blockSize + 1 -> 2. @throws RangeError for a negative or non-integer quantity or a block size < 1. */
export function blocksFor(quantity: number, blockSize: number): number {
  if (!Number.isSafeInteger(quantity) || quantity < 0) throw new RangeError(`quantity must be a non-negative safe integer, got ${quantity}`);
  if (!Number.isSafeInteger(blockSize) || blockSize < 1) throw new RangeError(`blockSize must be a positive safe integer, got ${blockSize}`);
  return Math.floor(quantity / blockSize) + (quantity % blockSize === 0 ? 0 : 1);
}

/** Cost in minor units of a period's quantity: `blocksFor(quantity, blockSize) * priceMinor`. @throws RangeError when the result is not a safe integer. */
export function costMinor(quantity: number, meter: { blockSize: number; priceMinor: number }): number {
  const cost = blocksFor(quantity, meter.blockSize) * meter.priceMinor;
  if (!Number.isSafeInteger(cost)) throw new RangeError(`usage cost out of range for quantity ${quantity}`);
  return cost;
}

/** A period's totals as the rollups keep them. */
export interface UsageTotals {
  /** Sum of quantities. */
  quantity: number;
  eventCount: number;
  maxQuantity: number;
}

/** The quantity a meter bills for these totals: sum, count or max (issue 9 item 1). */
export function aggregateQuantity(aggregation: MeterAggregation | string, totals: UsageTotals): number {
  if (aggregation === 'count') return totals.eventCount;
  if (aggregation === 'max') return totals.maxQuantity;
  return totals.quantity;
}

/** Totals of several days (or none) combined: sums add, max is the largest. */
export function combineTotals(rows: Iterable<UsageTotals>): UsageTotals {
  const out: UsageTotals = { quantity: 0, eventCount: 0, maxQuantity: 0 };
  for (const r of rows) {
    out.quantity += Number(r.quantity);
    out.eventCount += Number(r.eventCount);
    out.maxQuantity = Math.max(out.maxQuantity, Number(r.maxQuantity));
  }
  return out;
}
