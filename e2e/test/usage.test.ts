/**
 * Issue 9 item 4 end to end, in headless Chromium against the built product (server + SPA in
 * production mode), on SQLite and Postgres. Two meters are inserted in the stack's database
 * (an invoiced sum meter, $1.00 per 1,000 words, and a prepaid count meter, $0.50 per 100
 * calls), the demo customer is credited $20.00, and a workspace API key is created. Usage is
 * then reported through the real HTTP API (`POST /api/v1/usage`, `Authorization: Bearer`) over
 * the last days of the current month, with a repeated idempotency key and an unknown meter in
 * the batch. Signed in as the demo customer, /usage shows the quantities, the costs (blocks
 * rounded up once per period), a bar chart per meter (an SVG with bars) and the prepaid
 * runway, and an earlier month (its rollup and usage invoice inserted as history, since the
 * API only takes the open months) with its invoice link; an admin's /admin/usage shows the totals and the customer as top consumer, whose
 * dashboard opens on the same page. Screenshots of each (paths printed), no CSP violation.
 */
import { adjustBalance, createApiKey } from '@tally/api';
import { and, createDatabase, eq, type Database } from '@tally/db';
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../src/browser';
import { startStack, type Stack } from '../src/stack';
import { screenshotRecorder, signIn, waitForText, watchCsp } from '../src/ui';

const { screenshot, taken: screenshots, path: shot } = screenshotRecorder('usage');

const DAY_MS = 86_400_000;
/** The month two months before this one (`YYYY-MM`), and its invoice's hosted page. */
const HISTORY_PERIOD = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() - 2, 1)).toISOString().slice(0, 7);
const HISTORY_INVOICE_URL = 'https://invoice.stripe.test/i/in_e2e_history';
const usd = (minor: number) => new Intl.NumberFormat('en-US', { style: 'currency', currency: 'usd' }).format(minor / 100);

/** Up to three UTC days of the current month ending today, oldest first, and a time on each that is not in the future. */
function usageDays(now: Date): { day: string; at: string }[] {
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const out: { day: string; at: string }[] = [];
  for (let back = 2; back >= 0; back--) {
    const dayStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - back * DAY_MS;
    if (dayStart < monthStart) continue;
    // Noon, or a minute after midnight for today when it is not noon yet (never in the future).
    const at = Math.min(dayStart + DAY_MS / 2, Math.max(dayStart, now.getTime() - 60_000));
    out.push({ day: new Date(dayStart).toISOString().slice(0, 10), at: new Date(at).toISOString() });
  }
  return out;
}

/** The number of bars recharts drew inside a chart (one path per non-zero bar). */
const barCount = (chart: Locator) => chart.locator('svg.recharts-surface .recharts-bar-rectangle path').count();

describe.each(['sqlite', 'postgres'] as const)('usage dashboards in the browser (%s)', (dialect) => {
  let stack: Stack;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    stack = await startStack(dialect);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await stack?.stop();
    if (screenshots.length) console.log(`usage screenshots (${dialect}):\n${screenshots.splice(0).join('\n')}`);
  });

  async function newPage() {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC', locale: 'en-US' });
    contexts.push(context);
    const page = await context.newPage();
    const csp = await watchCsp(page);
    return { page, csp };
  }

  /** Meters as an admin would create them (the meters domain has its own tests); keys of this test only. */
  async function setUp(db: Database) {
    const t = db.t;
    const [customer] = await db.q
      .select({ id: t.customers.id, name: t.customers.name, workspaceId: t.customers.workspaceId })
      .from(t.customers)
      .where(eq(t.customers.email, stack.demoSignIns.customer.email));
    expect(customer).toBeDefined();
    const [admin] = await db.q.select({ id: t.users.id, email: t.users.email }).from(t.users).where(eq(t.users.email, stack.demoSignIns.admin.email));
    const [workspace] = await db.q.select({ currency: t.workspaces.currency }).from(t.workspaces).where(eq(t.workspaces.id, customer!.workspaceId));
    expect(workspace?.currency).toBe('usd');
    const now = new Date();
    const meter = (key: string, fields: Record<string, unknown>) => ({
      id: randomUUID(),
      workspaceId: customer!.workspaceId,
      key,
      stripeMeterEventName: null,
      archivedAt: null,
      createdAt: now,
      updatedAt: now,
      ...fields,
    });
    const words = meter('e2e_stt_words', { displayName: 'Speech-to-text', unit: 'word', aggregation: 'sum', priceMinor: 100, blockSize: 1000, billingMode: 'invoice' });
    const calls = meter('e2e_api_calls', { displayName: 'API calls', unit: 'call', aggregation: 'count', priceMinor: 50, blockSize: 100, billingMode: 'prepaid' });
    await db.q.insert(t.meters).values([words, calls] as (typeof t.meters.$inferInsert)[]);
    // History: two months ago (closed to the API), 12,000 words in one daily rollup and the usage invoice Tally issued for them.
    await db.q.insert(t.usageDailyRollups).values({ customerId: customer!.id, meterId: words.id, day: `${HISTORY_PERIOD}-15`, workspaceId: customer!.workspaceId, quantity: 12_000, eventCount: 40, maxQuantity: 900, chargedMinor: 0 });
    await db.q.insert(t.usageInvoices).values({
      id: randomUUID(),
      workspaceId: customer!.workspaceId,
      customerId: customer!.id,
      period: HISTORY_PERIOD,
      status: 'issued',
      currency: 'usd',
      totalMinor: 1200,
      lines: '[]',
      source: 'period_close',
      stripeInvoiceId: 'in_e2e_history',
      stripeHostedInvoiceUrl: HISTORY_INVOICE_URL,
    });
    const inserted = await db.q.select({ key: t.meters.key }).from(t.meters).where(and(eq(t.meters.workspaceId, customer!.workspaceId), eq(t.meters.key, 'e2e_api_calls')));
    expect(inserted).toHaveLength(1);
    const [before] = await db.q.select({ amountMinor: t.customerBalances.amountMinor }).from(t.customerBalances).where(and(eq(t.customerBalances.customerId, customer!.id), eq(t.customerBalances.currency, 'usd')));
    await adjustBalance({
      db,
      workspaceId: customer!.workspaceId,
      currency: 'usd',
      actor: { userId: admin!.id, email: admin!.email },
      input: { customerId: customer!.id, amountMinor: 2000, reason: 'e2e prepaid credit' },
    });
    const apiKey = await createApiKey(db, { workspaceId: customer!.workspaceId, name: 'e2e usage reporter', mode: 'test' });
    return { customer: customer!, apiKey: apiKey.key, balanceBefore: Number(before?.amountMinor ?? 0) };
  }

  it('usage reported over HTTP shows on the customer dashboard (quantities, chart, cost) and on the admin usage page', async () => {
    const db = await createDatabase(stack.databaseUrl);
    let customer: { id: string; name: string; workspaceId: string };
    let apiKey: string;
    let balanceBefore: number;
    try {
      ({ customer, apiKey, balanceBefore } = await setUp(db));
    } finally {
      await db.close();
    }

    // --- Report usage through the HTTP API: 4,321 words over the days, 250 API calls.
    const days = usageDays(new Date());
    const words = days.length === 1 ? [[1200, 300, 2500, 321]] : days.length === 2 ? [[1200, 300], [2500, 321]] : [[1200, 300], [2500], [321]];
    const events: Record<string, unknown>[] = [];
    days.forEach(({ at }, i) => {
      for (const quantity of words[i]!) events.push({ customerId: customer.id, meter: 'e2e_stt_words', quantity, occurredAt: at, idempotencyKey: `e2e-stt-${i}-${quantity}` });
    });
    const callsPerDay = [100, 50, 100].slice(-days.length);
    if (days.length < 3) callsPerDay[callsPerDay.length - 1]! += 250 - callsPerDay.reduce((s, n) => s + n, 0);
    days.forEach(({ at }, i) => {
      for (let n = 0; n < callsPerDay[i]!; n++) events.push({ customerId: customer.id, meter: 'e2e_api_calls', quantity: 1, occurredAt: at, idempotencyKey: `e2e-call-${i}-${n}` });
    });
    // A retry of the first event (counted once) and an unknown meter (refused on its own).
    events.push({ ...events[0]! });
    events.push({ customerId: customer.id, meter: 'no_such_meter', quantity: 5, idempotencyKey: 'e2e-unknown' });
    const res = await fetch(`${stack.baseUrl}/api/v1/usage`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ events }),
    });
    const body = (await res.json()) as { accepted: number; duplicates: number; rejected: number; results: { status: string; code?: string }[] };
    expect(res.status, JSON.stringify(body).slice(0, 500)).toBe(200);
    expect(body).toMatchObject({ accepted: events.length - 2, duplicates: 1, rejected: 1 });
    expect(body.results.at(-1)).toMatchObject({ status: 'rejected', code: 'unknown_meter' });
    // Without a key: 401, nothing recorded.
    const anonymous = await fetch(`${stack.baseUrl}/api/v1/usage`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ events: [events[0]] }) });
    expect(anonymous.status).toBe(401);

    const customerPage = await newPage();
    const adminPage = await newPage();
    const c = customerPage.page;
    const a = adminPage.page;
    try {
      // --- The customer's dashboard.
      await signIn(c, stack.baseUrl, stack.demoSignIns.customer);
      await c.getByTestId('balance').waitFor({ timeout: 20_000 });
      await c.getByRole('link', { name: 'Usage', exact: true }).click();
      await c.getByRole('heading', { name: 'Usage', exact: true }).waitFor();
      const stt = c.getByTestId('usage-meter-e2e_stt_words');
      await waitForText(stt.getByTestId('usage-quantity'), '4,321 words');
      await waitForText(stt.getByTestId('usage-cost'), '$5.00'); // 5 blocks of 1,000, rounded up once
      await waitForText(stt.getByTestId('usage-projected'), '$', { contains: true });
      const calls = c.getByTestId('usage-meter-e2e_api_calls');
      await waitForText(calls.getByTestId('usage-quantity'), '250 calls');
      await waitForText(calls.getByTestId('usage-cost'), '$1.50'); // 3 blocks of 100 calls, charged from the balance
      // $20.00 credited, $1.50 charged; 150 charged in the 7-day window: 22 a day, 1,850 * 7 / 150 = 86 days.
      const balance = balanceBefore + 2000 - 150;
      await waitForText(c.getByTestId('usage-balance'), usd(balance), { contains: true });
      await waitForText(c.getByTestId('usage-runway'), `Lasts about ${Math.floor((balance * 7) / 150)} days at $0.22 a day`, { contains: true });
      // The charts: an SVG per meter, a bar per day with usage.
      for (const card of [stt, calls]) {
        const chart = card.getByTestId('usage-chart');
        await chart.locator('svg.recharts-surface').waitFor({ timeout: 20_000 });
        await expect.poll(() => barCount(chart), { timeout: 10_000 }).toBe(days.length);
      }
      // Past periods: the earlier month with its invoice link.
      const history = c.getByTestId(`usage-past-${HISTORY_PERIOD}`);
      await waitForText(history, '12,000 words', { contains: true });
      await waitForText(history, '$12.00', { contains: true });
      expect(await history.getByRole('link', { name: /View the invoice/ }).getAttribute('href')).toBe(HISTORY_INVOICE_URL);
      const box = await stt.locator('svg.recharts-surface').boundingBox();
      expect(box!.width).toBeGreaterThan(200);
      expect(box!.height).toBeGreaterThan(100);
      await screenshot(c, `${dialect}-1-customer-dashboard`);

      // --- The admin's overview, and the customer's dashboard from the top consumers.
      await signIn(a, stack.baseUrl, stack.demoSignIns.admin);
      await a.waitForURL(/\/admin/);
      await a.goto(`${stack.baseUrl}/admin/usage`);
      const sttRow = a.getByTestId('overview-meter-e2e_stt_words');
      await waitForText(sttRow, '4,321 words', { contains: true });
      await waitForText(sttRow, '$5.00', { contains: true });
      await waitForText(a.getByTestId('overview-meter-e2e_api_calls'), '$1.50', { contains: true });
      const overviewChart = a.getByTestId('overview-chart-e2e_stt_words').getByTestId('usage-chart');
      await expect.poll(() => barCount(overviewChart), { timeout: 10_000 }).toBe(days.length);
      const consumer = a.getByTestId('overview-top-consumers').getByRole('link', { name: customer.name });
      await consumer.waitFor();
      await screenshot(a, `${dialect}-2-admin-overview`);
      await consumer.click();
      await a.waitForURL(new RegExp(`/admin/usage\\?customer=${customer.id}`));
      await a.getByRole('heading', { name: `Usage: ${customer.name}` }).waitFor();
      await waitForText(a.getByTestId('usage-meter-e2e_stt_words').getByTestId('usage-quantity'), '4,321 words');
      await waitForText(a.getByTestId('usage-meter-e2e_api_calls').getByTestId('usage-cost'), '$1.50');
      await screenshot(a, `${dialect}-3-admin-customer-dashboard`);

      // --- The period picker: the earlier month's totals.
      await a.getByRole('link', { name: '← All usage' }).click();
      await a.getByLabel('Period').selectOption(HISTORY_PERIOD);
      await a.waitForURL(new RegExp(`/admin/usage\\?period=${HISTORY_PERIOD}`));
      await waitForText(a.getByTestId('overview-meter-e2e_stt_words'), '12,000 words', { contains: true });
      await waitForText(a.getByTestId('overview-meter-e2e_stt_words'), '$12.00', { contains: true });

      for (const { page, csp } of [customerPage, adminPage]) expect(await csp.violations(), `CSP violations on ${page.url()}`).toEqual([]);
    } catch (err) {
      for (const [name, { page }] of Object.entries({ customer: customerPage, admin: adminPage })) {
        await page.screenshot({ path: shot(`${dialect}-failure-${name}`), fullPage: true }).catch(() => undefined);
      }
      throw new Error(`${(err as Error).message}\n--- server log ---\n${stack.serverLog().slice(-20_000)}`, { cause: err });
    }
  });
});
