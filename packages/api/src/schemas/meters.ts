/**
 * Meters and usage settings (issue 9 item 1): admin inputs shared by the server and the SPA
 * (no server imports; nothing from `../schemas`, which re-exports this file).
 *
 * A meter prices a workspace's usage of one thing (`stt_words`): a period's quantity q (the
 * `sum`, `count` or `max` of its events' quantities, per customer, meter and period) costs
 * ceil(q / blockSize) x priceMinor, in the workspace currency's minor units (usage/pricing.ts).
 * The billing mode says who collects it:
 * - `prepaid`: each event debits the customer's balance;
 * - `invoice`: Tally invoices the period at its close;
 * - `stripe_meter`: each event is forwarded to the Stripe Billing Meter whose `event_name` is
 *   `stripeMeterEventName` and Stripe bills it on a metered price.
 */
import { z } from 'zod';
import { METER_KEY_PATTERN } from './usage';

/** How a period's event quantities combine. The same list as `@tally/db`'s (the SPA cannot import it). */
export const METER_AGGREGATION_VALUES = ['sum', 'count', 'max'] as const;
export type MeterAggregationValue = (typeof METER_AGGREGATION_VALUES)[number];
/** Who bills the usage. The same list as `@tally/db`'s. */
export const METER_BILLING_MODE_VALUES = ['prepaid', 'invoice', 'stripe_meter'] as const;
export type MeterBillingModeValue = (typeof METER_BILLING_MODE_VALUES)[number];

/** Longest display name, characters (after trimming). */
export const METER_DISPLAY_NAME_MAX = 100;
/** Longest unit label, characters (after trimming). */
export const METER_UNIT_MAX = 32;
/** Largest price of one block, minor units ($999,999.99 in USD). */
export const METER_PRICE_MAX_MINOR = 99_999_999;
/** Largest block, units. */
export const METER_BLOCK_SIZE_MAX = 1_000_000_000;
/**
 * A Stripe Billing Meter's `event_name`: at most 100 characters (Stripe's documented limit,
 * docs.stripe.com/api/billing/meter/create). Tally accepts letters, digits and `_ - . :`, the
 * characters Stripe's own examples use (`api_requests`, `alpaca_ai_tokens`); no spaces.
 */
export const STRIPE_METER_EVENT_NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,100}$/;
/** Largest low-balance threshold, minor units. */
export const LOW_BALANCE_THRESHOLD_MAX_MINOR = 100_000_000_000;
/** Longest customer external id, characters (as in usage events' `customerExternalId`). */
export const CUSTOMER_EXTERNAL_ID_MAX = 255;

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

const text = (field: string, max: number) =>
  z
    .string({ error: `${field} is required (text)` })
    .trim()
    .min(1, `${field} must not be empty`)
    .max(max, `${field} must be at most ${max} characters`)
    .refine((s) => !CONTROL_CHARACTERS.test(s), `${field} must not contain control characters`);

const integer = (field: string, unit: string, min: number, max: number) =>
  z
    .number({ error: `${field} must be a number (${unit})` })
    .int(`${field} must be a whole number of ${unit}`)
    .min(min, `${field} must be ${min} to ${max.toLocaleString('en-US')} ${unit}`)
    .max(max, `${field} must be ${min} to ${max.toLocaleString('en-US')} ${unit}`);

const uuid = (field: string) => z.uuid({ error: `${field} must be a Tally id (a UUID)` });

export const meterKeySchema = z
  .string({ error: 'key is required (e.g. "stt_words")' })
  .regex(METER_KEY_PATTERN, 'key must be 1 to 64 of a-z, 0-9 and _ (e.g. "stt_words")');

export const stripeMeterEventNameSchema = z
  .string({ error: 'stripeMeterEventName must be text' })
  .trim()
  .min(1, 'stripeMeterEventName must not be empty')
  .max(100, 'stripeMeterEventName must be at most 100 characters (Stripe\'s limit)')
  .regex(STRIPE_METER_EVENT_NAME_PATTERN, 'stripeMeterEventName must be a Stripe meter event name: letters, digits, _ - . or :, no spaces');

/**
 * Create (no `meterId`) or update a meter (admin). `key` cannot change after creation (usage
 * events name the meter by it). `stripeMeterEventName` is required for `stripe_meter` and
 * refused otherwise; `stripe_meter` meters aggregate by `sum` or `count` (a Stripe Billing
 * Meter has no `max`, so Stripe's bill would differ from Tally's count).
 */
export const MeterSaveInput = z
  .object({
    meterId: uuid('meterId').optional(),
    key: meterKeySchema,
    displayName: text('displayName', METER_DISPLAY_NAME_MAX),
    unit: text('unit', METER_UNIT_MAX),
    aggregation: z.enum(METER_AGGREGATION_VALUES, { error: 'aggregation must be sum, count or max' }),
    priceMinor: integer('priceMinor', 'minor units', 0, METER_PRICE_MAX_MINOR),
    blockSize: integer('blockSize', 'units', 1, METER_BLOCK_SIZE_MAX),
    billingMode: z.enum(METER_BILLING_MODE_VALUES, { error: 'billingMode must be prepaid, invoice or stripe_meter' }),
    stripeMeterEventName: stripeMeterEventNameSchema.nullish(),
  })
  .superRefine((m, ctx) => {
    const hasEventName = m.stripeMeterEventName !== undefined && m.stripeMeterEventName !== null;
    if (m.billingMode === 'stripe_meter' && !hasEventName) {
      ctx.addIssue({ code: 'custom', path: ['stripeMeterEventName'], message: 'stripeMeterEventName is required for the stripe_meter billing mode (the event_name of a Stripe Billing Meter)' });
    }
    if (m.billingMode !== 'stripe_meter' && hasEventName) {
      ctx.addIssue({ code: 'custom', path: ['stripeMeterEventName'], message: `stripeMeterEventName is only for the stripe_meter billing mode (this meter is ${m.billingMode}); send null` });
    }
    if (m.billingMode === 'stripe_meter' && m.aggregation === 'max') {
      ctx.addIssue({ code: 'custom', path: ['aggregation'], message: 'A stripe_meter meter aggregates by sum or count: Stripe Billing Meters have no max' });
    }
  });
export type MeterSaveInput = z.infer<typeof MeterSaveInput>;

/** `meter.list` (admin): archived meters only when asked. */
export const MeterListInput = z.object({ includeArchived: z.boolean({ error: 'includeArchived must be true or false' }).optional() }).optional();
export type MeterListInput = z.infer<typeof MeterListInput>;

/** `meter.archive` (admin): archive (`archived: true`; new events for the meter are refused) or unarchive. */
export const MeterArchiveInput = z.object({ meterId: uuid('meterId'), archived: z.boolean({ error: 'archived must be true or false' }) });
export type MeterArchiveInput = z.infer<typeof MeterArchiveInput>;

/** `meter.saveUsageSettings` (admin): the workspace's usage settings. */
export const UsageSettingsInput = z.object({
  /** Whether a prepaid usage debit may take a balance below zero (otherwise the event is refused, 402). */
  allowNegativeBalance: z.boolean({ error: 'allowNegativeBalance must be true or false' }),
});
export type UsageSettingsInput = z.infer<typeof UsageSettingsInput>;

/** `meter.customerUsageSettings` (admin). */
export const CustomerUsageSettingsQuery = z.object({ customerId: uuid('customerId') });
export type CustomerUsageSettingsQuery = z.infer<typeof CustomerUsageSettingsQuery>;

/**
 * `meter.saveCustomerUsageSettings` (admin): the id the workspace's own system knows the
 * customer by (usage events may send it as `customerExternalId`; unique per workspace;
 * trimmed, 1..255 characters, or null for none) and the low-balance threshold (minor units,
 * an integer >= 0, or null for no notice).
 */
export const CustomerUsageSettingsInput = z.object({
  customerId: uuid('customerId'),
  externalId: text('externalId', CUSTOMER_EXTERNAL_ID_MAX).nullable(),
  lowBalanceThresholdMinor: integer('lowBalanceThresholdMinor', 'minor units', 0, LOW_BALANCE_THRESHOLD_MAX_MINOR).nullable(),
});
export type CustomerUsageSettingsInput = z.infer<typeof CustomerUsageSettingsInput>;

/** English plural of a singular unit label: "word" -> "words", "query" -> "queries", "box" -> "boxes". */
export function pluralUnit(unit: string): string {
  if (/[^aeiou]y$/i.test(unit)) return `${unit.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/i.test(unit)) return `${unit}es`;
  return `${unit}s`;
}

/**
 * A meter's price for people, e.g. (100, 1000, 'word', 'usd') -> "$1.00 per 1,000 words",
 * (5, 1, 'call', 'usd') -> "$0.05 per call". `format` turns minor units into money (the
 * caller's `formatMinor` with its locale).
 */
export function meterPriceLabel(
  { priceMinor, blockSize, unit }: { priceMinor: number; blockSize: number; unit: string },
  format: (amountMinor: number) => string,
): string {
  const per = blockSize === 1 ? unit : `${blockSize.toLocaleString('en-US')} ${pluralUnit(unit)}`;
  return `${format(priceMinor)} per ${per}`;
}
