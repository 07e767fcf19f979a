/**
 * The part of a Stripe Invoice object Tally mirrors, parsed defensively (any API version, never
 * a crash): ids are shape-checked, text is NUL-stripped and cut, URLs must be http(s), amounts
 * safe integers (minor units); a field of the wrong type reads as absent. Required: `id`
 * (`in_...`), `customer` (`cus_...`), `status`, `currency`.
 *
 * The invoice's subscription is `parent.subscription_details.subscription` in current API
 * versions (2025-03-31.basil and later) and `subscription` in older ones (e.g. 2024-04-10); a
 * string id or an expanded object, either way.
 * Source: stripe.com/docs/api/invoices/object
 */
import { z } from 'zod';
import { storableText } from '../webhooks/text';
import { dateOfSeconds, idOf, STRIPE_CUSTOMER_ID_PATTERN, STRIPE_INVOICE_ID_PATTERN, STRIPE_SUBSCRIPTION_ID_PATTERN, STRIPE_TEST_CLOCK_ID_PATTERN } from '../subscriptions/payload';

/** Stripe's invoice statuses (stripe.com/docs/invoicing/overview#invoice-statuses). */
export const INVOICE_STATUSES = ['draft', 'open', 'paid', 'void', 'uncollectible'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

/**
 * Forward-only order of invoice statuses: an invoice never moves to a lower rank, and `paid`
 * and `void` are final (stripe.com/docs/invoicing/overview#invoice-lifecycle).
 */
export const INVOICE_STATUS_RANK: Readonly<Record<InvoiceStatus, number>> = { draft: 0, open: 1, uncollectible: 2, paid: 3, void: 3 };
export const FINAL_INVOICE_STATUSES: readonly InvoiceStatus[] = ['paid', 'void'];

/** Most invoice lines kept in `linesSummary`. */
export const LINES_SUMMARY_MAX = 20;

const unixSeconds = z.number().int().min(0).max(100_000_000_000);
const minor = z.number().int().safe();
const lenient = <T extends z.ZodType>(schema: T) => schema.nullish().catch(null);
const expandable = (pattern: RegExp) => z.unknown().optional().transform((v) => idOf(v, pattern));

/** An http(s) URL without whitespace or NUL, at most 2000 characters, else null (Stripe's hosted page and PDF links). */
export function safeUrl(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 2000 || /\s/.test(value) || value.includes('\u0000')) return null;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? value : null;
  } catch {
    return null;
  }
}

const Line = z.object({
  description: lenient(z.string()),
  amount: lenient(minor),
  quantity: lenient(z.number().int().min(0).max(1_000_000_000)),
});

const InvoiceObject = z.object({
  id: z.string().regex(STRIPE_INVOICE_ID_PATTERN),
  customer: expandable(STRIPE_CUSTOMER_ID_PATTERN),
  status: z.enum(INVOICE_STATUSES),
  currency: z.string().regex(/^[a-z]{3}$/),
  subscription: expandable(STRIPE_SUBSCRIPTION_ID_PATTERN),
  parent: lenient(z.object({ subscription_details: lenient(z.object({ subscription: expandable(STRIPE_SUBSCRIPTION_ID_PATTERN) })) })),
  number: lenient(z.string()),
  billing_reason: lenient(z.string().regex(/^[a-z_]{1,60}$/)),
  total: lenient(minor),
  amount_due: lenient(minor),
  amount_paid: lenient(minor),
  amount_remaining: lenient(minor),
  hosted_invoice_url: z.unknown().optional().transform(safeUrl),
  invoice_pdf: z.unknown().optional().transform(safeUrl),
  period_start: lenient(unixSeconds),
  period_end: lenient(unixSeconds),
  lines: lenient(z.object({ data: z.array(z.unknown()).max(10_000) })),
  attempt_count: lenient(z.number().int().min(0).max(1_000_000)),
  next_payment_attempt: lenient(unixSeconds),
  status_transitions: lenient(
    z.object({
      finalized_at: lenient(unixSeconds),
      paid_at: lenient(unixSeconds),
      voided_at: lenient(unixSeconds),
      marked_uncollectible_at: lenient(unixSeconds),
    }),
  ),
  test_clock: expandable(STRIPE_TEST_CLOCK_ID_PATTERN),
  livemode: lenient(z.boolean()),
  created: lenient(unixSeconds),
});

/** One line of `linesSummary`. */
export interface InvoiceLineSummary {
  description: string;
  amountMinor: number;
  quantity: number | null;
}

/** What Tally keeps of an Invoice; every value is safe to store. Amounts are minor units of `currency`. */
export interface InvoiceSnapshot {
  stripeInvoiceId: string;
  stripeCustomerId: string;
  stripeSubscriptionId: string | null;
  status: InvoiceStatus;
  number: string | null;
  billingReason: string | null;
  currency: string;
  totalMinor: number;
  amountDueMinor: number;
  amountPaidMinor: number;
  amountRemainingMinor: number;
  hostedInvoiceUrl: string | null;
  invoicePdfUrl: string | null;
  periodStart: Date | null;
  periodEnd: Date | null;
  lines: InvoiceLineSummary[];
  attemptCount: number;
  nextPaymentAttemptAt: Date | null;
  finalizedAt: Date | null;
  paidAt: Date | null;
  voidedAt: Date | null;
  stripeTestClockId: string | null;
  livemode: boolean;
  stripeCreated: Date | null;
}

/**
 * A Stripe Invoice (any API version) as an `InvoiceSnapshot`, or null when it is not one Tally
 * can mirror (no `in_` id, no `cus_` customer, an unknown status or no currency).
 */
export function parseInvoice(value: unknown): InvoiceSnapshot | null {
  const parsed = InvoiceObject.safeParse(value);
  if (!parsed.success || parsed.data.customer === null) return null;
  const i = parsed.data;
  const lines: InvoiceLineSummary[] = [];
  for (const raw of i.lines?.data.slice(0, LINES_SUMMARY_MAX) ?? []) {
    const line = Line.safeParse(raw);
    if (!line.success) continue;
    lines.push({ description: storableText(line.data.description ?? '', 200), amountMinor: line.data.amount ?? 0, quantity: line.data.quantity ?? null });
  }
  const number = i.number ? storableText(i.number, 100) : null;
  return {
    stripeInvoiceId: i.id,
    stripeCustomerId: parsed.data.customer,
    // Current API versions first; older ones kept it on the invoice.
    stripeSubscriptionId: i.parent?.subscription_details?.subscription ?? i.subscription ?? null,
    status: i.status,
    number: number || null,
    billingReason: i.billing_reason ?? null,
    currency: i.currency,
    totalMinor: i.total ?? 0,
    amountDueMinor: i.amount_due ?? 0,
    amountPaidMinor: i.amount_paid ?? 0,
    amountRemainingMinor: i.amount_remaining ?? 0,
    hostedInvoiceUrl: i.hosted_invoice_url,
    invoicePdfUrl: i.invoice_pdf,
    periodStart: dateOfSeconds(i.period_start),
    periodEnd: dateOfSeconds(i.period_end),
    lines,
    attemptCount: i.attempt_count ?? 0,
    nextPaymentAttemptAt: dateOfSeconds(i.next_payment_attempt),
    finalizedAt: dateOfSeconds(i.status_transitions?.finalized_at),
    paidAt: dateOfSeconds(i.status_transitions?.paid_at),
    voidedAt: dateOfSeconds(i.status_transitions?.voided_at),
    stripeTestClockId: i.test_clock,
    livemode: i.livemode === true,
    stripeCreated: dateOfSeconds(i.created),
  };
}
