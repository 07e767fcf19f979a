import { and, desc, eq, inArray, ne, sql, type Database, type Invoice } from '@tally/db';
import { isOverdue, payUrlOf } from '../billing-records/view';
import { notFound } from '../errors';
import { INVOICE_LIST_DEFAULT, type InvoiceListItem } from '../schemas/invoices';
import { utcDate } from '../schemas/billing-records';
import { parseUsageInvoiceLines, type UsageInvoiceLine } from '../usage/issue-invoice';
import { periodBounds } from '../usage/periods';

/** Who reads the list: `customer` (a member of the customer: no drafts, no pay-link tokens) or `admin`. */
export type InvoiceListAudience = 'customer' | 'admin';

/** Where a row of the list comes from: a Stripe invoice of Stripe's (subscriptions), a billing record, or a Tally usage invoice. */
export type InvoiceSource = 'stripe' | 'billing_record' | 'tally_usage';

/** The Tally side of a usage invoice row. Amounts in the invoice currency's minor units. */
export interface UsageInvoiceDetails {
  usageInvoiceId: string;
  /** `YYYY-MM` (UTC month). */
  period: string;
  /** Tally's status: `draft` and `failed` (admins only), `issued` (on Stripe: see the row's Stripe status), `empty` (nothing to pay, never sent to Stripe). */
  status: string;
  /** `period_close` or `manual` (an admin's Generate usage invoice). */
  generatedBy: string;
  lines: UsageInvoiceLine[];
  /** Why issuing on Stripe last failed; admins only (null for customers). */
  lastError: string | null;
}

/** One row of a customer's invoice list: `InvoiceListItem` plus where it comes from and, for usage invoices, their details. */
export type CustomerInvoiceListItem = InvoiceListItem & { source: InvoiceSource; usage: UsageInvoiceDetails | null };

/**
 * A customer's Stripe invoices (from the `invoices` mirror), billing records and Tally usage
 * invoices together, newest first (Stripe's `created`, the record's creation, the usage
 * invoice's issue or creation; ties by id), at most `limit` (default 50); `hasMore` when there
 * are older ones. Shapes and units: `CustomerInvoiceListItem` (integer minor units, lowercase
 * currency). Customers do not see Stripe drafts; admins do, and get each billing record's pay
 * link (a bearer credential: admins only).
 *
 * Usage invoices (`source: 'tally_usage'`, with `usage`: period, lines, Tally status) are
 * `kind: 'stripe_invoice'` rows: once issued they are Stripe invoices, shown and paid like
 * one (hosted page, pay link). The webhooks also mirror that Stripe invoice into `invoices`
 * with the same `in_...` id: it is listed once, as the usage invoice, carrying the mirror's
 * Stripe status, amounts, number and links. Customers see issued and empty usage invoices;
 * admins also drafts and failed ones (with `lastError`).
 * The caller has checked that `customerId` is the actor's (customers) or is in `workspaceId`
 * (admins: see `assertCustomerInWorkspace`); every query is scoped to `workspaceId` too.
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
}): Promise<{ items: CustomerInvoiceListItem[]; hasMore: boolean }> {
  const { invoices: i, billingRecords: r, usageInvoices: u } = db.t;
  // A Stripe invoice Tally issued for a usage invoice is listed as the usage invoice.
  const isUsageInvoice = db.q
    .select({ one: sql`1` })
    .from(u)
    .where(and(eq(u.customerId, i.customerId), eq(u.workspaceId, i.workspaceId), eq(u.stripeInvoiceId, i.stripeInvoiceId)));
  const invoiceRows = await db.q
    .select()
    .from(i)
    .where(and(eq(i.workspaceId, workspaceId), eq(i.customerId, customerId), audience === 'customer' ? ne(i.status, 'draft') : undefined, sql`not exists ${isUsageInvoice}`))
    .orderBy(desc(sql`COALESCE(${i.stripeCreated}, ${i.createdAt})`), desc(i.id))
    .limit(limit + 1);
  const usageRows = await db.q
    .select()
    .from(u)
    .where(and(eq(u.workspaceId, workspaceId), eq(u.customerId, customerId), audience === 'customer' ? inArray(u.status, ['issued', 'empty']) : undefined))
    .orderBy(desc(sql`COALESCE(${u.issuedAt}, ${u.createdAt})`), desc(u.id))
    .limit(limit + 1);
  const stripeIds = usageRows.flatMap((row) => (row.stripeInvoiceId ? [row.stripeInvoiceId] : []));
  const mirrors = new Map<string, Invoice>();
  if (stripeIds.length > 0) {
    for (const m of await db.q
      .select()
      .from(i)
      .where(and(eq(i.workspaceId, workspaceId), eq(i.customerId, customerId), inArray(i.stripeInvoiceId, stripeIds))))
      mirrors.set(m.stripeInvoiceId, m);
  }
  const recordRows = await db.q
    .select()
    .from(r)
    .where(and(eq(r.workspaceId, workspaceId), eq(r.customerId, customerId)))
    .orderBy(desc(r.createdAt), desc(r.id))
    .limit(limit + 1);
  const today = utcDate(now);

  const items: CustomerInvoiceListItem[] = [
    ...invoiceRows.map(
      (row): CustomerInvoiceListItem => ({
        kind: 'stripe_invoice',
        source: 'stripe',
        usage: null,
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
      (row): CustomerInvoiceListItem => ({
        kind: 'billing_record',
        source: 'billing_record',
        usage: null,
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
    ...usageRows.map((row): CustomerInvoiceListItem => {
      const mirror = row.stripeInvoiceId ? mirrors.get(row.stripeInvoiceId) : undefined;
      const { start, end } = periodBounds(row.period);
      const issued = row.status === 'issued';
      // Issued: Stripe's status and amounts (from the mirror once the webhooks wrote it; until then, open for its total).
      const status = mirror?.status ?? (issued ? 'open' : row.status);
      const total = mirror?.totalMinor ?? row.stripeTotalMinor ?? row.totalMinor;
      const remaining = mirror ? (mirror.status === 'void' ? 0 : mirror.amountRemainingMinor) : issued ? total : 0;
      const hostedInvoiceUrl = mirror?.hostedInvoiceUrl ?? row.stripeHostedInvoiceUrl;
      return {
        kind: 'stripe_invoice',
        source: 'tally_usage',
        id: row.id,
        stripeInvoiceId: row.stripeInvoiceId,
        number: mirror?.number ?? null,
        description: `Usage for ${row.period}`,
        status,
        amountMinor: total,
        amountDueMinor: mirror?.amountDueMinor ?? (issued ? total : 0),
        amountPaidMinor: mirror?.amountPaidMinor ?? 0,
        amountRemainingMinor: remaining,
        currency: row.currency,
        created: row.issuedAt ?? row.createdAt,
        dueDate: null,
        overdue: false,
        periodStart: start,
        periodEnd: end,
        paidAt: mirror?.paidAt ?? null,
        hostedInvoiceUrl,
        invoicePdfUrl: mirror?.invoicePdfUrl ?? null,
        payUrl: issued && status === 'open' && remaining > 0 ? hostedInvoiceUrl : null,
        paymentActionRequired: mirror?.paymentActionRequired ?? false,
        nextPaymentAttemptAt: mirror?.nextPaymentAttemptAt ?? null,
        usage: {
          usageInvoiceId: row.id,
          period: row.period,
          status: row.status,
          generatedBy: row.source,
          lines: parseUsageInvoiceLines(row.lines),
          lastError: audience === 'admin' ? row.lastError : null,
        },
      };
    }),
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
