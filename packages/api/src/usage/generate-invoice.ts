/**
 * An admin's "Generate usage invoice" for one customer and one ended period (issue 9 item 5):
 * the same usage invoice the period close would make (same aggregation, same unique row per
 * customer and period, `source: 'manual'`), then issued on Stripe like the close does. The
 * close later finds the row and creates nothing for that customer.
 *
 * The row is computed and inserted in one transaction holding the period's exclusive lock
 * (`usage-period:<ws>:<period>`, which ingestion takes shared), so no event of the period can
 * land between the aggregation and the insert; once the row exists, ingestion refuses that
 * customer's late events for the period (`period_closed`), so the invoice stays equal to the
 * rollups.
 */
import { all, and, eq, get, transactionLock, type Database, type UsageInvoice } from '@tally/db';
import { recordAudit, recordAuditInTx, type AuditActor } from '../audit/record';
import { AppError, notFound } from '../errors';
import type { Logger } from '../logger';
import type { StripeAccounts } from '../stripe/accounts';
import { assertEndedPeriod, buildUsageInvoices, invoiceMetersOf, rollupTotalsQueryParts, usageInvoiceValues } from './close-period';
import { issueUsageInvoice, parseUsageInvoiceLines, type IssueUsageInvoiceOutcome, type UsageInvoiceLine } from './issue-invoice';

/** A usage invoice as admins see it. Amounts in `currency`'s minor units. */
export interface UsageInvoiceView {
  id: string;
  customerId: string;
  period: string;
  /** `draft` | `issued` | `empty` | `failed`. */
  status: string;
  currency: string;
  totalMinor: number;
  lines: UsageInvoiceLine[];
  /** `period_close` | `manual`. */
  source: string;
  stripeInvoiceId: string | null;
  stripeHostedInvoiceUrl: string | null;
  stripeTotalMinor: number | null;
  /** Why the last issuance failed (admins only: may hold Stripe's error text). */
  lastError: string | null;
  issuedAt: Date | null;
  createdAt: Date;
}

/** The admin view of a usage invoice row. */
export function usageInvoiceView(row: UsageInvoice): UsageInvoiceView {
  return {
    id: row.id,
    customerId: row.customerId,
    period: row.period,
    status: row.status,
    currency: row.currency,
    totalMinor: row.totalMinor,
    lines: parseUsageInvoiceLines(row.lines),
    source: row.source,
    stripeInvoiceId: row.stripeInvoiceId,
    stripeHostedInvoiceUrl: row.stripeHostedInvoiceUrl,
    stripeTotalMinor: row.stripeTotalMinor,
    lastError: row.lastError,
    issuedAt: row.issuedAt,
    createdAt: row.createdAt,
  };
}

export interface GenerateUsageInvoiceResult {
  invoice: UsageInvoiceView;
  /** Whether this call created the row (false: it existed, from the close or an earlier call). */
  created: boolean;
  /** What issuing on Stripe did (`failed`: see `error`; a later call or the close retries); `not_issued` with `issue: false`. */
  outcome: IssueUsageInvoiceOutcome | 'not_issued';
  error: string | null;
}

/**
 * Generate (idempotently) and issue one customer's usage invoice for an ended period.
 * Audited in the creating transaction (`usage_invoice.generate`) and after a Stripe attempt
 * (`usage_invoice.issue`, with the Stripe invoice id or the error); `actor: null` (the demo
 * seed only) writes no audit entry.
 * @returns the row (see `UsageInvoiceView`), whether it was created, and the issue outcome.
 * @throws AppError BAD_REQUEST (malformed or not ended period), NOT_FOUND (no such customer in
 *   `workspaceId`: another workspace's customer reads as missing), PRECONDITION_FAILED (no
 *   `invoice`-mode usage above 0 for the customer in the period: nothing to invoice). Nothing
 *   is changed by any of them. Stripe failures do not throw: the row is `failed` (see `error`).
 */
export async function generateUsageInvoice({
  db,
  stripeAccounts,
  workspaceId,
  customerId,
  period,
  actor,
  requestId = null,
  now = new Date(),
  issue = true,
  logger,
}: {
  db: Database;
  stripeAccounts: StripeAccounts;
  workspaceId: string;
  customerId: string;
  period: string;
  actor: AuditActor | null;
  requestId?: string | null;
  now?: Date;
  /** Issue it on Stripe (default true); false leaves a new row `draft` for the period close. */
  issue?: boolean;
  logger?: Logger;
}): Promise<GenerateUsageInvoiceResult> {
  assertEndedPeriod(period, now);
  const t = db.t;
  const [customer] = await db.q
    .select()
    .from(t.customers)
    .where(and(eq(t.customers.id, customerId), eq(t.customers.workspaceId, workspaceId)))
    .limit(1);
  if (!customer) throw notFound('Customer');
  const [workspace] = await db.q.select({ currency: t.workspaces.currency }).from(t.workspaces).where(eq(t.workspaces.id, workspaceId)).limit(1);
  if (!workspace) throw notFound('Workspace');
  const meters = await invoiceMetersOf(db, workspaceId);
  const q = meters.length > 0 ? rollupTotalsQueryParts(db, { workspaceId, period, meterIds: meters.map((m) => m.id), customerIds: [customerId] }) : null;
  const u = t.usageInvoices;
  const dialect = db.dialect;

  const made = await db.transaction(function* (tx) {
    yield* transactionLock(tx, dialect, `usage-period:${workspaceId}:${period}`, 'exclusive');
    const existing = yield* get(tx.select().from(u).where(and(eq(u.customerId, customerId), eq(u.period, period))).limit(1));
    if (existing) return { row: existing, created: false };
    if (!q) return null;
    const totals = yield* all(tx.select(q.fields).from(t.usageDailyRollups).where(q.where).groupBy(...q.groupBy));
    const [content] = buildUsageInvoices(meters, totals);
    if (!content) return null;
    const values = usageInvoiceValues(content, {
      workspaceId,
      period,
      currency: workspace.currency,
      source: 'manual',
      createdByUserId: actor && actor !== 'cli' ? actor.userId : null,
      now,
    });
    const [row] = yield* all(tx.insert(u).values(values).onConflictDoNothing({ target: [u.customerId, u.period] }).returning());
    if (!row) throw new Error('usage invoice neither inserted nor found');
    if (actor) {
      yield* recordAuditInTx(tx, t, {
        workspaceId,
        actor,
        action: 'usage_invoice.generate',
        targetType: 'usage_invoice',
        targetId: row.id,
        before: null,
        after: { customerId, period, status: row.status, totalMinor: row.totalMinor, currency: row.currency, lines: content.lines.map((l) => ({ meterKey: l.meterKey, quantity: l.quantity, amountMinor: l.amountMinor })) },
        requestId,
      });
    }
    return { row, created: true };
  });
  if (!made) throw new AppError('PRECONDITION_FAILED', `This customer has no invoice-mode usage in ${period}: there is nothing to invoice`);

  const before = made.row;
  if (!issue) return { invoice: usageInvoiceView(before), created: made.created, outcome: 'not_issued', error: null };
  const issued = await issueUsageInvoice({ db, stripeAccounts, workspaceId, usageInvoiceId: before.id, customer, ...(logger ? { logger } : {}) });
  if (actor && (issued.outcome === 'issued' || issued.outcome === 'failed')) {
    await recordAudit(db, {
      workspaceId,
      actor,
      action: 'usage_invoice.issue',
      targetType: 'usage_invoice',
      targetId: before.id,
      before: { status: before.status, stripeInvoiceId: before.stripeInvoiceId },
      after: { status: issued.invoice.status, stripeInvoiceId: issued.invoice.stripeInvoiceId, stripeTotalMinor: issued.invoice.stripeTotalMinor, lastError: issued.invoice.lastError },
      requestId,
    });
  }
  return { invoice: usageInvoiceView(issued.invoice), created: made.created, outcome: issued.outcome, error: issued.error };
}
