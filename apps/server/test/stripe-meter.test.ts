/**
 * Stripe meter mode (issue 9): usage of a `stripe_meter` meter goes through the outbox to a
 * Stripe Billing Meter. The real `stripe` SDK against the in-process emulator, both dialects:
 * events arrive with their idempotency keys as identifiers; a duplicate is sent once; Stripe
 * down leaves rows pending with backoff until it is back; permanent refusals end `dead`; and a
 * metered subscription price bills, at the period end, exactly Tally's rollup cost.
 */
import { combineTotals, costMinor, aggregateQuantity, drainStripeMeterOutbox, periodOf, recordUsage, silentLogger, type StripeAccounts } from '@tally/api';
import { and, eq, type Meter } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { startStripeEmulator, type StripeEmulator } from '@tally/stripe-emulator';
import { createServer } from 'node:net';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../../packages/api/src/ids';
import { seedTenants } from '../../../packages/api/test/helpers';
import { insertMeter } from '../../../packages/api/test/usage-helpers';
import { startStripeMeterWorker } from '../src/jobs/stripe-meter-worker';
import { serverStripeAccounts, TEST_KEYRING } from './harness';

const DAY = 86_400;

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.each(testDialects)('stripe meter outbox ($name)', ({ create }) => {
  let db: TestDatabase;
  let emulator: StripeEmulator;
  let stripe: Stripe;
  let accounts: StripeAccounts;
  let downAccounts: StripeAccounts;
  let seq = 0;

  beforeAll(async () => {
    db = await create();
    emulator = await startStripeEmulator({ port: 0, statePath: null });
    const url = new URL(emulator.url);
    const where = { host: url.hostname, port: Number(url.port) };
    stripe = new Stripe('sk_test_stripe_meter_outbox_01', { ...where, protocol: 'http', maxNetworkRetries: 0 });
    accounts = serverStripeAccounts({ stripe, api: where, keyring: TEST_KEYRING });
    const down = new Stripe('sk_test_stripe_meter_outbox_01', { host: '127.0.0.1', port: await closedPort(), protocol: 'http', maxNetworkRetries: 0 });
    downAccounts = serverStripeAccounts({ stripe: down, keyring: TEST_KEYRING });
  });
  afterAll(async () => {
    await emulator.close();
    await db.destroy();
  });

  /** A workspace with a Stripe meter and a matching Tally `stripe_meter` meter, and two customers with Stripe customers. */
  async function setup({ testClockAt }: { testClockAt?: number } = {}) {
    const tenants = await seedTenants(db);
    const eventName = `tally_words_${++seq}_${Date.now()}`;
    const stripeMeter = await stripe.billing.meters.create({ display_name: 'Words', event_name: eventName, default_aggregation: { formula: 'sum' } });
    const meter: Meter = await insertMeter(db, tenants.workspaceId, { key: 'words', billingMode: 'stripe_meter', stripeMeterEventName: eventName, priceMinor: 100, blockSize: 1000 });
    const link = async (customerId: string) => {
      const clock = testClockAt === undefined ? null : await stripe.testHelpers.testClocks.create({ frozen_time: testClockAt });
      const customer = await stripe.customers.create({
        email: `${customerId}@example.test`,
        ...(clock ? { test_clock: clock.id, payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } } : {}),
      });
      await db.q.update(db.t.customers).set({ stripeCustomerId: customer.id }).where(eq(db.t.customers.id, customerId));
      return { customerId, stripeCustomerId: customer.id, clockId: clock?.id ?? null };
    };
    return { workspaceId: tenants.workspaceId, meter, stripeMeter, alice: await link(tenants.alice.customerId), bob: await link(tenants.bob.customerId) };
  }

  const outbox = (workspaceId: string) => db.q.select().from(db.t.stripeMeterOutbox).where(eq(db.t.stripeMeterOutbox.workspaceId, workspaceId)).orderBy(db.t.stripeMeterOutbox.identifier);
  const sentTo = (eventName: string) =>
    emulator
      .meterEvents()
      .filter((m) => m.event.event_name === eventName)
      .map((m) => ({ identifier: m.event.identifier, customer: m.event.payload.stripe_customer_id, value: m.event.payload.value, counted: m.meter !== null, error: m.error }))
      .sort((a, b) => (a.identifier < b.identifier ? -1 : 1));
  /** The Stripe meter's aggregate for a customer over the hour around now (summaries are minute-aligned). */
  async function summary(meterId: string, customer: string): Promise<number> {
    const minute = Math.floor(Date.now() / 60_000) * 60;
    const page = await stripe.billing.meters.listEventSummaries(meterId, { customer, start_time: minute - 3600, end_time: minute + 3600 });
    return page.data[0]?.aggregated_value ?? 0;
  }

  it('sends each accepted event once, with its idempotency key as identifier, value and timestamp', async () => {
    const { workspaceId, meter, stripeMeter, alice, bob } = await setup();
    const occurredAt = new Date(Date.now() - 90_000);
    const longKey = `k-${'x'.repeat(150)}`;
    const events = [
      { customerId: alice.customerId, meter: 'words', quantity: 1001, idempotencyKey: 'a-1', occurredAt: occurredAt.toISOString() },
      { customerId: alice.customerId, meter: 'words', quantity: 999, idempotencyKey: 'a-2' },
      { customerId: bob.customerId, meter: 'words', quantity: 5, idempotencyKey: 'b-1' },
      { customerId: bob.customerId, meter: 'words', quantity: 7, idempotencyKey: longKey },
    ];
    const first = await recordUsage({ db, workspaceId, events });
    expect(first).toMatchObject({ accepted: 4, duplicates: 0, rejected: 0 });
    expect((await outbox(workspaceId)).map((r) => [r.identifier, r.status, r.value, r.eventName])).toEqual([
      ['a-1', 'pending', 1001, meter.stripeMeterEventName],
      ['a-2', 'pending', 999, meter.stripeMeterEventName],
      ['b-1', 'pending', 5, meter.stripeMeterEventName],
      [longKey, 'pending', 7, meter.stripeMeterEventName],
    ]);
    expect(sentTo(stripeMeter.event_name)).toEqual([]); // ingestion never waits for Stripe

    // The same batch again: duplicates, no new outbox rows.
    expect(await recordUsage({ db, workspaceId, events })).toMatchObject({ accepted: 0, duplicates: 4 });
    expect(await outbox(workspaceId)).toHaveLength(4);

    const result = await drainStripeMeterOutbox({ db, stripeAccounts: accounts });
    expect(result).toMatchObject({ claimed: 4, sent: 4, failed: 0, dead: 0, deferred: 0 });
    const hashed = expect.stringMatching(/^tally-sha256-[0-9a-f]{64}$/);
    expect(sentTo(stripeMeter.event_name)).toEqual([
      { identifier: 'a-1', customer: alice.stripeCustomerId, value: '1001', counted: true, error: null },
      { identifier: 'a-2', customer: alice.stripeCustomerId, value: '999', counted: true, error: null },
      { identifier: 'b-1', customer: bob.stripeCustomerId, value: '5', counted: true, error: null },
      { identifier: hashed, customer: bob.stripeCustomerId, value: '7', counted: true, error: null },
    ]);
    const a1 = emulator.meterEvents().find((m) => m.event.identifier === 'a-1')!;
    expect(a1.event.timestamp).toBe(Math.floor(occurredAt.getTime() / 1000));
    expect(await summary(stripeMeter.id, alice.stripeCustomerId)).toBe(2000);
    expect(await summary(stripeMeter.id, bob.stripeCustomerId)).toBe(12);
    const rows = await outbox(workspaceId);
    expect(rows.every((r) => r.status === 'sent' && r.sentAt !== null && r.attempts === 0 && r.lastError === null)).toBe(true);

    // Nothing left: a second pass sends nothing; a duplicate recorded later adds nothing either.
    expect(await drainStripeMeterOutbox({ db, stripeAccounts: accounts })).toMatchObject({ claimed: 0, sent: 0 });
    expect(await recordUsage({ db, workspaceId, events: [events[0]] })).toMatchObject({ duplicates: 1 });
    expect(await drainStripeMeterOutbox({ db, stripeAccounts: accounts })).toMatchObject({ claimed: 0 });
    expect(sentTo(stripeMeter.event_name)).toHaveLength(4);
  });

  it('a row sent but not marked (crash after the send) is resent once and taken as sent on Stripe\'s duplicate answer', async () => {
    const { workspaceId, stripeMeter, alice } = await setup();
    await recordUsage({ db, workspaceId, events: [{ customerId: alice.customerId, meter: 'words', quantity: 40, idempotencyKey: 'crash-1' }] });
    expect(await drainStripeMeterOutbox({ db, stripeAccounts: accounts })).toMatchObject({ sent: 1 });
    // The process died between Stripe's 200 and the UPDATE: the row is pending again.
    const o = db.t.stripeMeterOutbox;
    await db.q.update(o).set({ status: 'pending', sentAt: null, nextAttemptAt: new Date(Date.now() - 1000) }).where(eq(o.workspaceId, workspaceId));
    expect(await drainStripeMeterOutbox({ db, stripeAccounts: accounts })).toMatchObject({ claimed: 1, sent: 1, failed: 0, dead: 0 });
    expect(sentTo(stripeMeter.event_name).map((e) => e.identifier)).toEqual(['crash-1']);
    expect(await summary(stripeMeter.id, alice.stripeCustomerId)).toBe(40);
    expect((await outbox(workspaceId))[0]).toMatchObject({ status: 'sent', attempts: 0 });
  });

  it('two workers draining at once send every row exactly once', async () => {
    const { workspaceId, stripeMeter, alice } = await setup();
    const events = Array.from({ length: 30 }, (_, i) => ({ customerId: alice.customerId, meter: 'words', quantity: i + 1, idempotencyKey: `race-${String(i).padStart(2, '0')}` }));
    await recordUsage({ db, workspaceId, events });
    const other = await db.connectAgain(); // closed by db.destroy()
    const [a, b] = await Promise.all([
      drainStripeMeterOutbox({ db, stripeAccounts: accounts, limit: 20 }),
      drainStripeMeterOutbox({ db: other, stripeAccounts: accounts, limit: 20 }),
    ]);
    const rest = await drainStripeMeterOutbox({ db, stripeAccounts: accounts });
    expect(a.claimed + b.claimed + rest.claimed).toBe(30);
    expect(a.sent + b.sent + rest.sent).toBe(30);
    // Every identifier reached Stripe once: no duplicate answer was needed to hide a double send.
    expect(sentTo(stripeMeter.event_name).map((e) => e.identifier)).toEqual(events.map((e) => e.idempotencyKey));
    expect(await summary(stripeMeter.id, alice.stripeCustomerId)).toBe((30 * 31) / 2);
  });

  it('Stripe down: rows stay pending with attempts and backoff, and drain when it is back', async () => {
    const { workspaceId, stripeMeter, alice } = await setup();
    const now = new Date();
    await recordUsage({ db, workspaceId, now, events: [1, 2, 3].map((n) => ({ customerId: alice.customerId, meter: 'words', quantity: n, idempotencyKey: `down-${n}` })) });

    const r1 = await drainStripeMeterOutbox({ db, stripeAccounts: downAccounts, now, policy: { retryDelaysMs: [10_000, 60_000, 300_000], permanentMaxAttempts: 5, leaseMs: 60_000, concurrency: 1 } });
    // The first send fails to connect; the other two are not tried against a Stripe that is down.
    expect(r1).toMatchObject({ claimed: 3, sent: 0, failed: 1, dead: 0, deferred: 2 });
    let rows = await outbox(workspaceId);
    expect(rows.map((r) => r.status)).toEqual(['pending', 'pending', 'pending']);
    expect(rows.map((r) => r.attempts)).toEqual([1, 0, 0]);
    expect(rows[0]!.lastError).toMatch(/connect|ECONNREFUSED|Stripe/i);
    expect(rows[1]!.lastError).toMatch(/^not tried: Stripe failed for another event/);
    const retryAt = rows[0]!.nextAttemptAt.getTime();
    expect(retryAt - now.getTime()).toBeGreaterThanOrEqual(10_000);
    expect(retryAt - now.getTime()).toBeLessThan(10_000 + 30_000);
    expect(rows.every((r) => r.nextAttemptAt.getTime() === retryAt)).toBe(true);
    expect(sentTo(stripeMeter.event_name)).toEqual([]);

    // Before the backoff passes nothing is due, even with Stripe back.
    expect(await drainStripeMeterOutbox({ db, stripeAccounts: accounts, now: new Date(retryAt - 1) })).toMatchObject({ claimed: 0 });
    // Still down at the retry: the second failure backs off further (1 min).
    const at2 = new Date(retryAt);
    const r2 = await drainStripeMeterOutbox({ db, stripeAccounts: downAccounts, now: at2, policy: { retryDelaysMs: [10_000, 60_000, 300_000], permanentMaxAttempts: 5, leaseMs: 60_000, concurrency: 1 } });
    expect(r2).toMatchObject({ claimed: 3, failed: 1, deferred: 2 });
    rows = await outbox(workspaceId);
    expect(rows[0]!.attempts).toBe(2);
    expect(rows[0]!.nextAttemptAt.getTime() - Math.max(at2.getTime(), Date.now())).toBeLessThanOrEqual(60_000);
    expect(rows[0]!.nextAttemptAt.getTime() - at2.getTime()).toBeGreaterThanOrEqual(60_000);

    // Back: everything drains, counted once.
    const r3 = await drainStripeMeterOutbox({ db, stripeAccounts: accounts, now: rows[0]!.nextAttemptAt });
    expect(r3).toMatchObject({ claimed: 3, sent: 3, failed: 0 });
    expect((await outbox(workspaceId)).map((r) => [r.status, r.lastError])).toEqual([
      ['sent', null],
      ['sent', null],
      ['sent', null],
    ]);
    expect(await summary(stripeMeter.id, alice.stripeCustomerId)).toBe(6);
  });

  it('outside Stripe\'s window or refused for good: dead, without retrying forever', async () => {
    const { workspaceId, stripeMeter, alice } = await setup();
    const o = db.t.stripeMeterOutbox;
    const row = (over: Partial<typeof o.$inferInsert>) => ({
      id: newId(),
      workspaceId,
      usageEventId: newId(),
      eventName: stripeMeter.event_name,
      stripeCustomerId: alice.stripeCustomerId,
      value: 3,
      identifier: `id-${newId()}`,
      occurredAt: new Date(),
      status: 'pending',
      attempts: 0,
      nextAttemptAt: new Date(Date.now() - 1000),
      createdAt: new Date(),
      ...over,
    });
    const old = row({ identifier: 'too-old', occurredAt: new Date(Date.now() - 36 * DAY * 1000) });
    const badName = row({ identifier: 'bad-name', eventName: 'x'.repeat(101) }); // Stripe: event_name is at most 100 characters
    await db.q.insert(o).values([old, badName]);

    const policy = { retryDelaysMs: [10_000], permanentMaxAttempts: 3, leaseMs: 60_000, concurrency: 2 };
    let now = new Date();
    const r1 = await drainStripeMeterOutbox({ db, stripeAccounts: accounts, now, policy });
    expect(r1).toMatchObject({ dead: 1, failed: 1, sent: 0 });
    const get = async (id: string) => (await db.q.select().from(o).where(eq(o.id, id)))[0]!;
    expect(await get(old.id)).toMatchObject({ status: 'dead', attempts: 0, lastError: expect.stringMatching(/more than 35 days/) });
    expect(await get(badName.id)).toMatchObject({ status: 'pending', attempts: 1, lastError: expect.stringMatching(/^400/) });
    for (let attempt = 2; attempt <= 3; attempt++) {
      now = new Date((await get(badName.id)).nextAttemptAt.getTime());
      await drainStripeMeterOutbox({ db, stripeAccounts: accounts, now, policy });
    }
    expect(await get(badName.id)).toMatchObject({ status: 'dead', attempts: 3 });
    now = new Date(now.getTime() + DAY * 1000);
    expect(await drainStripeMeterOutbox({ db, stripeAccounts: accounts, now, policy })).toMatchObject({ claimed: 0, dead: 0 });
    expect(sentTo(stripeMeter.event_name)).toEqual([]);
  });

  it('Stripe answers timestamp_too_far_in_past (a test-clock customer 40 days ahead): dead at once', async () => {
    const { workspaceId, stripeMeter, alice } = await setup({ testClockAt: Math.floor(Date.now() / 1000) + 40 * DAY });
    await recordUsage({ db, workspaceId, events: [{ customerId: alice.customerId, meter: 'words', quantity: 9, idempotencyKey: 'clocked-1' }] });
    expect(await drainStripeMeterOutbox({ db, stripeAccounts: accounts })).toMatchObject({ claimed: 1, dead: 1, failed: 0 });
    expect((await outbox(workspaceId))[0]).toMatchObject({ status: 'dead', attempts: 1, lastError: expect.stringMatching(/timestamp_too_far_in_past/) });
    expect(sentTo(stripeMeter.event_name)).toEqual([]);
  });

  it('the worker drains on its timer, never overlaps, and stop() waits for the pass in flight', async () => {
    const { workspaceId, stripeMeter, alice } = await setup();
    // A pass opens the workspace's Stripe first and logs "drained" last: count passes in flight.
    let inFlight = 0;
    let maxInFlight = 0;
    const watched: StripeAccounts = {
      ...accounts,
      forWorkspace: async (d, id) => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 15)); // widen the window an overlap would need
        return accounts.forWorkspace(d, id);
      },
    };
    const logger = { ...silentLogger, info: (_f: Record<string, unknown>, message: string) => void (message === 'stripe meter events drained' && (inFlight -= 1)) };
    const worker = startStripeMeterWorker({ db, stripeAccounts: watched, logger, intervalMs: 5, limit: 5 });
    try {
      await recordUsage({ db, workspaceId, events: Array.from({ length: 12 }, (_, i) => ({ customerId: alice.customerId, meter: 'words', quantity: 10, idempotencyKey: `w-${String(i).padStart(2, '0')}` })) });
      // Full passes (5 rows) are followed at once by another: one drainNow empties the outbox.
      await Promise.all([worker.drainNow(), worker.drainNow()]);
      expect((await outbox(workspaceId)).map((r) => r.status)).toEqual(Array(12).fill('sent'));
      await recordUsage({ db, workspaceId, events: [{ customerId: alice.customerId, meter: 'words', quantity: 5, idempotencyKey: 'w-timer' }] });
      for (let i = 0; i < 200 && (await outbox(workspaceId)).some((r) => r.status !== 'sent'); i++) await new Promise((r) => setTimeout(r, 10));
      expect((await outbox(workspaceId)).every((r) => r.status === 'sent')).toBe(true); // the timer sent the last one
    } finally {
      await worker.stop();
    }
    expect(inFlight).toBe(0); // stop() returned after the pass in flight finished
    expect(maxInFlight).toBe(1);
    expect(await worker.drainNow()).toMatchObject({ claimed: 0 });
    await recordUsage({ db, workspaceId, events: [{ customerId: alice.customerId, meter: 'words', quantity: 1, idempotencyKey: 'after-stop' }] });
    await new Promise((r) => setTimeout(r, 50));
    expect((await outbox(workspaceId)).find((r) => r.identifier === 'after-stop')!.status).toBe('pending'); // a stopped worker sends nothing
    expect(sentTo(stripeMeter.event_name)).toHaveLength(13);
    expect(await drainStripeMeterOutbox({ db, stripeAccounts: accounts })).toMatchObject({ claimed: 1, sent: 1 });
    expect(await summary(stripeMeter.id, alice.stripeCustomerId)).toBe(126);
  });

  it('a metered subscription price bills at the period end exactly what Tally\'s rollups cost', async () => {
    const start = Math.floor(Date.now() / 1000) - 120;
    const { workspaceId, meter, stripeMeter, alice, bob } = await setup({ testClockAt: start });
    // $1.00 per started block of 1,000 words, rounded up on the period's total: Tally's block rule.
    const price = await stripe.prices.create({
      currency: 'usd',
      unit_amount: meter.priceMinor,
      recurring: { interval: 'month', usage_type: 'metered', meter: stripeMeter.id },
      transform_quantity: { divide_by: meter.blockSize, round: 'up' },
      product_data: { name: 'Words' },
    });
    const now = new Date();
    // Alice: 1,001 + 999 + 2,501 = 4,501 words -> 5 blocks (per-event rounding would give 6). Bob: exactly 3,000 -> 3.
    const events = [
      ...[1001, 999, 2501].map((quantity, i) => ({ customerId: alice.customerId, meter: 'words', quantity, idempotencyKey: `sub-a-${i}` })),
      ...[1000, 2000].map((quantity, i) => ({ customerId: bob.customerId, meter: 'words', quantity, idempotencyKey: `sub-b-${i}` })),
    ];
    expect(await recordUsage({ db, workspaceId, events, now })).toMatchObject({ accepted: 5 });
    expect(await drainStripeMeterOutbox({ db, stripeAccounts: accounts })).toMatchObject({ claimed: 5, sent: 5 });
    expect(sentTo(stripeMeter.event_name)).toHaveLength(5);

    const period = periodOf(now);
    const tallyCost = async (customerId: string) => {
      const r = db.t.usageDailyRollups;
      const rows = await db.q.select().from(r).where(and(eq(r.customerId, customerId), eq(r.meterId, meter.id)));
      return costMinor(aggregateQuantity(meter.aggregation, combineTotals(rows.filter((x) => x.day.startsWith(period)))), meter);
    };
    for (const [who, expected] of [[alice, 500], [bob, 300]] as const) {
      const subscription = await stripe.subscriptions.create({ customer: who.stripeCustomerId, items: [{ price: price.id }] });
      const periodEnd = subscription.items.data[0]!.current_period_end;
      await stripe.testHelpers.testClocks.advance(who.clockId!, { frozen_time: periodEnd + 7200 });
      for (let i = 0; i < 400 && (await stripe.testHelpers.testClocks.retrieve(who.clockId!)).status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 25));
      const invoices = (await stripe.invoices.list({ subscription: subscription.id })).data;
      const renewal = invoices.find((inv) => inv.billing_reason === 'subscription_cycle');
      expect(renewal, 'renewal invoice').toBeDefined();
      const line = renewal!.lines.data.find((l) => l.pricing?.price_details?.price === price.id)!;
      expect(line.amount).toBe(await tallyCost(who.customerId));
      expect(line.amount).toBe(expected);
    }
  });
});
