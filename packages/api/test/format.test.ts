import { describe, expect, it } from 'vitest';
import { formatMinor, topupAmountSchema } from '../src/schemas';

describe('formatMinor', () => {
  it('formats minor units in the currency', () => {
    expect(formatMinor(500, 'usd', 'en-US')).toBe('$5.00');
    expect(formatMinor(-1234, 'eur', 'en-US')).toBe('-€12.34');
    expect(formatMinor(500, 'jpy', 'en-US')).toBe('¥500');
  });
  it('never throws on a malformed currency code', () => {
    expect(formatMinor(5, 'us', 'en-US')).toBe('5 us (minor units)');
  });
});

describe('topupAmountSchema', () => {
  const schema = topupAmountSchema({ minMinor: 50, maxMinor: 1_000_000, currency: 'usd' });
  it('accepts the bounds and rejects just outside them', () => {
    expect(schema.safeParse(50).success).toBe(true);
    expect(schema.safeParse(1_000_000).success).toBe(true);
    expect(schema.safeParse(49).success).toBe(false);
    expect(schema.safeParse(1_000_001).success).toBe(false);
  });
});
