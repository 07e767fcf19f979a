import { describe, expect, it } from 'vitest';
import { applyBalance } from '../src/billing/invoices';
import { prorate, prorationAmounts } from '../src/billing/proration';
import { addIntervals, periodContaining } from '../src/billing/time';

const at = (iso: string) => Date.parse(iso) / 1000;

describe('addIntervals (billing cycle dates)', () => {
  it('keeps the anchor day, clamped to short months, and returns to it', () => {
    const jan31 = at('2026-01-31T10:00:00Z');
    expect(addIntervals(jan31, 'month', 1, 1)).toBe(at('2026-02-28T10:00:00Z'));
    expect(addIntervals(jan31, 'month', 1, 2)).toBe(at('2026-03-31T10:00:00Z'));
    expect(addIntervals(jan31, 'month', 1, 13)).toBe(at('2027-02-28T10:00:00Z'));
    expect(addIntervals(at('2028-01-31T00:00:00Z'), 'month', 1, 1)).toBe(at('2028-02-29T00:00:00Z'));
  });
  it('handles years, weeks, days and interval counts', () => {
    expect(addIntervals(at('2024-02-29T00:00:00Z'), 'year', 1, 1)).toBe(at('2025-02-28T00:00:00Z'));
    expect(addIntervals(at('2026-01-01T00:00:00Z'), 'week', 2, 1)).toBe(at('2026-01-15T00:00:00Z'));
    expect(addIntervals(at('2026-01-01T00:00:00Z'), 'day', 1, 3)).toBe(at('2026-01-04T00:00:00Z'));
    expect(addIntervals(at('2026-11-15T00:00:00Z'), 'month', 3, 1)).toBe(at('2027-02-15T00:00:00Z'));
  });
  it('finds the period containing a time', () => {
    const anchor = at('2026-01-31T00:00:00Z');
    expect(periodContaining(anchor, 'month', 1, at('2026-03-01T00:00:00Z'))).toEqual({ start: at('2026-02-28T00:00:00Z'), end: at('2026-03-31T00:00:00Z') });
  });
});

describe('proration', () => {
  const period = { start: 0, end: 1000 };
  it('is the remaining share of the period, rounded to the minor unit', () => {
    expect(prorate(3000, period, 500)).toBe(1500);
    expect(prorate(1000, period, 333)).toBe(667);
    expect(prorate(1000, period, -5)).toBe(1000);
    expect(prorate(1000, period, 2000)).toBe(0);
    expect(prorate(1000, { start: 5, end: 5 }, 5)).toBe(0);
  });
  it('credits the old item and charges the new one', () => {
    const basic = { price: { unit_amount: 1000, recurring: { usage_type: 'licensed' } }, quantity: 1 } as never;
    const premium = { price: { unit_amount: 3000, recurring: { usage_type: 'licensed' } }, quantity: 2 } as never;
    const metered = { price: { unit_amount: 5, recurring: { usage_type: 'metered' } } } as never;
    expect(prorationAmounts(basic, premium, period, 750)).toEqual({ credit: 250, debit: 1500 });
    expect(prorationAmounts(null, basic, period, 0)).toEqual({ credit: 0, debit: 1000 });
    expect(prorationAmounts(metered, basic, period, 500)).toEqual({ credit: 0, debit: 500 });
  });
});

describe('customer balance', () => {
  it('applies credit (negative balance) to the amount due and keeps the rest', () => {
    expect(applyBalance(2000, 0)).toEqual({ amountDue: 2000, endingBalance: 0 });
    expect(applyBalance(2000, -500)).toEqual({ amountDue: 1500, endingBalance: 0 });
    expect(applyBalance(2000, -2500)).toEqual({ amountDue: 0, endingBalance: -500 });
    expect(applyBalance(-300, 0)).toEqual({ amountDue: 0, endingBalance: -300 });
    expect(applyBalance(1000, 200)).toEqual({ amountDue: 1200, endingBalance: 0 });
  });
});
