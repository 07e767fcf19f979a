/**
 * Yearly billing and one trial per customer, against a real Stripe emulator (in process)
 * through the real SDK: a yearly checkout bills the plan's yearly price (read back from the
 * emulator), yearly on a plan without a yearly price is BAD_REQUEST with no Stripe call, a
 * monthly subscription changed to yearly previews and bills the yearly price (and later changes
 * keep the yearly interval by default), and a customer who has had a trial gets a checkout
 * without `trial_period_days` (an admin may still grant one). Both dialects.
 */
import type { Subscription } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { startStripeEmulator, type StripeEmulator } from '@tally/stripe-emulator';
import { TRPCError } from '@trpc/server';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/context';
import { newId } from '../src/ids';
import { seedDemoPlans } from '../src/plans/seed-demo-plans';
import type { StripeAccounts } from '../src/stripe/accounts';
import { callerFor, mirrorSubscriptionRow, ORIGIN, seedTenants, testStripeAccounts } from './helpers';

const failure = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return e instanceof TRPCError ? { code: e.code, message: e.message } : { code: `not a TRPCError: ${String(e)}`, message: '' };
  }
  return { code: 'resolved', message: '' };
};
const DAY_S = 86_400;

describe.each(testDialects)('yearly billing and one trial per customer ($name)', ({ create }) => {
  let db: TestDatabase;
  let emulator: StripeEmulator;
  let stripe: Stripe;
  /** Every Stripe HTTP call: method, path and form body. */
  const requests: Array<{ method: string; path: string; body: URLSearchParams }> = [];
  let accounts: StripeAccounts;
  beforeAll(async () => {
    db = await create();
    emulator = await startStripeEmulator({ port: 0, statePath: null });
    const url = new URL(emulator.url);
    const fetchFn: typeof fetch = async (input, init) => {
      requests.push({ method: init?.method ?? 'GET', path: new URL(String(input)).pathname, body: new URLSearchParams(typeof init?.body === 'string' ? init.body : '') });
      return fetch(input, init);
    };
    stripe = new Stripe('sk_test_yearly_tests_0001', { httpClient: Stripe.createFetchHttpClient(fetchFn), host: url.hostname, port: Number(url.port), protocol: 'http', maxNetworkRetries: 0 });
    accounts = testStripeAccounts(stripe);
  });
  afterAll(async () => {
    await emulator.close();
    await db.destroy();
  });

  const caller = (actor: Actor) => callerFor(db, accounts, actor, ORIGIN);

  async function setup() {
    const tenants = await seedTenants(db);
    const plans = await seedDemoPlans({ db, stripe, workspaceId: tenants.workspaceId });
    expect(plans.team.stripeYearlyPriceId).toMatch(/^price_/);
    expect(plans.solo.stripeYearlyPriceId).toBeNull();
    return { ...tenants, plans };
  }
  type Setup = Awaited<ReturnType<typeof setup>>;

  /** What the webhook handlers write: the mirror row of a Stripe subscription, plan found by its monthly or yearly price. */
  /** The mirror row the webhooks would write (see `mirrorSubscriptionRow`). */
  const mirror = (t: Setup, customerId: string, stripeSubscriptionId: string): Promise<Subscription> =>
    mirrorSubscriptionRow(db, stripe, { workspaceId: t.workspaceId, customerId, stripeSubscriptionId, plans: Object.values(t.plans) });


  /** Pay a checkout session in the emulator and mirror its subscription. */
  async function pay(t: Setup, customerId: string, checkoutSessionId: string) {
    expect(await emulator.completeCheckoutSession(checkoutSessionId)).toEqual({ ok: true });
    const session = await stripe.checkout.sessions.retrieve(checkoutSessionId);
    const sub = await stripe.subscriptions.retrieve(String(session.subscription));
    return { sub, row: await mirror(t, customerId, sub.id) };
  }

  /** The form body of the last `POST /v1/checkout/sessions` (the create). */
  const lastCheckoutCreate = () => [...requests].reverse().find((r) => r.method === 'POST' && r.path === '/v1/checkout/sessions')!.body;

  /** Run `fn` and return how many Stripe HTTP calls it made. */
  async function stripeCallsOf(fn: () => Promise<unknown>): Promise<number> {
    const before = requests.length;
    await fn();
    return requests.length - before;
  }

  it('a yearly checkout bills the plan yearly price; the subscription view says year; plan.list shows both prices', async () => {
    const t = await setup();
    const c = caller(t.alice);
    const listed = await c.plan.list();
    expect(listed.find((p) => p.code === 'team')).toMatchObject({
      price: { unitAmountMinor: 1500, currency: 'usd', interval: 'month', intervalCount: 1 },
      yearlyPrice: { unitAmountMinor: 15000, currency: 'usd', interval: 'year', intervalCount: 1 },
    });
    expect(listed.find((p) => p.code === 'solo')?.yearlyPrice).toBeNull();

    const { checkoutSessionId } = await c.subscription.createCheckout({ plan: 'team', seats: 2, interval: 'year', trialDays: 0 });
    const lines = await stripe.checkout.sessions.listLineItems(checkoutSessionId);
    expect(lines.data.map((l) => ({ price: l.price?.id, quantity: l.quantity, interval: l.price?.recurring?.interval }))).toEqual([
      { price: t.plans.team.stripeYearlyPriceId, quantity: 2, interval: 'year' },
    ]);
    const { sub, row } = await pay(t, t.alice.customerId, checkoutSessionId);
    expect(sub.items.data[0]!.price.id).toBe(t.plans.team.stripeYearlyPriceId);
    expect(row.planId).toBe(t.plans.team.id);
    const state = await c.subscription.get();
    expect(state.subscription).toMatchObject({ plan: { code: 'team' }, seats: 2, interval: 'year', status: 'active' });
    expect(state.subscription!.currentPeriodEnd!.getTime() - state.subscription!.currentPeriodStart!.getTime()).toBeGreaterThanOrEqual(365 * DAY_S * 1000);

    // The admin's view says the same; monthly is the default interval for a new checkout.
    expect((await caller(t.admin).subscription.getForCustomer({ customerId: t.alice.customerId })).subscription?.interval).toBe('year');
    const monthly = await caller(t.bob).subscription.createCheckout({ plan: 'team', seats: 2 });
    expect((await stripe.checkout.sessions.listLineItems(monthly.checkoutSessionId)).data.map((l) => l.price?.id)).toEqual([t.plans.team.stripePriceId]);
  });

  it('yearly on a plan without a yearly price is BAD_REQUEST with a clear message and no Stripe call (customer and admin)', async () => {
    const t = await setup();
    let refusal: Awaited<ReturnType<typeof failure>> | undefined;
    expect(await stripeCallsOf(async () => (refusal = await failure(caller(t.alice).subscription.createCheckout({ plan: 'solo', interval: 'year' }))))).toBe(0);
    expect(refusal).toEqual({ code: 'BAD_REQUEST', message: 'Solo has no yearly billing: choose monthly billing' });
    expect(
      await stripeCallsOf(async () => (refusal = await failure(caller(t.admin).subscription.createCheckoutForCustomer({ customerId: t.bob.customerId, plan: 'enterprise', interval: 'year' })))),
    ).toBe(0);
    expect(refusal).toEqual({ code: 'BAD_REQUEST', message: 'Enterprise has no yearly billing: choose monthly billing' });
    expect(await stripeCallsOf(async () => (refusal = await failure(caller(t.alice).subscription.createCheckout({ plan: 'team', interval: 'week' as never }))))).toBe(0);
    expect(refusal?.code).toBe('BAD_REQUEST');
    expect(refusal?.message).toMatch(/interval must be "month" or "year"/);
  });

  it('monthly -> yearly: the preview is priced at the yearly price and the change bills it; later changes stay yearly unless told', async () => {
    const t = await setup();
    const c = caller(t.alice);
    const { row } = await pay(t, t.alice.customerId, (await c.subscription.createCheckout({ plan: 'team', seats: 2, trialDays: 0 })).checkoutSessionId);
    expect((await c.subscription.get()).subscription).toMatchObject({ interval: 'month', seats: 2 });

    const preview = await c.subscription.previewChange({ plan: 'team', interval: 'year' });
    expect(preview).toMatchObject({ plan: { code: 'team' }, seats: 2, interval: 'year', currency: 'usd' });
    const previewRequest = [...requests].reverse().find((r) => r.path === '/v1/invoices/create_preview')!;
    expect(previewRequest.body.get('subscription_details[items][0][price]')).toBe(t.plans.team.stripeYearlyPriceId);
    expect(previewRequest.body.get('subscription_details[items][0][quantity]')).toBe('2');
    // A whole year of 2 seats at $150 is on the previewed invoice.
    expect(preview.lines.filter((l) => !l.proration).map((l) => ({ amountMinor: l.amountMinor, quantity: l.quantity }))).toContainEqual({ amountMinor: 30000, quantity: 2 });

    const changed = await c.subscription.changePlan({ plan: 'team', interval: 'year', prorationDate: preview.prorationDate });
    expect(changed).toMatchObject({ id: row.id, plan: { code: 'team' }, seats: 2, interval: 'year' });
    const sub = await stripe.subscriptions.retrieve(row.stripeSubscriptionId);
    expect(sub.items.data.map((i) => ({ price: i.price.id, quantity: i.quantity, interval: i.price.recurring?.interval }))).toEqual([
      { price: t.plans.team.stripeYearlyPriceId, quantity: 2, interval: 'year' },
    ]);
    const mirrored = await mirror(t, t.alice.customerId, row.stripeSubscriptionId);
    expect((await c.subscription.get()).subscription?.interval).toBe('year');

    // Now on yearly: the same interval again is nothing to change; more seats default to yearly.
    expect(await failure(c.subscription.previewChange({ plan: 'team', seats: 2 }))).toEqual({ code: 'BAD_REQUEST', message: 'Already on Team with 2 seats: nothing to change' });
    const more = await c.subscription.previewChange({ plan: 'team', seats: 3 });
    expect(more.interval).toBe('year');
    expect([...requests].reverse().find((r) => r.path === '/v1/invoices/create_preview')!.body.get('subscription_details[items][0][price]')).toBe(t.plans.team.stripeYearlyPriceId);
    // Solo has no yearly price: moving there while yearly must say monthly, before any Stripe call.
    let refusal: Awaited<ReturnType<typeof failure>> | undefined;
    expect(await stripeCallsOf(async () => (refusal = await failure(c.subscription.changePlan({ plan: 'solo' }))))).toBe(0);
    expect(refusal).toEqual({ code: 'BAD_REQUEST', message: 'Solo has no yearly billing: choose monthly billing' });
    // Back to monthly is a change.
    expect((await c.subscription.previewChange({ plan: 'team', interval: 'month' })).interval).toBe('month');
    expect(mirrored.stripePriceId).toBe(t.plans.team.stripeYearlyPriceId);
  });

  it('one trial per customer: after a trialing subscription the checkout has no trial_period_days; trialEligible says so; an admin may still grant one', async () => {
    const t = await setup();
    const c = caller(t.alice);
    expect((await c.subscription.get()).trialEligible).toBe(true);
    const first = await c.subscription.createCheckout({ plan: 'team', seats: 1 });
    expect(lastCheckoutCreate().get('subscription_data[trial_period_days]')).toBe('14');
    const { sub, row } = await pay(t, t.alice.customerId, first.checkoutSessionId);
    expect(sub.status).toBe('trialing');
    expect(row.trialEnd).not.toBeNull();
    expect((await c.subscription.get()).trialEligible).toBe(false);
    await c.subscription.cancel({ atPeriodEnd: false });
    await mirror(t, t.alice.customerId, row.stripeSubscriptionId);
    expect((await c.subscription.get()).trialEligible).toBe(false);

    // Subscribing again: no trial, by default and whatever is asked (refused before Stripe).
    let refusal: Awaited<ReturnType<typeof failure>> | undefined;
    expect(await stripeCallsOf(async () => (refusal = await failure(c.subscription.createCheckout({ plan: 'team', trialDays: 7 }))))).toBe(0);
    expect(refusal).toEqual({ code: 'BAD_REQUEST', message: 'The free trial has already been used: subscribe without a trial (trialDays 0 or omitted)' });
    const again = await c.subscription.createCheckout({ plan: 'team', seats: 1 });
    expect(lastCheckoutCreate().has('subscription_data[trial_period_days]')).toBe(false);
    const second = await pay(t, t.alice.customerId, again.checkoutSessionId);
    expect({ status: second.sub.status, trialEnd: second.sub.trial_end ?? null }).toEqual({ status: 'active', trialEnd: null });

    // Bob had a trial on an earlier (ended) subscription: an admin's checkout gives none by default, but may grant one explicitly.
    await db.q.insert(db.t.subscriptions).values({
      id: newId(),
      workspaceId: t.workspaceId,
      customerId: t.bob.customerId,
      stripeSubscriptionId: `sub_earlier${newId().replace(/-/g, '')}`,
      stripeCustomerId: 'cus_earlier1',
      planId: t.plans.solo.id,
      stripePriceId: t.plans.solo.stripePriceId,
      status: 'canceled',
      seats: 1,
      trialStart: new Date(Date.now() - 60 * DAY_S * 1000),
      trialEnd: new Date(Date.now() - 46 * DAY_S * 1000),
      endedAt: new Date(Date.now() - 30 * DAY_S * 1000),
    });
    expect((await caller(t.bob).subscription.get()).trialEligible).toBe(false);
    expect((await caller(t.admin).subscription.getForCustomer({ customerId: t.bob.customerId })).trialEligible).toBe(false);
    const admin = caller(t.admin);
    await admin.subscription.createCheckoutForCustomer({ customerId: t.bob.customerId, plan: 'solo' });
    expect(lastCheckoutCreate().has('subscription_data[trial_period_days]')).toBe(false);
    const granted = await admin.subscription.createCheckoutForCustomer({ customerId: t.bob.customerId, plan: 'solo', trialDays: 5 });
    expect(lastCheckoutCreate().get('subscription_data[trial_period_days]')).toBe('5');
    const bobs = await pay(t, t.bob.customerId, granted.checkoutSessionId);
    expect(bobs.sub.status).toBe('trialing');
    expect(bobs.sub.trial_end! - bobs.sub.trial_start!).toBe(5 * DAY_S);
  });
});
