import { describe, expect, it } from 'vitest';
import { livemodeMismatch, paymentMismatches, stripeAccountExpectation } from '../src/webhooks/payment-mismatches';

const requested = { amountMinor: 500, currency: 'usd', mode: 'payment' as const };
const testMode = { livemode: false };
const agreeing = { amountTotal: 500, currency: 'usd', mode: 'payment', livemode: false };

describe('paymentMismatches (credit only what Tally asked for)', () => {
  it('is empty when amount, currency, mode and livemode agree (currency case-insensitive)', () => {
    expect(paymentMismatches({ requested, reported: agreeing, expected: testMode })).toEqual([]);
    expect(paymentMismatches({ requested, reported: { ...agreeing, currency: 'USD' }, expected: testMode })).toEqual([]);
    expect(paymentMismatches({ requested, reported: { ...agreeing, livemode: true }, expected: { livemode: true } })).toEqual([]);
  });

  it.each([
    ['a larger amount', { amountTotal: 99_999_999 }, ['amount_total 99999999 != requested 500 (usd minor units)']],
    ['a smaller amount', { amountTotal: 450 }, ['amount_total 450 != requested 500 (usd minor units)']],
    ['a missing amount', { amountTotal: null }, ['amount_total missing != requested 500 (usd minor units)']],
    ['an amount that is a string', { amountTotal: '500' }, ['amount_total 500 (not a number) != requested 500 (usd minor units)']],
    ['another currency', { currency: 'eur' }, ['currency eur != requested usd']],
    ['a missing currency', { currency: undefined }, ['currency missing != requested usd']],
    ['another mode', { mode: 'subscription' }, ['mode subscription != requested payment']],
    ['livemode true in test mode', { livemode: true }, ['livemode true != expected false (this deployment uses Stripe test mode)']],
    ['livemode missing', { livemode: undefined }, ['livemode missing != expected false (this deployment uses Stripe test mode)']],
  ])('names %s', (_label, change, expected) => {
    expect(paymentMismatches({ requested, reported: { ...agreeing, ...change }, expected: testMode })).toEqual(expected);
  });

  it('names every mismatch at once, with payload text made printable and short', () => {
    const out = paymentMismatches({
      requested,
      reported: { amountTotal: 1, currency: 'e\u0000ur', mode: `x${'y'.repeat(100)}\u0000`, livemode: 'yes' },
      expected: testMode,
    });
    expect(out).toHaveLength(4);
    expect(out.join('\n')).not.toContain('\u0000');
    expect(out[2]!.length).toBeLessThan(80);
  });

  it('livemode is expected true only for live keys', () => {
    expect(stripeAccountExpectation({ stripeMode: 'live' })).toEqual({ livemode: true });
    expect(stripeAccountExpectation({ stripeMode: 'test' })).toEqual({ livemode: false });
    expect(stripeAccountExpectation({ stripeMode: 'emulator' })).toEqual({ livemode: false });
    expect(livemodeMismatch(false, { livemode: true })).toBe('livemode false != expected true (this deployment uses Stripe live mode)');
  });
});
