/**
 * Closing a usage period (issue 9 item 5): one workspace, one ended calendar month (UTC).
 *
 * a. One short transaction takes the period's exclusive lock (`usage-period:<ws>:<period>`;
 *    ingestion holds the shared one for every period it writes) and upserts `usage_periods`
 *    as `closing` (a `closed` row stays closed). Once it commits no event for the period can
 *    land: ingestion refuses a period with a row (`period_closed`), and every batch that was
 *    writing to it had committed before the lock was granted.
 * b. Each customer's `invoice`-mode usage is aggregated from `usage_daily_rollups` (a chunk of
 *    customers at a time, one grouped query each: per customer and meter, the meter's
 *    aggregation of the period; blocks rounded up once per customer, meter and period, see
 *    pricing.ts), and one `usage_invoices` row per customer is inserted with each chunk's
 *    multi-row INSERT ... ON CONFLICT (customer_id, period) DO NOTHING: a rerun
 *    or a resume after a crash creates nothing twice, and an admin's manual invoice for the
 *    same customer is kept (it was computed from the same rollups: ingestion refuses that
 *    customer's late events once it exists). A customer without invoice-mode usage (no
 *    quantity above 0) gets no invoice; a quantity priced at 0 gives an `empty` invoice, which
 *    is never sent to Stripe.
 * c. The period is marked `closed` with a JSON summary.
 * d. Every `draft` or `failed` invoice of the period is issued on Stripe (`issueUsageInvoice`),
 *    a few at a time; a failure marks that row `failed` and the run goes on; a rerun retries.
 *
 * Resumable after a crash at any point: each step is idempotent and the next run redoes only
 * what is missing. Several closers at once (two processes, the CLI beside the scheduler) are
 * safe too: the rows are unique and the Stripe calls carry idempotency keys; the scheduler also
 * takes a job lease so it does not happen in the normal course.
 */
import { and, count, eq, gt, gte, inArray, isNull, lt, run, sql, transactionLock, type Customer, type Database, type Meter } from '@tally/db';
import { AppError, notFound } from '../errors';
import { newId } from '../ids';
import type { Logger } from '../logger';
import type { StripeAccounts } from '../stripe/accounts';
import { issueUsageInvoice, type IssueUsageInvoiceOutcome, type UsageInvoiceLine } from './issue-invoice';
import { dayOf, isPeriod, periodBounds } from './periods';
import { aggregateQuantity, blocksFor, costMinor } from './pricing';

/** Customers per aggregation chunk, so invoice rows per insert statement (13 columns: well under SQLite's 32,766 bound values). */
const INSERT_CHUNK = 500;
/** Invoices read per page while issuing. */
const ISSUE_PAGE = 200;
/** Stripe calls in flight at once while issuing (Stripe allows 100 requests/s live, 25 in test mode). */
export const USAGE_ISSUE_CONCURRENCY = 4;

/** Progress of a close: `aggregate` counts the workspace's customers scanned (their invoice rows written), `issue` the invoices sent to Stripe. */
export interface UsageCloseProgress {
  phase: 'aggregate' | 'issue';
  done: number;
  total: number;
}

/** What a close did (or, with `dryRun`, would do). Amounts in the workspace currency's minor units. */
export interface UsagePeriodCloseSummary {
  workspaceId: string;
  period: string;
  currency: string;
  /** Customers with a usage invoice for the period (invoice-mode usage above 0). */
  customers: number;
  /** Invoice rows this run inserted (dry run: would insert). */
  invoicesCreated: number;
  /** Invoice rows that already existed (an earlier run, or an admin's manual invoice). */
  invoicesExisting: number;
  /** Invoices this run issued on Stripe (dry run: would try to issue). */
  issued: number;
  /** Invoices issued on Stripe before this run. */
  alreadyIssued: number;
  /** Invoices whose issuance failed (after this run; retried by the next). Dry run: 0. */
  failed: number;
  /** Invoices with nothing to pay (total 0), never sent to Stripe. */
  empty: number;
  /** Sum of the period's invoice totals. */
  totalMinor: number;
  dryRun: boolean;
}

export interface CloseUsagePeriodOptions {
  db: Database;
  stripeAccounts: StripeAccounts;
  workspaceId: string;
  /** `YYYY-MM`, ended before `now`. */
  period: string;
  /** Compute and return what would be created and issued; write nothing, call no Stripe. */
  dryRun?: boolean;
  now?: Date;
  /** Called after each chunk of customers aggregated (`aggregate`: customers of the workspace scanned) and each invoice sent to Stripe (`issue`); a throw aborts the close (a rerun resumes). */
  onProgress?: (progress: UsageCloseProgress) => void;
  /** Issue the invoices on Stripe (default true); false stops after step c (benchmarks, or issuing later). */
  issue?: boolean;
  logger?: Logger;
  /** Stripe calls in flight at once (default `USAGE_ISSUE_CONCURRENCY`). */
  concurrency?: number;
}

/**
 * @throws AppError BAD_REQUEST naming the problem when `period` is not `YYYY-MM` or has not
 * ended at `now` (a usage invoice covers a whole month).
 */
export function assertEndedPeriod(period: unknown, now: Date): asserts period is string {
  if (typeof period !== 'string' || !isPeriod(period)) {
    throw new AppError('BAD_REQUEST', `period must be a month written YYYY-MM, e.g. 2026-05 (got ${JSON.stringify(String(period).slice(0, 40))})`);
  }
  const { end } = periodBounds(period);
  if (end.getTime() > now.getTime()) {
    throw new AppError('BAD_REQUEST', `The usage period ${period} has not ended yet (it ends ${end.toISOString()}); only an ended month can be invoiced`);
  }
}

/** The workspace's `invoice`-mode meters (archived ones too: their usage of the period is still billed), by key. */
export async function invoiceMetersOf(db: Database, workspaceId: string): Promise<Meter[]> {
  const m = db.t.meters;
  return db.q.select().from(m).where(and(eq(m.workspaceId, workspaceId), eq(m.billingMode, 'invoice'))).orderBy(m.key);
}

/** One customer's period totals of one meter, as the grouped rollup query returns them (drivers may return numeric strings). */
export interface RollupTotalsRow {
  customerId: string;
  meterId: string;
  quantity: number | string;
  eventCount: number | string;
  maxQuantity: number | string;
}

/**
 * The select list and filter of the grouped rollup query: per customer and meter, one period,
 * for a set of customers (at most a chunk: it is an IN list). Filtering by customer first lets
 * both databases walk the rollups' (customer, meter, day) index instead of sorting.
 */
export function rollupTotalsQueryParts(db: Database, { workspaceId, period, meterIds, customerIds }: { workspaceId: string; period: string; meterIds: string[]; customerIds: string[] }) {
  const r = db.t.usageDailyRollups;
  const { start, end } = periodBounds(period);
  return {
    fields: {
      customerId: r.customerId,
      meterId: r.meterId,
      quantity: sql<number | string>`sum(${r.quantity})`,
      eventCount: sql<number | string>`sum(${r.eventCount})`,
      maxQuantity: sql<number | string>`max(${r.maxQuantity})`,
    },
    where: and(inArray(r.customerId, customerIds), inArray(r.meterId, meterIds), gte(r.day, dayOf(start)), lt(r.day, dayOf(end)), eq(r.workspaceId, workspaceId)),
    groupBy: [r.customerId, r.meterId] as const,
  };
}

/** A usage invoice's content for one customer: its lines (quantity > 0 only, by meter key) and total. */
export interface UsageInvoiceContent {
  customerId: string;
  lines: UsageInvoiceLine[];
  totalMinor: number;
}

/**
 * Group rollup totals into invoice contents, one per customer with some quantity above 0.
 * @throws RangeError when a cost is not a safe integer (see pricing.ts).
 */
export function buildUsageInvoices(meters: readonly Meter[], rows: readonly RollupTotalsRow[]): UsageInvoiceContent[] {
  const byId = new Map(meters.map((m) => [m.id, m]));
  const perCustomer = new Map<string, UsageInvoiceLine[]>();
  for (const row of rows) {
    const meter = byId.get(row.meterId);
    if (!meter) continue;
    const quantity = aggregateQuantity(meter.aggregation, { quantity: Number(row.quantity), eventCount: Number(row.eventCount), maxQuantity: Number(row.maxQuantity) });
    if (quantity <= 0) continue;
    const line: UsageInvoiceLine = {
      meterId: meter.id,
      meterKey: meter.key,
      displayName: meter.displayName,
      unit: meter.unit,
      quantity,
      blocks: blocksFor(quantity, meter.blockSize),
      blockSize: meter.blockSize,
      priceMinor: meter.priceMinor,
      amountMinor: costMinor(quantity, meter),
    };
    const lines = perCustomer.get(row.customerId);
    if (lines) lines.push(line);
    else perCustomer.set(row.customerId, [line]);
  }
  const out: UsageInvoiceContent[] = [];
  for (const [customerId, lines] of perCustomer) {
    lines.sort((a, b) => (a.meterKey < b.meterKey ? -1 : a.meterKey > b.meterKey ? 1 : 0));
    const totalMinor = lines.reduce((s, l) => s + l.amountMinor, 0);
    if (!Number.isSafeInteger(totalMinor)) throw new RangeError(`usage invoice total out of range for customer ${customerId}`);
    out.push({ customerId, lines, totalMinor });
  }
  out.sort((a, b) => (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0));
  return out;
}

/** The row values of a new usage invoice. */
export function usageInvoiceValues(content: UsageInvoiceContent, { workspaceId, period, currency, source, createdByUserId = null, now }: { workspaceId: string; period: string; currency: string; source: 'period_close' | 'manual'; createdByUserId?: string | null; now: Date }) {
  return {
    id: newId(),
    workspaceId,
    customerId: content.customerId,
    period,
    status: content.totalMinor > 0 ? 'draft' : 'empty',
    currency,
    totalMinor: content.totalMinor,
    lines: JSON.stringify(content.lines),
    source,
    createdByUserId,
    createdAt: now,
    updatedAt: now,
  };
}

/** The period's invoices by status: count and total. */
async function periodTotals(db: Database, workspaceId: string, period: string) {
  const u = db.t.usageInvoices;
  const rows = await db.q
    .select({ status: u.status, n: count(), total: sql<number | string>`coalesce(sum(${u.totalMinor}), 0)` })
    .from(u)
    .where(and(eq(u.workspaceId, workspaceId), eq(u.period, period)))
    .groupBy(u.status);
  const by = (s: string) => rows.find((r) => r.status === s);
  return {
    invoices: rows.reduce((s, r) => s + Number(r.n), 0),
    totalMinor: rows.reduce((s, r) => s + Number(r.total), 0),
    issued: Number(by('issued')?.n ?? 0),
    empty: Number(by('empty')?.n ?? 0),
    failed: Number(by('failed')?.n ?? 0),
  };
}

/** Run `fn` over `items` with at most `limit` in flight; the first error is thrown once all started ones settled. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | null = null;
  const worker = async () => {
    while (failure === null && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw (failure as { err: unknown }).err;
}

/**
 * Close one workspace's usage period and issue its usage invoices (see the module doc).
 * @returns `UsagePeriodCloseSummary` (for `dryRun`, what a real run would do now).
 * @throws AppError BAD_REQUEST (malformed or not ended period), NOT_FOUND (no such workspace);
 *   whatever `onProgress` throws (the close stops; a rerun resumes); database errors. Stripe
 *   failures never throw: they are counted in `failed` and stored on the rows.
 */
export async function closeUsagePeriod({
  db,
  stripeAccounts,
  workspaceId,
  period,
  dryRun = false,
  now = new Date(),
  onProgress,
  issue = true,
  logger,
  concurrency = USAGE_ISSUE_CONCURRENCY,
}: CloseUsagePeriodOptions): Promise<UsagePeriodCloseSummary> {
  assertEndedPeriod(period, now);
  const t = db.t;
  const [workspace] = await db.q.select({ id: t.workspaces.id, currency: t.workspaces.currency }).from(t.workspaces).where(eq(t.workspaces.id, workspaceId)).limit(1);
  if (!workspace) throw notFound('Workspace');
  const currency = workspace.currency;
  const u = t.usageInvoices;
  const p = t.usagePeriods;

  // a. Refuse late events from here on.
  if (!dryRun) {
    const dialect = db.dialect;
    await db.transaction(function* (tx) {
      yield* transactionLock(tx, dialect, `usage-period:${workspaceId}:${period}`, 'exclusive');
      yield* run(tx.insert(p).values({ workspaceId, period, status: 'closing', closingAt: now }).onConflictDoNothing({ target: [p.workspaceId, p.period] }));
    });
  }

  // b. Aggregate and write the invoice rows, a chunk of customers at a time (by id): one grouped
  //    query over their rollups of the period, one multi-row insert.
  const meters = await invoiceMetersOf(db, workspaceId);
  const meterIds = meters.map((m) => m.id);
  const c = t.customers;
  const [customerCount] = await db.q.select({ n: count() }).from(c).where(eq(c.workspaceId, workspaceId));
  const customersTotal = meters.length > 0 ? Number(customerCount?.n ?? 0) : 0;
  const existing = new Map<string, { status: string; totalMinor: number }>();
  if (dryRun) {
    for (const e of await db.q.select({ customerId: u.customerId, status: u.status, totalMinor: u.totalMinor }).from(u).where(and(eq(u.workspaceId, workspaceId), eq(u.period, period)))) existing.set(e.customerId, e);
  }
  const fresh: UsageInvoiceContent[] = [];
  let created = 0;
  let scanned = 0;
  let cursor = '';
  while (meters.length > 0) {
    const ids = (await db.q.select({ id: c.id }).from(c).where(and(eq(c.workspaceId, workspaceId), gt(c.id, cursor))).orderBy(c.id).limit(INSERT_CHUNK)).map((r) => r.id);
    if (ids.length === 0) break;
    cursor = ids[ids.length - 1]!;
    const q = rollupTotalsQueryParts(db, { workspaceId, period, meterIds, customerIds: ids });
    const contents = buildUsageInvoices(meters, await db.q.select(q.fields).from(t.usageDailyRollups).where(q.where).groupBy(...q.groupBy));
    if (dryRun) fresh.push(...contents.filter((x) => !existing.has(x.customerId)));
    else if (contents.length > 0) {
      const inserted = await db.q
        .insert(u)
        .values(contents.map((x) => usageInvoiceValues(x, { workspaceId, period, currency, source: 'period_close', now })))
        .onConflictDoNothing({ target: [u.customerId, u.period] })
        .returning({ id: u.id });
      created += inserted.length;
    }
    scanned += ids.length;
    onProgress?.({ phase: 'aggregate', done: scanned, total: Math.max(customersTotal, scanned) });
  }

  if (dryRun) {
    const have = [...existing.values()];
    return {
      workspaceId,
      period,
      currency,
      customers: have.length + fresh.length,
      invoicesCreated: fresh.length,
      invoicesExisting: have.length,
      issued: issue ? have.filter((e) => e.status === 'draft' || e.status === 'failed').length + fresh.filter((x) => x.totalMinor > 0).length : 0,
      alreadyIssued: have.filter((e) => e.status === 'issued').length,
      failed: 0,
      empty: have.filter((e) => e.status === 'empty').length + fresh.filter((x) => x.totalMinor <= 0).length,
      totalMinor: have.reduce((sum, e) => sum + e.totalMinor, 0) + fresh.reduce((sum, x) => sum + x.totalMinor, 0),
      dryRun: true,
    };
  }

  // c. Closed, with what the aggregation found.
  const before = await periodTotals(db, workspaceId, period);
  const summaryOf = (after: Awaited<ReturnType<typeof periodTotals>>, issuedNow: number): UsagePeriodCloseSummary => ({
    workspaceId,
    period,
    currency,
    customers: after.invoices,
    invoicesCreated: created,
    invoicesExisting: after.invoices - created,
    issued: issuedNow,
    alreadyIssued: before.issued,
    failed: after.failed,
    empty: after.empty,
    totalMinor: after.totalMinor,
    dryRun: false,
  });
  const thisPeriod = and(eq(p.workspaceId, workspaceId), eq(p.period, period));
  const markClosed = (summary: UsagePeriodCloseSummary) => db.q.update(p).set({ status: 'closed', summary: JSON.stringify(summary) }).where(thisPeriod);
  await markClosed(summaryOf(before, 0));
  await db.q.update(p).set({ closedAt: now }).where(and(thisPeriod, isNull(p.closedAt)));

  if (!issue) return summaryOf(before, 0);

  // d. Issue what is not issued yet.
  const stripe = await stripeAccounts.forWorkspace(db, workspaceId);
  const pendingWhere = (after: string) => and(eq(u.workspaceId, workspaceId), eq(u.period, period), inArray(u.status, ['draft', 'failed']), gt(u.id, after));
  const [pending] = await db.q.select({ n: count() }).from(u).where(pendingWhere(''));
  const total = Number(pending?.n ?? 0);
  let done = 0;
  let issuedNow = 0;
  let after = '';
  for (;;) {
    const page = await db.q.select({ id: u.id, customerId: u.customerId }).from(u).where(pendingWhere(after)).orderBy(u.id).limit(ISSUE_PAGE);
    if (page.length === 0) break;
    after = page[page.length - 1]!.id;
    const customers = new Map<string, Customer>();
    for (const c of await db.q
      .select()
      .from(t.customers)
      .where(and(eq(t.customers.workspaceId, workspaceId), inArray(t.customers.id, [...new Set(page.map((r) => r.customerId))]))))
      customers.set(c.id, c);
    await pool(page, concurrency, async (row) => {
      const customer = customers.get(row.customerId);
      const result = await issueUsageInvoice({ db, stripeAccounts, workspaceId, usageInvoiceId: row.id, stripe, ...(customer ? { customer } : {}), ...(logger ? { logger } : {}) });
      if ((result.outcome satisfies IssueUsageInvoiceOutcome) === 'issued') issuedNow++;
      done++;
      onProgress?.({ phase: 'issue', done, total: Math.max(total, done) });
    });
  }
  const summary = summaryOf(await periodTotals(db, workspaceId, period), issuedNow);
  await markClosed(summary);
  return summary;
}
