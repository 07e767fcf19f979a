/**
 * Zod schemas of billing records and pay links, shared with the SPA (no server imports; this
 * file does not import `../schemas` either, which re-exports it).
 *
 * Money is integer minor units (cents for `usd`) with a lowercase ISO 4217 currency; dates are
 * calendar dates `YYYY-MM-DD` (UTC when compared with "today").
 */
import { z } from 'zod';

export const BILLING_RECORD_STATUS_VALUES = ['DUE', 'PAID', 'VOID'] as const;
export type BillingRecordStatus = (typeof BILLING_RECORD_STATUS_VALUES)[number];

/** How an admin says a record was paid outside Stripe (`billingRecord.markPaid`). */
export const MANUAL_PAYMENT_METHODS = ['bank_transfer', 'cash', 'check', 'other'] as const;
export type ManualPaymentMethod = (typeof MANUAL_PAYMENT_METHODS)[number];

/** Who a view is for: `admin` (the selected workspace; adds `payUrl`) or `customer` (the caller's own customers). */
export const BILLING_RECORD_AUDIENCES = ['admin', 'customer'] as const;

/** Bounds of a billing record's amount, minor units: 1 to 99,999,999 (Stripe's largest USD charge is $999,999.99). */
export const BILLING_RECORD_MIN_MINOR = 1;
export const BILLING_RECORD_MAX_MINOR = 99_999_999;

/** A pay link token: 32 random bytes, base64url without padding (43 characters, 256 bits). */
export const PAY_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

const CALENDAR_DATE_SHAPE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `value` is a real calendar date `YYYY-MM-DD` (proleptic Gregorian: 2028-02-29 yes, 2026-02-29 and 2026-02-30 no). */
export function isCalendarDate(value: string): boolean {
  const m = CALENDAR_DATE_SHAPE.exec(value);
  if (!m) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return day <= days;
}

/** Today's calendar date in UTC, `YYYY-MM-DD`. */
export const utcDate = (at: Date = new Date()): string => at.toISOString().slice(0, 10);

/** A calendar date `YYYY-MM-DD`, with a message naming the field. */
export const calendarDateSchema = (field: string) =>
  z
    .string({ error: `${field} must be a date YYYY-MM-DD` })
    .refine(isCalendarDate, { error: `${field} must be a real calendar date YYYY-MM-DD` });

/** ISO 4217 codes this runtime knows (Intl), lowercase; null where `Intl.supportedValuesOf` is missing. */
const KNOWN_CURRENCIES: ReadonlySet<string> | null = (() => {
  const supported = (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf;
  if (typeof supported !== 'function') return null;
  try {
    return new Set(supported('currency').map((c) => c.toLowerCase()));
  } catch {
    return null;
  }
})();

/** An ISO 4217 currency code (three letters, any case), lowercased as Stripe writes it. */
export const currencyCodeSchema = z
  .string({ error: 'currency must be an ISO 4217 code such as usd' })
  .regex(/^[A-Za-z]{3}$/, 'currency must be an ISO 4217 code of three letters such as usd')
  .transform((c) => c.toLowerCase())
  .refine((c) => KNOWN_CURRENCIES === null || KNOWN_CURRENCIES.has(c), { error: 'currency is not an ISO 4217 currency code' });

/** An amount owed, integer minor units within the bounds. */
export const billingRecordAmountSchema = z
  .number({ error: 'amountMinor must be a number of minor units' })
  .int('amountMinor must be a whole number of minor units')
  .min(BILLING_RECORD_MIN_MINOR, `amountMinor must be at least ${BILLING_RECORD_MIN_MINOR}`)
  .max(BILLING_RECORD_MAX_MINOR, `amountMinor must be at most ${BILLING_RECORD_MAX_MINOR.toLocaleString('en-US')}`);

/** Trimmed text of `min`..`max` characters without NUL (Postgres `text` refuses U+0000). */
const plainText = (field: string, min: number, max: number) =>
  z
    .string({ error: `${field} must be text` })
    .trim()
    .min(min, `${field} is required`)
    .max(max, `${field} must be at most ${max} characters`)
    .refine((s) => !s.includes('\u0000'), { error: `${field} must not contain NUL characters` });

const recordId = z.uuid({ error: 'recordId must be a Tally id (a UUID)' });
const audience = z.enum(BILLING_RECORD_AUDIENCES).default('customer');

/** `billingRecord.create` (admin). `description` is trimmed; `currency` defaults to the workspace's. */
export const BillingRecordCreateInput = z.object({
  customerId: z.uuid({ error: 'customerId must be a Tally id (a UUID)' }),
  description: plainText('description', 1, 500),
  amountMinor: billingRecordAmountSchema,
  currency: currencyCodeSchema.optional(),
  dueDate: calendarDateSchema('dueDate'),
});
export type BillingRecordCreateInput = z.infer<typeof BillingRecordCreateInput>;

/** `billingRecord.list`: newest first; `cursor` is the `nextCursor` of the previous page. */
export const BillingRecordListInput = z.object({
  audience,
  status: z.enum(BILLING_RECORD_STATUS_VALUES).optional(),
  /** true: DUE with the due date passed; false: everything else. */
  overdue: z.boolean().optional(),
  customerId: z.uuid({ error: 'customerId must be a Tally id (a UUID)' }).optional(),
  limit: z.number().int().min(1).max(100).default(25),
  cursor: z.uuid({ error: 'cursor must be the nextCursor of a previous page' }).nullish(),
});
export type BillingRecordListInput = z.infer<typeof BillingRecordListInput>;

export const BillingRecordGetInput = z.object({ recordId, audience });
export type BillingRecordGetInput = z.infer<typeof BillingRecordGetInput>;

export const BillingRecordPayInput = z.object({ recordId });
export type BillingRecordPayInput = z.infer<typeof BillingRecordPayInput>;

/** `billingRecord.markPaid` (admin). `paidOn` may not be later than tomorrow (UTC), checked on the server. */
export const BillingRecordMarkPaidInput = z.object({
  recordId,
  method: z.enum(MANUAL_PAYMENT_METHODS),
  reference: plainText('reference', 0, 200).optional(),
  paidOn: calendarDateSchema('paidOn'),
});
export type BillingRecordMarkPaidInput = z.infer<typeof BillingRecordMarkPaidInput>;

export const BillingRecordVoidInput = z.object({
  recordId,
  reason: plainText('reason', 1, 500),
});
export type BillingRecordVoidInput = z.infer<typeof BillingRecordVoidInput>;

/** `payLink.get` / `payLink.pay`: the token of `/pay/<token>`, checked by shape before any query. */
export const PayLinkInput = z.object({
  token: z.string({ error: 'token must be a pay link token' }).regex(PAY_TOKEN_PATTERN, 'token is not a pay link token'),
});
export type PayLinkInput = z.infer<typeof PayLinkInput>;
