/**
 * Issue 8, item 3: events arrive duplicated and out of order, and the mirrors must not care.
 *
 * Four scenarios run once against the Stripe emulator (trial to renewals, a failed renewal that
 * runs out of grace and is then paid, cancel at period end, plan and seat changes with
 * proration). Each scenario's event stream, as the emulator published it, is then fed straight
 * to the webhook handlers (`stripeEventHandlers`) of a second database seeded with the same
 * workspace, plans and customers: first in order, then in >= 200 random permutations with
 * duplicates (fast-check), each of which must end in the same subscription, invoice, test
 * clock, access and license state. Both ordering modes are checked:
 * - re-read: the handlers get the workspace's Stripe client and re-read each object (the
 *   emulator now holds the final state; each object is read once through the SDK and the answer
 *   kept, see `rememberingRereads`);
 * - payload only: no Stripe client (a replay); events' `created` seconds are made strictly
 *   increasing in the order Stripe published them, so the payloads' own order is decidable.
 * The second database is reset (rows deleted) between runs. Each fast-check run shuffles all four
 * streams and feeds them side by side (their customers, subscriptions and invoices are disjoint),
 * so 200 runs check 200 orders of every scenario.
 */
import { eq, type Database } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import fc from 'fast-check';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../packages/api/src/logger';
import type { StripeAccounts } from '../../../packages/api/src/stripe/accounts';
import { accessForCustomer } from '../../../packages/api/src/subscriptions/customer-access';
import { stripeEventHandlers } from '../../../packages/api/src/webhooks/handlers/index';
import { DEPLOYMENT_SCOPE } from '../../../packages/api/src/webhooks/types';
import { startSubscriptionStack, type StackCustomer, type SubscriptionStack } from './subscription-harness';

const DAY = 86_400;
const GRACE_DAYS = 7;
const RUNS = 200;
/** Access is judged at one fixed moment (test-clock customers: their clock's time). */
const JUDGED_AT = new Date('2030-01-01T00:00:00Z');
const HANDLED = new Set(Object.keys(stripeEventHandlers));

interface Recorded {
  name: string;
  customers: StackCustomer[];
  events: Stripe.Event[];
}

/** The handled events of `c` (its objects and its test clock), oldest first, as the emulator published them. */
function streamOf(stack: SubscriptionStack, c: StackCustomer): Stripe.Event[] {
  return stack.emulator.events().filter((e) => {
    const object = e.data.object as { customer?: unknown; id?: unknown };
    return HANDLED.has(e.type) && (object.customer === c.stripeCustomerId || (c.testClockId !== null && object.id === c.testClockId));
  });
}

/** A copy of `events` whose `created` seconds strictly increase in the given order. */
function withIncreasingCreated(events: readonly Stripe.Event[]): Stripe.Event[] {
  const base = Math.min(...events.map((e) => e.created));
  return events.map((e, i) => ({ ...structuredClone(e), created: base + i }) as Stripe.Event);
}

describe.each(testDialects)('subscription mirrors under reordering ($name)', ({ create }) => {
  let db: TestDatabase;
  let replica: TestDatabase;
  let stack: SubscriptionStack;
  const recorded: Recorded[] = [];

  async function subscribe(c: StackCustomer, plan: 'solo' | 'team' | 'enterprise', quantity = 1, trialDays?: number): Promise<string> {
    const session = await stack.stripe.checkout.sessions.create({
      mode: 'subscription',
      customer: c.stripeCustomerId,
      line_items: [{ price: stack.plans[plan].stripePriceId, quantity }],
      ...(trialDays ? { subscription_data: { trial_period_days: trialDays } } : {}),
      success_url: 'http://localhost:5173/subscription?checkout=success',
      cancel_url: 'http://localhost:5173/subscription?checkout=cancel',
    });
    expect(await stack.completeCheckout(session.id)).toEqual({ ok: true });
    return (await stack.stripe.subscriptions.list({ customer: c.stripeCustomerId })).data[0]!.id;
  }
  const clockNow = async (c: StackCustomer) => (await stack.stripe.testHelpers.testClocks.retrieve(c.testClockId!)).frozen_time;
  const periodEndOf = async (subId: string) => (await stack.stripe.subscriptions.retrieve(subId)).items.data[0]!.current_period_end;

  /** The four scenarios of subscription-scenarios.test.ts, driven the same way, recorded. */
  async function runScenarios() {
    {
      const c = await stack.newCustomer({ testClock: true, name: 'trial' });
      const start = await clockNow(c);
      const subId = await subscribe(c, 'team', 3, 14);
      await stack.advanceClock(c.testClockId!, start + 11 * DAY + 3600);
      await stack.advanceClock(c.testClockId!, start + 14 * DAY + 2 * 3600);
      await stack.advanceClock(c.testClockId!, (await periodEndOf(subId)) + 2 * 3600);
      recorded.push({ name: 'trial, then renewals', customers: [c], events: streamOf(stack, c) });
    }
    {
      const c = await stack.newCustomer({ testClock: true, name: 'dunning' });
      const subId = await subscribe(c, 'solo');
      const failing = await stack.stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: c.stripeCustomerId });
      await stack.stripe.subscriptions.update(subId, { default_payment_method: failing.id });
      await stack.settle();
      const periodEnd = await periodEndOf(subId);
      await stack.advanceClock(c.testClockId!, periodEnd + 2 * 3600);
      await stack.advanceClock(c.testClockId!, periodEnd + 2 * DAY);
      await stack.advanceClock(c.testClockId!, periodEnd + (GRACE_DAYS + 2) * DAY);
      const open = (await stack.stripe.invoices.list({ customer: c.stripeCustomerId, status: 'open' })).data[0]!;
      const good = await stack.stripe.paymentMethods.attach('pm_card_visa', { customer: c.stripeCustomerId });
      await stack.stripe.customers.update(c.stripeCustomerId, { invoice_settings: { default_payment_method: good.id } });
      await stack.stripe.subscriptions.update(subId, { default_payment_method: good.id });
      await stack.stripe.invoices.pay(open.id, { payment_method: good.id });
      await stack.settle();
      recorded.push({ name: 'failed renewal, grace, paid', customers: [c], events: streamOf(stack, c) });
    }
    {
      const c = await stack.newCustomer({ testClock: true, name: 'cancel' });
      const subId = await subscribe(c, 'solo');
      await stack.stripe.subscriptions.update(subId, { cancel_at_period_end: true });
      await stack.settle();
      await stack.advanceClock(c.testClockId!, (await periodEndOf(subId)) + 3600);
      recorded.push({ name: 'cancel at period end', customers: [c], events: streamOf(stack, c) });
    }
    {
      const c = await stack.newCustomer({ testClock: true, name: 'change' });
      const subId = await subscribe(c, 'solo');
      await stack.advanceClock(c.testClockId!, (await clockNow(c)) + 10 * DAY);
      const item = (await stack.stripe.subscriptions.retrieve(subId)).items.data[0]!;
      await stack.stripe.subscriptions.update(subId, { items: [{ id: item.id, price: stack.plans.enterprise.stripePriceId, quantity: 3 }], proration_behavior: 'always_invoice' });
      await stack.settle();
      await stack.stripe.subscriptions.update(subId, { items: [{ id: item.id, quantity: 2 }], proration_behavior: 'create_prorations' });
      await stack.settle();
      recorded.push({ name: 'plan and seat changes', customers: [c], events: streamOf(stack, c) });
    }
  }

  /** The replica gets the stack's workspace, plans and customers, with the same ids. */
  async function seedReplica() {
    const { workspaces, plans, customers } = db.t;
    for (const row of await db.q.select().from(workspaces).where(eq(workspaces.id, stack.workspaceId))) await replica.q.insert(replica.t.workspaces).values(row);
    for (const row of await db.q.select().from(plans).where(eq(plans.workspaceId, stack.workspaceId))) await replica.q.insert(replica.t.plans).values(row);
    for (const row of await db.q.select().from(customers).where(eq(customers.workspaceId, stack.workspaceId))) await replica.q.insert(replica.t.customers).values(row);
  }

  async function reset(target: Database) {
    const t = target.t;
    await target.q.delete(t.licenses);
    await target.q.delete(t.invoices);
    await target.q.delete(t.subscriptions);
    await target.q.delete(t.stripeTestClocks);
    await target.q.delete(t.emailOutbox);
  }

  /** Feed events to the handlers, as `processStoredEvent` does; a handler that throws fails the run. */
  async function feed(target: Database, events: readonly Stripe.Event[], stripeAccounts: StripeAccounts | undefined) {
    for (const event of events) {
      const handler = stripeEventHandlers[event.type]!;
      await handler({ db: target, event, receipt: { scope: DEPLOYMENT_SCOPE, workspaceId: null }, expected: { livemode: false }, logger: silentLogger, ...(stripeAccounts ? { stripeAccounts } : {}) });
    }
  }

  /** Everything the mirrors decide for customer `c`, without row ids, write times or ordering stamps. */
  async function stateOf(target: Database, c: StackCustomer) {
    const t = target.t;
    const subscriptions = (await target.q.select().from(t.subscriptions).where(eq(t.subscriptions.customerId, c.customerId)))
      .map(({ id: _id, createdAt: _c, updatedAt: _u, syncedAtMs: _s, ...rest }) => rest)
      .sort((a, b) => a.stripeSubscriptionId.localeCompare(b.stripeSubscriptionId));
    const invoices = (await target.q.select().from(t.invoices).where(eq(t.invoices.customerId, c.customerId)))
      .map(({ id: _id, createdAt: _c, updatedAt: _u, syncedAtMs: _s, ...rest }) => rest)
      .sort((a, b) => a.stripeInvoiceId.localeCompare(b.stripeInvoiceId));
    const clocks = (await target.q.select().from(t.stripeTestClocks).where(eq(t.stripeTestClocks.stripeTestClockId, c.testClockId!))).map((k) => k.frozenTime.getTime());
    const { subscription: _sub, ...access } = await accessForCustomer(target, { workspaceId: stack.workspaceId, customerId: c.customerId, graceDays: GRACE_DAYS, now: JUDGED_AT });
    // Revoked history may differ (seats issued then cut, or never issued); what is live may not.
    const licenses = (await target.q.select().from(t.licenses).where(eq(t.licenses.customerId, c.customerId)))
      .filter((l) => l.status !== 'revoked')
      .map((l) => `${l.status}:${l.planId}`)
      .sort();
    return { subscriptions, invoices, clocks, access, licenses };
  }

  /**
   * Re-reads through the real SDK, answered once per object by the emulator and then kept: the
   * emulator's state no longer changes once the scenarios have run, so this is what Stripe says
   * now, without an HTTP round trip for each of the ~20,000 handler calls.
   */
  function rememberingRereads(real: StripeAccounts): StripeAccounts {
    const client = real.deployment.client!;
    const cache = new Map<string, Promise<unknown>>();
    const once = (key: string, load: () => Promise<unknown>) => {
      let answer = cache.get(key);
      if (!answer) cache.set(key, (answer = load()));
      return answer;
    };
    const remembering = {
      subscriptions: { retrieve: (id: string) => once(id, () => client.subscriptions.retrieve(id)) },
      invoices: { retrieve: (id: string) => once(id, () => client.invoices.retrieve(id)) },
    } as unknown as Stripe;
    return {
      ...real,
      async forWorkspace(target, workspaceId) {
        const stripe = await real.forWorkspace(target, workspaceId);
        return stripe.configured ? { ...stripe, client: remembering } : stripe;
      },
    };
  }

  beforeAll(async () => {
    db = await create();
    replica = await create();
    stack = await startSubscriptionStack(db, { graceDays: GRACE_DAYS, billing: { afterFinalFailure: 'past_due' } });
    await runScenarios();
    await seedReplica();
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
    await db?.destroy();
    await replica?.destroy();
  });

  it('records a non-trivial stream per scenario', () => {
    expect(recorded.map((r) => r.name)).toHaveLength(4);
    for (const r of recorded) {
      const types = new Set(r.events.map((e) => e.type));
      expect(types.has('customer.subscription.created')).toBe(true);
      expect(types.has('invoice.paid')).toBe(true);
      expect(r.events.length).toBeGreaterThanOrEqual(8);
    }
    const all = recorded.flatMap((r) => r.events.map((e) => e.type));
    for (const type of ['checkout.session.completed', 'customer.subscription.trial_will_end', 'customer.subscription.deleted', 'invoice.payment_failed', 'test_helpers.test_clock.ready']) {
      expect(all).toContain(type);
    }
  });

  /** Every run: a permutation of the stream plus up to a third of it again (duplicates). */
  const shuffledWithDuplicates = (n: number) =>
    fc.array(fc.nat({ max: n - 1 }), { maxLength: Math.ceil(n / 3) }).chain((dups) => {
      const all = [...Array.from({ length: n }, (_, i) => i), ...dups];
      return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });
    });

  it('in publish order, the payloads alone end where the re-reads of the final objects do', async () => {
    const customers = recorded.map((r) => r.customers[0]!);
    const end = async (mode: 're-read' | 'payload only') => {
      await reset(replica);
      for (const r of recorded) await feed(replica, mode === 'payload only' ? withIncreasingCreated(r.events) : r.events, mode === 're-read' ? rememberingRereads(stack.stripeAccounts) : undefined);
      return Promise.all(
        customers.map(async (c) => {
          // Licenses differ by design: a replay has no keyring to issue keys with.
          const { licenses: _licenses, ...mirrors } = await stateOf(replica, c);
          return mirrors;
        }),
      );
    };
    expect(await end('payload only')).toEqual(await end('re-read'));
  });

  for (const mode of ['re-read', 'payload only'] as const) {
    it(`${mode}: ${RUNS} runs, each every scenario's stream shuffled with duplicates, end in the in-order state`, async () => {
      const streams = recorded.map((r) => (mode === 'payload only' ? withIncreasingCreated(r.events) : r.events));
      const customers = recorded.map((r) => r.customers[0]!);
      const stripeAccounts = mode === 're-read' ? rememberingRereads(stack.stripeAccounts) : undefined;
      // The reference: each stream in the order Stripe published it.
      await reset(replica);
      for (const events of streams) await feed(replica, events, stripeAccounts);
      const expected = await Promise.all(customers.map((c) => stateOf(replica, c)));
      for (const state of expected) {
        expect(state.subscriptions).toHaveLength(1);
        expect(state.invoices.length).toBeGreaterThanOrEqual(1);
      }
      expect(expected.map((e) => e.subscriptions[0]!.status)).toEqual(['active', 'active', 'canceled', 'active']);
      // Enterprise issues licenses, one per seat (2 after the cut); without a keyring (replays) none are issued.
      const enterprise = `active:${stack.plans.enterprise.id}`;
      expect(expected[3]!.licenses).toEqual(mode === 're-read' ? [enterprise, enterprise] : []);
      // Each run shuffles every scenario; the scenarios (disjoint customers) are fed side by side.
      await fc.assert(
        fc.asyncProperty(fc.tuple(...streams.map((events) => shuffledWithDuplicates(events.length))), async (orders) => {
          await reset(replica);
          await Promise.all(orders.map((order, k) => feed(replica, order.map((i) => streams[k]![i]!), stripeAccounts)));
          for (const [k, c] of customers.entries()) expect(await stateOf(replica, c)).toEqual(expected[k]);
        }),
        { numRuns: RUNS },
      );
    }, 300_000);
  }
});
