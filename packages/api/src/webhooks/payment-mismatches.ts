/**
 * The "credit only what Tally asked for" rule (DESIGN.md, "Anomaly"), as a pure function, so
 * every payment Tally starts (top-ups now; billing records and usage invoices later) is
 * reconciled the same way before any money effect.
 */

/** What the deployment's Stripe account is: `livemode` true for live keys, false for test keys and the emulator. */
export interface StripeAccountExpectation {
  livemode: boolean;
}

/**
 * The expectation for a deployment's Stripe mode (`ApiConfig.stripeMode`): only `live` keys
 * produce `livemode: true` events (stripe.com/docs/keys#test-live-modes).
 */
export function stripeAccountExpectation(config: { stripeMode: 'emulator' | 'test' | 'live' }): StripeAccountExpectation {
  return { livemode: config.stripeMode === 'live' };
}

/** What Tally asked Stripe to collect: integer minor units, lowercase ISO 4217, and the Checkout mode it created. */
export interface RequestedPayment {
  amountMinor: number;
  currency: string;
  mode: 'payment' | 'subscription' | 'setup';
}

/** What Stripe reports (from the verified event and its object); any field may be missing or of any type. */
export interface ReportedPayment {
  /** Checkout Session `amount_total` (minor units). */
  amountTotal: unknown;
  currency: unknown;
  mode: unknown;
  /** The event's `livemode`. */
  livemode: unknown;
}

/**
 * `livemode` differing from the deployment's mode, described, or null when it matches.
 * A missing or non-boolean `livemode` is a mismatch.
 */
export function livemodeMismatch(livemode: unknown, expected: StripeAccountExpectation): string | null {
  if (livemode === expected.livemode) return null;
  const shown = typeof livemode === 'boolean' ? String(livemode) : 'missing';
  return `livemode ${shown} != expected ${expected.livemode} (this deployment uses Stripe ${expected.livemode ? 'live' : 'test'} mode)`;
}

/**
 * Every way a reported payment differs from the requested one, each as a sentence naming
 * the field, e.g. `amount_total 99999999 != requested 500 (usd minor units)`; empty when
 * they agree. Amounts must be equal integers (never "at least"), currencies equal ignoring
 * case, mode equal, and livemode equal to the account's. Never throws.
 */
export function paymentMismatches({
  requested,
  reported,
  expected,
}: {
  requested: RequestedPayment;
  reported: ReportedPayment;
  expected: StripeAccountExpectation;
}): string[] {
  const out: string[] = [];
  const { amountTotal, currency, mode } = reported;
  if (amountTotal !== requested.amountMinor) {
    const shown = typeof amountTotal === 'number' ? String(amountTotal) : amountTotal == null ? 'missing' : `${show(amountTotal)} (not a number)`;
    out.push(`amount_total ${shown} != requested ${requested.amountMinor} (${requested.currency} minor units)`);
  }
  if (typeof currency !== 'string' || currency.toLowerCase() !== requested.currency.toLowerCase()) {
    out.push(`currency ${show(currency)} != requested ${requested.currency}`);
  }
  if (mode !== requested.mode) out.push(`mode ${show(mode)} != requested ${requested.mode}`);
  const live = livemodeMismatch(reported.livemode, expected);
  if (live) out.push(live);
  return out;
}

/** A payload value in a message: missing, or its printable characters (at most 40). */
function show(value: unknown): string {
  if (value === undefined || value === null) return 'missing';
  if (typeof value !== 'string') return `(${typeof value})`;
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, '');
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
}
