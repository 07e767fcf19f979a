/**
 * Zod schemas shared by the server and the SPA (no server imports here).
 */
import { z } from 'zod';

/** Password length bounds (issue 6 account policy; NIST SP 800-63B §3.1.1.2 asks >= 8, Tally 12). The strength check is server-side only (auth/password-policy.ts). */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

/** Most calls in one tRPC batch the server accepts; the SPA's batch link sends no more. */
export const TRPC_MAX_BATCH_SIZE = 10;

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

const formatters = new Map<string, { fmt: Intl.NumberFormat; digits: number } | null>();

/** Intl formatter for a currency and its minor-unit digits (constructing one costs ~50 µs, so they are cached); null for an invalid code. */
function currencyFormatter(currency: string, locale?: string): { fmt: Intl.NumberFormat; digits: number } | null {
  const key = `${locale ?? ''}|${currency}`;
  let cached = formatters.get(key);
  if (cached === undefined) {
    try {
      const fmt = new Intl.NumberFormat(locale, { style: 'currency', currency: currency.toUpperCase() });
      cached = { fmt, digits: fmt.resolvedOptions().maximumFractionDigits ?? 2 };
    } catch {
      cached = null;
    }
    formatters.set(key, cached);
  }
  return cached;
}

/** Format minor units in a currency, e.g. (500, 'usd') -> "$5.00". Never throws: a malformed code gives "500 xx (minor units)". */
export function formatMinor(amountMinor: number, currency: string, locale?: string): string {
  const cached = currencyFormatter(currency, locale);
  if (!cached) return `${amountMinor} ${currency} (minor units)`;
  return cached.fmt.format(amountMinor / 10 ** cached.digits);
}

/** A top-up amount: an integer number of minor units within the bounds. Used by server and SPA. */
export function topupAmountSchema(bounds: TopupBounds) {
  return z
    .number({ error: 'Amount must be a number of minor units' })
    .int('Amount must be a whole number of minor units')
    .min(bounds.minMinor, `Amount must be at least ${formatMinor(bounds.minMinor, bounds.currency, 'en-US')}`)
    .max(bounds.maxMinor, `Amount must be at most ${formatMinor(bounds.maxMinor, bounds.currency, 'en-US')}`);
}

/**
 * Id shapes, checked before any id reaches a query (issue 6: a NUL byte or a megabyte string
 * must be a clear BAD_REQUEST, never a database error).
 * - Tally's own ids are UUIDv7 (`newId()` in ids.ts); any RFC 9562 UUID is accepted.
 * - Stripe ids are a prefix, `_`, then letters, digits and `_` (stripe.com/docs/api: ids are
 *   opaque; Stripe documents them as at most 255 characters). Test-mode Checkout Sessions
 *   look like `cs_test_a1...`, live ones `cs_live_a1...` (the emulator mints `cs_test_a1` + 56).
 */
export const CHECKOUT_SESSION_ID_PATTERN = /^cs_(?:test_|live_)?[A-Za-z0-9_]{1,255}$/;
/** Stripe event ids: `evt_` + letters, digits, `_` (v1 `evt_1Pgc...`, v2 `evt_test_65R9...`). */
export const STRIPE_EVENT_ID_PATTERN = /^evt_[A-Za-z0-9_]{1,255}$/;

/** A Tally id (UUID), with a message naming the field. */
export const tallyIdSchema = (field: string) => z.uuid({ error: `${field} must be a Tally id (a UUID)` });

/** A Stripe Checkout Session id (`cs_...`), with a message naming the field. */
export const checkoutSessionIdSchema = (field: string) =>
  z.string({ error: `${field} must be a Checkout Session id` }).regex(CHECKOUT_SESSION_ID_PATTERN, `${field} must be a Checkout Session id (cs_...)`);

/** Input of `topup.createCheckout`. Bounds are checked again in the domain with `topupAmountSchema`. */
export const CreateTopupCheckoutInput = z.object({
  amountMinor: z.number().int().safe(),
  customerId: tallyIdSchema('customerId').optional(),
});
export type CreateTopupCheckoutInput = z.infer<typeof CreateTopupCheckoutInput>;

export const CustomerScopeInput = z.object({ customerId: tallyIdSchema('customerId').optional() }).optional();
export type CustomerScopeInput = z.infer<typeof CustomerScopeInput>;

/** Page size of every list; each list adds its own `cursor` shape. */
export const PageInput = z.object({
  limit: z.number().int().min(1).max(100).default(20),
});

/** Ledger entries: the cursor is the last entry id seen (UUIDv7). */
export const LedgerListInput = PageInput.extend({ customerId: tallyIdSchema('customerId').optional(), cursor: tallyIdSchema('cursor').nullish() });
export type LedgerListInput = z.infer<typeof LedgerListInput>;

export const STRIPE_EVENT_STATUS_VALUES = ['received', 'processed', 'ignored', 'failed', 'anomaly', 'dead'] as const;
export const TOPUP_STATUS_VALUES = ['pending', 'paid', 'expired', 'failed'] as const;

/** Stripe event log cursor: `<receivedAt ms>:<event id>` (see activity/list-stripe-events.ts). */
export const STRIPE_EVENTS_CURSOR_PATTERN = /^\d{1,15}:evt_[A-Za-z0-9_]{1,255}$/;

export const AdminEventsListInput = PageInput.extend({
  status: z.enum(STRIPE_EVENT_STATUS_VALUES).optional(),
  cursor: z
    .string({ error: 'cursor must be <ms>:<event id>, as returned in nextCursor' })
    .regex(STRIPE_EVENTS_CURSOR_PATTERN, 'cursor must be <ms>:<event id>, as returned in nextCursor')
    .nullish(),
});
export type AdminEventsListInput = z.infer<typeof AdminEventsListInput>;
/** Top-ups: the cursor is the last top-up id seen (UUIDv7). */
export const AdminTopupsListInput = PageInput.extend({ status: z.enum(TOPUP_STATUS_VALUES).optional(), cursor: tallyIdSchema('cursor').nullish() });
export type AdminTopupsListInput = z.infer<typeof AdminTopupsListInput>;

export const TopupBySessionInput = z.object({ sessionId: checkoutSessionIdSchema('sessionId') });

export * from './schemas/billing-records';
export * from './schemas/customers';
export * from './schemas/settings';
export * from './schemas/subscriptions';
export * from './schemas/invoices';
export * from './schemas/licenses';
export * from './schemas/api-keys';
export * from './schemas/plans';
export * from './schemas/usage';
export * from './schemas/usage-views';
export * from './schemas/meters';
