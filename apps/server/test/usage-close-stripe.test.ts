/**
 * The monthly usage close with the real stack (issue 9 item 5): the in-process Stripe emulator
 * delivering signed webhooks to the real Express app, two schedulers (two server processes on
 * two connections) racing for the month's run, the start-up catch-up, and the customer's
 * Invoices list once the webhooks have mirrored the issued invoice (shown once, as the usage
 * invoice, with Stripe's status and pay link), on both dialects.
 */
import { generateUsageInvoice, periodOf, previousPeriod, recordUsage, silentLogger } from '@tally/api';
import { and, eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { newId } from '../../../packages/api/src/ids';
import { insertMeter } from '../../../packages/api/test/usage-helpers';
import { startUsageCloseScheduler, USAGE_CLOSE_LEASE } from '../src/jobs/usage-close';
import { startSubscriptionStack, type SubscriptionStack } from './subscription-harness';

vi.setConfig({ testTimeout: 60_000 });

const PERIOD = previousPeriod(periodOf(new Date()));
const IN_PERIOD = `${PERIOD}-20T08:00:00.000Z`;

describe.each(testDialects)('usage close with Stripe and webhooks ($name)', ({ create }) => {
  let db: TestDatabase;
  let stack: SubscriptionStack;
  beforeAll(async () => {
    db = await create();
    stack = await startSubscriptionStack(db);
    await insertMeter(db, stack.workspaceId, { key: 'stt_words', displayName: 'Speech-to-text', unit: 'word' });
    await insertMeter(db, stack.workspaceId, { key: 'tts_words', displayName: 'Text-to-speech', unit: 'word' });
  });
  afterAll(async () => {
    await stack.close();
    await db.destroy();
  });

  const invoicesOf = (workspaceId: string) =>
    db.q
      .select()
      .from(db.t.usageInvoices)
      .where(and(eq(db.t.usageInvoices.workspaceId, workspaceId), eq(db.t.usageInvoices.period, PERIOD)));

  it('two schedulers race for the monthly run: one closes, the other skips; each customer gets one Stripe invoice; the list shows it once, paid once Stripe says so', async () => {
    const customers = [await stack.newCustomer(), await stack.newCustomer(), await stack.newCustomer()];
    const r = await recordUsage({
      db,
      workspaceId: stack.workspaceId,
      events: customers.flatMap((c, i) => [
        { customerId: c.customerId, meter: 'stt_words', quantity: 1000 * (i + 1) + 1, occurredAt: IN_PERIOD, idempotencyKey: `s-${newId()}` },
        { customerId: c.customerId, meter: 'tts_words', quantity: 10, occurredAt: IN_PERIOD, idempotencyKey: `t-${newId()}` },
      ]),
    });
    expect(r.accepted).toBe(6);

    const other = await db.connectAgain();
    const a = startUsageCloseScheduler({ db, stripeAccounts: stack.stripeAccounts, logger: silentLogger, owner: 'process-a', catchUpDelayMs: null });
    const b = startUsageCloseScheduler({ db: other, stripeAccounts: stack.stripeAccounts, logger: silentLogger, owner: 'process-b', catchUpDelayMs: null });
    try {
      // The schedule: 00:15 UTC on the 1st of next month.
      const next = a.nextRun()!;
      expect(next.toISOString()).toMatch(/^\d{4}-\d{2}-01T00:15:00\.000Z$/);
      expect(next.getTime()).toBeGreaterThan(Date.now());

      const runs = await Promise.all([a.runNow(), b.runNow()]);
      const ran = runs.find((x) => x.status === 'ran')!;
      const skipped = runs.find((x) => x !== ran)!;
      // The loser either found the lease held, or (had the winner already finished) the period closed.
      expect(skipped.status === 'busy' || skipped.workspaces.every((w) => w.outcome === 'skipped')).toBe(true);
      expect(ran.period).toBe(PERIOD);
      const mine = ran.workspaces.find((w) => w.workspaceId === stack.workspaceId);
      expect(mine).toMatchObject({ outcome: 'closed', summary: { customers: 3, invoicesCreated: 3, issued: 3, failed: 0, totalMinor: 200 + 300 + 400 + 3 * 100 } });
      // The lease was given back.
      expect(await db.q.select().from(db.t.jobLeases).where(eq(db.t.jobLeases.name, USAGE_CLOSE_LEASE))).toEqual([]);

      // Run again: nothing to do.
      expect((await a.runNow()).workspaces.find((w) => w.workspaceId === stack.workspaceId)).toEqual({ workspaceId: stack.workspaceId, outcome: 'skipped', reason: 'already closed' });
    } finally {
      await a.stop();
      await b.stop();
    }
    expect(a.nextRun()).toBeNull();

    await stack.settle();
    for (const [i, c] of customers.entries()) {
      const invoices = (await stack.stripe.invoices.list({ customer: c.stripeCustomerId })).data;
      expect(invoices.map((inv) => [inv.status, inv.total])).toEqual([['open', 100 * (i + 2) + 100]]);
    }

    // The customer's Invoices page: the usage invoice once (the webhooks mirrored it too).
    const c0 = customers[0]!;
    const [row] = (await invoicesOf(stack.workspaceId)).filter((x) => x.customerId === c0.customerId);
    const mirrored = await db.q.select().from(db.t.invoices).where(eq(db.t.invoices.stripeInvoiceId, row!.stripeInvoiceId!));
    expect(mirrored).toHaveLength(1);
    const listed = (await stack.caller(c0.actor).invoice.list()).items;
    expect(listed.map((x) => [x.source, x.stripeInvoiceId, x.status])).toEqual([['tally_usage', row!.stripeInvoiceId, 'open']]);
    expect(listed[0]).toMatchObject({ id: row!.id, amountMinor: 300, amountRemainingMinor: 300, payUrl: expect.stringContaining(row!.stripeInvoiceId!), usage: { period: PERIOD, status: 'issued' } });
    expect(listed[0]!.usage!.lines.map((l) => [l.meterKey, l.quantity, l.amountMinor])).toEqual([
      ['stt_words', 1001, 200],
      ['tts_words', 10, 100],
    ]);

    // Paid in Stripe: the webhooks move the mirror, and the list follows.
    await stack.stripe.invoices.pay(row!.stripeInvoiceId!, { paid_out_of_band: true });
    await stack.settle();
    const paid = (await stack.caller(c0.actor).invoice.list()).items;
    expect(paid.map((x) => [x.source, x.status, x.amountRemainingMinor, x.payUrl])).toEqual([['tally_usage', 'paid', 0, null]]);
    // Admins see the same single row.
    expect((await stack.caller(stack.admin).invoice.listForCustomer({ customerId: c0.customerId })).items.map((x) => x.source)).toEqual(['tally_usage']);
  });

  it('catches up at start: a scheduler started after the month ended closes it by itself (a manual invoice made before is kept)', async () => {
    const ws = await db.q.insert(db.t.workspaces).values({ id: newId(), name: 'Late', slug: `late-${newId()}`, currency: 'usd' }).returning();
    const workspaceId = ws[0]!.id;
    await insertMeter(db, workspaceId, { key: 'stt_words' });
    const ids = [newId(), newId()];
    for (const id of ids) await db.q.insert(db.t.customers).values({ id, workspaceId, name: `late-${id.slice(-4)}`, email: `late-${id}@example.test` });
    await recordUsage({ db, workspaceId, events: ids.map((customerId) => ({ customerId, meter: 'stt_words', quantity: 500, occurredAt: IN_PERIOD, idempotencyKey: `c-${newId()}` })) });
    const manual = await generateUsageInvoice({ db, stripeAccounts: stack.stripeAccounts, workspaceId, customerId: ids[0]!, period: PERIOD, actor: 'cli' });
    expect(manual).toMatchObject({ created: true, outcome: 'issued' });

    const scheduler = startUsageCloseScheduler({ db, stripeAccounts: stack.stripeAccounts, logger: silentLogger, owner: 'process-c', schedule: null, catchUpDelayMs: 0 });
    try {
      await vi.waitFor(
        async () => {
          const [p] = await db.q.select().from(db.t.usagePeriods).where(and(eq(db.t.usagePeriods.workspaceId, workspaceId), eq(db.t.usagePeriods.period, PERIOD)));
          expect(p?.status).toBe('closed');
          expect((await invoicesOf(workspaceId)).map((x) => x.status)).toEqual(['issued', 'issued']);
        },
        { timeout: 20_000, interval: 100 },
      );
    } finally {
      await scheduler.stop();
    }
    expect(scheduler.nextRun()).toBeNull();
    const rows = await invoicesOf(workspaceId);
    expect(rows.map((x) => [x.customerId, x.source]).sort()).toEqual(
      [
        [ids[0], 'manual'],
        [ids[1], 'period_close'],
      ].sort(),
    );
    // One Stripe invoice each (the manual one was not issued again).
    for (const id of ids) {
      const [c] = await db.q.select().from(db.t.customers).where(eq(db.t.customers.id, id));
      expect((await stack.stripe.invoices.list({ customer: c!.stripeCustomerId! })).data.map((i) => i.total)).toEqual([100]);
    }
  });
});
