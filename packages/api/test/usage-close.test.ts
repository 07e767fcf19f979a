/**
 * Period close and Tally usage invoices (issue 9 item 5) against the real Stripe emulator, on
 * both dialects: aggregation and pricing of invoice-mode usage, one invoice per customer and
 * period whatever runs twice or races, resuming after an abort or a failing Stripe call with
 * each customer invoiced once on Stripe (counted in the emulator), the Stripe total equal to
 * Tally's, dry runs, late events refused after the close, the admin's manual invoice, leases,
 * the customer's invoice list, and bad input changing nothing.
 */
import { and, count, eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { startStripeEmulator, type StripeEmulator } from '@tally/stripe-emulator';
import { TRPCError } from '@trpc/server';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors';
import { newId } from '../src/ids';
import { listInvoicesForCustomer } from '../src/invoices/list-for-customer';
import type { StripeAccounts } from '../src/stripe/accounts';
import { closeUsagePeriod, type UsageCloseProgress } from '../src/usage/close-period';
import { generateUsageInvoice } from '../src/usage/generate-invoice';
import { recordUsage } from '../src/usage/ingest';
import { parseUsageInvoiceLines } from '../src/usage/issue-invoice';
import { acquireJobLease, releaseJobLease } from '../src/usage/job-lease';
import { findDemoCustomerId, seedDemoUsage } from '../src/usage/seed-demo-usage';
import { periodOf, previousPeriod } from '../src/usage/periods';
import { callerFor, seedTenants, testStripeAccounts } from './helpers';
import { creditBalance, insertMeter } from './usage-helpers';

const PERIOD = previousPeriod(periodOf(new Date()));
const IN_PERIOD = `${PERIOD}-15T10:00:00.000Z`;
const failure = (e: unknown) => (e instanceof AppError ? `${e.code}: ${e.message}` : e instanceof TRPCError ? `${e.code}: ${e.message}` : `unexpected: ${String(e)}`);

type Fault = (method: string, url: URL, body: string) => 'before' | 'after' | null;

/** A real SDK client on the emulator whose calls are counted and may be failed on purpose (`before`: never reaches Stripe; `after`: Stripe did it, the answer is lost). */
function faultyStripe(api: { host: string; port: number }) {
  const calls: string[] = [];
  let fault: Fault | null = null;
  const fetchFn: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    calls.push(`${method} ${url.pathname}`);
    const mode = fault?.(method, url, typeof init?.body === 'string' ? init.body : '') ?? null;
    if (mode === 'before') throw new TypeError('injected: connection refused');
    const res = await fetch(input, init);
    if (mode === 'after') {
      await res.text();
      throw new TypeError('injected: connection reset after the request');
    }
    return res;
  };
  const stripe = new Stripe('sk_test_usage_close_0001', { httpClient: Stripe.createFetchHttpClient(fetchFn), maxNetworkRetries: 0, host: api.host, port: api.port, protocol: 'http' });
  return { stripe, calls, setFault: (f: Fault | null) => (fault = f) };
}

describe.each(testDialects)('usage period close ($name)', ({ create }) => {
  let db: TestDatabase;
  let emulator: StripeEmulator;
  let plain: Stripe;
  let faulty: ReturnType<typeof faultyStripe>;
  let accounts: StripeAccounts;

  beforeAll(async () => {
    db = await create();
    emulator = await startStripeEmulator({ port: 0, statePath: null });
    const url = new URL(emulator.url);
    const api = { host: url.hostname, port: Number(url.port) };
    plain = new Stripe('sk_test_usage_close_0001', { host: api.host, port: api.port, protocol: 'http', maxNetworkRetries: 0 });
    faulty = faultyStripe(api);
    accounts = testStripeAccounts(faulty.stripe);
  });
  afterAll(async () => {
    await emulator.close();
    await db.destroy();
  });

  /** A workspace with an admin, two member customers, and meters of every kind. */
  async function workspace() {
    const ws = await seedTenants(db);
    const w = ws.workspaceId;
    const meters = {
      stt: await insertMeter(db, w, { key: 'stt_words', displayName: 'Speech-to-text', unit: 'word' }),
      tts: await insertMeter(db, w, { key: 'tts_words', displayName: 'Text-to-speech', unit: 'word' }),
      calls: await insertMeter(db, w, { key: 'api_calls', displayName: 'API calls', unit: 'call', aggregation: 'count', priceMinor: 10, blockSize: 100 }),
      peak: await insertMeter(db, w, { key: 'peak_agents', displayName: 'Peak agents', unit: 'agent', aggregation: 'max', priceMinor: 500, blockSize: 1 }),
      free: await insertMeter(db, w, { key: 'free_minutes', displayName: 'Free minutes', unit: 'minute', priceMinor: 0 }),
      prepaid: await insertMeter(db, w, { key: 'prepaid_words', displayName: 'Prepaid words', unit: 'word', billingMode: 'prepaid' }),
    };
    return { ...ws, meters };
  }

  async function customer(workspaceId: string, name = `c-${newId().slice(-6)}`) {
    const id = newId();
    await db.q.insert(db.t.customers).values({ id, workspaceId, name, email: `${name}@example.test` });
    return id;
  }

  async function record(workspaceId: string, events: Array<{ customerId: string; meter: string; quantity: number; occurredAt?: string }>) {
    const r = await recordUsage({ db, workspaceId, events: events.map((e) => ({ occurredAt: IN_PERIOD, idempotencyKey: `k-${newId()}`, ...e })) });
    expect(r.rejected, JSON.stringify(r.results.filter((x) => x.status === 'rejected'))).toBe(0);
    return r;
  }

  const invoicesOf = (workspaceId: string) =>
    db.q
      .select()
      .from(db.t.usageInvoices)
      .where(and(eq(db.t.usageInvoices.workspaceId, workspaceId), eq(db.t.usageInvoices.period, PERIOD)))
      .orderBy(db.t.usageInvoices.customerId);
  const periodRow = async (workspaceId: string) =>
    (await db.q.select().from(db.t.usagePeriods).where(and(eq(db.t.usagePeriods.workspaceId, workspaceId), eq(db.t.usagePeriods.period, PERIOD))))[0];
  const stripeCustomerOf = async (customerId: string) => (await db.q.select().from(db.t.customers).where(eq(db.t.customers.id, customerId)))[0]!.stripeCustomerId;
  /** The customer's invoices in the emulator (all statuses). */
  async function stripeInvoices(customerId: string): Promise<Stripe.Invoice[]> {
    const sc = await stripeCustomerOf(customerId);
    if (!sc) return [];
    return (await plain.invoices.list({ customer: sc, limit: 100 })).data;
  }
  const close = (workspaceId: string, extra: Partial<Parameters<typeof closeUsagePeriod>[0]> = {}) => closeUsagePeriod({ db, stripeAccounts: accounts, workspaceId, period: PERIOD, ...extra });

  it('bills invoice-mode usage once per customer, priced per period; Stripe totals equal Tally; a rerun creates and sends nothing', async () => {
    const ws = await workspace();
    const w = ws.workspaceId;
    const alice = ws.alice.customerId;
    const bob = ws.bob.customerId;
    const carol = await customer(w, 'carol');
    const dave = await customer(w, 'dave');
    await creditBalance(db, { workspaceId: w, customerId: carol, amountMinor: 10_000 });
    await record(w, [
      // 501 + 500 = 1,001 words: 2 blocks (rounded per period, not per event) = 200.
      { customerId: alice, meter: 'stt_words', quantity: 501 },
      { customerId: alice, meter: 'stt_words', quantity: 500, occurredAt: `${PERIOD}-28T23:59:59.000Z` },
      // 999 words: 1 block = 100.
      { customerId: alice, meter: 'tts_words', quantity: 999 },
      // 3 calls (count): 1 block of 100 = 10.
      ...[7, 0, 3].map((quantity) => ({ customerId: alice, meter: 'api_calls', quantity })),
      // max of 2 and 3 agents: 3 blocks of 1 at 500 = 1,500.
      { customerId: alice, meter: 'peak_agents', quantity: 2 },
      { customerId: alice, meter: 'peak_agents', quantity: 3 },
      // A quantity priced at 0: an empty invoice, never sent to Stripe.
      { customerId: bob, meter: 'free_minutes', quantity: 5 },
      // Prepaid only: already paid from the balance, no invoice.
      { customerId: carol, meter: 'prepaid_words', quantity: 2500 },
      // Zero quantity only: nothing to bill, no invoice.
      { customerId: dave, meter: 'stt_words', quantity: 0 },
    ]);
    // The month after is not part of the period.
    await record(w, [{ customerId: alice, meter: 'stt_words', quantity: 5000, occurredAt: new Date().toISOString() }]);

    const progress: UsageCloseProgress[] = [];
    const summary = await close(w, { onProgress: (p) => progress.push(p) });
    expect(summary).toEqual({ workspaceId: w, period: PERIOD, currency: 'usd', customers: 2, invoicesCreated: 2, invoicesExisting: 0, issued: 1, alreadyIssued: 0, failed: 0, empty: 1, totalMinor: 1810, dryRun: false });
    // Aggregation scans the workspace's 4 customers; 1 invoice has something to send to Stripe.
    expect(progress).toEqual([
      { phase: 'aggregate', done: 4, total: 4 },
      { phase: 'issue', done: 1, total: 1 },
    ]);

    const rows = await invoicesOf(w);
    const byCustomer = new Map(rows.map((r) => [r.customerId, r]));
    expect([...byCustomer.keys()].sort()).toEqual([alice, bob].sort());
    const a = byCustomer.get(alice)!;
    expect(a).toMatchObject({ status: 'issued', currency: 'usd', totalMinor: 1810, stripeTotalMinor: 1810, source: 'period_close', lastError: null });
    expect(parseUsageInvoiceLines(a.lines).map((l) => [l.meterKey, l.quantity, l.blocks, l.amountMinor])).toEqual([
      ['api_calls', 3, 1, 10],
      ['peak_agents', 3, 3, 1500],
      ['stt_words', 1001, 2, 200],
      ['tts_words', 999, 1, 100],
    ]);
    expect(byCustomer.get(bob)).toMatchObject({ status: 'empty', totalMinor: 0, stripeInvoiceId: null });
    expect(parseUsageInvoiceLines(byCustomer.get(bob)!.lines)).toMatchObject([{ meterKey: 'free_minutes', quantity: 5, amountMinor: 0 }]);
    expect(await stripeCustomerOf(bob)).toBeNull();

    // On Stripe: one finalized invoice, total equal to Tally's, one item per line, keyed metadata.
    const [invoice, ...more] = await stripeInvoices(alice);
    expect(more).toEqual([]);
    expect(invoice).toMatchObject({ id: a.stripeInvoiceId, status: 'open', total: 1810, currency: 'usd', collection_method: 'send_invoice', hosted_invoice_url: a.stripeHostedInvoiceUrl });
    expect(invoice!.metadata).toEqual({ tally_usage_invoice_id: a.id, tally_workspace_id: w, tally_customer_id: alice, tally_period: PERIOD });
    const lines = await plain.invoices.listLineItems(invoice!.id);
    expect(lines.data.map((l) => l.amount).sort((x, y) => x - y)).toEqual([10, 100, 200, 1500]);
    expect(lines.data.map((l) => l.description)).toContain(`Speech-to-text: 1,001 words (2 × 1,000 at $1.00), ${PERIOD}`);

    expect(await periodRow(w)).toMatchObject({ status: 'closed', closedAt: expect.any(Date) });
    expect(JSON.parse((await periodRow(w))!.summary!)).toMatchObject({ customers: 2, issued: 1, totalMinor: 1810 });

    // A late event for the closed period is refused; nothing changes.
    const late = await recordUsage({ db, workspaceId: w, events: [{ customerId: dave, meter: 'stt_words', quantity: 10, occurredAt: IN_PERIOD, idempotencyKey: `late-${newId()}` }] });
    expect(late.results[0]).toMatchObject({ status: 'rejected', code: 'period_closed' });

    // Run again: nothing new, nothing sent.
    const callsBefore = faulty.calls.length;
    const again = await close(w);
    expect(again).toMatchObject({ customers: 2, invoicesCreated: 0, invoicesExisting: 2, issued: 0, alreadyIssued: 1, failed: 0, empty: 1, totalMinor: 1810 });
    expect(faulty.calls.length).toBe(callsBefore);
    expect(await invoicesOf(w)).toEqual(rows.map((r) => ({ ...r, updatedAt: expect.any(Date) })));
    expect(await stripeInvoices(alice)).toHaveLength(1);
  });

  it('dry run computes the same numbers and changes nothing (no rows, no Stripe call, events still accepted)', async () => {
    const ws = await workspace();
    const w = ws.workspaceId;
    await record(w, [
      { customerId: ws.alice.customerId, meter: 'stt_words', quantity: 2000 },
      { customerId: ws.bob.customerId, meter: 'free_minutes', quantity: 1 },
    ]);
    const callsBefore = faulty.calls.length;
    const dry = await close(w, { dryRun: true });
    expect(dry).toEqual({ workspaceId: w, period: PERIOD, currency: 'usd', customers: 2, invoicesCreated: 2, invoicesExisting: 0, issued: 1, alreadyIssued: 0, failed: 0, empty: 1, totalMinor: 200, dryRun: true });
    expect(faulty.calls.length).toBe(callsBefore);
    expect(await invoicesOf(w)).toEqual([]);
    expect(await periodRow(w)).toBeUndefined();
    await record(w, [{ customerId: ws.alice.customerId, meter: 'stt_words', quantity: 1 }]);

    const real = await close(w);
    expect({ ...real, dryRun: true }).toEqual({ ...dry, totalMinor: 300 });
    // After the close, a dry run reports what exists and would send nothing more.
    expect(await close(w, { dryRun: true })).toMatchObject({ invoicesCreated: 0, invoicesExisting: 2, issued: 0, alreadyIssued: 1, dryRun: true });
  });

  it('aborted after N customers (onProgress throws) and rerun: every customer invoiced exactly once on Stripe', async () => {
    const ws = await workspace();
    const w = ws.workspaceId;
    const ids = [ws.alice.customerId, ws.bob.customerId];
    for (let i = 0; i < 6; i++) ids.push(await customer(w));
    await record(
      w,
      ids.map((customerId, i) => ({ customerId, meter: 'stt_words', quantity: 1000 * (i + 1) })),
    );
    await expect(
      close(w, {
        onProgress: (p) => {
          if (p.phase === 'issue' && p.done === 2) throw new Error('operator pressed Ctrl-C');
        },
      }),
    ).rejects.toThrow('operator pressed Ctrl-C');
    const midway = await invoicesOf(w);
    expect(midway).toHaveLength(8);
    const issuedMidway = midway.filter((r) => r.status === 'issued').length;
    expect(issuedMidway).toBeGreaterThanOrEqual(2);
    expect(issuedMidway).toBeLessThan(8);

    const rerun = await close(w);
    expect(rerun).toMatchObject({ customers: 8, invoicesCreated: 0, invoicesExisting: 8, issued: 8 - issuedMidway, alreadyIssued: issuedMidway, failed: 0 });
    for (const [i, id] of ids.entries()) {
      const invoices = await stripeInvoices(id);
      expect(invoices.map((inv) => [inv.status, inv.total])).toEqual([['open', 100 * (i + 1)]]);
    }
  });

  it('a failing Stripe call fails that customer only; a rerun resumes with the stored invoice (and finds one whose answer was lost)', async () => {
    const ws = await workspace();
    const w = ws.workspaceId;
    const alice = ws.alice.customerId;
    const bob = ws.bob.customerId;
    const carol = await customer(w, 'carol');
    await record(w, [
      { customerId: alice, meter: 'stt_words', quantity: 1500 },
      { customerId: alice, meter: 'tts_words', quantity: 10 },
      { customerId: bob, meter: 'stt_words', quantity: 3000 },
      { customerId: carol, meter: 'tts_words', quantity: 4000 },
    ]);
    // Make the Stripe customers first, so the faults can tell the customers apart.
    for (const id of [alice, bob, carol]) {
      const [c] = await db.q.select().from(db.t.customers).where(eq(db.t.customers.id, id));
      const sc = await plain.customers.create({ name: c!.name }, { idempotencyKey: `tally-customer-${id}` });
      await db.q.update(db.t.customers).set({ stripeCustomerId: sc.id }).where(eq(db.t.customers.id, id));
    }
    const scAlice = (await stripeCustomerOf(alice))!;
    const scCarol = (await stripeCustomerOf(carol))!;
    let aliceItems = 0;
    faulty.setFault((method, url, body) => {
      // Alice: her first item reaches Stripe, the second never does (invoice created and stored by then).
      if (method === 'POST' && url.pathname === '/v1/invoiceitems' && body.includes(scAlice)) return ++aliceItems === 2 ? 'before' : null;
      // Carol: Stripe creates her invoice but the answer is lost (a crash before the id is stored).
      if (method === 'POST' && url.pathname === '/v1/invoices' && body.includes(scCarol)) return 'after';
      return null;
    });
    const first = await close(w, { concurrency: 1 });
    faulty.setFault(null);
    expect(first).toMatchObject({ customers: 3, issued: 1, failed: 2 });
    const rows = new Map((await invoicesOf(w)).map((r) => [r.customerId, r]));
    expect(rows.get(bob)).toMatchObject({ status: 'issued' });
    expect(rows.get(alice)).toMatchObject({ status: 'failed', stripeInvoiceId: expect.stringMatching(/^in_/) });
    expect(rows.get(alice)!.lastError).toMatch(/^Stripe invoiceItems\.create failed \(StripeConnectionError/);
    expect(rows.get(carol)).toMatchObject({ status: 'failed', stripeInvoiceId: null });
    expect(rows.get(carol)!.lastError).toMatch(/^Stripe invoices\.create failed/);
    expect((await stripeInvoices(alice)).map((i) => i.status)).toEqual(['draft']);
    expect((await stripeInvoices(carol)).map((i) => i.status)).toEqual(['draft']);

    const second = await close(w);
    expect(second).toMatchObject({ customers: 3, issued: 2, alreadyIssued: 1, failed: 0 });
    for (const [id, total] of [
      [alice, 300],
      [bob, 300],
      [carol, 400],
    ] as const) {
      const invoices = await stripeInvoices(id);
      expect(invoices.map((i) => [i.status, i.total])).toEqual([['open', total]]);
      expect((await plain.invoices.listLineItems(invoices[0]!.id)).data).toHaveLength(id === alice ? 2 : 1);
    }
    const after = new Map((await invoicesOf(w)).map((r) => [r.customerId, r]));
    expect(after.get(alice)).toMatchObject({ status: 'issued', lastError: null, stripeInvoiceId: rows.get(alice)!.stripeInvoiceId, stripeTotalMinor: 300 });
  });

  it("a Stripe total that differs from Tally's marks the invoice failed and leaves the draft unfinalized", async () => {
    const ws = await workspace();
    const w = ws.workspaceId;
    await record(w, [{ customerId: ws.alice.customerId, meter: 'stt_words', quantity: 1000 }]);
    // Someone adds an item to the draft in Stripe right after Tally created it.
    const original = faulty.stripe.invoices.create.bind(faulty.stripe.invoices);
    faulty.stripe.invoices.create = (async (...args: Parameters<typeof original>) => {
      const inv = await original(...args);
      await plain.invoiceItems.create({ customer: String(inv.customer), invoice: inv.id, amount: 50, currency: 'usd', description: 'added by hand' });
      return inv;
    }) as typeof original;
    try {
      const summary = await close(w);
      expect(summary).toMatchObject({ issued: 0, failed: 1 });
    } finally {
      faulty.stripe.invoices.create = original;
    }
    const [row] = await invoicesOf(w);
    expect(row).toMatchObject({ status: 'failed', stripeTotalMinor: null });
    expect(row!.lastError).toBe(`Stripe's draft invoice ${row!.stripeInvoiceId} totals 150 usd but Tally's usage invoice totals 100 usd; left as a draft, not finalized (check its items in Stripe)`);
    expect((await stripeInvoices(ws.alice.customerId)).map((i) => [i.status, i.total])).toEqual([['draft', 150]]);
  });

  it('two closers racing (two connections, two processes) make one invoice per customer and one Stripe invoice each', async () => {
    const ws = await workspace();
    const w = ws.workspaceId;
    const ids = [ws.alice.customerId, ws.bob.customerId, await customer(w), await customer(w)];
    await record(
      w,
      ids.map((customerId) => ({ customerId, meter: 'tts_words', quantity: 1200 })),
    );
    // Another connection: another server process (closed by db.destroy()).
    const other = await db.connectAgain();
    const [x, y] = await Promise.all([close(w), closeUsagePeriod({ db: other, stripeAccounts: accounts, workspaceId: w, period: PERIOD })]);
    expect(x.invoicesCreated + y.invoicesCreated).toBe(4);
    expect(x.failed + y.failed).toBe(0);
    const rows = await invoicesOf(w);
    expect(rows.map((r) => r.status)).toEqual(['issued', 'issued', 'issued', 'issued']);
    for (const id of ids) expect((await stripeInvoices(id)).map((i) => [i.status, i.total])).toEqual([['open', 200]]);
    const [periods] = await db.q.select({ n: count() }).from(db.t.usagePeriods).where(eq(db.t.usagePeriods.workspaceId, w));
    expect(Number(periods!.n)).toBe(1);
  });

  it('a job lease goes to exactly one of two owners at once; it is renewed by its owner and taken over once expired', async () => {
    const name = `usage-close-test-${newId()}`;
    const now = new Date();
    const other = await db.connectAgain();
    const got = await Promise.all([acquireJobLease(db, { name, owner: 'a', ttlMs: 60_000, now }), acquireJobLease(other, { name, owner: 'b', ttlMs: 60_000, now })]);
    expect(got.filter(Boolean)).toHaveLength(1);
    const [holder] = await db.q.select().from(db.t.jobLeases).where(eq(db.t.jobLeases.name, name));
    const owner = holder!.owner;
    const rival = owner === 'a' ? 'b' : 'a';
    expect(await acquireJobLease(db, { name, owner: rival, ttlMs: 60_000, now: new Date(now.getTime() + 59_000) })).toBe(false);
    expect(await acquireJobLease(db, { name, owner, ttlMs: 60_000, now: new Date(now.getTime() + 30_000) })).toBe(true);
    // Renewed until now + 90 s: still held at now + 61 s, free after.
    expect(await acquireJobLease(db, { name, owner: rival, ttlMs: 60_000, now: new Date(now.getTime() + 61_000) })).toBe(false);
    expect(await acquireJobLease(db, { name, owner: rival, ttlMs: 60_000, now: new Date(now.getTime() + 91_000) })).toBe(true);
    expect(await releaseJobLease(db, { name, owner })).toBe(false);
    expect(await releaseJobLease(db, { name, owner: rival })).toBe(true);
    expect(await acquireJobLease(db, { name, owner, ttlMs: 1000, now })).toBe(true);
    await expect(acquireJobLease(db, { name, owner: '', ttlMs: 1000 })).rejects.toThrow('lease owner must be 1..200 characters');
    await expect(acquireJobLease(db, { name, owner, ttlMs: 0 })).rejects.toThrow('ttlMs must be a positive number');
  });

  it('Generate usage invoice: one customer, audited, idempotent; late events of that customer refused; the close later does not duplicate it', async () => {
    const ws = await workspace();
    const w = ws.workspaceId;
    const alice = ws.alice.customerId;
    const bob = ws.bob.customerId;
    await record(w, [
      { customerId: alice, meter: 'stt_words', quantity: 2500 },
      { customerId: bob, meter: 'stt_words', quantity: 100 },
    ]);
    const admin = callerFor(db, accounts, ws.admin, undefined, w);
    const made = (await admin.usage.generateInvoice({ customerId: alice, period: PERIOD })) as Awaited<ReturnType<typeof generateUsageInvoice>>;
    expect(made).toMatchObject({ created: true, outcome: 'issued', error: null, invoice: { customerId: alice, period: PERIOD, status: 'issued', source: 'manual', totalMinor: 300, stripeTotalMinor: 300 } });
    expect(made.invoice.lines).toMatchObject([{ meterKey: 'stt_words', quantity: 2500, blocks: 3, amountMinor: 300 }]);
    const audit = await db.q.select().from(db.t.auditLog).where(eq(db.t.auditLog.workspaceId, w)).orderBy(db.t.auditLog.id);
    expect(audit.map((a) => [a.action, a.targetId, a.actorLabel])).toEqual([
      ['usage_invoice.generate', made.invoice.id, ws.admin.email],
      ['usage_invoice.issue', made.invoice.id, ws.admin.email],
    ]);
    const [row] = await db.q.select().from(db.t.usageInvoices).where(eq(db.t.usageInvoices.id, made.invoice.id));
    expect(row!.createdByUserId).toBe(ws.admin.userId);

    // Late events: refused for alice (invoiced), still accepted for bob (period open).
    const late = await recordUsage({
      db,
      workspaceId: w,
      events: [
        { customerId: alice, meter: 'stt_words', quantity: 1, occurredAt: IN_PERIOD, idempotencyKey: `late-a-${newId()}` },
        { customerId: bob, meter: 'stt_words', quantity: 1, occurredAt: IN_PERIOD, idempotencyKey: `late-b-${newId()}` },
      ],
    });
    expect(late.results.map((r) => [r.status, r.status === 'rejected' ? r.code : null])).toEqual([
      ['rejected', 'period_closed'],
      ['accepted', null],
    ]);

    // Again: the same row, no Stripe call.
    const callsBefore = faulty.calls.length;
    const again = await generateUsageInvoice({ db, stripeAccounts: accounts, workspaceId: w, customerId: alice, period: PERIOD, actor: ws.admin });
    expect(again).toMatchObject({ created: false, outcome: 'already_issued', invoice: { id: made.invoice.id } });
    expect(faulty.calls.length).toBe(callsBefore);

    // The close keeps it and bills bob.
    const summary = await close(w);
    expect(summary).toMatchObject({ customers: 2, invoicesCreated: 1, invoicesExisting: 1, issued: 1, alreadyIssued: 1, totalMinor: 400 });
    expect((await stripeInvoices(alice)).map((i) => i.total)).toEqual([300]);
    expect((await stripeInvoices(bob)).map((i) => i.total)).toEqual([100]);
    expect((await invoicesOf(w)).map((r) => [r.customerId, r.source])).toEqual(
      [
        [alice, 'manual'],
        [bob, 'period_close'],
      ].sort((x, y) => (x[0]! < y[0]! ? -1 : 1)),
    );
  });

  it('bad input answers a clear error and changes nothing: malformed or open period, unknown workspace, foreign customer, nothing to invoice', async () => {
    const ws = await workspace();
    const other = await workspace();
    const w = ws.workspaceId;
    await record(w, [{ customerId: ws.alice.customerId, meter: 'stt_words', quantity: 10 }]);
    await record(other.workspaceId, [{ customerId: other.alice.customerId, meter: 'stt_words', quantity: 10 }]);
    const callsBefore = faulty.calls.length;
    const current = periodOf(new Date());
    const tries: Array<[() => Promise<unknown>, string]> = [
      [() => close(w, { period: '2026-13' }), 'BAD_REQUEST: period must be a month written YYYY-MM, e.g. 2026-05 (got "2026-13")'],
      [() => close(w, { period: current }), expect.stringMatching(new RegExp(`^BAD_REQUEST: The usage period ${current} has not ended yet \\(it ends \\S+Z\\); only an ended month can be invoiced$`)) as unknown as string],
      [() => close(newId()), 'NOT_FOUND: Workspace not found'],
      [() => generateUsageInvoice({ db, stripeAccounts: accounts, workspaceId: w, customerId: other.alice.customerId, period: PERIOD, actor: ws.admin }), 'NOT_FOUND: Customer not found'],
      [() => generateUsageInvoice({ db, stripeAccounts: accounts, workspaceId: w, customerId: ws.bob.customerId, period: PERIOD, actor: ws.admin }), `PRECONDITION_FAILED: This customer has no invoice-mode usage in ${PERIOD}: there is nothing to invoice`],
      [() => generateUsageInvoice({ db, stripeAccounts: accounts, workspaceId: w, customerId: ws.alice.customerId, period: current, actor: ws.admin }), expect.stringMatching(/^BAD_REQUEST: The usage period \d{4}-\d{2} has not ended yet/) as unknown as string],
      [() => callerFor(db, accounts, ws.admin, undefined, w).usage.generateInvoice({ customerId: other.alice.customerId, period: PERIOD }), 'NOT_FOUND: Customer not found'],
      [() => callerFor(db, accounts, ws.admin, undefined, w).usage.generateInvoice({ customerId: ws.alice.customerId, period: '26-01' }), expect.stringContaining('period must be a month written YYYY-MM') as unknown as string],
    ];
    for (const [attempt, expected] of tries) expect(await attempt().then(() => 'resolved', failure)).toEqual(expected);
    expect(faulty.calls.length).toBe(callsBefore);
    for (const id of [w, other.workspaceId]) {
      expect(await invoicesOf(id)).toEqual([]);
      expect(await periodRow(id)).toBeUndefined();
    }
    const audit = await db.q.select().from(db.t.auditLog).where(eq(db.t.auditLog.workspaceId, w));
    expect(audit).toEqual([]);
  });

  it("the customer's invoice list shows each usage invoice once (the Stripe mirror folded in), with period and lines; drafts and errors to admins only", async () => {
    const ws = await workspace();
    const w = ws.workspaceId;
    const alice = ws.alice.customerId;
    await record(w, [
      { customerId: alice, meter: 'stt_words', quantity: 1000 },
      { customerId: ws.bob.customerId, meter: 'stt_words', quantity: 1000 },
    ]);
    // The second customer's issuance fails (Stripe unreachable for a moment): it stays `failed`.
    let creates = 0;
    faulty.setFault((method, url) => (method === 'POST' && url.pathname === '/v1/customers' && ++creates === 2 ? 'before' : null));
    await close(w, { concurrency: 1 });
    faulty.setFault(null);
    const rows = new Map((await invoicesOf(w)).map((r) => [r.customerId, r]));
    const a = rows.get(alice)!;
    const b = rows.get(ws.bob.customerId)!;
    expect([a.status, b.status].sort()).toEqual(['failed', 'issued']);
    const issued = a.status === 'issued' ? a : b;
    const failedRow = a.status === 'issued' ? b : a;

    // What the webhooks write for the issued invoice: a mirror row with the same in_... id.
    const stripeInvoice = await plain.invoices.retrieve(issued.stripeInvoiceId!);
    await db.q.insert(db.t.invoices).values({
      id: newId(),
      workspaceId: w,
      customerId: issued.customerId,
      stripeInvoiceId: stripeInvoice.id,
      number: stripeInvoice.number,
      status: 'open',
      currency: 'usd',
      totalMinor: stripeInvoice.total,
      amountDueMinor: stripeInvoice.amount_due,
      amountRemainingMinor: stripeInvoice.amount_remaining,
      hostedInvoiceUrl: stripeInvoice.hosted_invoice_url,
      stripeCreated: new Date(stripeInvoice.created * 1000),
    });
    // And another Stripe invoice of the customer's (a subscription's), listed as usual.
    await db.q.insert(db.t.invoices).values({ id: newId(), workspaceId: w, customerId: issued.customerId, stripeInvoiceId: 'in_subscription_0001', status: 'paid', currency: 'usd', totalMinor: 1500 });

    const list = (customerId: string, audience: 'customer' | 'admin') => listInvoicesForCustomer({ db, workspaceId: w, customerId, audience, webUrl: 'http://localhost:5173' });
    const mine = await list(issued.customerId, 'customer');
    expect(mine.items.map((i) => [i.source, i.stripeInvoiceId])).toEqual(expect.arrayContaining([['tally_usage', stripeInvoice.id], ['stripe', 'in_subscription_0001']]));
    expect(mine.items).toHaveLength(2);
    const usage = mine.items.find((i) => i.source === 'tally_usage')!;
    expect(usage).toMatchObject({
      kind: 'stripe_invoice',
      id: issued.id,
      status: 'open',
      number: stripeInvoice.number,
      amountMinor: 100,
      amountRemainingMinor: 100,
      payUrl: stripeInvoice.hosted_invoice_url,
      description: `Usage for ${PERIOD}`,
      usage: { usageInvoiceId: issued.id, period: PERIOD, status: 'issued', generatedBy: 'period_close', lastError: null },
    });
    expect(usage.usage!.lines).toMatchObject([{ meterKey: 'stt_words', quantity: 1000, amountMinor: 100 }]);
    expect(usage.periodStart!.toISOString()).toBe(`${PERIOD}-01T00:00:00.000Z`);

    // The failed one: admins see it with its error, the customer does not.
    expect((await list(failedRow.customerId, 'customer')).items.filter((i) => i.source === 'tally_usage')).toEqual([]);
    const adminView = (await list(failedRow.customerId, 'admin')).items.filter((i) => i.source === 'tally_usage');
    expect(adminView).toMatchObject([{ status: 'failed', payUrl: null, usage: { status: 'failed', lastError: expect.stringMatching(/^Stripe customers\.create failed/) } }]);
  });

  it("seeds the demo customer's usage and last month's manual invoice, idempotently", async () => {
    const ws = await seedTenants(db);
    const w = ws.workspaceId;
    const demo = newId();
    await db.q.insert(db.t.customers).values({ id: demo, workspaceId: w, name: 'Voice SaaS', email: 'customer@demo.tally.test' });
    expect(await findDemoCustomerId(db, w)).toBe(demo);
    const first = await seedDemoUsage({ db, stripeAccounts: accounts, workspaceId: w, customerId: demo });
    expect(first.accepted).toBeGreaterThan(100);
    expect(first.invoice).toMatchObject({ created: true, outcome: 'issued', invoice: { period: PERIOD, source: 'manual', status: 'issued' } });
    expect(first.invoice!.invoice.lines.map((l) => l.meterKey)).toEqual(['stt_words', 'tts_words']);
    const events = await db.q.select({ n: count() }).from(db.t.usageEvents).where(eq(db.t.usageEvents.workspaceId, w));

    const second = await seedDemoUsage({ db, stripeAccounts: accounts, workspaceId: w, customerId: demo });
    expect(second.accepted).toBe(0);
    expect(second.invoice).toMatchObject({ created: false, outcome: 'already_issued', invoice: { id: first.invoice!.invoice.id } });
    expect(await db.q.select({ n: count() }).from(db.t.usageEvents).where(eq(db.t.usageEvents.workspaceId, w))).toEqual(events);
    expect(await stripeInvoices(demo)).toHaveLength(1);
    await expect(seedDemoUsage({ db, workspaceId: w, customerId: newId() })).rejects.toThrow('Customer not found');
  });

  it('the demo seed without Stripe leaves the invoice a draft for the close', async () => {
    const ws = await seedTenants(db);
    const result = await seedDemoUsage({ db, workspaceId: ws.workspaceId, customerId: ws.alice.customerId });
    expect(result.invoice).toMatchObject({ created: true, outcome: 'not_issued', invoice: { status: 'draft', stripeInvoiceId: null } });
    expect(await stripeCustomerOf(ws.alice.customerId)).toBeNull();
  });
});
