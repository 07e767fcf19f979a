/**
 * The live billing stream in the domain (issue 10 item 1): the in-process bus and its fan-out
 * (audience, order, resume, slow subscribers), the `stream.billing` tRPC subscription's
 * authorization per subscriber, and the publish calls after each billing change commits.
 */
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { TRPCError } from '@trpc/server';
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createInnerContext, type Actor } from '../src/context';
import { newId } from '../src/ids';
import { adjustBalance } from '../src/ledger/adjust';
import { silentLogger, recordingLogger } from '../src/logger';
import { appRouter } from '../src/router/index';
import { billingStreamWithout, type BillingStream, type BillingStreamBus, type BillingStreamItem } from '../src/stream/bus';
import { LocalFanout } from '../src/stream/fanout';
import { createInProcessBus } from '../src/stream/in-process-bus';
import type { BillingChange, BillingStreamMessage } from '../src/stream/messages';
import { setBillingChangeSink } from '../src/stream/publish';
import { createCallerFactory } from '../src/trpc';
import { recordUsage } from '../src/usage/ingest';
import { receiveStripeWebhook } from '../src/webhooks/receive';
import { DEPLOYMENT_SCOPE } from '../src/webhooks/types';
import { seedTenants, testConfig, testStripeAccounts, WEBHOOK_SECRET } from './helpers';
import { creditBalance, insertMeter } from './usage-helpers';

const W = newId();
const ALICE = newId();
const BOB = newId();
const change = (customerId: string, amountMinor: number, workspaceId = W): BillingChange => ({ kind: 'topup.credited', workspaceId, customerId, topupId: newId(), amountMinor, currency: 'usd' });
const amounts = (ms: BillingStreamMessage[]) => ms.map((m) => ('amountMinor' in m ? m.amountMinor : null));

async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function collect(iterator: AsyncIterableIterator<BillingStreamItem>) {
  const items: BillingStreamItem[] = [];
  const state: { done: boolean; error: unknown } = { done: false, error: null };
  void (async () => {
    try {
      for await (const item of iterator) items.push(item);
    } catch (err) {
      state.error = err;
    } finally {
      state.done = true;
    }
  })();
  return { items, state, messages: () => items.flatMap((i) => (i.type === 'message' ? [i.message] : [])) };
}

describe('in-process bus', () => {
  it('fans out by audience, in order, with ids that only grow (even when the clock steps back)', async () => {
    let clock = 1_000;
    const bus = createInProcessBus({ now: () => clock });
    const admin = collect(bus.subscribe({ audience: { workspaceId: W } }));
    const bob = collect(bus.subscribe({ audience: { workspaceId: W, customerId: BOB } }));
    bus.publish(change(ALICE, 1));
    clock = 500; // NTP stepped back
    bus.publish(change(BOB, 2));
    bus.publish(change(BOB, 3, newId())); // another workspace
    await waitFor('two admin messages', () => (admin.messages().length === 2 ? true : undefined));
    await waitFor("bob's message", () => (bob.messages().length === 1 ? true : undefined));
    expect(amounts(admin.messages())).toEqual([1, 2]);
    expect(admin.messages().map((m) => m.id)).toEqual(['1000-0', '1000-1']);
    expect(amounts(bob.messages())).toEqual([2]);
    expect(admin.items[0]).toEqual({ type: 'state', state: 'live' });
    await bus.stop();
    await waitFor('ended', () => (admin.state.done && bob.state.done ? true : undefined));
    expect(admin.state.error).toBeNull();
  });

  it('resumes after a last id with what was missed, then live, each once; counts subscribers; ends on abort', async () => {
    const bus = createInProcessBus();
    const counts: number[] = [];
    bus.onSubscriberCountChange((n) => counts.push(n));
    const first = collect(bus.subscribe({ audience: { workspaceId: W } }));
    bus.publish(change(ALICE, 1));
    const [seen] = await waitFor('first', () => (first.messages().length === 1 ? first.messages() : undefined));
    for (const a of [2, 3, 4]) bus.publish(change(ALICE, a));
    const abort = new AbortController();
    const resumed = collect(bus.subscribe({ audience: { workspaceId: W }, lastEventId: seen!.id, signal: abort.signal }));
    bus.publish(change(ALICE, 5));
    await waitFor('four', () => (resumed.messages().length === 4 ? true : undefined));
    expect(amounts(resumed.messages())).toEqual([2, 3, 4, 5]);
    expect(bus.subscriberCount()).toBe(2);
    abort.abort();
    await waitFor('ended', () => (resumed.state.done ? true : undefined));
    expect(bus.subscriberCount()).toBe(1);
    expect(counts).toEqual([1, 2, 1]);
    expect(() => bus.subscribe({ audience: { workspaceId: W }, lastEventId: 'DROP TABLE' })).toThrow(RangeError);
    await bus.stop();
  });

  it('cuts off a subscriber that stops reading once it is maxQueued behind (it reconnects with its last id)', async () => {
    const bus = createInProcessBus({ maxQueued: 3 });
    const stalled = bus.subscribe({ audience: { workspaceId: W } }); // never read
    for (const a of [1, 2, 3, 4]) bus.publish(change(ALICE, a));
    await waitFor('cut off', () => (bus.subscriberCount() === 0 ? true : undefined));
    await expect(stalled.next()).rejects.toThrow(/fell 3 messages behind/);
    expect(await stalled.next()).toEqual({ value: undefined, done: true });
    await bus.stop();
  });

  it('holds a resume while the transport reconnects, then replays and flushes live messages without duplicates', async () => {
    const history: BillingStreamMessage[] = [];
    const fanout = new LocalFanout({ initialState: 'reconnecting', replay: async function* (after) { yield history.filter((m) => m.id > after); } });
    const msg = (id: string, amountMinor: number): BillingStreamMessage => ({ ...change(ALICE, amountMinor), id, at: new Date(0).toISOString() }) as BillingStreamMessage;
    history.push(msg('1-0', 1), msg('2-0', 2), msg('3-0', 3));
    const sub = collect(fanout.subscribe({ audience: { workspaceId: W }, lastEventId: '1-0' }));
    fanout.deliver(msg('3-0', 3)); // live while reconnecting: held
    history.push(msg('4-0', 4));
    fanout.setState('live');
    fanout.deliver(msg('4-0', 4));
    fanout.deliver(msg('5-0', 5));
    await waitFor('all', () => (sub.messages().length === 4 ? true : undefined));
    expect(amounts(sub.messages())).toEqual([2, 3, 4, 5]);
    expect(sub.items.filter((i) => i.type === 'state')).toEqual([
      { type: 'state', state: 'reconnecting' },
      { type: 'state', state: 'live' },
    ]);
    fanout.endAll();
  });
});

describe.each(testDialects)('stream.billing subscription ($name)', ({ create }) => {
  let db: TestDatabase;
  let acme: Awaited<ReturnType<typeof seedTenants>>;
  let globex: Awaited<ReturnType<typeof seedTenants>>;
  let nobody: Actor;
  let bus: BillingStreamBus;
  beforeAll(async () => {
    db = await create();
    acme = await seedTenants(db);
    globex = await seedTenants(db);
    const id = newId();
    nobody = { userId: id, email: `nobody-${id}@example.test` };
    await db.q.insert(db.t.users).values({ id, name: 'nobody', email: nobody.email });
  });
  afterAll(() => db.destroy());
  afterEach(() => bus?.stop());

  const caller = (actor: Actor | null, billingStream: BillingStream | undefined = bus, signal?: AbortSignal) =>
    createCallerFactory(appRouter)(createInnerContext({ db, stripeAccounts: testStripeAccounts(null), config: testConfig, logger: silentLogger, actor, billingStream }), signal ? { signal } : {});

  /** Open the subscription and read it in the background: tracked envelopes are `[id, data, symbol]`. */
  async function subscribe(actor: Actor | null, input: Parameters<ReturnType<typeof caller>['stream']['billing']>[0], stream?: BillingStream) {
    // Closing = aborting the request's signal, as the SSE adapter does (return() would wait for the pending next()).
    const closed = new AbortController();
    const iterable = await caller(actor, stream ?? bus, closed.signal).stream.billing(input);
    const got: { id: string; data: BillingStreamMessage }[] = [];
    const state: { error: unknown; done: boolean } = { error: null, done: false };
    const iterator = iterable[Symbol.asyncIterator]();
    void (async () => {
      try {
        for (;;) {
          const r = await iterator.next();
          if (r.done) break;
          const [id, data] = r.value as unknown as [string, BillingStreamMessage];
          got.push({ id, data });
        }
      } catch (err) {
        state.error = err;
      } finally {
        state.done = true;
      }
    })();
    return {
      got,
      state,
      stop: async () => {
        closed.abort();
        await waitFor('the subscription to end', () => (state.done ? true : undefined));
      },
    };
  }
  const failure = async (sub: Awaited<ReturnType<typeof subscribe>>) => {
    await waitFor('the subscription to fail', () => (sub.state.done ? true : undefined));
    const e = sub.state.error;
    return e instanceof TRPCError ? { code: e.code, message: e.message } : { code: `not a TRPCError: ${String(e)}`, message: '' };
  };

  it('an admin gets every message of their workspace and none of another, as tracked ids', async () => {
    bus = createInProcessBus();
    const admin = await subscribe(acme.admin, { workspaceId: acme.workspaceId });
    await waitFor('subscribed', () => (bus.subscriberCount() === 1 ? true : undefined));
    bus.publish(change(globex.alice.customerId, 1, globex.workspaceId));
    bus.publish(change(acme.alice.customerId, 2, acme.workspaceId));
    bus.publish(change(acme.bob.customerId, 3, acme.workspaceId));
    await waitFor('two', () => (admin.got.length === 2 ? true : undefined));
    expect(admin.got.map((g) => [g.data.customerId, 'amountMinor' in g.data ? g.data.amountMinor : null])).toEqual([
      [acme.alice.customerId, 2],
      [acme.bob.customerId, 3],
    ]);
    expect(admin.got[0]!.id).toBe(admin.got[0]!.data.id);
    // Resuming after the first id (httpSubscriptionLink sends it as input.lastEventId).
    const resumed = await subscribe(acme.admin, { workspaceId: acme.workspaceId, lastEventId: admin.got[0]!.id });
    await waitFor('one missed', () => (resumed.got.length === 1 ? true : undefined));
    expect(resumed.got[0]!.data.customerId).toBe(acme.bob.customerId);
    await admin.stop();
    await resumed.stop();
    await waitFor('unsubscribed', () => (bus.subscriberCount() === 0 ? true : undefined));
  });

  it('a customer member gets only their customer; another customer, workspace or no role is refused', async () => {
    bus = createInProcessBus();
    const alice = await subscribe(acme.alice, {});
    await waitFor('subscribed', () => (bus.subscriberCount() === 1 ? true : undefined));
    bus.publish(change(acme.bob.customerId, 1, acme.workspaceId));
    bus.publish({ kind: 'event.processed', workspaceId: acme.workspaceId, eventId: 'evt_1', type: 'checkout.session.completed' });
    bus.publish(change(acme.alice.customerId, 2, acme.workspaceId));
    await waitFor("alice's", () => (alice.got.length === 1 ? true : undefined));
    expect(alice.got.map((g) => g.data.customerId)).toEqual([acme.alice.customerId]);

    expect(await failure(await subscribe(acme.alice, { customerId: acme.bob.customerId }))).toMatchObject({ code: 'NOT_FOUND' });
    expect(await failure(await subscribe(acme.alice, { workspaceId: acme.workspaceId }))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await failure(await subscribe(acme.admin, { workspaceId: globex.workspaceId }))).toMatchObject({ code: 'FORBIDDEN', message: 'You are not an admin of the selected workspace' });
    expect(await failure(await subscribe(acme.admin, { workspaceId: 'not-a-uuid' }))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await failure(await subscribe(nobody, {}))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await failure(await subscribe(null, {}))).toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(caller(acme.admin).stream.billing({ lastEventId: '1; DROP' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    // Refused subscriptions never registered.
    expect(bus.subscriberCount()).toBe(1);
    await alice.stop();
  });

  it('without a stream: PRECONDITION_FAILED naming the variables; while reconnecting: SERVICE_UNAVAILABLE (retried by the link)', async () => {
    bus = createInProcessBus();
    const unavailable = await failure(await subscribe(acme.admin, {}, billingStreamWithout('unavailable')));
    expect(unavailable.code).toBe('PRECONDITION_FAILED');
    expect(unavailable.message).toMatch(/ENABLE_BILLING_STREAM.*BILLING_EVENTS_REDIS_URL.*REDIS_URL/);
    expect(await failure(await subscribe(acme.admin, {}, billingStreamWithout('off')))).toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringContaining('ENABLE_BILLING_STREAM=false') });
    const withoutStream = createCallerFactory(appRouter)(createInnerContext({ db, stripeAccounts: testStripeAccounts(null), config: testConfig, logger: silentLogger, actor: acme.admin }));
    const notRunning = await withoutStream.stream.billing({});
    await expect(notRunning[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });

    const fanout = new LocalFanout({ replay: async function* () {} });
    const flaky: BillingStreamBus = { ...bus, subscribe: (o) => fanout.subscribe(o), state: () => fanout.state() };
    const sub = await subscribe(acme.admin, {}, flaky);
    await waitFor('subscribed', () => (fanout.count() === 1 ? true : undefined));
    fanout.setState('reconnecting');
    expect(await failure(sub)).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: expect.stringContaining('reconnecting') });
    expect(fanout.count()).toBe(0);
  });
});

describe.each(testDialects)('publishing after commit ($name)', ({ create }) => {
  let db: TestDatabase;
  let acme: Awaited<ReturnType<typeof seedTenants>>;
  const published: BillingChange[] = [];
  let restore: () => void;
  beforeAll(async () => {
    db = await create();
    acme = await seedTenants(db);
    restore = setBillingChangeSink((c) => published.push(c));
  });
  afterAll(async () => {
    restore();
    await db.destroy();
  });
  afterEach(() => {
    published.length = 0;
  });

  it('a credited top-up: topup.credited and balance.changed with the new balance, once (a redelivery publishes nothing)', async () => {
    const { workspaceId, alice } = acme;
    await creditBalance(db, { workspaceId, customerId: alice.customerId, amountMinor: 250 });
    const topupId = newId();
    const sessionId = `cs_test_${newId().replace(/-/g, '')}`;
    await db.q.insert(db.t.topups).values({ id: topupId, workspaceId, customerId: alice.customerId, amountMinor: 1200, currency: 'usd', status: 'pending', stripeCheckoutSessionId: sessionId });
    const event = {
      id: `evt_${newId().replace(/-/g, '')}`,
      object: 'event',
      type: 'checkout.session.completed',
      created: Math.floor(Date.now() / 1000),
      livemode: false,
      data: { object: { id: sessionId, object: 'checkout.session', mode: 'payment', status: 'complete', payment_status: 'paid', amount_total: 1200, currency: 'usd', client_reference_id: topupId, metadata: { tally_topup_id: topupId }, payment_intent: 'pi_test_1' } },
    };
    const payload = JSON.stringify(event);
    const stripe = new Stripe('sk_test_unused');
    const deliver = () =>
      receiveStripeWebhook({
        db,
        receipt: { scope: DEPLOYMENT_SCOPE, workspaceId: null },
        webhookSecret: WEBHOOK_SECRET,
        rawBody: Buffer.from(payload),
        signature: stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET }),
        logger: recordingLogger(),
        expected: { livemode: false },
        stripeAccounts: testStripeAccounts(null),
      });
    expect(await deliver()).toMatchObject({ status: 'processed' });
    const mine = () => published.filter((c) => c.kind === 'topup.credited' || c.kind === 'balance.changed');
    expect(mine()).toEqual([
      { kind: 'topup.credited', workspaceId, customerId: alice.customerId, topupId, amountMinor: 1200, currency: 'usd' },
      { kind: 'balance.changed', workspaceId, customerId: alice.customerId, balanceMinor: 1450, currency: 'usd' },
    ]);
    published.length = 0;
    await deliver();
    expect(mine()).toEqual([]);
  });

  it('an admin adjustment: balance.changed; a refused one (bad input) publishes nothing', async () => {
    const { workspaceId, bob, admin } = acme;
    const before = await adjustBalance({ db, workspaceId, currency: 'usd', actor: admin, input: { customerId: bob.customerId, amountMinor: 300, reason: 'goodwill' } });
    expect(published).toEqual([{ kind: 'balance.changed', workspaceId, customerId: bob.customerId, balanceMinor: before.balanceMinor, currency: 'usd' }]);
    published.length = 0;
    await expect(adjustBalance({ db, workspaceId, currency: 'usd', actor: admin, input: { customerId: bob.customerId, amountMinor: 0, reason: 'x' } })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(adjustBalance({ db, workspaceId: newId(), currency: 'usd', actor: admin, input: { customerId: bob.customerId, amountMinor: 5, reason: 'x' } })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(published).toEqual([]);
  });

  it('a billing record marked paid: billing_record.paid; marking it again publishes nothing', async () => {
    const { workspaceId, alice, admin } = acme;
    const adminCaller = createCallerFactory(appRouter)(createInnerContext({ db, stripeAccounts: testStripeAccounts(null), config: testConfig, logger: silentLogger, actor: admin }));
    const today = new Date().toISOString().slice(0, 10);
    const record = await adminCaller.billingRecord.create({ customerId: alice.customerId, description: 'Setup fee', amountMinor: 4900, dueDate: today });
    published.length = 0;
    await adminCaller.billingRecord.markPaid({ recordId: record.id, method: 'bank_transfer', paidOn: today });
    expect(published).toEqual([{ kind: 'billing_record.paid', workspaceId, customerId: alice.customerId, billingRecordId: record.id, amountMinor: 4900, currency: 'usd' }]);
    published.length = 0;
    await expect(adminCaller.billingRecord.markPaid({ recordId: record.id, method: 'bank_transfer', paidOn: today })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
    expect(published).toEqual([]);
  });

  it('usage debits: one balance.changed per customer per batch, and usage.threshold_crossed when a debit crosses the threshold', async () => {
    const { workspaceId } = acme;
    await insertMeter(db, workspaceId, { key: 'stream_calls', billingMode: 'prepaid', aggregation: 'count', priceMinor: 10, blockSize: 1 });
    const id = newId();
    await db.q.insert(db.t.customers).values({ id, workspaceId, name: 'Watched', lowBalanceThresholdMinor: 25 });
    await creditBalance(db, { workspaceId, customerId: id, amountMinor: 50 });
    published.length = 0;
    let i = 0;
    const call = () => ({ customerId: id, meter: 'stream_calls', quantity: 1, idempotencyKey: `s-${id}-${i++}` });
    const res = await recordUsage({ db, workspaceId, events: [call(), call(), call()] }); // 50 -> 20, crosses 25
    expect(res.accepted).toBe(3);
    expect(published).toEqual([
      { kind: 'balance.changed', workspaceId, customerId: id, balanceMinor: 20, currency: 'usd' },
      { kind: 'usage.threshold_crossed', workspaceId, customerId: id, balanceMinor: 20, thresholdMinor: 25, currency: 'usd' },
    ]);
    published.length = 0;
    // Refused (the balance cannot cover it) and duplicates: nothing changed, nothing published.
    const refused = await recordUsage({ db, workspaceId, events: [call(), call(), call()] }); // 20 -> 10 -> 0, third refused
    expect(refused).toMatchObject({ accepted: 2, rejected: 1 });
    expect(published).toEqual([{ kind: 'balance.changed', workspaceId, customerId: id, balanceMinor: 0, currency: 'usd' }]);
    published.length = 0;
    await recordUsage({ db, workspaceId, events: [{ ...call(), idempotencyKey: `s-${id}-0` }] });
    expect(published).toEqual([]);
  });
});
