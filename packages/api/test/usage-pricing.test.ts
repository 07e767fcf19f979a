/** Block pricing (issue 9 item 1): blocks are rounded up per customer, meter and period; integers only. */
import { describe, expect, it } from 'vitest';
import { aggregateQuantity, blocksFor, combineTotals, costMinor } from '../src/usage/pricing';
import { daysOf, periodBounds, periodOf, previousPeriod } from '../src/usage/periods';

describe('usage pricing', () => {
  it('blocks and cost at 0, 1, 999, 1,000 and 1,001 units ($1.00 per 1,000 words)', () => {
    const words = { priceMinor: 100, blockSize: 1000 };
    expect([0, 1, 999, 1000, 1001].map((q) => [blocksFor(q, 1000), costMinor(q, words)])).toEqual([
      [0, 0],
      [1, 100],
      [1, 100],
      [1, 100],
      [2, 200],
    ]);
  });

  it('several meters, each rounded on its own period total, never per event', () => {
    const calls = { priceMinor: 10, blockSize: 100 };
    const seats = { priceMinor: 999, blockSize: 1 };
    // 1,001 words arriving as 1,001 events of 1 word still cost 2 blocks, not 1,001.
    const perEvent = Array.from({ length: 1001 }, () => ({ quantity: 1, eventCount: 1, maxQuantity: 1 }));
    const totals = combineTotals(perEvent);
    expect(totals).toEqual({ quantity: 1001, eventCount: 1001, maxQuantity: 1 });
    expect(costMinor(aggregateQuantity('sum', totals), { priceMinor: 100, blockSize: 1000 })).toBe(200);
    expect(costMinor(aggregateQuantity('count', totals), calls)).toBe(110);
    expect(costMinor(aggregateQuantity('max', { quantity: 9, eventCount: 3, maxQuantity: 5 }), seats)).toBe(4995);
    for (const q of [0, 1, 7, 99, 100, 101, 123_456_789]) expect(Number.isInteger(costMinor(q, calls))).toBe(true);
  });

  it('refuses non-integers and negatives instead of rounding them', () => {
    expect(() => blocksFor(1.5, 1000)).toThrow(RangeError);
    expect(() => blocksFor(-1, 1000)).toThrow(RangeError);
    expect(() => blocksFor(10, 0)).toThrow(RangeError);
    expect(() => costMinor(Number.MAX_SAFE_INTEGER, { priceMinor: 99_999_999, blockSize: 1 })).toThrow(RangeError);
  });

  it('periods are UTC calendar months', () => {
    expect(periodOf(new Date('2026-11-30T23:59:59.999Z'))).toBe('2026-11');
    expect(periodOf(new Date('2026-12-01T00:00:00.000Z'))).toBe('2026-12');
    expect(previousPeriod('2026-01')).toBe('2025-12');
    expect(periodBounds('2024-02')).toEqual({ start: new Date('2024-02-01T00:00:00Z'), end: new Date('2024-03-01T00:00:00Z') });
    expect(daysOf('2024-02')).toHaveLength(29);
    expect(() => periodBounds('2026-13')).toThrow(RangeError);
  });
});
