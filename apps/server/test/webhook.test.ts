import { eq, sql } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appRouter, createCallerFactory, createInnerContext, recordingLogger, silentLogger } from '@tally/api';
import { newId } from '../../../packages/api/src/ids';
import { checkoutSession, deliver, serverStripeAccounts, seedPendingTopup, sign, startServer, stripeEvent, stripeFixtures, testApiConfig } from './harness';

describe.each(testDialects)('POST /api/stripe/webhook ($name)', ({ create }) => {
  let db: TestDatabase;
  let server: Awaited<ReturnType<typeof startServer>>;
  const logger = recordingLogger();
  beforeAll(async () => {
    db = await create();
    server = await startServer(db, { logger });
  });
  afterAll(async () => {
    await server.close();
    await db.destroy();
  });

  const eventCount = async () => (await db.q.select({ id: db.t.stripeEvents.id }).from(db.t.stripeEvents)).length;
  const ledgerFor = (customerId: string) => db.q.select().from(db.t.ledgerEntries).where(eq(db.t.ledgerEntries.customerId, customerId));
  const balanceOf = async (customerId: string) =>
    (await db.q.select().from(db.t.customerBalances).where(eq(db.t.customerBalances.customerId, customerId)))[0]?.amountMinor ?? 0;
  const eventRow = async (id: string) => (await db.q.select().from(db.t.stripeEvents).where(eq(db.t.stripeEvents.id, id)))[0];

  async function paidEvent(type = 'checkout.session.completed', amountMinor = 500, sessionOverrides: Record<string, unknown> = {}) {
    const topup = await seedPendingTopup(db, amountMinor);
    const session = checkoutSession({ id: topup.sessionId, client_reference_id: topup.topupId, amount_total: amountMinor, ...sessionOverrides });
    return { topup, event: stripeEvent(type, session) };
  }

  it('credits a paid top-up once and answers 200', async () => {
    const { topup, event } = await paidEvent();
    const payload = JSON.stringify(event);
    const res = await deliver(server.url, payload, sign(payload));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ received: true, status: 'processed', duplicate: false });
    expect((await ledgerFor(topup.customerId)).map((e) => [e.amountMinor, e.reference])).toEqual([[500, `topup:${topup.topupId}`]]);
    expect(await balanceOf(topup.customerId)).toBe(500);
    const [tp] = await db.q.select().from(db.t.topups).where(eq(db.t.topups.id, topup.topupId));
    expect(tp).toMatchObject({ status: 'paid', creditedAmountMinor: 500, stripePaymentIntentId: 'pi_test_123' });
    expect(await eventRow(event.id)).toMatchObject({ status: 'processed', attempts: 1, workspaceId: topup.workspaceId });
  });

  /** An admin of `workspaceId`, calling tRPC in-process (admin.events is what the Activity page lists). */
  async function adminOf(workspaceId: string) {
    const userId = newId();
    await db.q.insert(db.t.users).values({ id: userId, name: 'Admin', email: `admin-${userId}@example.test` });
    await db.q.insert(db.t.workspaceMembers).values({ id: newId(), workspaceId, userId, role: 'admin' });
    const ctx = createInnerContext({ db, stripeAccounts: serverStripeAccounts(), config: testApiConfig, logger: silentLogger, actor: { userId, email: 'admin@example.test' } });
    return createCallerFactory(appRouter)(ctx);
  }

  describe('credits only what Tally asked for (anomalies)', () => {
    it.each([
      ['amount_total above the request (the issue: $999,999.99 on a $5 top-up, correctly signed)', { amount_total: 99_999_999 }, {}, 'amount_total 99999999 != requested 500 (usd minor units)'],
      ['amount_total below the request', { amount_total: 450 }, {}, 'amount_total 450 != requested 500 (usd minor units)'],
      ['currency eur on a usd top-up', { currency: 'eur' }, {}, 'currency eur != requested usd'],
      ['mode subscription', { mode: 'subscription' }, {}, 'mode subscription != requested payment'],
      ['livemode true on a test-mode deployment', {}, { livemode: true }, 'livemode true != expected false (this deployment uses Stripe test mode)'],
    ])('%s: credits nothing, answers 200, records an anomaly naming it, listed for admins', async (_label, sessionChange, envelopeChange, named) => {
      const topup = await seedPendingTopup(db, 500);
      const session = checkoutSession({ id: topup.sessionId, client_reference_id: topup.topupId, amount_total: 500, ...sessionChange });
      const event = stripeEvent('checkout.session.completed', session, envelopeChange);
      const payload = JSON.stringify(event);
      const res = await deliver(server.url, payload, sign(payload));
      expect(res).toMatchObject({ status: 200, body: { received: true, status: 'anomaly', duplicate: false } });
      expect(await ledgerFor(topup.customerId)).toEqual([]);
      expect(await balanceOf(topup.customerId)).toBe(0);
      const [tp] = await db.q.select().from(db.t.topups).where(eq(db.t.topups.id, topup.topupId));
      expect(tp).toMatchObject({ status: 'pending', creditedAmountMinor: null, paidAt: null, stripePaymentIntentId: null });
      const row = await eventRow(event.id);
      expect(row).toMatchObject({ status: 'anomaly', workspaceId: topup.workspaceId, lastError: null });
      expect(row?.outcome).toContain(named);
      expect(row?.outcome).toContain(`Nothing credited to top-up ${topup.topupId}`);

      const admin = await adminOf(topup.workspaceId);
      const listed = await admin.admin.events({ status: 'anomaly' });
      expect(listed.items.map((e) => e.id)).toContain(event.id);
      expect(listed.items.find((e) => e.id === event.id)).toMatchObject({ status: 'anomaly', outcome: expect.stringContaining(named) });

      // Redelivery does no work.
      expect(await deliver(server.url, payload, sign(payload))).toMatchObject({ status: 200, body: { status: 'anomaly', duplicate: true } });
      expect(await eventRow(event.id)).toMatchObject({ status: 'anomaly', attempts: 2 });
      expect(await balanceOf(topup.customerId)).toBe(0);
    });

    it('names every mismatch of one event', async () => {
      const topup = await seedPendingTopup(db, 500);
      const session = checkoutSession({ id: topup.sessionId, client_reference_id: topup.topupId, amount_total: 99_999_999, currency: 'eur', mode: 'subscription' });
      const event = stripeEvent('checkout.session.completed', session, { livemode: true });
      const payload = JSON.stringify(event);
      expect((await deliver(server.url, payload, sign(payload))).body).toMatchObject({ status: 'anomaly' });
      expect((await eventRow(event.id))?.outcome).toBe(
        `Nothing credited to top-up ${topup.topupId}: amount_total 99999999 != requested 500 (usd minor units); currency eur != requested usd; ` +
          'mode subscription != requested payment; livemode true != expected false (this deployment uses Stripe test mode)',
      );
      expect(await balanceOf(topup.customerId)).toBe(0);
    });

    it('an unpaid session with a mismatch is an anomaly too, and so is its async_payment_succeeded', async () => {
      const topup = await seedPendingTopup(db, 500);
      const object = checkoutSession({ id: topup.sessionId, client_reference_id: topup.topupId, amount_total: 5, payment_status: 'unpaid' });
      for (const type of ['checkout.session.completed', 'checkout.session.async_payment_succeeded']) {
        const event = stripeEvent(type, type.endsWith('succeeded') ? { ...object, payment_status: 'paid' } : object);
        const payload = JSON.stringify(event);
        expect((await deliver(server.url, payload, sign(payload))).body).toMatchObject({ status: 'anomaly' });
      }
      expect(await balanceOf(topup.customerId)).toBe(0);
    });

    it('checkout.session.expired from the other Stripe mode leaves the top-up pending (anomaly)', async () => {
      const topup = await seedPendingTopup(db, 500);
      const event = stripeEvent(
        'checkout.session.expired',
        checkoutSession({ id: topup.sessionId, client_reference_id: topup.topupId, amount_total: 500, status: 'expired', payment_status: 'unpaid' }),
        { livemode: true },
      );
      const payload = JSON.stringify(event);
      expect((await deliver(server.url, payload, sign(payload))).body).toMatchObject({ status: 'anomaly' });
      const [tp] = await db.q.select().from(db.t.topups).where(eq(db.t.topups.id, topup.topupId));
      expect(tp?.status).toBe('pending');
    });

    it('a live-mode deployment credits livemode events and refuses test-mode ones', async () => {
      const live = await startServer(db, { config: { stripeMode: 'live' } });
      try {
        const { topup, event } = await paidEvent();
        const testModePayload = JSON.stringify(event);
        expect((await deliver(live.url, testModePayload, sign(testModePayload))).body).toMatchObject({ status: 'anomaly' });
        expect((await eventRow(event.id))?.outcome).toContain('livemode false != expected true (this deployment uses Stripe live mode)');
        const liveEvent = stripeEvent('checkout.session.completed', event.data.object, { livemode: true });
        const livePayload = JSON.stringify(liveEvent);
        expect((await deliver(live.url, livePayload, sign(livePayload))).body).toMatchObject({ status: 'processed' });
        expect(await balanceOf(topup.customerId)).toBe(500);
      } finally {
        await live.close();
      }
    });
  });

  describe('payloads with \\u0000 and ill-shaped values', () => {
    it('a signed event with \\u0000 in metadata and the customer name is stored as sent, processed, and answered 200', async () => {
      const topup = await seedPendingTopup(db, 500);
      const session = checkoutSession({
        id: topup.sessionId,
        client_reference_id: topup.topupId,
        amount_total: 500,
        metadata: { tally_topup_id: topup.topupId, note: 'before\u0000after' },
        customer_details: { name: 'Jenny\u0000Rosen', email: 'jenny@example.test' },
      });
      const event = stripeEvent('checkout.session.completed', session);
      const payload = JSON.stringify(event);
      expect(payload).toContain('\\u0000');
      const res = await deliver(server.url, payload, sign(payload));
      expect(res).toMatchObject({ status: 200, body: { status: 'processed' } });
      const row = await eventRow(event.id);
      expect(row?.payload).toBe(payload);
      expect(row?.status).toBe('processed');
      expect(await balanceOf(topup.customerId)).toBe(500);
    });

    it.each([
      ['an event id with \\u0000', { id: 'evt_1Pgc76\u0000' }],
      ['an event id of another shape', { id: 'cs_test_123' }],
      ['an event id of 10 000 characters', { id: `evt_${'a'.repeat(10_000)}` }],
      ['an event type with \\u0000', { type: 'checkout.session.completed\u0000' }],
      ['an event type of another shape', { type: 'Checkout Session Completed' }],
    ])('refuses %s with 400 and stores nothing', async (_label, change) => {
      const { event } = await paidEvent();
      const payload = JSON.stringify({ ...event, ...change });
      const before = await eventCount();
      const res = await deliver(server.url, payload, sign(payload));
      expect(res.status).toBe(400);
      expect(await eventCount()).toBe(before);
    });

    it('\\u0000 in client_reference_id, the session id, payment_intent or api_version never reaches a query or column', async () => {
      const badRef = await seedPendingTopup(db, 500);
      const e1 = stripeEvent('checkout.session.completed', checkoutSession({ id: badRef.sessionId, client_reference_id: `${badRef.topupId}\u0000`, amount_total: 500 }));
      const e2 = stripeEvent('checkout.session.completed', checkoutSession({ id: `${badRef.sessionId}\u0000`, client_reference_id: badRef.topupId, amount_total: 500 }));
      for (const e of [e1, e2]) {
        const payload = JSON.stringify(e);
        expect(await deliver(server.url, payload, sign(payload))).toMatchObject({ status: 200, body: { status: 'ignored' } });
      }
      expect(await balanceOf(badRef.customerId)).toBe(0);

      const { topup, event } = await paidEvent('checkout.session.completed', 500, { payment_intent: 'pi_123\u0000' });
      const e3 = { ...event, api_version: '2026-10-28.endive\u0000' };
      const payload = JSON.stringify(e3);
      expect(await deliver(server.url, payload, sign(payload))).toMatchObject({ status: 200, body: { status: 'processed' } });
      expect(await balanceOf(topup.customerId)).toBe(500);
      const [tp] = await db.q.select().from(db.t.topups).where(eq(db.t.topups.id, topup.topupId));
      expect(tp?.stripePaymentIntentId).toBeNull();
      expect((await eventRow(e3.id))?.apiVersion).toBeNull();
    });
  });

  describe('signature timestamps in the future', () => {
    const now = () => Math.floor(Date.now() / 1000);
    it('more than 300 s ahead (+301 s): 400, nothing stored, nothing credited', async () => {
      const { topup, event } = await paidEvent();
      const payload = JSON.stringify(event);
      const before = await eventCount();
      const res = await deliver(server.url, payload, sign(payload, { timestamp: now() + 301 }));
      expect(res).toMatchObject({ status: 400, body: { error: 'Signature timestamp is more than 300 s in the future' } });
      expect(logger.records.at(-1)).toMatchObject({ level: 'warn', fields: { reason: 'Signature timestamp is more than 300 s in the future' } });
      expect(await eventCount()).toBe(before);
      expect(await balanceOf(topup.customerId)).toBe(0);
    });

    it('within the tolerance (+200 s): accepted and credited', async () => {
      const { topup, event } = await paidEvent();
      const payload = JSON.stringify(event);
      expect(await deliver(server.url, payload, sign(payload, { timestamp: now() + 200 }))).toMatchObject({ status: 200, body: { status: 'processed' } });
      expect(await balanceOf(topup.customerId)).toBe(500);
    });
  });

  it.each([
    ['a wrong secret', (p: string) => sign(p, { secret: 'whsec_some_other_secret_123' })],
    ['a timestamp older than 300 s', (p: string) => sign(p, { timestamp: Math.floor(Date.now() / 1000) - 301 })],
    ['a missing header', () => undefined],
    ['a malformed header', () => 'garbage'],
  ])('answers 400 and stores nothing for %s', async (_label, signer) => {
    const { topup, event } = await paidEvent();
    const payload = JSON.stringify(event);
    const before = await eventCount();
    const res = await deliver(server.url, payload, signer(payload));
    expect(res.status).toBe(400);
    expect(await eventCount()).toBe(before);
    expect(await ledgerFor(topup.customerId)).toEqual([]);
  });

  it('answers 400 and stores nothing for a tampered body', async () => {
    const { topup, event } = await paidEvent();
    const payload = JSON.stringify(event);
    const tampered = payload.replace('"amount_total":500', '"amount_total":500000');
    expect(tampered).not.toBe(payload);
    const before = await eventCount();
    expect((await deliver(server.url, tampered, sign(payload))).status).toBe(400);
    expect(await eventCount()).toBe(before);
    expect(await ledgerFor(topup.customerId)).toEqual([]);
  });

  it('answers 400 for a valid signature over non-JSON, and over JSON that is not an event', async () => {
    const before = await eventCount();
    for (const payload of ['this is not json {', '[1,2,3]', '{"hello":"world"}']) {
      expect((await deliver(server.url, payload, sign(payload))).status).toBe(400);
    }
    expect(await eventCount()).toBe(before);
  });

  it('answers 413 for a body over 1 MB and stores nothing', async () => {
    const { event } = await paidEvent();
    const payload = JSON.stringify({ ...event, padding: 'x'.repeat(1024 * 1024) });
    const before = await eventCount();
    expect((await deliver(server.url, payload, sign(payload))).status).toBe(413);
    expect(await eventCount()).toBe(before);
  });

  it('stores an unhandled event type as ignored and answers 200', async () => {
    const event = stripeEvent('customer.created', stripeFixtures().customer!);
    const payload = JSON.stringify(event);
    const res = await deliver(server.url, payload, sign(payload));
    expect(res).toMatchObject({ status: 200, body: { status: 'ignored' } });
    expect(await eventRow(event.id)).toMatchObject({ status: 'ignored', outcome: 'Event type customer.created is not handled' });
  });

  it('ignores a checkout event for a session that is not ours (200)', async () => {
    const event = stripeEvent('checkout.session.completed', checkoutSession({ id: 'cs_test_unknown', client_reference_id: 'nope', amount_total: 999 }));
    const payload = JSON.stringify(event);
    expect(await deliver(server.url, payload, sign(payload))).toMatchObject({ status: 200, body: { status: 'ignored' } });
    expect((await eventRow(event.id))?.outcome).toContain('No top-up');
    const noRef = stripeEvent('checkout.session.completed', checkoutSession({ id: 'cs_test_noref', client_reference_id: null, metadata: {}, amount_total: 1 }));
    const p2 = JSON.stringify(noRef);
    expect(await deliver(server.url, p2, sign(p2))).toMatchObject({ status: 200, body: { status: 'ignored' } });
  });

  it('credits nothing for payment_status unpaid, then credits on async_payment_succeeded', async () => {
    const { topup, event } = await paidEvent('checkout.session.completed', 500, { payment_status: 'unpaid' });
    const payload = JSON.stringify(event);
    expect((await deliver(server.url, payload, sign(payload))).status).toBe(200);
    expect(await ledgerFor(topup.customerId)).toEqual([]);
    const succeeded = stripeEvent('checkout.session.async_payment_succeeded', checkoutSession({ id: topup.sessionId, client_reference_id: topup.topupId, amount_total: 500 }));
    const p2 = JSON.stringify(succeeded);
    expect((await deliver(server.url, p2, sign(p2))).status).toBe(200);
    expect(await balanceOf(topup.customerId)).toBe(500);
  });

  it('completed + async_payment_succeeded for one session credit once', async () => {
    const { topup, event } = await paidEvent();
    const other = stripeEvent('checkout.session.async_payment_succeeded', event.data.object);
    for (const e of [event, other]) {
      const payload = JSON.stringify(e);
      expect((await deliver(server.url, payload, sign(payload))).status).toBe(200);
    }
    expect(await ledgerFor(topup.customerId)).toHaveLength(1);
    expect(await balanceOf(topup.customerId)).toBe(500);
    expect((await eventRow(other.id))?.outcome).toContain('already credited');
  });

  it('one event delivered 20 times concurrently, across two server processes, credits once', async () => {
    const second = await startServer(await db.connectAgain());
    try {
      const { topup, event } = await paidEvent();
      const payload = JSON.stringify(event);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => deliver(i % 2 ? second.url : server.url, payload, sign(payload))),
      );
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(await ledgerFor(topup.customerId)).toHaveLength(1);
      expect(await balanceOf(topup.customerId)).toBe(500);
      const row = await eventRow(event.id);
      expect(row).toMatchObject({ status: 'processed', attempts: 20 });
    } finally {
      await second.close();
    }
  });

  it('a redelivery of a processed event does no work (duplicate: true)', async () => {
    const { event } = await paidEvent();
    const payload = JSON.stringify(event);
    await deliver(server.url, payload, sign(payload));
    expect(await deliver(server.url, payload, sign(payload))).toMatchObject({ status: 200, body: { duplicate: true, status: 'processed' } });
  });

  it('expired never undoes a paid top-up, whatever the order', async () => {
    const { topup, event } = await paidEvent();
    const expired = stripeEvent('checkout.session.expired', { ...event.data.object, status: 'expired', payment_status: 'unpaid' });
    for (const e of [event, expired]) {
      const payload = JSON.stringify(e);
      expect((await deliver(server.url, payload, sign(payload))).status).toBe(200);
    }
    const [tp] = await db.q.select().from(db.t.topups).where(eq(db.t.topups.id, topup.topupId));
    expect(tp?.status).toBe('paid');
    const pending = await seedPendingTopup(db);
    const exp2 = stripeEvent('checkout.session.expired', checkoutSession({ id: pending.sessionId, client_reference_id: pending.topupId, status: 'expired', payment_status: 'unpaid' }));
    const p2 = JSON.stringify(exp2);
    await deliver(server.url, p2, sign(p2));
    const [tp2] = await db.q.select().from(db.t.topups).where(eq(db.t.topups.id, pending.topupId));
    expect(tp2?.status).toBe('expired');
  });

  it('accepts v2 thin events (ISO created, no data) and data-less checkout events with a 2xx', async () => {
    const thin = {
      id: 'evt_test_65R9Ijk8dwEUgq8pS2h16PuJcTHSQ3BVS2N0ck1cNJgq',
      object: 'v2.core.event',
      type: 'v1.billing.meter.no_meter_found',
      livemode: false,
      created: '2024-09-26T18:28:03.813Z',
      related_object: null,
    };
    const dataless = { id: 'evt_test_dataless_1', object: 'event', type: 'checkout.session.completed', created: 1_700_000_000 };
    for (const event of [thin, dataless]) {
      const payload = JSON.stringify(event);
      expect(await deliver(server.url, payload, sign(payload))).toMatchObject({ status: 200, body: { status: 'ignored' } });
    }
    expect((await eventRow(thin.id))?.stripeCreatedAt.toISOString()).toBe('2024-09-26T18:28:03.813Z');
    const forged = JSON.stringify({ ...thin, id: 'evt_test_forged_thin' });
    expect((await deliver(server.url, forged, sign(forged, { secret: 'whsec_some_other_secret_123' }))).status).toBe(400);
    expect(await eventRow('evt_test_forged_thin')).toBeUndefined();
  });

  it('every Stripe example object, as an event delivered twice in shuffled order, gets a 2xx', async () => {
    const fixtures = stripeFixtures();
    const events = Object.entries(fixtures).map(([name, object]) => stripeEvent(`${name}.updated`, object));
    events.push(stripeEvent('checkout.session.completed', fixtures['checkout.session']!));
    events.push(stripeEvent('checkout.session.async_payment_succeeded', { ...fixtures['checkout.session']!, client_reference_id: 'x', amount_total: 'abc' }));
    const deliveries = [...events, ...events].map((e) => JSON.stringify(e));
    for (let i = deliveries.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
    }
    const statuses = new Map<number, number>();
    for (const payload of deliveries) {
      const { status } = await deliver(server.url, payload, sign(payload));
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    expect([...statuses.keys()]).toEqual([200]);
  });
});

/**
 * Real database failures, raised by triggers (test-only DDL, so the written per dialect):
 * storing an event, crediting, and writing `last_error` each fail for marked rows.
 */
const FAIL_STORE = 'tally-test-fail-store';
const FAIL_CREDIT_AMOUNT = 4242;
const FAIL_MARK = 'tally-test-fail-mark';

async function installFailureTriggers(db: TestDatabase) {
  const statements =
    db.dialect === 'sqlite'
      ? [
          `create trigger fail_store before insert on stripe_events when new.payload like '%${FAIL_STORE}%' begin select raise(abort, 'simulated storage failure'); end`,
          `create trigger fail_credit before insert on ledger_entries when new.amount_minor = ${FAIL_CREDIT_AMOUNT} begin select raise(abort, 'simulated credit failure'); end`,
          `create trigger fail_mark before update on stripe_events when new.status = 'failed' and old.payload like '%${FAIL_MARK}%' begin select raise(abort, 'simulated last_error failure'); end`,
        ]
      : [
          `create function tally_test_fail() returns trigger language plpgsql as $$ begin raise exception 'simulated % failure', tg_argv[0]; end $$`,
          `create trigger fail_store before insert on stripe_events for each row when (new.payload like '%${FAIL_STORE}%') execute function tally_test_fail('storage')`,
          `create trigger fail_credit before insert on ledger_entries for each row when (new.amount_minor = ${FAIL_CREDIT_AMOUNT}) execute function tally_test_fail('credit')`,
          `create trigger fail_mark before update on stripe_events for each row when (new.status = 'failed' and old.payload like '%${FAIL_MARK}%') execute function tally_test_fail('last_error')`,
        ];
  for (const statement of statements) {
    if (db.dialect === 'sqlite') (db.q as unknown as { run(q: ReturnType<typeof sql.raw>): unknown }).run(sql.raw(statement));
    else await db.rows(sql.raw(statement));
  }
}

describe.each(testDialects)('webhook failures are logged, never with the payload ($name)', ({ create }) => {
  let db: TestDatabase;
  let server: Awaited<ReturnType<typeof startServer>>;
  let logger: ReturnType<typeof recordingLogger>;
  beforeAll(async () => {
    db = await create();
    await installFailureTriggers(db);
    logger = recordingLogger();
    server = await startServer(db, { logger });
  });
  afterAll(async () => {
    await server.close();
    await db.destroy();
  });

  /** A paid event whose payload carries personal data that must never be logged. */
  async function paidEventWith(amountMinor: number, note: string) {
    const topup = await seedPendingTopup(db, amountMinor);
    const session = checkoutSession({
      id: topup.sessionId,
      client_reference_id: topup.topupId,
      amount_total: amountMinor,
      metadata: { tally_topup_id: topup.topupId, note },
      customer_details: { name: 'Jenny Private', email: 'jenny.private@example.test', address: { line1: '1 Secret Street' } },
    });
    return { topup, event: stripeEvent('checkout.session.completed', session) };
  }
  const logged = () => JSON.stringify(logger.records);
  const expectNoPayloadInLogs = () => {
    for (const text of ['jenny.private@example.test', 'Jenny Private', 'Secret Street', '"object":"checkout.session"', 'params:']) expect(logged()).not.toContain(text);
  };
  const eventRow = async (id: string) => (await db.q.select().from(db.t.stripeEvents).where(eq(db.t.stripeEvents.id, id)))[0];

  it('a failure to store the event answers 500 and is logged with the event id and error, without the payload', async () => {
    logger.records.length = 0;
    const { event } = await paidEventWith(500, FAIL_STORE);
    const payload = JSON.stringify(event);
    const res = await deliver(server.url, payload, sign(payload));
    expect(res).toMatchObject({ status: 500, body: { eventId: event.id } });
    expect(await eventRow(event.id)).toBeUndefined();
    expect(logger.records).toEqual([
      {
        level: 'error',
        message: 'Could not store a Stripe event; answering 500 so Stripe retries',
        fields: { eventId: event.id, type: 'checkout.session.completed', err: expect.stringContaining('simulated storage failure') },
      },
    ]);
    expectNoPayloadInLogs();
  });

  it('a handler failure answers 500, is logged with the event id and type, and saved as last_error', async () => {
    logger.records.length = 0;
    const { topup, event } = await paidEventWith(FAIL_CREDIT_AMOUNT, 'just a note');
    const payload = JSON.stringify(event);
    expect(await deliver(server.url, payload, sign(payload))).toMatchObject({ status: 500, body: { eventId: event.id } });
    expect(logger.records).toEqual([
      {
        level: 'error',
        message: 'Stripe event handler failed; answering 500 so Stripe retries',
        fields: { eventId: event.id, type: 'checkout.session.completed', err: expect.stringContaining('simulated credit failure') },
      },
    ]);
    expectNoPayloadInLogs();
    const row = await eventRow(event.id);
    expect(row).toMatchObject({ status: 'failed', lastError: expect.stringContaining('simulated credit failure') });
    expect(row?.lastError).not.toContain('params:');
    expect(await db.q.select().from(db.t.ledgerEntries).where(eq(db.t.ledgerEntries.customerId, topup.customerId))).toEqual([]);
  });

  it('a failure to write last_error is logged too, not swallowed', async () => {
    logger.records.length = 0;
    const { event } = await paidEventWith(FAIL_CREDIT_AMOUNT, FAIL_MARK);
    const payload = JSON.stringify(event);
    expect((await deliver(server.url, payload, sign(payload))).status).toBe(500);
    expect(logger.records.map((r) => [r.level, r.message, r.fields.eventId])).toEqual([
      ['error', 'Stripe event handler failed; answering 500 so Stripe retries', event.id],
      ['error', 'Could not record the failure of a Stripe event', event.id],
    ]);
    expect(logger.records[1]!.fields.err).toContain('simulated last_error failure');
    expectNoPayloadInLogs();
    expect(await eventRow(event.id)).toMatchObject({ status: 'received', lastError: null });
  });
});

describe('GET /healthz', () => {
  it.each(testDialects)('reports the dialect and Stripe mode ($name)', async ({ name, create }) => {
    const db = await create();
    const server = await startServer(db);
    try {
      const res = await fetch(`${server.url}/healthz`);
      expect(await res.json()).toEqual({ status: 'ok', database: name, stripe: 'emulator' });
    } finally {
      await server.close();
      await db.destroy();
    }
  });
});
