/**
 * The admin's usage overview of one period across a workspace's customers (issue 9 item 4):
 * per-meter totals, the top consumers by cost and a daily chart per meter. Reads only
 * `usage_daily_rollups` (a range of its primary key (day, meter_id, customer_id): day in the
 * period AND meter_id IN the workspace's meters), `meters`, `workspaces` and `customers`.
 */
import { and, eq, gte, inArray, lt, sql, type Database, type MeterAggregation, type MeterBillingMode } from '@tally/db';
import { AppError } from '../errors';
import { isTallyId } from '../ids';
import { dailyValue, chartDays, meterFields, periodCostMinor } from './dashboard-math';
import { dayOf, isPeriod, periodBounds, periodOf } from './periods';
import type { UsageDay } from './dashboard';

/** How many customers the overview ranks. */
export const TOP_CONSUMERS_SHOWN = 10;

/** One meter's totals across customers for the period. Money in minor units of the overview's currency. */
export interface AdminUsageOverviewMeter {
  meterId: string;
  key: string;
  displayName: string;
  unit: string;
  aggregation: MeterAggregation;
  billingMode: MeterBillingMode;
  priceMinor: number;
  blockSize: number;
  /** Sum over customers of each customer's period quantity (for `max` meters: of each customer's maximum). */
  quantity: number;
  /** Sum over customers of each customer's period cost (blocks rounded up per customer). */
  costMinor: number;
  /** Customers with at least one event on this meter in the period. */
  customers: number;
  /** Each day of the period (up to today for the current one), zeros filled: the sum over customers of their day's value (for `max` meters: of their day's maximum). */
  daily: UsageDay[];
}

/** One of the period's top consumers (by cost). */
export interface AdminUsageTopConsumer {
  /** The customer's id: the admin SPA links to its dashboard with it. */
  customerId: string;
  name: string;
  email: string | null;
  costMinor: number;
  meters: { meterId: string; key: string; quantity: number; costMinor: number }[];
}

/** `usage.overview` (admin). */
export interface AdminUsageOverview {
  /** The period shown (`YYYY-MM`) and the current one (for a period picker). */
  period: string;
  currentPeriod: string;
  periodStart: Date;
  periodEnd: Date;
  /** The workspace currency: every `*Minor` amount is in it. */
  currency: string;
  meters: AdminUsageOverviewMeter[];
  /** Sum of the meters' costs, minor units. */
  totalMinor: number;
  /** Distinct customers with usage in the period. */
  customersWithUsage: number;
  /** Up to TOP_CONSUMERS_SHOWN customers, highest cost first (ties: more events, then id). */
  topConsumers: AdminUsageTopConsumer[];
}

/**
 * The usage of every customer of a workspace in `period` (default: the one `now` falls in).
 * Meters: all of the workspace's that are not archived, plus archived ones with usage in the
 * period, by key. Five queries: workspace, meters, rollups grouped by customer and meter,
 * rollups grouped by meter and day, the top consumers' names.
 * @returns `AdminUsageOverview` (quantities in the meters' units, money in minor units).
 * @throws AppError BAD_REQUEST for a workspace id that is not a UUID or a period that is not
 *   `YYYY-MM`; NOT_FOUND for an unknown workspace.
 */
export async function adminUsageOverview(db: Database, { workspaceId, period, now = new Date() }: { workspaceId: string; period?: string | undefined; now?: Date }): Promise<AdminUsageOverview> {
  if (typeof workspaceId !== 'string' || !isTallyId(workspaceId)) throw new AppError('BAD_REQUEST', 'workspaceId must be a Tally id (a UUID)');
  if (period !== undefined && (typeof period !== 'string' || !isPeriod(period))) throw new AppError('BAD_REQUEST', 'period must be a month written YYYY-MM, e.g. 2026-11');
  const t = db.t;
  const r = t.usageDailyRollups;
  const currentPeriod = periodOf(now);
  const shownPeriod = period ?? currentPeriod;
  const { start, end } = periodBounds(shownPeriod);
  const fromDay = dayOf(start);
  const toDay = dayOf(end);

  const [workspaces, meters] = await Promise.all([
    db.q.select({ currency: t.workspaces.currency }).from(t.workspaces).where(eq(t.workspaces.id, workspaceId)),
    db.q.select().from(t.meters).where(eq(t.meters.workspaceId, workspaceId)),
  ]);
  const workspace = workspaces[0];
  if (!workspace) throw new AppError('NOT_FOUND', 'Workspace not found');
  const meterIds = meters.map((m) => m.id);

  const inPeriod = and(inArray(r.meterId, meterIds), eq(r.workspaceId, workspaceId), gte(r.day, fromDay), lt(r.day, toDay));
  const sums = {
    quantity: sql<number>`sum(${r.quantity})`,
    eventCount: sql<number>`sum(${r.eventCount})`,
    chargedMinor: sql<number>`sum(${r.chargedMinor})`,
  };
  const [perCustomer, perDay] =
    meterIds.length === 0
      ? [[], []]
      : await Promise.all([
          db.q
            .select({ customerId: r.customerId, meterId: r.meterId, ...sums, maxQuantity: sql<number>`max(${r.maxQuantity})` })
            .from(r)
            .where(inPeriod)
            .groupBy(r.customerId, r.meterId),
          // For max meters the chart sums each customer's daily maximum.
          db.q
            .select({ meterId: r.meterId, day: r.day, ...sums, maxQuantity: sql<number>`sum(${r.maxQuantity})` })
            .from(r)
            .where(inPeriod)
            .groupBy(r.meterId, r.day),
        ]);

  const meterById = new Map(meters.map((m) => [m.id, m]));
  const perMeter = new Map<string, { quantity: number; costMinor: number; customers: number }>();
  const consumers = new Map<string, { costMinor: number; events: number; meters: AdminUsageTopConsumer['meters'] }>();
  for (const row of perCustomer) {
    const m = meterById.get(row.meterId)!;
    const totals = { quantity: Number(row.quantity), eventCount: Number(row.eventCount), maxQuantity: Number(row.maxQuantity) };
    const quantity = dailyValue(m.aggregation, totals);
    const costMinor = periodCostMinor(m, totals, Number(row.chargedMinor));
    const pm = perMeter.get(m.id) ?? { quantity: 0, costMinor: 0, customers: 0 };
    pm.quantity += quantity;
    pm.costMinor += costMinor;
    pm.customers += 1;
    perMeter.set(m.id, pm);
    const c = consumers.get(row.customerId) ?? { costMinor: 0, events: 0, meters: [] };
    c.costMinor += costMinor;
    c.events += totals.eventCount;
    c.meters.push({ meterId: m.id, key: m.key, quantity, costMinor });
    consumers.set(row.customerId, c);
  }
  const dayValues = new Map<string, Map<string, number>>(); // meterId -> day -> value
  for (const row of perDay) {
    const m = meterById.get(row.meterId)!;
    let days = dayValues.get(m.id);
    if (!days) dayValues.set(m.id, (days = new Map()));
    days.set(row.day, dailyValue(m.aggregation, { quantity: Number(row.quantity), eventCount: Number(row.eventCount), maxQuantity: Number(row.maxQuantity) }));
  }

  const today = dayOf(now);
  const overviewMeters: AdminUsageOverviewMeter[] = meters
    .filter((m) => m.archivedAt === null || perMeter.has(m.id))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((m) => {
      const pm = perMeter.get(m.id) ?? { quantity: 0, costMinor: 0, customers: 0 };
      const days = dayValues.get(m.id) ?? new Map<string, number>();
      const daily = chartDays(shownPeriod, today, days.keys()).map((day) => ({ day, quantity: days.get(day) ?? 0 }));
      return { ...meterFields(m), quantity: pm.quantity, costMinor: pm.costMinor, customers: pm.customers, daily };
    });

  const ranked = [...consumers.entries()]
    .sort(([aId, a], [bId, b]) => b.costMinor - a.costMinor || b.events - a.events || (aId < bId ? -1 : aId > bId ? 1 : 0))
    .slice(0, TOP_CONSUMERS_SHOWN);
  const names =
    ranked.length === 0
      ? []
      : await db.q
          .select({ id: t.customers.id, name: t.customers.name, email: t.customers.email })
          .from(t.customers)
          .where(and(eq(t.customers.workspaceId, workspaceId), inArray(t.customers.id, ranked.map(([id]) => id))));
  const nameById = new Map(names.map((n) => [n.id, n]));
  const topConsumers: AdminUsageTopConsumer[] = ranked.map(([customerId, c]) => ({
    customerId,
    name: nameById.get(customerId)?.name ?? 'Unknown customer',
    email: nameById.get(customerId)?.email ?? null,
    costMinor: c.costMinor,
    meters: c.meters.sort((a, b) => (a.key < b.key ? -1 : 1)),
  }));

  return {
    period: shownPeriod,
    currentPeriod,
    periodStart: start,
    periodEnd: end,
    currency: workspace.currency,
    meters: overviewMeters,
    totalMinor: overviewMeters.reduce((s, m) => s + m.costMinor, 0),
    customersWithUsage: consumers.size,
    topConsumers,
  };
}
