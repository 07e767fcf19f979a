/**
 * Usage dashboards (issue 9 item 4): the customer's (`usageDashboard`, also shown to admins)
 * and the admin's overview across customers (`adminUsageOverview`, dashboard-overview.ts).
 *
 * Reads come from `usage_daily_rollups` (kept in step by the ingestion transaction, per
 * customer, meter and UTC day) plus `meters`, `customers`, `customer_balances` and
 * `usage_invoices`; never from `usage_events`. The customer's reads go through the rollups'
 * (customer_id, meter_id, day) index, so their cost depends on that customer's
 * rollup rows (meters x days), not on how many events are stored.
 *
 * Costs (pricing.ts): prepaid meters cost what was charged (the rollups' `chargedMinor`);
 * `invoice` and `stripe_meter` meters `costMinor(aggregateQuantity(aggregation, totals))`,
 * blocks rounded up once per customer, meter and period. Projection (dashboard-math.ts): the
 * quantity at the current rate, `ceil(quantity / elapsed fraction of the period)` for sum and
 * count meters, the current maximum for max meters, and its cost.
 */
import { and, desc, eq, inArray, lt, sql, type Database, type MeterAggregation, type MeterBillingMode } from '@tally/db';
import { AppError, notFound } from '../errors';
import { isTallyId } from '../ids';
import { combineTotals, type UsageTotals } from './pricing';
import { dayOf, periodBounds, periodOf } from './periods';
import { BURN_WINDOW_DAYS, boundedCostMinor, chartDays, dailyValue, dayMinus, meterFields, periodCostMinor, prepaidRunway, projectQuantity } from './dashboard-math';

export { adminUsageOverview, type AdminUsageOverview, type AdminUsageOverviewMeter, type AdminUsageTopConsumer } from './dashboard-overview';

/** Past periods a dashboard lists (the most recent ones with usage). */
export const PAST_PERIODS_SHOWN = 6;
/** Usage invoices read with the first round of queries (newest first); older ones shown are read after. */
const RECENT_INVOICES_READ = 12;

/** One day of a chart: the meter's aggregation of that UTC day (`YYYY-MM-DD`). */
export interface UsageDay {
  day: string;
  quantity: number;
}

/** One meter on the customer's dashboard, for the current period. Money in minor units of `currency`. */
export interface UsageDashboardMeter {
  meterId: string;
  key: string;
  displayName: string;
  unit: string;
  aggregation: MeterAggregation;
  billingMode: MeterBillingMode;
  /** Price of one block, minor units. */
  priceMinor: number;
  /** Units per block. */
  blockSize: number;
  /** The period's quantity so far (the meter's aggregation of its events). */
  quantity: number;
  /** Prepaid: what was charged; otherwise the cost of `quantity` (blocks rounded up). */
  costSoFarMinor: number;
  /** The period's quantity at the current rate (an integer, rounded up). */
  projectedQuantity: number;
  /** The cost of `projectedQuantity`, never below `costSoFarMinor`. */
  projectedCostMinor: number;
  /** Every day of the period up to today, zeros filled. */
  daily: UsageDay[];
}

/** One previous period with usage. */
export interface UsagePastPeriod {
  period: string;
  meters: { meterId: string; key: string; displayName: string; unit: string; quantity: number; costMinor: number }[];
  /** Sum of the meters' costs, minor units. */
  totalMinor: number;
  /** Tally's usage invoice for the period (`usage_invoices`), if one was made. */
  invoice: { id: string; status: string; totalMinor: number; hostedInvoiceUrl: string | null } | null;
}

/** The customer's usage dashboard (`usage.dashboard`, `usage.dashboardForCustomer`). */
export interface UsageDashboard {
  customerId: string;
  customerName: string;
  /** The current period, `YYYY-MM` (UTC). */
  period: string;
  /** Start of the period (inclusive) and end (exclusive), UTC. */
  periodStart: Date;
  periodEnd: Date;
  /** The workspace currency (lowercase ISO 4217): every `*Minor` amount is in it. */
  currency: string;
  meters: UsageDashboardMeter[];
  /** Up to PAST_PERIODS_SHOWN previous periods with usage, newest first. */
  pastPeriods: UsagePastPeriod[];
  prepaid: {
    /** The customer's balance in `currency`, minor units (0 when none). */
    balanceMinor: number;
    /** Average prepaid charges per day over the last 7 UTC days (today included), rounded up. */
    burnPerDayMinor: number;
    /** Whole days the balance lasts at that rate (0 when it is used up); null when nothing was charged. */
    runwayDays: number | null;
  };
}

type Totals = UsageTotals & { chargedMinor: number };

function addTotals(into: Totals | undefined, row: { quantity: unknown; eventCount: unknown; maxQuantity: unknown; chargedMinor: unknown }): Totals {
  const out = into ?? { quantity: 0, eventCount: 0, maxQuantity: 0, chargedMinor: 0 };
  out.quantity += Number(row.quantity);
  out.eventCount += Number(row.eventCount);
  out.maxQuantity = Math.max(out.maxQuantity, Number(row.maxQuantity));
  out.chargedMinor += Number(row.chargedMinor);
  return out;
}

/**
 * The usage dashboard of one customer of a workspace, for the period `now` falls in (UTC).
 * Meters: every meter of the workspace that is not archived, plus archived ones with usage this
 * period, by key. Four queries, run together: the customer with its workspace and balance, the
 * workspace's meters, the customer's rollups (one pass over its primary-key prefix, grouped by
 * meter and day from the burn window or the period start on, by meter and month before), and
 * its latest usage invoices (a fifth reads older invoices only when a period shown is older).
 * @returns `UsageDashboard` (quantities in the meters' units, money in minor units of `currency`).
 * @throws AppError BAD_REQUEST for ids that are not UUIDs; NOT_FOUND when the customer is not
 *   one of the workspace's.
 */
export async function usageDashboard(db: Database, { workspaceId, customerId, now = new Date() }: { workspaceId: string; customerId: string; now?: Date }): Promise<UsageDashboard> {
  if (typeof workspaceId !== 'string' || !isTallyId(workspaceId)) throw new AppError('BAD_REQUEST', 'workspaceId must be a Tally id (a UUID)');
  if (typeof customerId !== 'string' || !isTallyId(customerId)) throw new AppError('BAD_REQUEST', 'customerId must be a Tally id (a UUID)');
  const t = db.t;
  const r = t.usageDailyRollups;
  const period = periodOf(now);
  const { start, end } = periodBounds(period);
  const today = dayOf(now);
  const periodStartDay = dayOf(start);
  const burnFrom = dayMinus(today, BURN_WINDOW_DAYS - 1);
  const dailyFrom = burnFrom < periodStartDay ? burnFrom : periodStartDay;
  const ownRollups = and(eq(r.customerId, customerId), eq(r.workspaceId, workspaceId));
  // One pass over the customer's rollups: single days from `dailyFrom` on, whole months before.
  const bucket = sql<string>`case when ${r.day} >= ${dailyFrom} then ${r.day} else substr(${r.day}, 1, 7) end`;
  const ui = t.usageInvoices;

  const [customerRows, meters, rollupRows, invoiceRows] = await Promise.all([
    db.q
      .select({ name: t.customers.name, currency: t.workspaces.currency, balanceMinor: t.customerBalances.amountMinor })
      .from(t.customers)
      .innerJoin(t.workspaces, eq(t.workspaces.id, t.customers.workspaceId))
      .leftJoin(t.customerBalances, and(eq(t.customerBalances.customerId, t.customers.id), eq(t.customerBalances.currency, t.workspaces.currency)))
      .where(and(eq(t.customers.id, customerId), eq(t.customers.workspaceId, workspaceId))),
    db.q.select().from(t.meters).where(eq(t.meters.workspaceId, workspaceId)),
    db.q
      .select({
        meterId: r.meterId,
        bucket,
        quantity: sql<number>`sum(${r.quantity})`,
        eventCount: sql<number>`sum(${r.eventCount})`,
        maxQuantity: sql<number>`max(${r.maxQuantity})`,
        chargedMinor: sql<number>`sum(${r.chargedMinor})`,
      })
      .from(r)
      .where(ownRollups)
      // By position: the bucket's bound parameter would make a second, different expression.
      .groupBy(r.meterId, sql`2`),
    db.q
      .select({ id: ui.id, period: ui.period, status: ui.status, totalMinor: ui.totalMinor, hostedInvoiceUrl: ui.stripeHostedInvoiceUrl })
      .from(ui)
      .where(and(eq(ui.customerId, customerId), eq(ui.workspaceId, workspaceId), lt(ui.period, period)))
      .orderBy(desc(ui.period))
      .limit(RECENT_INVOICES_READ),
  ]);
  const customer = customerRows[0];
  if (!customer) throw notFound('Customer');
  const currency = customer.currency;
  const meterById = new Map(meters.map((m) => [m.id, m]));

  // Current period per meter and day; earlier periods per month and meter; the burn window across meters.
  const current = new Map<string, Map<string, Totals>>(); // meterId -> day -> totals
  const past = new Map<string, Map<string, Totals>>(); // period -> meterId -> totals
  let chargedInWindow = 0;
  for (const row of rollupRows) {
    const isDay = row.bucket.length === 10;
    if (isDay && row.bucket >= burnFrom && row.bucket <= today) chargedInWindow += Number(row.chargedMinor);
    if (!meterById.has(row.meterId) || Number(row.eventCount) === 0) continue;
    const rowPeriod = row.bucket.slice(0, 7);
    if (rowPeriod === period) {
      let days = current.get(row.meterId);
      if (!days) current.set(row.meterId, (days = new Map()));
      days.set(row.bucket, addTotals(days.get(row.bucket), row));
    } else if (rowPeriod < period) {
      let byMeter = past.get(rowPeriod);
      if (!byMeter) past.set(rowPeriod, (byMeter = new Map()));
      byMeter.set(row.meterId, addTotals(byMeter.get(row.meterId), row));
    }
  }

  const periodMs = end.getTime() - start.getTime();
  const elapsedMs = now.getTime() - start.getTime();
  const shown = meters.filter((m) => m.archivedAt === null || current.has(m.id)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const dashboardMeters: UsageDashboardMeter[] = shown.map((m) => {
    const days = current.get(m.id) ?? new Map<string, Totals>();
    const totals = combineTotals(days.values());
    const charged = [...days.values()].reduce((s, d) => s + d.chargedMinor, 0);
    const quantity = dailyValue(m.aggregation, totals);
    const costSoFarMinor = periodCostMinor(m, totals, charged);
    const projectedQuantity = projectQuantity(m.aggregation, quantity, elapsedMs, periodMs);
    const projectedCostMinor = Math.max(costSoFarMinor, boundedCostMinor(projectedQuantity, m));
    const daily = chartDays(period, today, days.keys()).map((day) => {
      const d = days.get(day);
      return { day, quantity: d ? dailyValue(m.aggregation, d) : 0 };
    });
    return { ...meterFields(m), quantity, costSoFarMinor, projectedQuantity, projectedCostMinor, daily };
  });

  // Earlier periods: the most recent ones with usage, and their invoices.
  const pastPeriodKeys = [...past.keys()].sort().reverse().slice(0, PAST_PERIODS_SHOWN);
  const invoices = [...invoiceRows];
  const oldestRead = invoiceRows.at(-1)?.period;
  const unread = invoiceRows.length < RECENT_INVOICES_READ || oldestRead === undefined ? [] : pastPeriodKeys.filter((p) => p < oldestRead);
  if (unread.length > 0) {
    invoices.push(
      ...(await db.q
        .select({ id: ui.id, period: ui.period, status: ui.status, totalMinor: ui.totalMinor, hostedInvoiceUrl: ui.stripeHostedInvoiceUrl })
        .from(ui)
        .where(and(eq(ui.customerId, customerId), eq(ui.workspaceId, workspaceId), inArray(ui.period, unread)))),
    );
  }
  const invoiceByPeriod = new Map(invoices.map((i) => [i.period, i]));
  const pastPeriods: UsagePastPeriod[] = pastPeriodKeys.map((p) => {
    const byMeter = past.get(p)!;
    const rows = [...byMeter.entries()]
      .map(([meterId, totals]) => {
        const m = meterById.get(meterId)!;
        return { meterId, key: m.key, displayName: m.displayName, unit: m.unit, quantity: dailyValue(m.aggregation, totals), costMinor: periodCostMinor(m, totals, totals.chargedMinor) };
      })
      .sort((a, b) => (a.key < b.key ? -1 : 1));
    const inv = invoiceByPeriod.get(p);
    return {
      period: p,
      meters: rows,
      totalMinor: rows.reduce((s, x) => s + x.costMinor, 0),
      invoice: inv ? { id: inv.id, status: inv.status, totalMinor: Number(inv.totalMinor), hostedInvoiceUrl: inv.hostedInvoiceUrl } : null,
    };
  });

  return {
    customerId,
    customerName: customer.name,
    period,
    periodStart: start,
    periodEnd: end,
    currency,
    meters: dashboardMeters,
    pastPeriods,
    prepaid: prepaidRunway(Number(customer.balanceMinor ?? 0), chargedInWindow),
  };
}
