import { randomToken } from '../core/ids';

/** Billing object prefixes and the length of their random part, as in Stripe's ids (e.g. `sub_1Pgc6rB7WZ01zgkWNy0Cn5nw`). */
const BILLING_ID_FORMATS = {
  sub: 24,
  si: 14,
  in: 24,
  ii: 24,
  il: 24,
  inpay: 24,
  clock: 24,
  bps: 24,
  bpc: 24,
  cn: 24,
  cnli: 24,
  cbtxn: 24,
} as const;

export type BillingIdPrefix = keyof typeof BILLING_ID_FORMATS;

/** A new random Stripe-looking id for a billing object, e.g. `billingId('sub')` → `sub_1Ab3...`. */
export function billingId(prefix: BillingIdPrefix): string {
  return `${prefix}_${randomToken(BILLING_ID_FORMATS[prefix])}`;
}
