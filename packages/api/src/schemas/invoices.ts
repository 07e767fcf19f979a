/**
 * Zod inputs of the invoice list procedures (`invoice.list`, `invoice.listForCustomer`) and the
 * shape of their items, shared with the SPA (no server imports; nothing from `../schemas`,
 * which re-exports this file).
 */
import { z } from 'zod';

const customerId = z.uuid({ error: 'customerId must be a Tally id (a UUID)' });

/** Most items one invoice list returns. */
export const INVOICE_LIST_MAX = 100;
export const INVOICE_LIST_DEFAULT = 50;

const limit = z
  .number({ error: 'limit must be a number' })
  .int('limit must be a whole number')
  .min(1, `limit must be 1 to ${INVOICE_LIST_MAX}`)
  .max(INVOICE_LIST_MAX, `limit must be 1 to ${INVOICE_LIST_MAX}`);

/** `invoice.list` (customers): the caller's customer (`customerId` one of theirs; omitted: their oldest). */
export const InvoiceListInput = z.object({ customerId: customerId.optional(), limit: limit.optional() }).optional();
export type InvoiceListInput = z.infer<typeof InvoiceListInput>;

/** `invoice.listForCustomer` (admins): a customer of the selected workspace. */
export const AdminInvoiceListInput = z.object({ customerId, limit: limit.optional() });
export type AdminInvoiceListInput = z.infer<typeof AdminInvoiceListInput>;

/** What an invoice list item is: a Stripe invoice (mirrored from Stripe) or a Tally billing record. */
export const INVOICE_LIST_KINDS = ['stripe_invoice', 'billing_record'] as const;
export type InvoiceListKind = (typeof INVOICE_LIST_KINDS)[number];

/**
 * One row of a customer's invoices, newest first. Amounts are integer minor units of
 * `currency` (lowercase ISO 4217).
 * - `stripe_invoice`: `status` is Stripe's (`draft` (admins only), `open`, `paid`, `void`,
 *   `uncollectible`); `number`, `hostedInvoiceUrl` (Stripe's page: view and pay), `invoicePdfUrl`;
 *   `payUrl` is the hosted page while the invoice is `open` and has something left to pay.
 * - `billing_record`: `status` `DUE`, `PAID` or `VOID`; `description`, `dueDate` (`YYYY-MM-DD`),
 *   `overdue`; `payUrl` is the pay link (`/pay/<token>`) for admins only (customers pay with
 *   `billingRecord.pay`).
 */
export interface InvoiceListItem {
  kind: InvoiceListKind;
  /** Tally's id of the mirror row or billing record. */
  id: string;
  /** `in_...` for Stripe invoices, else null. */
  stripeInvoiceId: string | null;
  number: string | null;
  description: string | null;
  status: string;
  /** The invoice total / the record's amount. */
  amountMinor: number;
  /** What was asked (Stripe `amount_due`; the record's amount). */
  amountDueMinor: number;
  amountPaidMinor: number;
  /** What is still owed (0 once paid or void). */
  amountRemainingMinor: number;
  currency: string;
  /** When it was issued (Stripe's `created`; the record's creation). */
  created: Date;
  dueDate: string | null;
  overdue: boolean;
  /** Period covered (Stripe invoices). */
  periodStart: Date | null;
  periodEnd: Date | null;
  paidAt: Date | null;
  hostedInvoiceUrl: string | null;
  invoicePdfUrl: string | null;
  payUrl: string | null;
  /** The last payment attempt needs the customer (3-D Secure) at `hostedInvoiceUrl`. */
  paymentActionRequired: boolean;
  nextPaymentAttemptAt: Date | null;
}
