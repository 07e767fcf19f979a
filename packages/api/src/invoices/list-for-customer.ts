import { and, desc, eq, ne, sql, type Database } from '@tally/db';
import { isOverdue, payUrlOf } from '../billing-records/view';
import { notFound } from '../errors';
import { INVOICE_LIST_DEFAULT, type InvoiceListItem } from '../schemas/invoices';
import { utcDate } from '../schemas/billing-records';

/** Who reads the list: `customer` (a member of the customer: no drafts, no pay-link tokens) or `admin`. */
export type InvoiceListAudience = 'customer' | 'admin';

/**
 * A customer's Stripe invoices (from the `invoices` mirror) and billing records together,
 * newest first (Stripe's `created`, the record's creation; ties by id), at most `limit`
 * (default 50); `hasMore` when there are older ones. Shapes and units: `InvoiceListItem`
 * (integer minor units, lowercase currency). Customers do not see Stripe drafts; admins do, and
 * get each billing record's pay link (a bearer credential: admins only).
 * The caller has checked that `customerId` is the actor's (customers) or is in `workspaceId`
 * (admins: see `assertCustomerInWorkspace`); both queries are scoped to `workspaceId` too.
 */
export async function listInvoicesForCustomer({
  db,
  workspaceId,
  customerId,
  audience,
  webUrl,
  limit = INVOICE_LIST_DEFAULT,
  now = new Date(),
}: {
  db: Database;
  workspaceId: string;
  customerId: string;
  audience: InvoiceListAudience;
  /** The SPA's base URL, for billing records' pay links. */
  webUrl: string;
  limit?: number;
  now?: Date;
}): Promise<{ items: InvoiceListItem[]; hasMore: boolean }> {
  const { invoices: i, billingRecords: r } = db.t;
  const invoiceRows = await db.q
    .select()
    .from(i)
    .where(and(eq(i.workspaceId, workspaceId), eq(i.customerId, customerId), audience === 'customer' ? ne(i.status, 'draft') : undefined))
    .orderBy(desc(sql`COALESCE(${i.stripeCreated}, ${i.createdAt})`), desc(i.id))
    .limit(limit + 1);
  const recordRows = await db.q
    .select()
    .from(r)
    .where(and(eq(r.workspaceId, workspaceId), eq(r.customerId, customerId)))
    .orderBy(desc(r.createdAt), desc(r.id))
    .limit(limit + 1);
  const today = utcDate(now);

  const items: InvoiceListItem[] = [
    ...invoiceRows.map(
      (row): InvoiceListItem => ({
        kind: 'stripe_invoice',
        id: row.id,
        stripeInvoiceId: row.stripeInvoiceId,
        number: row.number,
        description: firstLineOf(row.linesSummary),
        status: row.status,
        amountMinor: row.totalMinor,
        amountDueMinor: row.amountDueMinor,
        amountPaidMinor: row.amountPaidMinor,
        amountRemainingMinor: row.status === 'void' ? 0 : row.amountRemainingMinor,
        currency: row.currency,
        created: row.stripeCreated ?? row.createdAt,
        dueDate: null,
        overdue: false,
        periodStart: row.periodStart,
        periodEnd: row.periodEnd,
        paidAt: row.paidAt,
        hostedInvoiceUrl: row.hostedInvoiceUrl,
        invoicePdfUrl: row.invoicePdfUrl,
        payUrl: row.status === 'open' && row.amountRemainingMinor > 0 ? row.hostedInvoiceUrl : null,
        paymentActionRequired: row.paymentActionRequired,
        nextPaymentAttemptAt: row.nextPaymentAttemptAt,
      }),
    ),
    ...recordRows.map(
      (row): InvoiceListItem => ({
        kind: 'billing_record',
        id: row.id,
        stripeInvoiceId: null,
        number: null,
        description: row.description,
        status: row.status,
        amountMinor: row.amountMinor,
        amountDueMinor: row.amountMinor,
        amountPaidMinor: row.status === 'PAID' ? row.amountMinor : 0,
        amountRemainingMinor: row.status === 'DUE' ? row.amountMinor : 0,
        currency: row.currency,
        created: row.createdAt,
        dueDate: row.dueDate,
        overdue: isOverdue(row, today),
        periodStart: null,
        periodEnd: null,
        paidAt: row.paidAt,
        hostedInvoiceUrl: null,
        invoicePdfUrl: null,
        payUrl: audience === 'admin' && row.status === 'DUE' ? payUrlOf(webUrl, row.payToken) : null,
        paymentActionRequired: false,
        nextPaymentAttemptAt: null,
      }),
    ),
  ];
  items.sort((a, b) => b.created.getTime() - a.created.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  return { items: items.slice(0, limit), hasMore: items.length > limit };
}

/** The first line's description of a `linesSummary` (JSON), or null. */
function firstLineOf(linesSummary: string): string | null {
  try {
    const lines: unknown = JSON.parse(linesSummary);
    const first = Array.isArray(lines) ? (lines[0] as { description?: unknown } | undefined) : undefined;
    return typeof first?.description === 'string' && first.description ? first.description : null;
  } catch {
    return null;
  }
}

/**
 * @throws AppError NOT_FOUND when `customerId` is not a customer of `workspaceId` (another
 * workspace's customer reads as missing).
 */
export async function assertCustomerInWorkspace(db: Database, workspaceId: string, customerId: string): Promise<void> {
  const { customers: c } = db.t;
  const [row] = await db.q
    .select({ id: c.id })
    .from(c)
    .where(and(eq(c.id, customerId), eq(c.workspaceId, workspaceId)))
    .limit(1);
  if (!row) throw notFound('Customer');
}
