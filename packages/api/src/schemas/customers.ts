/**
 * Zod inputs of the admin's customer pages (`customers.*`) and the audit page (`audit.list`),
 * shared with the SPA (no server imports; nothing from `../schemas` either, which re-exports
 * this file). Every string is bounded and NUL-free before it reaches a query: Postgres refuses
 * `\u0000` in text, and a megabyte string must be a clear BAD_REQUEST, never a database error.
 */
import { z } from 'zod';

/** Longest customer name, characters (after trimming). */
export const CUSTOMER_NAME_MAX = 200;
/** Longest email address (RFC 5321 path limit). */
export const CUSTOMER_EMAIL_MAX = 254;
/** Longest customer search text, characters. */
export const CUSTOMER_SEARCH_MAX = 100;
/** Largest |amount| of one balance adjustment, minor units ($999,999.99). */
export const ADJUSTMENT_MAX_ABS_MINOR = 99_999_999;
/** Longest adjustment reason, characters (after trimming). */
export const ADJUSTMENT_REASON_MAX = 500;

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
const uuid = (field: string) => z.uuid({ error: `${field} must be a Tally id (a UUID)` });
const limit = (byDefault: number) => z.number().int().min(1).max(100).default(byDefault);

/** A customer's name: trimmed, 1 to 200 characters, no control characters (NUL, newlines, ...). */
export const customerNameSchema = z
  .string({ error: 'name is required' })
  .trim()
  .min(1, 'name must not be empty')
  .max(CUSTOMER_NAME_MAX, `name must be at most ${CUSTOMER_NAME_MAX} characters`)
  .refine((s) => !CONTROL_CHARACTERS.test(s), 'name must not contain control characters');

/**
 * A billing email: trimmed and lowercased, a valid address of at most 254 characters. Empty,
 * null or missing means "none" (a customer can be billed through pay links without one).
 */
export const customerEmailSchema = z
  .string({ error: 'email must be an email address' })
  .trim()
  .toLowerCase()
  .max(CUSTOMER_EMAIL_MAX, `email must be at most ${CUSTOMER_EMAIL_MAX} characters`)
  .pipe(z.union([z.literal(''), z.email({ error: 'email must be an email address' })], { error: 'email must be an email address' }))
  .nullish()
  .transform((v) => (v ? v : null));

/** `customers.create`. */
export const CreateCustomerInput = z.object({ name: customerNameSchema, email: customerEmailSchema });
export type CreateCustomerInput = z.input<typeof CreateCustomerInput>;

/** Customers list cursor: `<createdAt ms>:<customer id>`, as returned in `nextCursor` (opaque to the SPA). */
export const CUSTOMERS_CURSOR_PATTERN = /^\d{1,15}:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `customers.list`: `search` is a case-insensitive substring of the name or the billing email (blank: everything). */
export const CustomersListInput = z
  .object({
    search: z
      .string()
      .trim()
      .max(CUSTOMER_SEARCH_MAX, `search must be at most ${CUSTOMER_SEARCH_MAX} characters`)
      .refine((s) => !CONTROL_CHARACTERS.test(s), 'search must not contain control characters')
      .optional(),
    limit: limit(25),
    cursor: z
      .string({ error: 'cursor must be the nextCursor of the previous page' })
      .regex(CUSTOMERS_CURSOR_PATTERN, 'cursor must be the nextCursor of the previous page')
      .nullish(),
  })
  .default({ limit: 25 });
export type CustomersListInput = z.input<typeof CustomersListInput>;

/** `customers.get`. */
export const CustomerIdInput = z.object({ customerId: uuid('customerId') });

/** `customers.ledger`: newest first; the cursor is the last entry id seen (UUIDv7). */
export const CustomerLedgerInput = z.object({ customerId: uuid('customerId'), limit: limit(20), cursor: uuid('cursor').nullish() });

/** `customers.invite`: the email becomes a `member` of the customer (now if it has a verified account, else when it signs up or next signs in). */
export const InviteCustomerMemberInput = z.object({
  customerId: uuid('customerId'),
  email: z
    .string({ error: 'email must be an email address' })
    .trim()
    .toLowerCase()
    .max(CUSTOMER_EMAIL_MAX, `email must be at most ${CUSTOMER_EMAIL_MAX} characters`)
    .pipe(z.email({ error: 'email must be an email address' })),
});

/** A signed adjustment in minor units: a non-zero integer, |amount| <= 99,999,999 (credit > 0, debit < 0). */
export const adjustmentAmountSchema = z
  .number({ error: 'amountMinor must be a number of minor units' })
  .int('amountMinor must be a whole number of minor units')
  .min(-ADJUSTMENT_MAX_ABS_MINOR, `amountMinor must be at least -${ADJUSTMENT_MAX_ABS_MINOR}`)
  .max(ADJUSTMENT_MAX_ABS_MINOR, `amountMinor must be at most ${ADJUSTMENT_MAX_ABS_MINOR}`)
  .refine((n) => n !== 0, 'amountMinor must not be zero');

/** Why a balance was adjusted (the ledger entry's description): trimmed, 1 to 500 characters, no NUL. */
export const adjustmentReasonSchema = z
  .string({ error: 'reason is required' })
  .trim()
  .min(1, 'reason must not be empty')
  .max(ADJUSTMENT_REASON_MAX, `reason must be at most ${ADJUSTMENT_REASON_MAX} characters`)
  .refine((s) => !s.includes('\u0000'), 'reason must not contain NUL characters');

/** `customers.adjustBalance`. */
export const AdjustBalanceInput = z.object({ customerId: uuid('customerId'), amountMinor: adjustmentAmountSchema, reason: adjustmentReasonSchema });
export type AdjustBalanceInput = z.input<typeof AdjustBalanceInput>;

/** An audit action, `<noun>.<verb>` (e.g. `ledger.adjustment`, `billing_record.mark_paid`). */
export const AUDIT_ACTION_PATTERN = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/;

/** `audit.list`: newest first; the cursor is the last entry id seen (UUIDv7); `action` filters one action. */
export const AuditListInput = z
  .object({
    limit: limit(50),
    cursor: uuid('cursor').nullish(),
    action: z.string().max(100, 'action must be at most 100 characters').regex(AUDIT_ACTION_PATTERN, 'action must look like noun.verb').optional(),
  })
  .default({ limit: 50 });
export type AuditListInput = z.input<typeof AuditListInput>;
