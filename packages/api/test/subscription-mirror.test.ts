/**
 * Issue 8, item 3: the subscription mirror and the test clock handler, through the real webhook
 * entry (`receiveStripeWebhook`, signed deliveries). Payloads of both API shapes (2024-04-10:
 * periods on the subscription; current: on its items) built from Stripe's fixture object,
 * foreign customers, hostile payloads, delivery out of order and twice, NUL bytes, the
 * re-read from Stripe (and its fallbacks), and subscription-mode Checkout.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { and, eq, type Subscription } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/ids';
import { silentLogger } from '../src/logger';
import type { StripeAccounts } from '../src/stripe/accounts';
import { receiveStripeWebhook } from '../src/webhooks/receive';
import { DEPLOYMENT_SCOPE, type EventReceipt } from '../src/webhooks/types';
import { seedTenants, TEST_KEYRING, WEBHOOK_SECRET } from './helpers';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixtures = JSON.parse(readFileSync(path.join(repoRoot, '../shared/stripe/fixtures3.json'), 'utf8')).resources as Record<string, Record<string, unknown>>;
const DEPLOYMENT: EventReceipt = { scope: DEPLOYMENT_SCOPE, workspaceId: null };
const signer = new Stripe('sk_test_signer_only_123456');
const uid = () => newId().replace(/-/g, '');
const T0 = 1_790_000_000;

type Obj = Record<string, unknown>;

/**
 * Stripe's example Subscription (its spec's fixture, whose periods are on the items: the
 * current shape) for `customer` with one item of `price` x `quantity`. `shape: 'old'` moves the
 * periods to the subscription, as 2024-04-10 and older API versions render it.
 */
function subscriptionObject({ id, customer, price, quantity = 1, status = 'active', shape = 'current', ...rest }: Obj & { id: string; customer: unknown; price: unknown; shape?: 'old' | 'current' }): Obj {
  const sub = structuredClone(fixtures.subscription!) as Obj & { items: { data: Obj[] } };
  const item = sub.items.data[0]!;
  Object.assign(item, { price: typeof price === 'string' ? { ...(item.price as Obj), id: price } : price, quantity, subscription: id, current_period_start: T0, current_period_end: T0 + 30 * 86_400 });
  Object.assign(sub, { id, customer, status, cancel_at_period_end: false, cancel_at: null, canceled_at: null, ended_at: null, trial_start: null, trial_end: null, test_clock: null, latest_invoice: null, created: T0 - 100 });
  if (shape === 'old') {
    delete item.current_period_start;
    delete item.current_period_end;
    Object.assign(sub, { current_period_start: T0, current_period_end: T0 + 30 * 86_400 });
  }
  return { ...sub, ...rest };
}

function eventOf(type: string, object: unknown, { created = T0, id = `evt_${uid()}`, apiVersion = '2026-10-28.endive', livemode = false }: { created?: number; id?: string; apiVersion?: string; livemode?: boolean } = {}): Obj {
  return { ...structuredClone(fixtures.event!), id, type, api_version: apiVersion, created, livemode, data: { object } };
}

/** A client whose `subscriptions.retrieve` / `invoices.retrieve` are the given functions; anything else fails. */
function fakeStripe(calls: { subscriptions?: (id: string) => Promise<unknown>; invoices?: (id: string) => Promise<unknown> }): Stripe {
  const missing = async () => {
    throw new Error('not expected in this test');
  };
  return { subscriptions: { retrieve: calls.subscriptions ?? missing }, invoices: { retrieve: calls.invoices ?? missing } } as unknown as Stripe;
}
function accountsWith(client: Stripe): StripeAccounts {
  return {
    deployment: { mode: 'emulator', client, webhookSecret: WEBHOOK_SECRET },
    keyring: TEST_KEYRING,
    clientForKey: () => client,
    forWorkspace: async () => ({ configured: true, source: 'deployment', client, mode: 'emulator', expected: { livemode: false }, webhookSecret: WEBHOOK_SECRET, stripeAccountId: null }),
  };
}
const notFound = () => Stripe.errors.StripeError.generate({ type: 'invalid_request_error', code: 'resource_missing', message: "No such subscription: 'sub_x'", statusCode: 404 } as never);
const unreachable = () => new Stripe.errors.StripeConnectionError({ message: 'An error occurred with our connection to Stripe.' } as never);

describe.each(testDialects)('subscription mirror ($name)', ({ create }) => {
  let db: TestDatabase;
  let tenants: Awaited<ReturnType<typeof seedTenants>>;
  let other: Awaited<ReturnType<typeof seedTenants>>;
  const cus = { alice: `cus_A${uid().slice(0, 12)}`, bob: `cus_B${uid().slice(0, 12)}`, otherWs: `cus_O${uid().slice(0, 12)}` };
  const price = { solo: `price_solo${uid().slice(0, 8)}`, team: `price_team${uid().slice(0, 8)}`, teamYearly: `price_teamy${uid().slice(0, 8)}` };
  const plans: Record<string, string> = {};

  beforeAll(async () => {
    db = await create();
    tenants = await seedTenants(db);
    other = await seedTenants(db);
    const t = db.t;
    await db.q.update(t.customers).set({ stripeCustomerId: cus.alice }).where(eq(t.customers.id, tenants.alice.customerId));
    await db.q.update(t.customers).set({ stripeCustomerId: cus.bob }).where(eq(t.customers.id, tenants.bob.customerId));
    await db.q.update(t.customers).set({ stripeCustomerId: cus.otherWs }).where(eq(t.customers.id, other.alice.customerId));
    for (const [code, monthly, yearly] of [
      ['solo', price.solo, null],
      ['team', price.team, price.teamYearly],
    ] as const) {
      const id = newId();
      plans[code] = id;
      await db.q.insert(t.plans).values({ id, workspaceId: tenants.workspaceId, code, name: code, stripePriceId: monthly, stripeYearlyPriceId: yearly, perSeat: code === 'team' });
    }
  });
  afterAll(async () => {
    await db?.destroy();
  });

  /** Deliver an event as Stripe would (raw JSON, signed); returns the receipt and the event log row. */
  async function deliver(event: Obj | string, { receipt = DEPLOYMENT, stripeAccounts }: { receipt?: EventReceipt; stripeAccounts?: StripeAccounts } = {}) {
    const payload = typeof event === 'string' ? event : JSON.stringify(event);
    const signature = signer.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
    const result = await receiveStripeWebhook({ db, receipt, webhookSecret: WEBHOOK_SECRET, rawBody: Buffer.from(payload), signature, logger: silentLogger, expected: { livemode: false }, ...(stripeAccounts ? { stripeAccounts } : {}) });
    const id = typeof event === 'string' ? (JSON.parse(event) as { id: string }).id : (event.id as string);
    const [logged] = await db.q.select().from(db.t.stripeEvents).where(and(eq(db.t.stripeEvents.scope, receipt.scope), eq(db.t.stripeEvents.id, id)));
    return { result, logged: logged! };
  }
  async function mirror(stripeSubscriptionId: string): Promise<Subscription | undefined> {
    const { subscriptions: s } = db.t;
    const [row] = await db.q.select().from(s).where(eq(s.stripeSubscriptionId, stripeSubscriptionId));
    return row;
  }

  it('mirrors an old-shape (2024-04-10) subscription: periods on the subscription, plan by monthly price, seats = quantity', async () => {
    const id = `sub_${uid()}`;
    const object = subscriptionObject({ id, customer: cus.alice, price: price.team, quantity: 4, shape: 'old', status: 'trialing', trial_start: T0, trial_end: T0 + 14 * 86_400, latest_invoice: 'in_1LatestOne', test_clock: 'clock_1Abc' });
    const { result, logged } = await deliver(eventOf('customer.subscription.created', object, { apiVersion: '2024-04-10' }));
    expect(result).toMatchObject({ httpStatus: 200, status: 'processed' });
    expect(logged.outcome).toContain(id);
    expect(logged.workspaceId).toBe(tenants.workspaceId);
    const row = await mirror(id);
    expect(row).toMatchObject({
      workspaceId: tenants.workspaceId,
      customerId: tenants.alice.customerId,
      stripeCustomerId: cus.alice,
      planId: plans.team,
      stripePriceId: price.team,
      status: 'trialing',
      seats: 4,
      currency: 'usd',
      cancelAtPeriodEnd: false,
      latestStripeInvoiceId: 'in_1LatestOne',
      stripeTestClockId: 'clock_1Abc',
      livemode: false,
      pastDueSince: null,
      syncedAtMs: T0 * 1000,
    });
    expect(row!.currentPeriodStart!.getTime()).toBe(T0 * 1000);
    expect(row!.currentPeriodEnd!.getTime()).toBe((T0 + 30 * 86_400) * 1000);
    expect(row!.trialEnd!.getTime()).toBe((T0 + 14 * 86_400) * 1000);
    expect(row!.stripeCreated!.getTime()).toBe((T0 - 100) * 1000);
  });

  it('mirrors a current-shape subscription: periods on the first item, expanded customer and price, yearly price -> plan', async () => {
    const id = `sub_${uid()}`;
    const object = subscriptionObject({ id, customer: { id: cus.alice, object: 'customer' }, price: { id: price.teamYearly, object: 'price' }, quantity: 2, cancel_at_period_end: true, cancel_at: T0 + 30 * 86_400, canceled_at: T0 + 5 });
    expect((object as { current_period_end?: unknown }).current_period_end).toBeUndefined();
    expect((await deliver(eventOf('customer.subscription.updated', object))).result).toMatchObject({ httpStatus: 200, status: 'processed' });
    const row = await mirror(id);
    expect(row).toMatchObject({ planId: plans.team, stripePriceId: price.teamYearly, seats: 2, cancelAtPeriodEnd: true, status: 'active' });
    expect(row!.currentPeriodEnd!.getTime()).toBe((T0 + 30 * 86_400) * 1000);
    expect(row!.cancelAt!.getTime()).toBe((T0 + 30 * 86_400) * 1000);
    expect(row!.canceledAt!.getTime()).toBe((T0 + 5) * 1000);

    // A price no plan has: mirrored, without a plan.
    const unplanned = `sub_${uid()}`;
    await deliver(eventOf('customer.subscription.created', subscriptionObject({ id: unplanned, customer: cus.alice, price: 'price_NotAPlanOfOurs' })));
    expect(await mirror(unplanned)).toMatchObject({ planId: null, stripePriceId: 'price_NotAPlanOfOurs' });
  });

  it("ignores subscriptions of customers that are not Tally's, or not of the receiving workspace, naming the ids", async () => {
    const id = `sub_${uid()}`;
    const foreign = await deliver(eventOf('customer.subscription.created', subscriptionObject({ id, customer: 'cus_NotOneOfOurs', price: price.solo })));
    expect(foreign.result).toMatchObject({ httpStatus: 200, status: 'ignored' });
    expect(foreign.logged.outcome).toContain(id);
    expect(foreign.logged.outcome).toContain('cus_NotOneOfOurs');
    // Workspace B's URL never touches workspace A's customer.
    const atOther = await deliver(eventOf('customer.subscription.created', subscriptionObject({ id, customer: cus.alice, price: price.solo })), { receipt: { scope: other.workspaceId, workspaceId: other.workspaceId } });
    expect(atOther.result).toMatchObject({ status: 'ignored' });
    expect(atOther.logged.outcome).toContain(cus.alice);
    // A live-mode subscription at a test-mode endpoint.
    const live = await deliver(eventOf('customer.subscription.created', subscriptionObject({ id, customer: cus.alice, price: price.solo, livemode: true }), { livemode: true }));
    expect(live.result).toMatchObject({ status: 'ignored' });
    expect(await mirror(id)).toBeUndefined();
  });

  it('ignores payloads it cannot understand and never fails on them; bad optional fields read as absent', async () => {
    const base = subscriptionObject({ id: `sub_${uid()}`, customer: cus.alice, price: price.solo });
    const garbage: unknown[] = [
      null,
      'sub_1',
      42,
      [],
      {},
      { ...base, id: undefined },
      { ...base, id: 'in_1NotASubscription' },
      { ...base, id: `sub_${'a'.repeat(300)}` },
      { ...base, id: 'sub_with\u0000nul' },
      { ...base, id: "sub_1'; DROP TABLE subscriptions; --" },
      { ...base, customer: null },
      { ...base, customer: 'cus_bad\u0000' },
      { ...base, customer: { id: 42 } },
      { ...base, status: 'exploded' },
      { ...base, status: 7 },
    ];
    for (const object of garbage) {
      const { result, logged } = await deliver(eventOf('customer.subscription.updated', object));
      expect(result, JSON.stringify(object)?.slice(0, 80)).toMatchObject({ httpStatus: 200, status: 'ignored' });
      expect(logged.outcome).toMatch(/not a Stripe Subscription|not a Tally customer/i);
    }
    // No data at all.
    const bare = { ...eventOf('customer.subscription.deleted', null) };
    delete (bare as { data?: unknown }).data;
    expect((await deliver(bare)).result).toMatchObject({ httpStatus: 200, status: 'ignored' });

    const id = `sub_${uid()}`;
    const sloppy = {
      ...subscriptionObject({ id, customer: cus.alice, price: price.solo, shape: 'old' }),
      current_period_end: 'soon',
      trial_end: -5,
      cancel_at_period_end: 'yes',
      canceled_at: 1e20,
      currency: 'US Dollars',
      livemode: 'no',
      test_clock: 'not-a-clock',
      items: { data: [{ price: { id: 'price_\u0000' }, quantity: -1 }] },
    };
    expect((await deliver(eventOf('customer.subscription.updated', sloppy))).result).toMatchObject({ httpStatus: 200, status: 'processed' });
    expect(await mirror(id)).toMatchObject({ status: 'active', seats: 1, planId: null, stripePriceId: null, currentPeriodEnd: null, trialEnd: null, cancelAtPeriodEnd: false, canceledAt: null, currency: null, stripeTestClockId: null });
    expect((await mirror(id))!.currentPeriodStart!.getTime()).toBe(T0 * 1000);
  });

  it('stores and mirrors payloads with NUL bytes in free text; the outcome has none', async () => {
    const id = `sub_${uid()}`;
    const object = subscriptionObject({ id, customer: cus.alice, price: price.solo, description: 'nul \u0000 here', metadata: { note: 'a\u0000b' } });
    const raw = JSON.stringify(eventOf('customer.subscription.created', object));
    expect(raw).toContain('\\u0000');
    const { result, logged } = await deliver(raw);
    expect(result).toMatchObject({ httpStatus: 200, status: 'processed' });
    expect(logged.payload).toBe(raw);
    expect(logged.outcome).not.toContain('\u0000');
    expect(await mirror(id)).toMatchObject({ status: 'active' });
  });

  it('.updated before .created ends in the newest row; a stale event changes nothing; duplicates are no-ops', async () => {
    const id = `sub_${uid()}`;
    const created = eventOf('customer.subscription.created', subscriptionObject({ id, customer: cus.alice, price: price.solo, status: 'trialing' }), { created: T0 });
    const updated = eventOf('customer.subscription.updated', subscriptionObject({ id, customer: cus.alice, price: price.team, quantity: 3, status: 'active' }), { created: T0 + 60 });
    expect((await deliver(updated)).result).toMatchObject({ status: 'processed' });
    const late = await deliver(created);
    expect(late.result).toMatchObject({ status: 'processed' });
    expect(late.logged.outcome).toMatch(/kept/);
    expect(await mirror(id)).toMatchObject({ status: 'active', planId: plans.team, seats: 3, syncedAtMs: (T0 + 60) * 1000 });

    // Newer, then an older update arriving late.
    const cancel = eventOf('customer.subscription.updated', subscriptionObject({ id, customer: cus.alice, price: price.team, quantity: 3, cancel_at_period_end: true }), { created: T0 + 120 });
    const older = eventOf('customer.subscription.updated', subscriptionObject({ id, customer: cus.alice, price: price.team, quantity: 1 }), { created: T0 + 90 });
    await deliver(cancel);
    await deliver(older);
    expect(await mirror(id)).toMatchObject({ cancelAtPeriodEnd: true, seats: 3, syncedAtMs: (T0 + 120) * 1000 });

    // The same event again: a duplicate, nothing runs; the same content in another event of that second: a tie, no change.
    const before = await mirror(id);
    expect((await deliver(cancel)).result).toMatchObject({ httpStatus: 200, duplicate: true });
    await deliver({ ...cancel, id: `evt_${uid()}` });
    expect(await mirror(id)).toEqual(before);
    const rows = await db.q.select().from(db.t.subscriptions).where(eq(db.t.subscriptions.stripeSubscriptionId, id));
    expect(rows).toHaveLength(1);
  });

  it('in one second, the later status wins whichever arrives first; canceled never comes back', async () => {
    for (const order of [0, 1]) {
      const id = `sub_${uid()}`;
      const active = eventOf('customer.subscription.updated', subscriptionObject({ id, customer: cus.bob, price: price.solo, status: 'active' }), { created: T0 + 10 });
      const pastDue = eventOf('customer.subscription.updated', subscriptionObject({ id, customer: cus.bob, price: price.solo, status: 'past_due' }), { created: T0 + 10 });
      for (const e of order === 0 ? [active, pastDue] : [pastDue, active]) await deliver(e);
      expect((await mirror(id))!.status).toBe('past_due');
    }
    const id = `sub_${uid()}`;
    await deliver(eventOf('customer.subscription.deleted', subscriptionObject({ id, customer: cus.bob, price: price.solo, status: 'canceled', ended_at: T0 + 5 }), { created: T0 + 5 }));
    // Even a "newer" active payload (a replayed or forged-looking one) does not revive it.
    await deliver(eventOf('customer.subscription.updated', subscriptionObject({ id, customer: cus.bob, price: price.solo, status: 'active' }), { created: T0 + 500 }));
    expect(await mirror(id)).toMatchObject({ status: 'canceled', syncedAtMs: (T0 + 5) * 1000 });
    expect((await mirror(id))!.endedAt!.getTime()).toBe((T0 + 5) * 1000);
  });

  it('re-reads the subscription from Stripe and writes what Stripe says now, with the time the read started', async () => {
    const id = `sub_${uid()}`;
    const now = subscriptionObject({ id, customer: cus.alice, price: price.team, quantity: 7, status: 'past_due' });
    const reads: string[] = [];
    const accounts = accountsWith(fakeStripe({ subscriptions: async (sid) => (reads.push(sid), now) }));
    const before = Date.now();
    // The event is an old snapshot (created, trialing): what lands is Stripe's current object.
    const { result, logged } = await deliver(eventOf('customer.subscription.created', subscriptionObject({ id, customer: cus.alice, price: price.solo, status: 'trialing' }), { created: T0 }), { stripeAccounts: accounts });
    expect(result).toMatchObject({ status: 'processed' });
    expect(logged.outcome).toContain('re-read');
    expect(reads).toEqual([id]);
    const row = await mirror(id);
    expect(row).toMatchObject({ status: 'past_due', seats: 7, planId: plans.team });
    expect(row!.syncedAtMs).toBeGreaterThanOrEqual(before);
    expect(row!.syncedAtMs).toBeLessThanOrEqual(Date.now() + 5);
    // A later payload-only replay of an old event cannot undo it.
    await deliver(eventOf('customer.subscription.updated', subscriptionObject({ id, customer: cus.alice, price: price.solo }), { created: T0 + 1 }));
    expect((await mirror(id))!.status).toBe('past_due');

    // Stripe answering another customer's object: the signed payload is used instead.
    const id2 = `sub_${uid()}`;
    const confused = accountsWith(fakeStripe({ subscriptions: async () => subscriptionObject({ id: id2, customer: cus.bob, price: price.team }) }));
    await deliver(eventOf('customer.subscription.created', subscriptionObject({ id: id2, customer: cus.alice, price: price.solo }), { created: T0 }), { stripeAccounts: confused });
    expect(await mirror(id2)).toMatchObject({ customerId: tenants.alice.customerId, stripeCustomerId: cus.alice, planId: plans.solo, syncedAtMs: T0 * 1000 });
  });

  it('falls back to the payload when Stripe says the object is gone (404); fails the event (500, retried) when Stripe is unreachable', async () => {
    const id = `sub_${uid()}`;
    const gone = accountsWith(
      fakeStripe({
        subscriptions: async () => {
          throw notFound();
        },
      }),
    );
    const { result, logged } = await deliver(eventOf('customer.subscription.deleted', subscriptionObject({ id, customer: cus.alice, price: price.solo, status: 'canceled' }), { created: T0 + 7 }), { stripeAccounts: gone });
    expect(result).toMatchObject({ httpStatus: 200, status: 'processed' });
    expect(logged.outcome).toContain('payload');
    expect(await mirror(id)).toMatchObject({ status: 'canceled', syncedAtMs: (T0 + 7) * 1000 });

    const id2 = `sub_${uid()}`;
    let down = true;
    const flaky = accountsWith(
      fakeStripe({
        subscriptions: async () => {
          if (down) throw unreachable();
          return subscriptionObject({ id: id2, customer: cus.alice, price: price.solo, status: 'active' });
        },
      }),
    );
    const event = eventOf('customer.subscription.created', subscriptionObject({ id: id2, customer: cus.alice, price: price.solo, status: 'incomplete' }));
    const failed = await deliver(event, { stripeAccounts: flaky });
    expect(failed.result).toMatchObject({ httpStatus: 500, status: 'failed' });
    expect(failed.logged.status).toBe('failed');
    expect(failed.logged.lastError).toMatch(/connection to Stripe/);
    expect(await mirror(id2)).toBeUndefined();
    down = false;
    const retried = await deliver(event, { stripeAccounts: flaky });
    expect(retried.result).toMatchObject({ httpStatus: 200, status: 'processed', duplicate: true });
    expect(await mirror(id2)).toMatchObject({ status: 'active' });
  });

  it('checkout.session.completed in subscription mode mirrors its subscription and invoice; payment-mode sessions still go to top-ups', async () => {
    const subId = `sub_${uid()}`;
    const invoiceId = `in_${uid()}`;
    const invoice = { ...structuredClone(fixtures.invoice!), id: invoiceId, customer: cus.alice, status: 'paid', subscription: subId, parent: null, livemode: false, amount_paid: 4500, total: 4500, amount_due: 4500, amount_remaining: 0 };
    const accounts = accountsWith(
      fakeStripe({
        subscriptions: async () => subscriptionObject({ id: subId, customer: cus.alice, price: price.team, quantity: 3, status: 'trialing' }),
        invoices: async () => invoice,
      }),
    );
    const session = { ...structuredClone(fixtures['checkout.session']!), id: `cs_test_${uid()}`, mode: 'subscription', customer: cus.alice, subscription: subId, invoice: invoiceId, livemode: false, metadata: { tally_customer_id: tenants.alice.customerId }, client_reference_id: null };
    const { result, logged } = await deliver(eventOf('checkout.session.completed', session), { stripeAccounts: accounts });
    expect(result).toMatchObject({ httpStatus: 200, status: 'processed' });
    expect(logged.outcome).toContain(subId);
    expect(logged.outcome).toContain(invoiceId);
    expect(await mirror(subId)).toMatchObject({ status: 'trialing', seats: 3, planId: plans.team });
    const [inv] = await db.q.select().from(db.t.invoices).where(eq(db.t.invoices.stripeInvoiceId, invoiceId));
    expect(inv).toMatchObject({ status: 'paid', stripeSubscriptionId: subId, amountPaidMinor: 4500 });

    // Without a Stripe client (a replay) ids alone cannot be mirrored: processed, nothing written.
    const subId2 = `sub_${uid()}`;
    const replay = await deliver(eventOf('checkout.session.completed', { ...session, id: `cs_test_${uid()}`, subscription: subId2, invoice: null }));
    expect(replay.result).toMatchObject({ status: 'processed' });
    expect(await mirror(subId2)).toBeUndefined();
    // A foreign customer's subscription session is ignored.
    const foreign = await deliver(eventOf('checkout.session.completed', { ...session, id: `cs_test_${uid()}`, customer: 'cus_Foreign1' }), { stripeAccounts: accounts });
    expect(foreign.result).toMatchObject({ status: 'ignored' });
    // A payment-mode session that is no top-up of ours: the top-up handler's answer, as before.
    const payment = await deliver(eventOf('checkout.session.completed', { ...session, id: `cs_test_${uid()}`, mode: 'payment', subscription: null, metadata: {}, client_reference_id: null }));
    expect(payment.result).toMatchObject({ status: 'ignored' });
    expect(payment.logged.outcome).toBe('Checkout Session has no Tally top-up reference');
  });

  it('test clocks: frozen_time only moves forward; the deployment endpoint serves every workspace on its keys, a workspace URL only that one', async () => {
    const clock = `clock_${uid()}`;
    const clockObject = (frozen: number, status = 'ready') => ({ ...structuredClone(fixtures['test_helpers.test_clock']!), id: clock, frozen_time: frozen, status, livemode: false });
    const rows = async () =>
      (await db.q.select().from(db.t.stripeTestClocks).where(eq(db.t.stripeTestClocks.stripeTestClockId, clock)))
        .map((r) => [r.workspaceId, r.frozenTime.getTime() / 1000] as const)
        .sort();
    const ready = await deliver(eventOf('test_helpers.test_clock.ready', clockObject(T0 + 1000)));
    expect(ready.result).toMatchObject({ status: 'processed' });
    expect(await rows()).toEqual([
      [tenants.workspaceId, T0 + 1000],
      [other.workspaceId, T0 + 1000],
    ].sort());
    // An older advancing event arriving late does not move it back; a newer one does.
    await deliver(eventOf('test_helpers.test_clock.advancing', clockObject(T0 + 500, 'advancing')));
    expect((await rows()).map((r) => r[1])).toEqual([T0 + 1000, T0 + 1000]);
    await deliver(eventOf('test_helpers.test_clock.ready', clockObject(T0 + 9000)), { receipt: { scope: other.workspaceId, workspaceId: other.workspaceId } });
    expect(await rows()).toEqual([
      [tenants.workspaceId, T0 + 1000],
      [other.workspaceId, T0 + 9000],
    ].sort());
    for (const bad of [{ ...clockObject(T0), id: 'clock_\u0000' }, { ...clockObject(T0), frozen_time: 'later' }, { ...clockObject(T0), object: 'customer' }, null]) {
      expect((await deliver(eventOf('test_helpers.test_clock.ready', bad))).result).toMatchObject({ status: 'ignored' });
    }
  });
});
