/**
 * Issue 8, item 3 (webhook handling and the mirrors), end to end: the Stripe emulator drives
 * subscriptions with test clocks through the `stripe` SDK, its signed webhooks reach the real
 * `/api/stripe/webhook` route, and Tally's `subscriptions` / `invoices` mirrors and the access
 * derived from them follow:
 * - trial -> trialing -> trial_will_end -> active -> renewal paid;
 * - renewal fails (pm_card_chargeCustomerFail) -> past_due -> access grace, then none after the
 *   grace days -> card replaced and the invoice paid -> active;
 * - cancel at period end -> still active until the end, then canceled;
 * - plan and seat changes with proration.
 * The emulator leaves a subscription past_due after its last retry (`afterFinalFailure`), so
 * the grace period can run out while it is still past due.
 * Also the official Stripe CLI's triggers: their customers are not Tally's (ignored, 200), and
 * once one is, the same objects delivered again are mirrored.
 */
import { and, eq, type Invoice, type Subscription } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../../packages/api/src/ids';
import { accessForCustomer } from '../../../packages/api/src/subscriptions/customer-access';
import { runStripeTrigger } from '../../stripe-emulator/src/stripe-cli';
import { deliver, sign } from './harness';
import { startSubscriptionStack, type StackCustomer, type SubscriptionStack } from './subscription-harness';

const DAY = 86_400;
const GRACE_DAYS = 7;

describe.each(testDialects)('subscription scenarios ($name)', ({ create }) => {
  let db: TestDatabase;
  let stack: SubscriptionStack;
  beforeAll(async () => {
    db = await create();
    stack = await startSubscriptionStack(db, { graceDays: GRACE_DAYS, billing: { afterFinalFailure: 'past_due' } });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
    await db?.destroy();
  });

  /** Subscribe `c` through Checkout (paid with `card`), settle, and return the Stripe subscription id. */
  async function subscribe(c: StackCustomer, { plan, quantity = 1, trialDays }: { plan: 'solo' | 'team' | 'enterprise'; quantity?: number; trialDays?: number }): Promise<string> {
    const session = await stack.stripe.checkout.sessions.create({
      mode: 'subscription',
      customer: c.stripeCustomerId,
      line_items: [{ price: stack.plans[plan].stripePriceId, quantity }],
      ...(trialDays ? { subscription_data: { trial_period_days: trialDays } } : {}),
      success_url: 'http://localhost:5173/subscription?checkout=success',
      cancel_url: 'http://localhost:5173/subscription?checkout=cancel',
    });
    expect(await stack.completeCheckout(session.id)).toEqual({ ok: true });
    const subs = await stack.stripe.subscriptions.list({ customer: c.stripeCustomerId });
    expect(subs.data).toHaveLength(1);
    return subs.data[0]!.id;
  }

  const mirrorOf = async (stripeSubscriptionId: string): Promise<Subscription> => {
    const { subscriptions: s } = db.t;
    const [row] = await db.q.select().from(s).where(and(eq(s.workspaceId, stack.workspaceId), eq(s.stripeSubscriptionId, stripeSubscriptionId)));
    if (!row) throw new Error(`no mirror of ${stripeSubscriptionId}`);
    return row;
  };
  const invoicesOf = async (stripeSubscriptionId: string): Promise<Invoice[]> => {
    const { invoices: i } = db.t;
    const rows = await db.q.select().from(i).where(and(eq(i.workspaceId, stack.workspaceId), eq(i.stripeSubscriptionId, stripeSubscriptionId)));
    return rows.sort((a, b) => (a.stripeCreated?.getTime() ?? 0) - (b.stripeCreated?.getTime() ?? 0) || (a.number ?? '').localeCompare(b.number ?? ''));
  };
  const accessOf = (c: StackCustomer) => accessForCustomer(db, { workspaceId: stack.workspaceId, customerId: c.customerId, graceDays: GRACE_DAYS });
  const clockNow = async (c: StackCustomer) => (await stack.stripe.testHelpers.testClocks.retrieve(c.testClockId!)).frozen_time;
  /** Events of this test's customer the server has logged, with their processing status. */
  async function loggedEvents(c: StackCustomer) {
    const rows = await db.q.select().from(db.t.stripeEvents);
    return rows
      .map((r) => ({ type: r.type, status: r.status, outcome: r.outcome, object: (JSON.parse(r.payload) as { data: { object: Record<string, unknown> } }).data.object }))
      .filter((e) => e.object.customer === c.stripeCustomerId || e.object.id === c.testClockId);
  }
  async function expectNoFailures(c: StackCustomer) {
    const events = await loggedEvents(c);
    expect(events.filter((e) => e.status === 'failed' || e.status === 'received')).toEqual([]);
    return events;
  }

  it("the Stripe CLI's subscription and invoice triggers are answered 200: ignored for foreign customers, mirrored once the customer is Tally's", async () => {
    const triggers = ['customer.subscription.created', 'invoice.payment_failed', 'invoice.payment_action_required', 'test_helpers.test_clock.ready'];
    const published: Stripe.Event[] = [];
    for (const trigger of triggers) {
      const before = stack.emulator.events().length;
      const run = await runStripeTrigger(trigger, { apiBase: stack.emulator.url, apiKey: 'sk_test_stripe_cli_trigger_0001', meterEventsProxy: false });
      expect(run.code, run.stderr).toBe(0);
      await stack.settle();
      const events = stack.emulator.events().slice(before);
      expect(events.map((e) => e.type)).toContain(trigger);
      published.push(...events);
    }
    const { stripeEvents: e } = db.t;
    const handled = published.filter((ev) => /^(customer\.subscription|invoice)\./.test(ev.type));
    expect(handled.length).toBeGreaterThanOrEqual(6);
    for (const ev of handled) {
      const [row] = await db.q.select().from(e).where(eq(e.id, ev.id));
      expect(row, ev.type).toMatchObject({ status: 'ignored' });
      expect(row!.outcome).toContain((ev.data.object as { customer: string }).customer);
      expect(row!.outcome).toMatch(/not a Tally customer/);
    }
    const clock = published.find((ev) => ev.type === 'test_helpers.test_clock.ready')!;
    const [clockRow] = await db.q.select().from(e).where(eq(e.id, clock.id));
    expect(clockRow!.status).toBe('processed');

    // The CLI's 3-D Secure invoice, once its customer is a Tally customer: the next deliveries mirror it.
    const action = published.find((ev) => ev.type === 'invoice.payment_action_required')!;
    const invoice = action.data.object as Stripe.Invoice;
    const customerId = newId();
    await db.q.insert(db.t.customers).values({ id: customerId, workspaceId: stack.workspaceId, name: 'CLI customer', stripeCustomerId: invoice.customer as string });
    for (const ev of published.filter((x) => x.type.startsWith('invoice.') && (x.data.object as { id: string }).id === invoice.id)) {
      const payload = JSON.stringify({ ...ev, id: `evt_${newId().replace(/-/g, '')}` });
      const res = await deliver(stack.server.url, payload, sign(payload));
      expect(res, ev.type).toMatchObject({ status: 200, body: { status: 'processed' } });
    }
    const [row] = await db.q.select().from(db.t.invoices).where(eq(db.t.invoices.stripeInvoiceId, invoice.id));
    expect(row).toMatchObject({ customerId, status: 'open', amountDueMinor: 2000, stripeSubscriptionId: null, paymentActionRequired: true });
    expect(row!.firstFailedAt).not.toBeNull();
  }, 120_000);

  it('trial -> trialing -> trial_will_end -> active -> renewal paid', async () => {
    const c = await stack.newCustomer({ testClock: true });
    const start = await clockNow(c);
    const subId = await subscribe(c, { plan: 'team', quantity: 3, trialDays: 14 });

    let sub = await mirrorOf(subId);
    expect(sub).toMatchObject({ customerId: c.customerId, status: 'trialing', seats: 3, planId: stack.plans.team.id, stripeTestClockId: c.testClockId, cancelAtPeriodEnd: false, pastDueSince: null });
    expect(sub.trialEnd!.getTime() / 1000).toBe(start + 14 * DAY);
    expect(sub.currentPeriodEnd!.getTime()).toBe(sub.trialEnd!.getTime());
    expect((await accessOf(c)).access).toBe('trialing');
    // The $0 trial invoice is mirrored through checkout.session.completed and invoice.*.
    const [trialInvoice] = await invoicesOf(subId);
    expect(trialInvoice).toMatchObject({ status: 'paid', billingReason: 'subscription_create', totalMinor: 0, currency: 'usd' });
    const checkout = (await loggedEvents(c)).find((e) => e.type === 'checkout.session.completed');
    expect(checkout).toMatchObject({ status: 'processed' });
    expect(checkout!.outcome).toContain(subId);

    // 3 days before the end: trial_will_end, still trialing.
    await stack.advanceClock(c.testClockId!, start + 11 * DAY + 3600);
    const willEnd = (await loggedEvents(c)).filter((e) => e.type === 'customer.subscription.trial_will_end');
    expect(willEnd).toHaveLength(1);
    expect(willEnd[0]!.status).toBe('processed');
    expect((await mirrorOf(subId)).status).toBe('trialing');
    const [clock] = await db.q.select().from(db.t.stripeTestClocks).where(eq(db.t.stripeTestClocks.stripeTestClockId, c.testClockId!));
    expect(clock!.frozenTime.getTime() / 1000).toBe(start + 11 * DAY + 3600);

    // Trial over: active, first paid invoice of 3 x $15.
    await stack.advanceClock(c.testClockId!, start + 14 * DAY + 2 * 3600);
    sub = await mirrorOf(subId);
    expect(sub).toMatchObject({ status: 'active', seats: 3, pastDueSince: null });
    expect(sub.currentPeriodStart!.getTime() / 1000).toBe(start + 14 * DAY);
    expect(await accessOf(c)).toMatchObject({ access: 'active', reason: 'active' });
    let invoices = await invoicesOf(subId);
    expect(invoices.map((i) => [i.billingReason, i.status, i.amountPaidMinor])).toEqual([
      ['subscription_create', 'paid', 0],
      ['subscription_cycle', 'paid', 4500],
    ]);
    expect(invoices[1]!.number).toMatch(/\S/);
    expect(invoices[1]!.hostedInvoiceUrl).toMatch(/^http/);
    expect(JSON.parse(invoices[1]!.linesSummary)).toEqual([expect.objectContaining({ amountMinor: 4500, quantity: 3 })]);

    // One month on: the renewal is paid too.
    const periodEnd = (await mirrorOf(subId)).currentPeriodEnd!.getTime() / 1000;
    await stack.advanceClock(c.testClockId!, periodEnd + 2 * 3600);
    sub = await mirrorOf(subId);
    expect(sub.status).toBe('active');
    expect(sub.currentPeriodStart!.getTime() / 1000).toBe(periodEnd);
    invoices = await invoicesOf(subId);
    expect(invoices.map((i) => [i.billingReason, i.status, i.amountPaidMinor])).toEqual([
      ['subscription_create', 'paid', 0],
      ['subscription_cycle', 'paid', 4500],
      ['subscription_cycle', 'paid', 4500],
    ]);
    expect(invoices.every((i) => i.firstFailedAt === null && !i.paymentActionRequired)).toBe(true);
    const events = await expectNoFailures(c);
    expect(events.filter((e) => e.type.startsWith('customer.subscription.') || e.type.startsWith('invoice.')).every((e) => e.status === 'processed')).toBe(true);
  }, 60_000);

  it('failed renewal -> past_due -> grace, then none -> card replaced, invoice paid -> active', async () => {
    const c = await stack.newCustomer({ testClock: true });
    const subId = await subscribe(c, { plan: 'solo' });
    expect((await mirrorOf(subId)).status).toBe('active');
    // The card on file now fails every charge.
    const failing = await stack.stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: c.stripeCustomerId });
    await stack.stripe.subscriptions.update(subId, { default_payment_method: failing.id });
    await stack.settle();

    const periodEnd = (await mirrorOf(subId)).currentPeriodEnd!.getTime() / 1000;
    await stack.advanceClock(c.testClockId!, periodEnd + 2 * 3600);
    let sub = await mirrorOf(subId);
    expect(sub.status).toBe('past_due');
    const renewal = (await invoicesOf(subId)).find((i) => i.billingReason === 'subscription_cycle')!;
    expect(renewal).toMatchObject({ status: 'open', attemptCount: 1, amountRemainingMinor: 2900 });
    expect(renewal.firstFailedAt).not.toBeNull();
    expect(renewal.firstFailedAt!.getTime()).toBe(renewal.finalizedAt!.getTime());
    expect(renewal.nextPaymentAttemptAt).not.toBeNull();
    // Grace counts from the first failed attempt, in the clock's time.
    expect(sub.pastDueSince!.getTime()).toBe(renewal.firstFailedAt!.getTime());
    const access = await accessOf(c);
    expect(access).toMatchObject({ access: 'grace', reason: 'past_due_grace' });
    expect(access.until!.getTime()).toBe(sub.pastDueSince!.getTime() + GRACE_DAYS * DAY * 1000);
    expect(access.evaluatedAt.getTime() / 1000).toBe(periodEnd + 2 * 3600);

    // Two days later (before the first retry): still grace.
    await stack.advanceClock(c.testClockId!, periodEnd + 2 * DAY);
    expect((await accessOf(c)).access).toBe('grace');
    // Past the grace days (every retry failed): none, still past_due.
    await stack.advanceClock(c.testClockId!, sub.pastDueSince!.getTime() / 1000 + (GRACE_DAYS + 1) * DAY);
    sub = await mirrorOf(subId);
    expect(sub.status).toBe('past_due');
    expect(await accessOf(c)).toMatchObject({ access: 'none', reason: 'past_due_grace_expired' });
    const retried = (await invoicesOf(subId)).find((i) => i.id === renewal.id)!;
    expect(retried.attemptCount).toBeGreaterThan(1);
    expect(retried.firstFailedAt!.getTime()).toBe(renewal.firstFailedAt!.getTime());

    // The customer replaces the card and pays the open invoice with it.
    const good = await stack.stripe.paymentMethods.attach('pm_card_visa', { customer: c.stripeCustomerId });
    await stack.stripe.customers.update(c.stripeCustomerId, { invoice_settings: { default_payment_method: good.id } });
    await stack.stripe.subscriptions.update(subId, { default_payment_method: good.id });
    await stack.stripe.invoices.pay(renewal.stripeInvoiceId, { payment_method: good.id });
    await stack.settle();
    sub = await mirrorOf(subId);
    expect(sub).toMatchObject({ status: 'active', pastDueSince: null });
    expect(await accessOf(c)).toMatchObject({ access: 'active' });
    const paid = (await invoicesOf(subId)).find((i) => i.id === renewal.id)!;
    expect(paid).toMatchObject({ status: 'paid', amountPaidMinor: 2900, amountRemainingMinor: 0, paymentActionRequired: false });
    // History is kept: the invoice did fail first.
    expect(paid.firstFailedAt!.getTime()).toBe(renewal.firstFailedAt!.getTime());
    const events = await expectNoFailures(c);
    expect(events.filter((e) => e.type === 'invoice.payment_failed').length).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('cancel at period end -> active until the end -> canceled', async () => {
    const c = await stack.newCustomer({ testClock: true });
    const subId = await subscribe(c, { plan: 'solo' });
    await stack.stripe.subscriptions.update(subId, { cancel_at_period_end: true });
    await stack.settle();
    let sub = await mirrorOf(subId);
    expect(sub).toMatchObject({ status: 'active', cancelAtPeriodEnd: true });
    expect(sub.cancelAt!.getTime()).toBe(sub.currentPeriodEnd!.getTime());
    expect(await accessOf(c)).toMatchObject({ access: 'active', reason: 'active_until_period_end' });

    await stack.advanceClock(c.testClockId!, sub.currentPeriodEnd!.getTime() / 1000 + 3600);
    sub = await mirrorOf(subId);
    expect(sub.status).toBe('canceled');
    expect(sub.endedAt).not.toBeNull();
    expect(await accessOf(c)).toMatchObject({ access: 'none', reason: 'canceled' });
    const events = await expectNoFailures(c);
    expect(events.some((e) => e.type === 'customer.subscription.deleted' && e.status === 'processed')).toBe(true);
    // No renewal was invoiced.
    expect((await invoicesOf(subId)).map((i) => i.billingReason)).toEqual(['subscription_create']);
  }, 60_000);

  it('changes plan and seats with proration', async () => {
    const c = await stack.newCustomer({ testClock: true });
    const subId = await subscribe(c, { plan: 'solo' });
    const start = await clockNow(c);
    await stack.advanceClock(c.testClockId!, start + 10 * DAY);
    const item = (await stack.stripe.subscriptions.retrieve(subId)).items.data[0]!;

    await stack.stripe.subscriptions.update(subId, { items: [{ id: item.id, price: stack.plans.team.stripePriceId, quantity: 5 }], proration_behavior: 'always_invoice' });
    await stack.settle();
    let sub = await mirrorOf(subId);
    expect(sub).toMatchObject({ status: 'active', planId: stack.plans.team.id, stripePriceId: stack.plans.team.stripePriceId, seats: 5 });
    const proration = (await invoicesOf(subId)).find((i) => i.billingReason === 'subscription_update');
    expect(proration).toBeDefined();
    expect(proration!.status).toBe('paid');
    // 5 x $15 for the rest of the period, less the unused Solo time: strictly between 0 and 5 x $15.
    expect(proration!.amountPaidMinor).toBeGreaterThan(0);
    expect(proration!.amountPaidMinor).toBeLessThan(7500);
    expect(JSON.parse(proration!.linesSummary).length).toBeGreaterThanOrEqual(2);

    // Seats down, prorations left for the next invoice.
    await stack.stripe.subscriptions.update(subId, { items: [{ id: item.id, quantity: 2 }], proration_behavior: 'create_prorations' });
    await stack.settle();
    sub = await mirrorOf(subId);
    expect(sub).toMatchObject({ planId: stack.plans.team.id, seats: 2 });
    expect((await invoicesOf(subId)).filter((i) => i.billingReason === 'subscription_update')).toHaveLength(1);
    await expectNoFailures(c);
  }, 60_000);
});
