import { describe, expect, it } from 'vitest';
import { currencyFractionDigits, minorToInput, parseAmountToMinor, parseSignedAmountToMinor } from './amount';

const minor = (s: string, digits?: number) => {
  const r = parseAmountToMinor(s, digits);
  return r.ok ? r.amountMinor : null;
};

describe('parseAmountToMinor', () => {
  it.each([
    ['5', 500],
    ['12.34', 1234],
    ['0.5', 50],
    ['0.50', 50],
    ['5.', 500],
    ['.5', 50],
    ['100', 10_000],
    [' 20 ', 2_000],
    ['007.10', 710],
    ['0', 0],
    ['0.29', 29], // 0.29 * 100 === 28.999999999999996 in floating point
    ['1.15', 115], // 1.15 * 100 === 114.99999999999999
    ['19.99', 1999],
  ])('%j -> %i minor units', (input, expected) => {
    expect(minor(input)).toBe(expected);
  });

  it.each(['1.005', 'abc', '', '   ', '-1', '1e3', '+5', '1,000', '1 000', '.', '$5', '5..0', 'Infinity', 'NaN', '0x10'])(
    '%j is rejected with a message',
    (input) => {
      const r = parseAmountToMinor(input);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.length).toBeGreaterThan(0);
    },
  );

  it('says why too many decimals are rejected', () => {
    expect(parseAmountToMinor('1.005')).toEqual({ ok: false, error: 'Use at most 2 decimal places' });
  });

  it('rejects amounts beyond safe integers', () => {
    expect(parseAmountToMinor('90071992547409.93').ok).toBe(false);
    expect(minor('90071992547409.91')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('honours zero-decimal currencies', () => {
    expect(minor('500', 0)).toBe(500);
    expect(parseAmountToMinor('5.5', 0).ok).toBe(false);
  });
});

describe('minorToInput', () => {
  it('round-trips with the parser', () => {
    for (const m of [0, 5, 50, 500, 1234, 10_000, 999_999]) expect(minor(minorToInput(m))).toBe(m);
    expect(minorToInput(5)).toBe('0.05');
    expect(minorToInput(1234)).toBe('12.34');
  });
});

describe('currencyFractionDigits', () => {
  it('knows USD and JPY', () => {
    expect(currencyFractionDigits('usd')).toBe(2);
    expect(currencyFractionDigits('jpy')).toBe(0);
  });
});

describe('parseSignedAmountToMinor', () => {
  const signed = (s: string, digits?: number) => {
    const r = parseSignedAmountToMinor(s, digits);
    return r.ok ? r.amountMinor : r.error;
  };
  it('reads a sign', () => {
    expect(signed('12.34')).toBe(1234);
    expect(signed('+12.34')).toBe(1234);
    expect(signed('-12.34')).toBe(-1234);
    expect(signed('\u22120.29')).toBe(-29);
    expect(signed(' -5 ')).toBe(-500);
    expect(signed('-500', 0)).toBe(-500);
  });
  it('refuses zero, two signs and junk', () => {
    expect(signed('0')).toBe('Enter an amount other than zero');
    expect(signed('-0.00')).toBe('Enter an amount other than zero');
    for (const s of ['--5', '+-5', '- 5', '5-', '-', '', '-1.005', '-1e3']) expect(typeof signed(s)).toBe('string');
  });
});
