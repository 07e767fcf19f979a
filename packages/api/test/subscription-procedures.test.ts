/**
 * Issue 8, item 2: the customer and admin subscription procedures and the portal against a
 * real Stripe emulator (in process) through the real SDK. Checkout in subscription mode with
 * the plan's price, seats, trial, tenant metadata and the customer's own Stripe customer;
 * completed with the emulator, mirrored here by hand (the webhook handlers are tested
 * elsewhere), then refused a second checkout, previewed and changed with proration, canceled
 * at period end, resumed and canceled now; the portal; the admin variants (audited). Every
 * refusal that needs no Stripe makes no Stripe call. Both dialects.
 */
import { and, eq, type Invoice, type Subscription } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { startStripeEmulator, type StripeEmulator } from '@tally/stripe-emulator';
import { TRPCError } from '@trpc/server';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/context';
import { newId } from '../src/ids';
import { seedDemoPlans } from '../src/plans/seed-demo-plans';
import type { StripeAccounts } from '../src/stripe/accounts';
import { callerFor, countingStripe, mirrorSubscriptionRow, ORIGIN, seedTenants, testStripeAccounts } from './helpers';

const failure = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return e instanceof TRPCError ? { code: e.code, message: e.message } : { code: `not a TRPCError: ${String(e)}`, message: '' };
  }
  return { code: 'resolved', message: '' };
};
const DAY_S = 86_400;
const nowS = () => Math.floor(Date.now() / 1000);

describe.each(testDialects)('subscription procedures ($name)', ({ create }) => {
  let db: TestDatabase;
  let emulator: StripeEmulator;
  let stripe: Stripe;
  let calls: string[];
  let accounts: StripeAccounts;
  beforeAll(async () => {
    db = await create();
    emulator = await startStripeEmulator({ port: 0, statePath: null });
    const url = new URL(emulator.url);
    ({ stripe, calls } = countingStripe({ host: url.hostname, port: Number(url.port) }));
    accounts = testStripeAccounts(stripe);
  });
  afterAll(async () => {
    await emulator.close();
    await db.destroy();
  });

  const caller = (actor: Actor, workspaceId: string | null = null) => callerFor(db, accounts, actor, ORIGIN, workspaceId);

  async function setup() {
    const tenants = await seedTenants(db);
    const plans = await seedDemoPlans({ db, stripe, workspaceId: tenants.workspaceId });
    return { ...tenants, plans };
  }
  type Setup = Awaited<ReturnType<typeof setup>>;

  /** The mirror row the webhooks would write (see `mirrorSubscriptionRow`). */
  const mirror = (t: Setup, customerId: string, stripeSubscriptionId: string): Promise<Subscription> =>
    mirrorSubscriptionRow(db, stripe, { workspaceId: t.workspaceId, customerId, stripeSubscriptionId, plans: Object.values(t.plans) });


  /** Start a checkout as `actor`, pay it with the emulator, mirror the subscription. */
  async function subscribe(t: Setup, actor: Actor & { customerId: string }, input: { plan: string; seats?: number; trialDays?: number }) {
    const { checkoutSessionId } = await caller(actor).subscription.createCheckout(input);
    expect(await emulator.completeCheckoutSession(checkoutSessionId)).toEqual({ ok: true });
    const session = await stripe.checkout.sessions.retrieve(checkoutSessionId);
    expect(session.status).toBe('complete');
    const row = await mirror(t, actor.customerId, String(session.subscription));
    return { session, row };
  }

  /** Run `fn` and return how many Stripe HTTP calls it made. */
  async function stripeCallsOf(fn: () => Promise<unknown>): Promise<number> {
    const before = calls.length;
    await fn();
    return calls.length - before;
  }

  const auditOf = (workspaceId: string, action: string) =>
    db.q.select().from(db.t.auditLog).where(and(eq(db.t.auditLog.workspaceId, workspaceId), eq(db.t.auditLog.action, action)));

  it('createCheckout: a subscription-mode session with the price, seats, trial and tenant metadata, for the Stripe customer (created once, with the email)', async () => {
    const t = await setup();
    const c = caller(t.alice);
    const { url, checkoutSessionId } = await c.subscription.createCheckout({ plan: 'team', seats: 3 });
    const session = await stripe.checkout.sessions.retrieve(checkoutSessionId);
    const [customerRow] = await db.q.select().from(db.t.customers).where(eq(db.t.customers.id, t.alice.customerId));
    const stripeCustomerId = customerRow!.stripeCustomerId!;
    expect(stripeCustomerId).toMatch(/^cus_/);
    const stripeCustomer = (await stripe.customers.retrieve(stripeCustomerId)) as Stripe.Customer;
    expect(stripeCustomer.email).toBe(t.alice.email);
    expect(stripeCustomer.metadata).toMatchObject({ tally_customer_id: t.alice.customerId, tally_workspace_id: t.workspaceId });
    const metadata = { tally_customer_id: t.alice.customerId, tally_workspace_id: t.workspaceId, tally_plan_code: 'team' };
    expect(session).toMatchObject({
      mode: 'subscription',
      status: 'open',
      url,
      customer: stripeCustomerId,
      client_reference_id: t.alice.customerId,
      metadata,
      success_url: `${ORIGIN}/subscription?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${ORIGIN}/subscription?checkout=cancelled`,
    });
    expect(session.expires_at - nowS()).toBeGreaterThan(3600 - 60);
    expect(session.expires_at - nowS()).toBeLessThanOrEqual(2 * 3600);
    const lines = await stripe.checkout.sessions.listLineItems(checkoutSessionId);
    expect(lines.data.map((l) => ({ price: l.price?.id, quantity: l.quantity }))).toEqual([{ price: t.plans.team.stripePriceId, quantity: 3 }]);

    // The same request again (a double click, a second tab) gets the same session; another replaces it.
    expect((await c.subscription.createCheckout({ plan: 'team', seats: 3 })).checkoutSessionId).toBe(checkoutSessionId);
    const four = await c.subscription.createCheckout({ plan: 'team', seats: 4 });
    expect(four.checkoutSessionId).not.toBe(checkoutSessionId);
    expect((await stripe.checkout.sessions.retrieve(checkoutSessionId)).status).toBe('expired');

    // Paid: the subscription has the plan's 14-day trial, 4 seats, the metadata, on the same Stripe customer.
    expect(await emulator.completeCheckoutSession(four.checkoutSessionId)).toEqual({ ok: true });
    const paid = await stripe.checkout.sessions.retrieve(four.checkoutSessionId);
    const sub = await stripe.subscriptions.retrieve(String(paid.subscription));
    expect(sub).toMatchObject({ status: 'trialing', customer: stripeCustomerId, metadata });
    expect(sub.trial_end! - sub.trial_start!).toBe(14 * DAY_S);
    expect(sub.items.data.map((i) => ({ price: i.price.id, quantity: i.quantity }))).toEqual([{ price: t.plans.team.stripePriceId, quantity: 4 }]);
    expect((await stripe.customers.list({ email: t.alice.email })).data.map((x) => x.id)).toEqual([stripeCustomerId]);
    // Before the webhook has mirrored it, Stripe's own list already refuses a second subscription.
    expect(await db.q.select().from(db.t.subscriptions).where(eq(db.t.subscriptions.customerId, t.alice.customerId))).toEqual([]);
    expect(await failure(c.subscription.createCheckout({ plan: 'solo' }))).toEqual({
      code: 'CONFLICT',
      message: 'Already subscribed (trialing): change the plan or seats of the current subscription instead of subscribing again',
    });
  });

  it('trial days: the plan default, shorter or none for customers, any 0..730 for admins (audited); a plan without a trial starts active', async () => {
    const t = await setup();
    const trialOf = async (sessionId: string) => {
      expect(await emulator.completeCheckoutSession(sessionId)).toEqual({ ok: true });
      const sub = await stripe.subscriptions.retrieve(String((await stripe.checkout.sessions.retrieve(sessionId)).subscription));
      return { status: sub.status, days: sub.trial_end && sub.trial_start ? (sub.trial_end - sub.trial_start) / DAY_S : 0, quantity: sub.items.data[0]!.quantity };
    };
    const bob = caller(t.bob);
    expect(await trialOf((await bob.subscription.createCheckout({ plan: 'solo', trialDays: 0 })).checkoutSessionId)).toEqual({ status: 'active', days: 0, quantity: 1 });

    const mk = async (label: string) => {
      const userId = newId();
      const email = `${label}-${userId}@example.test`;
      await db.q.insert(db.t.users).values({ id: userId, name: label, email });
      const customerId = newId();
      await db.q.insert(db.t.customers).values({ id: customerId, workspaceId: t.workspaceId, name: label, email });
      await db.q.insert(db.t.customerMemberships).values({ id: newId(), customerId, userId, role: 'owner' });
      return { userId, email, customerId };
    };
    const dan = await mk('dan');
    expect(await trialOf((await caller(dan).subscription.createCheckout({ plan: 'solo', trialDays: 7 })).checkoutSessionId)).toEqual({ status: 'trialing', days: 7, quantity: 1 });
    const erin = await mk('erin');
    expect(await trialOf((await caller(erin).subscription.createCheckout({ plan: 'enterprise' })).checkoutSessionId)).toEqual({ status: 'active', days: 0, quantity: 1 });

    const frank = await mk('frank');
    const admin = caller(t.admin);
    const { checkoutSessionId } = await admin.subscription.createCheckoutForCustomer({ customerId: frank.customerId, plan: 'team', seats: 2, trialDays: 30 });
    expect((await stripe.checkout.sessions.retrieve(checkoutSessionId)).metadata).toMatchObject({ tally_customer_id: frank.customerId, tally_plan_code: 'team' });
    expect(await trialOf(checkoutSessionId)).toEqual({ status: 'trialing', days: 30, quantity: 2 });
    const audit = await auditOf(t.workspaceId, 'subscription.create_checkout');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorUserId: t.admin.userId, targetType: 'customer', targetId: frank.customerId });
    expect(JSON.parse(audit[0]!.after!)).toEqual({ plan: 'team', interval: 'month', seats: 2, trialDays: 30, checkoutSessionId });
  });

  it('subscribed: get shows it with its access; a second checkout is CONFLICT without a Stripe call; seats and plan change with the previewed proration', async () => {
    const t = await setup();
    const c = caller(t.alice);
    const { row } = await subscribe(t, t.alice, { plan: 'solo', trialDays: 0 });
    const state = await c.subscription.get();
    expect(state.subscription).toMatchObject({
      id: row.id,
      stripeSubscriptionId: row.stripeSubscriptionId,
      plan: { code: 'solo', name: 'Solo', perSeat: false, issuesLicenses: false },
      status: 'active',
      seats: 1,
      currency: 'usd',
      cancelAtPeriodEnd: false,
      cancelAt: null,
      trialEnd: null,
    });
    expect(state.subscription!.currentPeriodEnd!.getTime() - state.subscription!.currentPeriodStart!.getTime()).toBeGreaterThan(27 * DAY_S * 1000);
    expect(state.access).toMatchObject({ access: 'active', reason: 'active', status: 'active' });
    expect(state.pastDue).toBeNull();

    let refusal: Awaited<ReturnType<typeof failure>> | undefined;
    expect(await stripeCallsOf(async () => (refusal = await failure(c.subscription.createCheckout({ plan: 'team', seats: 2 }))))).toBe(0);
    expect(refusal).toEqual({ code: 'CONFLICT', message: 'Already subscribed (active): change the plan or seats of the current subscription instead of subscribing again' });

    // Preview Solo ($29) -> Team x 3 ($45) with Stripe's create_preview: credit for Solo's unused time, charge for Team's remaining time, then the next period.
    const preview = await c.subscription.previewChange({ plan: 'team', seats: 3 });
    expect(preview).toMatchObject({ plan: { code: 'team', name: 'Team' }, seats: 3, currency: 'usd' });
    expect(Math.abs(preview.prorationDate - nowS())).toBeLessThanOrEqual(5);
    expect(preview.lines.filter((l) => l.proration)).toHaveLength(2);
    const credit = preview.lines.find((l) => l.proration && l.amountMinor < 0)!;
    const debit = preview.lines.find((l) => l.proration && l.amountMinor > 0)!;
    expect(credit.amountMinor).toBeGreaterThanOrEqual(-2900);
    expect(credit.amountMinor).toBeLessThanOrEqual(-2890);
    expect(debit.amountMinor).toBeGreaterThanOrEqual(4480);
    expect(debit.amountMinor).toBeLessThanOrEqual(4500);
    expect(preview.lines.filter((l) => !l.proration)).toEqual([{ description: '3 × Team (at $15.00 / month)', amountMinor: 4500, quantity: 3, proration: false }]);
    expect(preview.totalMinor).toBe(credit.amountMinor + debit.amountMinor + 4500);
    expect(preview.amountDueMinor).toBe(preview.totalMinor);
    expect(preview.invoiceAt?.getTime()).toBe(state.subscription!.currentPeriodEnd!.getTime());

    const changed = await c.subscription.changePlan({ plan: 'team', seats: 3, prorationDate: preview.prorationDate });
    expect(changed).toMatchObject({ id: row.id, plan: { code: 'team' }, seats: 3, status: 'active' });
    const sub = await stripe.subscriptions.retrieve(row.stripeSubscriptionId);
    expect(sub.items.data.map((i) => ({ price: i.price.id, quantity: i.quantity }))).toEqual([{ price: t.plans.team.stripePriceId, quantity: 3 }]);
    // What the change put on the next invoice is exactly what was previewed: the same prorations (same proration date), the same amount due.
    const pending = (await stripe.invoiceItems.list({ customer: String(sub.customer), pending: true })).data.map((ii) => ii.amount).sort((a, b) => a - b);
    expect(pending).toEqual([credit.amountMinor, debit.amountMinor]);
    const next = await stripe.invoices.createPreview({ subscription: row.stripeSubscriptionId });
    expect({ amountDue: next.amount_due, total: next.total }).toEqual({ amountDue: preview.amountDueMinor, total: preview.totalMinor });
    await mirror(t, t.alice.customerId, row.stripeSubscriptionId);

    // A proration date outside the current period (a stale preview) is refused by Stripe: nothing changes.
    expect(await failure(c.subscription.changePlan({ plan: 'team', seats: 4, prorationDate: preview.prorationDate - 40 * DAY_S }))).toEqual({
      code: 'BAD_REQUEST',
      message: 'The preview is out of date (the billing period has moved on): preview the change again',
    });
    expect((await stripe.subscriptions.retrieve(row.stripeSubscriptionId)).items.data[0]!.quantity).toBe(3);

    // The previous prorations now show in the next preview; the same plan and seats is nothing to change (no Stripe call).
    expect(await stripeCallsOf(async () => (refusal = await failure(c.subscription.previewChange({ plan: 'team', seats: 3 }))))).toBe(0);
    expect(refusal).toEqual({ code: 'BAD_REQUEST', message: 'Already on Team with 3 seats: nothing to change' });
    const toFive = await c.subscription.previewChange({ plan: 'team', seats: 5 });
    expect(toFive.lines.filter((l) => l.proration)).toHaveLength(4);
    expect(toFive.lines.filter((l) => !l.proration)).toEqual([expect.objectContaining({ amountMinor: 7500, quantity: 5 })]);
    // Seats omitted on a per-seat plan keep the current seats: moving to Enterprise (flat) bills 1.
    expect((await c.subscription.previewChange({ plan: 'enterprise' })).seats).toBe(1);
    expect(await failure(c.subscription.changePlan({ plan: 'enterprise', seats: 3 }))).toEqual({ code: 'BAD_REQUEST', message: 'Enterprise is not priced per seat: seats must be 1 or omitted' });
    const enterprise = await c.subscription.changePlan({ plan: 'enterprise' });
    expect(enterprise).toMatchObject({ plan: { code: 'enterprise', issuesLicenses: true }, seats: 1 });
    // Scheduled to cancel at the period end: Stripe has no next invoice to preview.
    await c.subscription.cancel({ atPeriodEnd: true });
    expect(await failure(c.subscription.previewChange({ plan: 'team', seats: 2 }))).toEqual({
      code: 'CONFLICT',
      message: 'The subscription is scheduled to cancel at the end of its period, so there is no next invoice: resume it to change the plan or seats',
    });
  });

  it("with Stripe's upcoming-invoice preview (create_preview, answered here by a stand-in): the request names the item, price, seats, proration; the answer is mapped", async () => {
    const t = await setup();
    const { row } = await subscribe(t, t.alice, { plan: 'solo', trialDays: 0 });
    const seen: Array<{ method: string; path: string; body: URLSearchParams }> = [];
    const url = new URL(emulator.url);
    const fetchFn: typeof fetch = async (input, init) => {
      const target = new URL(String(input));
      const body = new URLSearchParams(typeof init?.body === 'string' ? init.body : '');
      seen.push({ method: init?.method ?? 'GET', path: target.pathname, body });
      if (target.pathname === '/v1/invoices/create_preview') {
        const invoice = {
          object: 'invoice',
          id: 'upcoming_in_1',
          amount_due: 6091,
          total: 6091,
          currency: 'usd',
          next_payment_attempt: 1_900_000_000,
          lines: {
            object: 'list',
            has_more: false,
            url: '/v1/invoices/upcoming/lines',
            data: [
              { object: 'line_item', id: 'il_1', amount: -2899, description: 'Unused time on Solo', quantity: 1, parent: { type: 'subscription_item_details', subscription_item_details: { proration: true } } },
              { object: 'line_item', id: 'il_2', amount: 4490, description: 'Remaining time on 3 × Team', quantity: 3, proration: true },
              { object: 'line_item', id: 'il_3', amount: 4500, description: '3 × Team', quantity: 3, parent: { type: 'subscription_item_details', subscription_item_details: { proration: false } } },
            ],
          },
        };
        return new Response(JSON.stringify(invoice), { status: 200, headers: { 'content-type': 'application/json', 'request-id': 'req_standin1' } });
      }
      return fetch(input, init);
    };
    const standIn = new Stripe('sk_test_standin_0001', { httpClient: Stripe.createFetchHttpClient(fetchFn), host: url.hostname, port: Number(url.port), protocol: 'http', maxNetworkRetries: 0 });
    const c = callerFor(db, testStripeAccounts(standIn), t.alice, ORIGIN);
    const preview = await c.subscription.previewChange({ plan: 'team', seats: 3 });
    const itemId = (await stripe.subscriptions.retrieve(row.stripeSubscriptionId)).items.data[0]!.id;
    const request = seen.find((r) => r.path === '/v1/invoices/create_preview')!;
    expect(request.method).toBe('POST');
    expect(Object.fromEntries(request.body)).toEqual({
      customer: row.stripeCustomerId,
      subscription: row.stripeSubscriptionId,
      'subscription_details[items][0][id]': itemId,
      'subscription_details[items][0][price]': t.plans.team.stripePriceId,
      'subscription_details[items][0][quantity]': '3',
      'subscription_details[proration_behavior]': 'create_prorations',
      'subscription_details[proration_date]': String(preview.prorationDate),
    });
    expect(preview).toEqual({
      plan: { code: 'team', name: 'Team' },
      seats: 3,
      interval: 'month',
      prorationDate: preview.prorationDate,
      amountDueMinor: 6091,
      totalMinor: 6091,
      currency: 'usd',
      lines: [
        { description: 'Unused time on Solo', amountMinor: -2899, quantity: 1, proration: true },
        { description: 'Remaining time on 3 × Team', amountMinor: 4490, quantity: 3, proration: true },
        { description: '3 × Team', amountMinor: 4500, quantity: 3, proration: false },
      ],
      invoiceAt: new Date(1_900_000_000_000),
    });

    // The change sends the preview's proration_date, once; Stripe (the emulator) takes it.
    seen.length = 0;
    expect(await c.subscription.changePlan({ plan: 'team', seats: 3, prorationDate: preview.prorationDate })).toMatchObject({ plan: { code: 'team' }, seats: 3 });
    const updates = seen.filter((r) => r.method === 'POST' && r.path === `/v1/subscriptions/${row.stripeSubscriptionId}`);
    expect(updates.map((u) => u.body.get('proration_date'))).toEqual([String(preview.prorationDate)]);
    for (const u of updates) {
      expect(u.body.get('items[0][id]')).toBe(itemId);
      expect(u.body.get('items[0][price]')).toBe(t.plans.team.stripePriceId);
      expect(u.body.get('items[0][quantity]')).toBe('3');
      expect(u.body.get('proration_behavior')).toBe('create_prorations');
    }
  });

  it('during a trial a change prorates nothing: the preview is the next period at the new price', async () => {
    const t = await setup();
    const c = caller(t.alice);
    const { row } = await subscribe(t, t.alice, { plan: 'team', seats: 3 });
    expect(row.status).toBe('trialing');
    const preview = await c.subscription.previewChange({ plan: 'enterprise' });
    expect(preview.lines).toEqual([{ description: '1 × Enterprise (at $299.00 / month)', amountMinor: 29900, quantity: 1, proration: false }]);
    expect(preview.amountDueMinor).toBe(29900);
    expect(preview.invoiceAt?.getTime()).toBe(row.trialEnd!.getTime());
    const changed = await c.subscription.changePlan({ plan: 'enterprise', prorationDate: preview.prorationDate });
    expect(changed).toMatchObject({ plan: { code: 'enterprise' }, seats: 1, status: 'trialing' });
    expect((await stripe.invoiceItems.list({ customer: row.stripeCustomerId, pending: true })).data).toEqual([]);
  });

  it('cancel at period end, refused twice; resume, refused when not scheduled; cancel now; then nothing to cancel and a new checkout is allowed', async () => {
    const t = await setup();
    const c = caller(t.alice);
    const { row } = await subscribe(t, t.alice, { plan: 'solo', trialDays: 0 });
    const scheduled = await c.subscription.cancel({ atPeriodEnd: true });
    expect(scheduled).toMatchObject({ status: 'active', cancelAtPeriodEnd: true });
    expect(scheduled.cancelAt?.getTime()).toBe(row.currentPeriodEnd!.getTime());
    expect((await stripe.subscriptions.retrieve(row.stripeSubscriptionId)).cancel_at_period_end).toBe(true);
    expect((await failure(c.subscription.cancel({ atPeriodEnd: true }))).message).toMatch(/^The subscription is already scheduled to cancel on \d{4}-\d{2}-\d{2}: resume it to keep it$/);
    await mirror(t, t.alice.customerId, row.stripeSubscriptionId);
    expect((await c.subscription.get()).access).toMatchObject({ access: 'active', reason: 'active_until_period_end' });

    const resumed = await c.subscription.resume();
    expect(resumed).toMatchObject({ status: 'active', cancelAtPeriodEnd: false, cancelAt: null });
    expect((await stripe.subscriptions.retrieve(row.stripeSubscriptionId)).cancel_at_period_end).toBe(false);
    expect(await failure(c.subscription.resume())).toEqual({ code: 'CONFLICT', message: 'The subscription is not scheduled to cancel: nothing to resume' });

    const ended = await c.subscription.cancel({ atPeriodEnd: false });
    expect(ended.status).toBe('canceled');
    expect((await stripe.subscriptions.retrieve(row.stripeSubscriptionId)).status).toBe('canceled');
    await mirror(t, t.alice.customerId, row.stripeSubscriptionId);
    const after = await c.subscription.get();
    expect(after.subscription).toMatchObject({ status: 'canceled' });
    expect(after.access).toMatchObject({ access: 'none', reason: 'canceled' });

    let refusal: Awaited<ReturnType<typeof failure>> | undefined;
    for (const op of [() => c.subscription.cancel({ atPeriodEnd: false }), () => c.subscription.resume(), () => c.subscription.changePlan({ plan: 'team' })]) {
      expect(await stripeCallsOf(async () => (refusal = await failure(op())))).toBe(0);
      expect(refusal!.code).toBe('NOT_FOUND');
      expect(refusal!.message).toMatch(/^No subscription to (cancel|resume|change): subscribe to a plan first$/);
    }
    expect((await c.subscription.createCheckout({ plan: 'team', seats: 2 })).url).toMatch(/^http/);
  });

  it("another customer's subscription is unreachable: bob cannot see, change or cancel alice's, and it stays untouched", async () => {
    const t = await setup();
    const { row } = await subscribe(t, t.alice, { plan: 'team', seats: 2 });
    const bob = caller(t.bob);
    const alices = { customerId: t.alice.customerId };
    let refusal: Awaited<ReturnType<typeof failure>> | undefined;
    for (const op of [
      () => bob.subscription.get(alices),
      () => bob.subscription.changePlan({ ...alices, plan: 'team', seats: 5 }),
      () => bob.subscription.cancel({ ...alices, atPeriodEnd: false }),
      () => bob.subscription.resume(alices),
      () => bob.billing.openPortal(alices),
    ]) {
      expect(await stripeCallsOf(async () => (refusal = await failure(op())))).toBe(0);
      expect(refusal).toEqual({ code: 'NOT_FOUND', message: 'Customer not found' });
    }
    // Bob's own customer has none.
    expect(await stripeCallsOf(async () => (refusal = await failure(bob.subscription.cancel({ atPeriodEnd: false }))))).toBe(0);
    expect(refusal).toEqual({ code: 'NOT_FOUND', message: 'No subscription to cancel: subscribe to a plan first' });
    expect((await bob.subscription.get()).subscription).toBeNull();
    const sub = await stripe.subscriptions.retrieve(row.stripeSubscriptionId);
    expect({ status: sub.status, quantity: sub.items.data[0]!.quantity, cancel: sub.cancel_at_period_end }).toEqual({ status: 'trialing', quantity: 2, cancel: false });
  });

  it('get shows the past-due banner from the invoice mirror: retry date, hosted link, 3-D Secure flag, amount; access in grace', async () => {
    const t = await setup();
    const { row } = await subscribe(t, t.alice, { plan: 'solo', trialDays: 0 });
    const failedAt = new Date(Date.now() - 2 * DAY_S * 1000);
    const retryAt = new Date(Date.now() + 3 * DAY_S * 1000);
    await db.q.update(db.t.subscriptions).set({ status: 'past_due', pastDueSince: failedAt }).where(eq(db.t.subscriptions.id, row.id));
    const invoice = (fields: Partial<Invoice> & Pick<Invoice, 'stripeInvoiceId' | 'status'>) => ({
      id: newId(),
      workspaceId: t.workspaceId,
      customerId: t.alice.customerId,
      stripeSubscriptionId: row.stripeSubscriptionId,
      currency: 'usd',
      ...fields,
    });
    await db.q.insert(db.t.invoices).values([
      invoice({ stripeInvoiceId: 'in_paidFirst1', status: 'paid', amountDueMinor: 2900, amountPaidMinor: 2900, stripeCreated: new Date(Date.now() - 30 * DAY_S * 1000) }),
      invoice({
        stripeInvoiceId: 'in_renewalFailed1',
        status: 'open',
        amountDueMinor: 2900,
        amountRemainingMinor: 2900,
        attemptCount: 1,
        nextPaymentAttemptAt: retryAt,
        hostedInvoiceUrl: 'http://127.0.0.1:12111/i/in_renewalFailed1',
        paymentActionRequired: true,
        firstFailedAt: failedAt,
        stripeCreated: failedAt,
      }),
      // Another subscription's open invoice is not this one's banner.
      invoice({ stripeInvoiceId: 'in_otherSub1', stripeSubscriptionId: 'sub_someOther1', status: 'open', amountDueMinor: 99, attemptCount: 1, stripeCreated: new Date() }),
    ]);
    const state = await caller(t.alice).subscription.get();
    expect(state.pastDue).toEqual({
      stripeInvoiceId: 'in_renewalFailed1',
      nextPaymentAttemptAt: retryAt,
      hostedInvoiceUrl: 'http://127.0.0.1:12111/i/in_renewalFailed1',
      paymentActionRequired: true,
      amountDueMinor: 2900,
      currency: 'usd',
      attemptCount: 1,
    });
    expect(state.access).toMatchObject({ access: 'grace', reason: 'past_due_grace', status: 'past_due' });
    expect(state.access.until?.getTime()).toBe(failedAt.getTime() + 7 * DAY_S * 1000);
    // Paid again: no banner.
    await db.q.update(db.t.invoices).set({ status: 'paid' }).where(eq(db.t.invoices.stripeInvoiceId, 'in_renewalFailed1'));
    await db.q.update(db.t.subscriptions).set({ status: 'active', pastDueSince: null }).where(eq(db.t.subscriptions.id, row.id));
    expect((await caller(t.alice).subscription.get()).pastDue).toBeNull();
  });

  it('openPortal: a portal session for the Stripe customer returning to an allowed page; the admin variant returns to the customer page and is audited', async () => {
    const t = await setup();
    const { url } = await caller(t.alice).billing.openPortal();
    expect(url.startsWith(`${emulator.url}/p/session/`)).toBe(true);
    const [alice] = await db.q.select().from(db.t.customers).where(eq(db.t.customers.id, t.alice.customerId));
    expect(alice!.stripeCustomerId).toMatch(/^cus_/); // created on first need
    const created = () => emulator.events().filter((e) => e.type === 'billing_portal.session.created').map((e) => e.data.object as Stripe.BillingPortal.Session);
    expect(created().find((s) => s.url === url)).toMatchObject({ customer: alice!.stripeCustomerId, return_url: `${ORIGIN}/subscription` });

    const admin = await caller(t.admin).billing.openPortalForCustomer({ customerId: t.alice.customerId });
    expect(created().find((s) => s.url === admin.url)).toMatchObject({ customer: alice!.stripeCustomerId, return_url: `${ORIGIN}/admin/customers/${t.alice.customerId}` });
    expect(await auditOf(t.workspaceId, 'billing.open_portal')).toEqual([expect.objectContaining({ actorUserId: t.admin.userId, targetType: 'customer', targetId: t.alice.customerId })]);
    // The customer's own portal is not audited.
    expect(await auditOf(t.workspaceId, 'billing.open_portal')).toHaveLength(1);
  });

  it('admin variants act on any customer of the workspace, the same way, and each mutation is audited with before and after', async () => {
    const t = await setup();
    const { row } = await subscribe(t, t.alice, { plan: 'solo', trialDays: 0 });
    const admin = caller(t.admin);
    const forAlice = { customerId: t.alice.customerId };
    const own = await caller(t.alice).subscription.get();
    const seen = await admin.subscription.getForCustomer(forAlice);
    expect(seen.subscription).toEqual(own.subscription);
    expect(seen.access.access).toBe(own.access.access);

    const preview = await admin.subscription.previewChangeForCustomer({ ...forAlice, plan: 'team', seats: 2 });
    expect(preview).toMatchObject({ seats: 2, currency: 'usd' });
    const changed = await admin.subscription.changePlanForCustomer({ ...forAlice, plan: 'team', seats: 2, prorationDate: preview.prorationDate });
    expect(changed).toMatchObject({ plan: { code: 'team' }, seats: 2 });
    const [change] = await auditOf(t.workspaceId, 'subscription.change_plan');
    expect(change).toMatchObject({ actorUserId: t.admin.userId, targetType: 'subscription', targetId: row.id });
    expect(JSON.parse(change!.before!)).toEqual({ plan: 'solo', interval: 'month', seats: 1 });
    expect(JSON.parse(change!.after!)).toEqual({ plan: 'team', interval: 'month', seats: 2, prorationDate: preview.prorationDate });
    await mirror(t, t.alice.customerId, row.stripeSubscriptionId);

    expect(await admin.subscription.cancelForCustomer({ ...forAlice, atPeriodEnd: true })).toMatchObject({ cancelAtPeriodEnd: true });
    const [cancel] = await auditOf(t.workspaceId, 'subscription.cancel_at_period_end');
    expect(JSON.parse(cancel!.before!)).toMatchObject({ cancelAtPeriodEnd: false });
    expect(JSON.parse(cancel!.after!)).toMatchObject({ cancelAtPeriodEnd: true });
    expect(await admin.subscription.resumeForCustomer(forAlice)).toMatchObject({ cancelAtPeriodEnd: false });
    expect(await auditOf(t.workspaceId, 'subscription.resume')).toHaveLength(1);
    expect((await admin.subscription.cancelForCustomer({ ...forAlice, atPeriodEnd: false })).status).toBe('canceled');
    expect(await auditOf(t.workspaceId, 'subscription.cancel_now')).toHaveLength(1);

    // The customer's own changes are not in the audit log (it records admin actions).
    const other = await setup();
    await subscribe(other, other.alice, { plan: 'solo', trialDays: 0 });
    await caller(other.alice).subscription.cancel({ atPeriodEnd: true });
    expect(await db.q.select().from(db.t.auditLog).where(eq(db.t.auditLog.workspaceId, other.workspaceId))).toEqual([]);
  });
});
