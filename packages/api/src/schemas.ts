/**
 * Zod schemas shared by the server and the SPA (no server imports here).
 */
import { z } from 'zod';

/** Preset top-up amounts in minor units ($0.50, $5, $10, $20, $50, $100). */
export const TOPUP_PRESETS_MINOR = [50, 500, 1_000, 2_000, 5_000, 10_000] as const;

export interface TopupBounds {
  /** Smallest top-up, minor units. Stripe's USD minimum charge is 50 (stripe.com/docs/currencies#minimum-and-maximum-charge-amounts). */
  minMinor: number;
  /** Largest top-up, minor units. */
  maxMinor: number;
  /** ISO 4217, lowercase. */
  currency: string;
}

const formatters = new Map<string, Intl.NumberFormat | null>();

/** Intl formatter for a currency (constructing one costs ~50 µs, so they are cached); null for an invalid code. */
function currencyFormatter(currency: string, locale?: string): Intl.NumberFormat | null {
  const key = `${locale ?? ''}|${currency}`;
  let fmt = formatters.get(key);
  if (fmt === undefined) {
    try {
      fmt = new Intl.NumberFormat(locale, { style: 'currency', currency: currency.toUpperCase() });
    } catch {
      fmt = null;
    }
    formatters.set(key, fmt);
  }
  return fmt;
}

/** Format minor units in a currency, e.g. (500, 'usd') -> "$5.00". Never throws: a malformed code gives "500 xx (minor units)". */
export function formatMinor(amountMinor: number, currency: string, locale?: string): string {
  const fmt = currencyFormatter(currency, locale);
  if (!fmt) return `${amountMinor} ${currency} (minor units)`;
  const digits = fmt.resolvedOptions().maximumFractionDigits ?? 2;
  return fmt.format(amountMinor / 10 ** digits);
}

/** A top-up amount: an integer number of minor units within the bounds. Used by server and SPA. */
export function topupAmountSchema(bounds: TopupBounds) {
  return z
    .number({ error: 'Amount must be a number of minor units' })
    .int('Amount must be a whole number of minor units')
    .min(bounds.minMinor, `Amount must be at least ${formatMinor(bounds.minMinor, bounds.currency, 'en-US')}`)
    .max(bounds.maxMinor, `Amount must be at most ${formatMinor(bounds.maxMinor, bounds.currency, 'en-US')}`);
}

/** Input of `topup.createCheckout`. Bounds are checked again in the domain with `topupAmountSchema`. */
export const CreateTopupCheckoutInput = z.object({
  amountMinor: z.number().int().safe(),
  customerId: z.string().min(1).optional(),
});
export type CreateTopupCheckoutInput = z.infer<typeof CreateTopupCheckoutInput>;

export const CustomerScopeInput = z.object({ customerId: z.string().min(1).optional() }).optional();
export type CustomerScopeInput = z.infer<typeof CustomerScopeInput>;

export const PageInput = z.object({
  cursor: z.string().min(1).nullish(),
  limit: z.number().int().min(1).max(100).default(20),
});

export const LedgerListInput = PageInput.extend({ customerId: z.string().min(1).optional() });
export type LedgerListInput = z.infer<typeof LedgerListInput>;

export const STRIPE_EVENT_STATUS_VALUES = ['received', 'processed', 'ignored', 'failed'] as const;
export const TOPUP_STATUS_VALUES = ['pending', 'paid', 'expired', 'failed'] as const;

export const AdminEventsListInput = PageInput.extend({ status: z.enum(STRIPE_EVENT_STATUS_VALUES).optional() });
export type AdminEventsListInput = z.infer<typeof AdminEventsListInput>;
export const AdminTopupsListInput = PageInput.extend({ status: z.enum(TOPUP_STATUS_VALUES).optional() });
export type AdminTopupsListInput = z.infer<typeof AdminTopupsListInput>;

export const TopupBySessionInput = z.object({ sessionId: z.string().min(1).max(255) });
