import { eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkoutSession, deliver, seedPendingTopup, sign, startServer, stripeEvent, stripeFixtures } from './harness';

describe.each(testDialects)('POST /api/stripe/webhook ($name)', ({ create }) => {
  let db: TestDatabase;
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    db = await create();
    server = await startServer(db);
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

  it('credits Stripe amount_total, not the requested amount', async () => {
    const topup = await seedPendingTopup(db, 500);
    const event = stripeEvent('checkout.session.completed', checkoutSession({ id: topup.sessionId, client_reference_id: topup.topupId, amount_total: 450 }));
    const payload = JSON.stringify(event);
    expect((await deliver(server.url, payload, sign(payload))).status).toBe(200);
    expect(await balanceOf(topup.customerId)).toBe(450);
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
