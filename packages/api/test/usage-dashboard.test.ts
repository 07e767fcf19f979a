/**
 * Usage dashboards (issue 9 item 4) on both dialects: usage recorded through `recordUsage`
 * (older periods with an earlier `now`), then `usageDashboard` and `adminUsageOverview` at a
 * fixed `now`: quantities per aggregation, costs with blocks rounded once per customer and
 * period, projections, zero-filled days, past periods (with usage only, at most six) with
 * their usage invoice, the prepaid runway over a 7-day window (also across a month boundary),
 * per-customer and per-workspace isolation, admin totals and top consumers, bad inputs. And
 * the procedures: a customer sees only their own customer's dashboard.
 */
import { eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors';
import { newId } from '../src/ids';
import { adminUsageOverview, usageDashboard, type UsageDashboard } from '../src/usage/dashboard';
import { projectQuantity, prepaidRunway } from '../src/usage/dashboard-math';
import { recordUsage } from '../src/usage/ingest';
import { callerFor, countingStripe, seedTenants } from './helpers';
import { creditBalance, insertMeter } from './usage-helpers';

/** 19.5 days into November's 30: the elapsed fraction is 0.65. */
const NOW = new Date('2026-11-20T12:00:00.000Z');

const errorOf = async (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof AppError ? `${e.code}: ${e.message}` : `not an AppError: ${String(e)}`),
  );

/** Every number anywhere in a value (to check "integers only"). */
function numbersIn(value: unknown, out: number[] = []): number[] {
  if (typeof value === 'number') out.push(value);
  else if (Array.isArray(value)) for (const v of value) numbersIn(v, out);
  else if (value && typeof value === 'object' && !(value instanceof Date)) for (const v of Object.values(value)) numbersIn(v, out);
  return out;
}

const meterOf = (d: UsageDashboard, key: string) => {
  const m = d.meters.find((x) => x.key === key);
  if (!m) throw new Error(`meter ${key} not on the dashboard (has ${d.meters.map((x) => x.key).join(', ')})`);
  return m;
};
const nonZeroDays = (daily: { day: string; quantity: number }[]) => daily.filter((d) => d.quantity !== 0).map((d) => [d.day, d.quantity]);

describe('dashboard arithmetic', () => {
  it('projects sum/count at the current rate (rounded up, exact), max as is, never below what was used', () => {
    const period = 30 * 86_400_000;
    expect(projectQuantity('sum', 1501, 19.5 * 86_400_000, period)).toBe(2310); // 2309.23...
    expect(projectQuantity('count', 13, 15 * 86_400_000, period)).toBe(26); // exactly half: no rounding up
    expect(projectQuantity('max', 7, 86_400_000, period)).toBe(7);
    expect(projectQuantity('sum', 0, 86_400_000, period)).toBe(0);
    expect(projectQuantity('sum', 10, period + 5, period)).toBe(10);
    // The first hour projects as if an hour had passed (no division by zero).
    expect(projectQuantity('sum', 1, 0, period)).toBe(720);
    expect(projectQuantity('sum', Number.MAX_SAFE_INTEGER, 3_600_000, period)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('runway: burn rounded up, whole days, 0 when used up, null without charges', () => {
    expect(prepaidRunway(970, 10)).toEqual({ balanceMinor: 970, burnPerDayMinor: 2, runwayDays: 679 });
    expect(prepaidRunway(0, 70)).toEqual({ balanceMinor: 0, burnPerDayMinor: 10, runwayDays: 0 });
    expect(prepaidRunway(-50, 70)).toEqual({ balanceMinor: -50, burnPerDayMinor: 10, runwayDays: 0 });
    expect(prepaidRunway(500, 0)).toEqual({ balanceMinor: 500, burnPerDayMinor: 0, runwayDays: null });
  });
});

describe.each(testDialects)('usage dashboards ($name)', ({ create }) => {
  let db: TestDatabase;
  let acme: Awaited<ReturnType<typeof seedTenants>>;
  let globex: Awaited<ReturnType<typeof seedTenants>>;
  let initech: Awaited<ReturnType<typeof seedTenants>>;
  let octoberInvoiceId: string;

  const ev = (customerId: string, meter: string, quantity: number, occurredAt: string) => ({ customerId, meter, quantity, occurredAt, idempotencyKey: `k-${newId()}` });
  async function record(workspaceId: string, now: Date, events: unknown[]) {
    const res = await recordUsage({ db, workspaceId, events, now });
    if (res.rejected > 0) throw new Error(`rejected: ${JSON.stringify(res.results.filter((r) => r.status === 'rejected'))}`);
    return res;
  }

  beforeAll(async () => {
    db = await create();
    acme = await seedTenants(db);
    globex = await seedTenants(db);
    initech = await seedTenants(db);
    const ws = acme.workspaceId;
    await insertMeter(db, ws, { key: 'stt_words', displayName: 'Speech-to-text', unit: 'word' }); // sum, invoice, 100 per 1,000
    await insertMeter(db, ws, { key: 'api_calls', displayName: 'API calls', unit: 'call', billingMode: 'prepaid', aggregation: 'count', priceMinor: 10, blockSize: 100 });
    await insertMeter(db, ws, { key: 'peak_sessions', displayName: 'Peak sessions', unit: 'session', aggregation: 'max', priceMinor: 500, blockSize: 1 });
    await insertMeter(db, ws, { key: 'old_meter' });
    await insertMeter(db, ws, { key: 'unused_archived', archivedAt: new Date('2026-01-01T00:00:00Z') });
    await insertMeter(db, globex.workspaceId, { key: 'stt_words' });
    await insertMeter(db, globex.workspaceId, { key: 'api_calls', billingMode: 'prepaid', aggregation: 'count', priceMinor: 10, blockSize: 1 });
    await insertMeter(db, initech.workspaceId, { key: 'stt_words' });

    const alice = acme.alice.customerId;
    const bob = acme.bob.customerId;
    await creditBalance(db, { workspaceId: ws, customerId: alice, amountMinor: 1000 });

    // Older periods, each recorded while it was open: March .. October without June.
    for (const month of ['03', '04', '05', '07', '08', '09']) {
      await record(ws, new Date(`2026-${month}-15T12:00:00Z`), [ev(alice, 'stt_words', 10, `2026-${month}-09T08:00:00Z`)]);
    }
    await record(ws, new Date('2026-10-25T12:00:00Z'), [
      ev(alice, 'stt_words', 2500, '2026-10-05T10:00:00Z'), // 3 blocks: 300
      ev(alice, 'peak_sessions', 4, '2026-10-06T10:00:00Z'), // 4 x 500: 2000
      ...Array.from({ length: 30 }, () => ev(alice, 'api_calls', 1, '2026-10-20T10:00:00Z')), // 1 block charged: 10
    ]);

    // November (now = NOW).
    await record(ws, NOW, [
      ev(alice, 'stt_words', 400, '2026-11-03T01:00:00Z'),
      ev(alice, 'stt_words', 601, '2026-11-03T23:00:00Z'),
      ev(alice, 'stt_words', 500, '2026-11-20T11:00:00Z'), // 1,501 in all: 2 blocks, 200 (per event or per day it would be 300)
      ev(alice, 'peak_sessions', 3, '2026-11-02T10:00:00Z'),
      ev(alice, 'peak_sessions', 7, '2026-11-12T10:00:00Z'),
      ev(alice, 'peak_sessions', 2, '2026-11-12T11:00:00Z'), // max 7: 3500
      ev(alice, 'old_meter', 5, '2026-11-04T10:00:00Z'), // 1 block: 100
      ev(bob, 'stt_words', 4999, '2026-11-18T10:00:00Z'), // 5 blocks: 500
    ]);
    // Prepaid: 50 calls on the 5th (1 block, 10 charged), 150 on the 15th (the 101st call charges 10 more).
    await record(ws, NOW, Array.from({ length: 50 }, () => ev(alice, 'api_calls', 1, '2026-11-05T10:00:00Z')));
    await record(ws, NOW, Array.from({ length: 150 }, () => ev(alice, 'api_calls', 1, '2026-11-15T10:00:00Z')));
    await db.q.update(db.t.meters).set({ archivedAt: NOW }).where(eq(db.t.meters.key, 'old_meter'));

    octoberInvoiceId = newId();
    await db.q.insert(db.t.usageInvoices).values({
      id: octoberInvoiceId,
      workspaceId: ws,
      customerId: alice,
      period: '2026-10',
      status: 'issued',
      currency: 'usd',
      totalMinor: 2300,
      lines: '[]',
      source: 'period_close',
      stripeInvoiceId: 'in_test_october',
      stripeHostedInvoiceUrl: 'https://invoice.stripe.test/i/in_test_october',
    });
    // Bob's invoice for October (he had no usage then): never on Alice's dashboard, nor on his (no usage that period).
    await db.q.insert(db.t.usageInvoices).values({ id: newId(), workspaceId: ws, customerId: bob, period: '2026-10', status: 'empty', currency: 'usd', totalMinor: 0, lines: '[]', source: 'manual' });
  });
  afterAll(() => db.destroy());

  it("the customer's current period: quantities per aggregation, costs rounded per period, projections, zero-filled days", async () => {
    const d = await usageDashboard(db, { workspaceId: acme.workspaceId, customerId: acme.alice.customerId, now: NOW });
    expect(d).toMatchObject({ customerId: acme.alice.customerId, customerName: 'alice', period: '2026-11', currency: 'usd' });
    expect(d.periodStart).toEqual(new Date('2026-11-01T00:00:00Z'));
    expect(d.periodEnd).toEqual(new Date('2026-12-01T00:00:00Z'));
    // Archived meters only when they have usage this period; by key.
    expect(d.meters.map((m) => m.key)).toEqual(['api_calls', 'old_meter', 'peak_sessions', 'stt_words']);

    const stt = meterOf(d, 'stt_words');
    expect(stt).toMatchObject({ displayName: 'Speech-to-text', unit: 'word', aggregation: 'sum', billingMode: 'invoice', priceMinor: 100, blockSize: 1000 });
    expect(stt).toMatchObject({ quantity: 1501, costSoFarMinor: 200, projectedQuantity: 2310, projectedCostMinor: 300 });
    expect(stt.daily).toHaveLength(20);
    expect(stt.daily[0]).toEqual({ day: '2026-11-01', quantity: 0 });
    expect(stt.daily.at(-1)).toEqual({ day: '2026-11-20', quantity: 500 });
    expect(stt.daily.map((x) => x.day)).toEqual(Array.from({ length: 20 }, (_, i) => `2026-11-${String(i + 1).padStart(2, '0')}`));
    expect(nonZeroDays(stt.daily)).toEqual([
      ['2026-11-03', 1001],
      ['2026-11-20', 500],
    ]);

    // count + prepaid: the cost so far is what was charged; 200 / 0.65 = 307.7 -> 308 calls, 4 blocks.
    const calls = meterOf(d, 'api_calls');
    expect(calls).toMatchObject({ aggregation: 'count', billingMode: 'prepaid', quantity: 200, costSoFarMinor: 20, projectedQuantity: 308, projectedCostMinor: 40 });
    expect(nonZeroDays(calls.daily)).toEqual([
      ['2026-11-05', 50],
      ['2026-11-15', 150],
    ]);

    // max: the current maximum, projected as is; each day's maximum.
    const peak = meterOf(d, 'peak_sessions');
    expect(peak).toMatchObject({ quantity: 7, costSoFarMinor: 3500, projectedQuantity: 7, projectedCostMinor: 3500 });
    expect(nonZeroDays(peak.daily)).toEqual([
      ['2026-11-02', 3],
      ['2026-11-12', 7],
    ]);

    expect(meterOf(d, 'old_meter')).toMatchObject({ quantity: 5, costSoFarMinor: 100 });
    for (const n of numbersIn(d)) expect(Number.isSafeInteger(n), String(n)).toBe(true);
  });

  it('past periods: only those with usage, newest first, at most six, with their usage invoice', async () => {
    const d = await usageDashboard(db, { workspaceId: acme.workspaceId, customerId: acme.alice.customerId, now: NOW });
    expect(d.pastPeriods.map((p) => p.period)).toEqual(['2026-10', '2026-09', '2026-08', '2026-07', '2026-05', '2026-04']);
    const october = d.pastPeriods[0]!;
    expect(october.meters.map((m) => [m.key, m.quantity, m.costMinor])).toEqual([
      ['api_calls', 30, 10],
      ['peak_sessions', 4, 2000],
      ['stt_words', 2500, 300],
    ]);
    expect(october.totalMinor).toBe(2310);
    expect(october.invoice).toEqual({ id: octoberInvoiceId, status: 'issued', totalMinor: 2300, hostedInvoiceUrl: 'https://invoice.stripe.test/i/in_test_october' });
    expect(d.pastPeriods[1]).toMatchObject({ period: '2026-09', totalMinor: 100, invoice: null, meters: [{ key: 'stt_words', quantity: 10, costMinor: 100 }] });
  });

  it('prepaid runway: the balance and the average charge per day over the last 7 days', async () => {
    const d = await usageDashboard(db, { workspaceId: acme.workspaceId, customerId: acme.alice.customerId, now: NOW });
    // 1,000 credited - 10 (Oct) - 20 (Nov); the window Nov 14..20 holds the 10 charged on the 15th only.
    expect(d.prepaid).toEqual({ balanceMinor: 970, burnPerDayMinor: 2, runwayDays: 679 });
    // A week later the window (Nov 21..27) holds no charge: no runway.
    const later = await usageDashboard(db, { workspaceId: acme.workspaceId, customerId: acme.alice.customerId, now: new Date('2026-11-27T12:00:00Z') });
    expect(later.prepaid).toEqual({ balanceMinor: 970, burnPerDayMinor: 0, runwayDays: null });
    expect(meterOf(later, 'stt_words').daily).toHaveLength(27);
  });

  it("the burn window reaches into the previous month early in a month", async () => {
    const ws = globex.workspaceId;
    const carol = globex.alice.customerId;
    await creditBalance(db, { workspaceId: ws, customerId: carol, amountMinor: 100 });
    const dec3 = new Date('2026-12-03T12:00:00Z');
    await record(ws, dec3, [ev(carol, 'api_calls', 1, '2026-11-28T10:00:00Z'), ev(carol, 'api_calls', 1, '2026-11-20T10:00:00Z'), ev(carol, 'api_calls', 1, '2026-12-02T10:00:00Z')]);
    const d = await usageDashboard(db, { workspaceId: ws, customerId: carol, now: dec3 });
    expect(meterOf(d, 'api_calls')).toMatchObject({ quantity: 1, costSoFarMinor: 10 });
    expect(meterOf(d, 'api_calls').daily).toEqual([
      { day: '2026-12-01', quantity: 0 },
      { day: '2026-12-02', quantity: 1 },
      { day: '2026-12-03', quantity: 0 },
    ]);
    // Window Nov 27..Dec 3: the 28th's and the 2nd's charges (20), not the 20th's.
    expect(d.prepaid).toEqual({ balanceMinor: 70, burnPerDayMinor: 3, runwayDays: 24 });
    expect(d.pastPeriods).toMatchObject([{ period: '2026-11', totalMinor: 20, meters: [{ key: 'api_calls', quantity: 2, costMinor: 20 }] }]);
  });

  it("per-customer and per-workspace isolation: one customer's dashboard never shows another's usage", async () => {
    const bob = await usageDashboard(db, { workspaceId: acme.workspaceId, customerId: acme.bob.customerId, now: NOW });
    expect(meterOf(bob, 'stt_words')).toMatchObject({ quantity: 4999, costSoFarMinor: 500 });
    for (const key of ['api_calls', 'peak_sessions']) expect(meterOf(bob, key)).toMatchObject({ quantity: 0, costSoFarMinor: 0, projectedQuantity: 0, projectedCostMinor: 0 });
    expect(bob.meters.map((m) => m.key)).toEqual(['api_calls', 'peak_sessions', 'stt_words']); // old_meter is archived and Bob never used it
    expect(bob.pastPeriods).toEqual([]);
    expect(bob.prepaid).toEqual({ balanceMinor: 0, burnPerDayMinor: 0, runwayDays: null });
    expect(meterOf(bob, 'stt_words').daily.filter((x) => x.quantity > 0)).toEqual([{ day: '2026-11-18', quantity: 4999 }]);
    const alice = await usageDashboard(db, { workspaceId: acme.workspaceId, customerId: acme.alice.customerId, now: NOW });
    expect(meterOf(alice, 'stt_words').daily.find((x) => x.day === '2026-11-18')).toEqual({ day: '2026-11-18', quantity: 0 });

    // Another workspace's customer is NOT_FOUND; so is an unknown one; malformed ids are BAD_REQUEST.
    expect(await errorOf(usageDashboard(db, { workspaceId: globex.workspaceId, customerId: acme.alice.customerId, now: NOW }))).toBe('NOT_FOUND: Customer not found');
    expect(await errorOf(usageDashboard(db, { workspaceId: acme.workspaceId, customerId: newId(), now: NOW }))).toBe('NOT_FOUND: Customer not found');
    expect(await errorOf(usageDashboard(db, { workspaceId: acme.workspaceId, customerId: "x' or 1=1", now: NOW }))).toBe('BAD_REQUEST: customerId must be a Tally id (a UUID)');
    expect(await errorOf(usageDashboard(db, { workspaceId: 'nope', customerId: acme.alice.customerId, now: NOW }))).toBe('BAD_REQUEST: workspaceId must be a Tally id (a UUID)');
    // Globex's own customer without usage sees Globex's meters only, all zero.
    const dave = await usageDashboard(db, { workspaceId: globex.workspaceId, customerId: globex.bob.customerId, now: NOW });
    expect(dave.meters.map((m) => [m.key, m.quantity])).toEqual([
      ['api_calls', 0],
      ['stt_words', 0],
    ]);
  });

  it('admin overview: per-meter totals (blocks per customer), customers, daily charts across customers, top consumers', async () => {
    const o = await adminUsageOverview(db, { workspaceId: acme.workspaceId, now: NOW });
    expect(o).toMatchObject({ period: '2026-11', currentPeriod: '2026-11', currency: 'usd', customersWithUsage: 2 });
    expect(o.meters.map((m) => [m.key, m.quantity, m.costMinor, m.customers])).toEqual([
      ['api_calls', 200, 20, 1],
      ['old_meter', 5, 100, 1],
      ['peak_sessions', 7, 3500, 1],
      // 1,501 + 4,999 = 6,500 words: 200 + 500 (rounded per customer), not 650.
      ['stt_words', 6500, 700, 2],
    ]);
    expect(o.totalMinor).toBe(4320);
    const stt = o.meters.find((m) => m.key === 'stt_words')!;
    expect(stt.daily).toHaveLength(20);
    expect(nonZeroDays(stt.daily)).toEqual([
      ['2026-11-03', 1001],
      ['2026-11-18', 4999],
      ['2026-11-20', 500],
    ]);
    expect(o.topConsumers.map((c) => [c.name, c.customerId, c.costMinor])).toEqual([
      ['alice', acme.alice.customerId, 3820],
      ['bob', acme.bob.customerId, 500],
    ]);
    expect(o.topConsumers[0]!.meters.map((m) => [m.key, m.quantity, m.costMinor])).toEqual([
      ['api_calls', 200, 20],
      ['old_meter', 5, 100],
      ['peak_sessions', 7, 3500],
      ['stt_words', 1501, 200],
    ]);
    for (const n of numbersIn(o)) expect(Number.isSafeInteger(n), String(n)).toBe(true);
  });

  it('admin overview of a past period shows all its days; a future one none; another workspace none of these', async () => {
    const october = await adminUsageOverview(db, { workspaceId: acme.workspaceId, period: '2026-10', now: NOW });
    expect(october.meters.map((m) => [m.key, m.quantity, m.costMinor, m.customers])).toEqual([
      ['api_calls', 30, 10, 1],
      ['peak_sessions', 4, 2000, 1],
      ['stt_words', 2500, 300, 1],
    ]);
    expect(october.meters[0]!.daily).toHaveLength(31);
    expect(october.topConsumers.map((c) => c.name)).toEqual(['alice']);
    const future = await adminUsageOverview(db, { workspaceId: acme.workspaceId, period: '2027-01', now: NOW });
    expect(future.meters.every((m) => m.quantity === 0 && m.daily.length === 0)).toBe(true);
    expect(future).toMatchObject({ totalMinor: 0, customersWithUsage: 0, topConsumers: [] });
    const other = await adminUsageOverview(db, { workspaceId: initech.workspaceId, period: '2026-11', now: NOW });
    expect(other.meters.map((m) => [m.key, m.quantity])).toEqual([['stt_words', 0]]);
    expect(other.topConsumers).toEqual([]);
  });

  it('top consumers: ten at most, highest cost first', async () => {
    const ws = initech.workspaceId;
    const ids = [initech.alice.customerId, initech.bob.customerId];
    for (let i = 0; i < 10; i++) {
      const id = newId();
      await db.q.insert(db.t.customers).values({ id, workspaceId: ws, name: `c${String(i).padStart(2, '0')}`, email: null });
      ids.push(id);
    }
    // Customer i uses (i + 1) x 1,000 words: cost (i + 1) x 100.
    await record(ws, NOW, ids.map((id, i) => ev(id, 'stt_words', (i + 1) * 1000, '2026-11-10T10:00:00Z')));
    const o = await adminUsageOverview(db, { workspaceId: ws, now: NOW });
    expect(o.customersWithUsage).toBe(12);
    expect(o.topConsumers.map((c) => c.costMinor)).toEqual([1200, 1100, 1000, 900, 800, 700, 600, 500, 400, 300]);
    expect(o.topConsumers.map((c) => c.customerId)).toEqual(ids.slice(2).reverse());
    expect(o.meters[0]).toMatchObject({ quantity: 78_000, costMinor: 7800, customers: 12 });
  });

  it('admin overview refuses a malformed period or workspace, and an unknown workspace', async () => {
    expect(await errorOf(adminUsageOverview(db, { workspaceId: acme.workspaceId, period: '2026-13', now: NOW }))).toBe('BAD_REQUEST: period must be a month written YYYY-MM, e.g. 2026-11');
    expect(await errorOf(adminUsageOverview(db, { workspaceId: acme.workspaceId, period: "2026-11' --", now: NOW }))).toBe('BAD_REQUEST: period must be a month written YYYY-MM, e.g. 2026-11');
    expect(await errorOf(adminUsageOverview(db, { workspaceId: 'x', now: NOW }))).toBe('BAD_REQUEST: workspaceId must be a Tally id (a UUID)');
    expect(await errorOf(adminUsageOverview(db, { workspaceId: newId(), now: NOW }))).toBe('NOT_FOUND: Workspace not found');
  });

  it("an older period's invoice is found behind many newer invoices for months without usage", async () => {
    const ws = globex.workspaceId;
    const dave = globex.bob.customerId;
    await record(ws, new Date('2025-06-15T12:00:00Z'), [ev(dave, 'stt_words', 1500, '2025-06-10T10:00:00Z')]);
    const juneInvoice = newId();
    await db.q.insert(db.t.usageInvoices).values({ id: juneInvoice, workspaceId: ws, customerId: dave, period: '2025-06', status: 'issued', currency: 'usd', totalMinor: 200, lines: '[]', source: 'manual' });
    // Sixteen newer invoices (July 2025 .. October 2026), each for a month without usage.
    const months = Array.from({ length: 16 }, (_, i) => new Date(Date.UTC(2025, 6 + i, 1)).toISOString().slice(0, 7));
    await db.q.insert(db.t.usageInvoices).values(months.map((period) => ({ id: newId(), workspaceId: ws, customerId: dave, period, status: 'empty', currency: 'usd', totalMinor: 0, lines: '[]', source: 'period_close' })));
    const d = await usageDashboard(db, { workspaceId: ws, customerId: dave, now: NOW });
    expect(d.pastPeriods).toEqual([
      {
        period: '2025-06',
        meters: [{ meterId: expect.any(String), key: 'stt_words', displayName: 'stt_words', unit: 'unit', quantity: 1500, costMinor: 200 }],
        totalMinor: 200,
        invoice: { id: juneInvoice, status: 'issued', totalMinor: 200, hostedInvoiceUrl: null },
      },
    ]);
  });

  it('procedures: a customer gets their own dashboard only; an admin any of the workspace, not another workspace', async () => {
    const { stripe } = countingStripe();
    const asAlice = callerFor(db, stripe, acme.alice);
    expect((await asAlice.usage.dashboard()).customerId).toBe(acme.alice.customerId);
    expect((await asAlice.usage.dashboard({ customerId: acme.alice.customerId })).customerName).toBe('alice');
    await expect(asAlice.usage.dashboard({ customerId: acme.bob.customerId })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(asAlice.usage.dashboardForCustomer({ customerId: acme.alice.customerId })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const asAdmin = callerFor(db, stripe, acme.admin, undefined, acme.workspaceId);
    expect((await asAdmin.usage.dashboardForCustomer({ customerId: acme.bob.customerId })).customerName).toBe('bob');
    await expect(asAdmin.usage.dashboardForCustomer({ customerId: globex.alice.customerId })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await asAdmin.usage.overview({ period: '2026-10' })).topConsumers.map((c) => c.name)).toEqual(['alice']);
    await expect(asAdmin.usage.overview({ period: '2026-13' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});
