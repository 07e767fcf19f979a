/**
 * Dunning end to end (issue 8 item 5, and item 4's access API): the emulator's billing engine on
 * a test clock, its signed webhooks delivered to two server processes sharing the database (so
 * every event arrives twice, concurrently), the real invoice handlers calling
 * `sendInvoiceNotice`, and access read over `GET /api/v1/customers/:id/access` with a workspace
 * API key.
 * - A renewal fails with `pm_card_chargeCustomerFail`: exactly one notice per billing contact
 *   per attempt (the retry date is Stripe's `next_payment_attempt`), access `grace`, then `none`
 *   after the grace days; the card replaced through the portal pays the invoice: one "payment
 *   received" notice, access `active`.
 * - A renewal needing 3-D Secure sends the hosted invoice link once; completing it is "received".
 */
import { createApiKey } from '@tally/api';
import { and, eq, inArray, type Database } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startServer, WEBHOOK_SECRET } from './harness';
import { startSubscriptionStack, type StackCustomer, type SubscriptionStack } from './subscription-harness';

vi.setConfig({ testTimeout: 180_000 });

const GRACE_DAYS = 3;
const DAY = 86_400;
const HOUR = 3_600;

describe.each(testDialects)('dunning scenario ($name)', ({ create }) => {
  let db: TestDatabase;
  let stack: SubscriptionStack;
  let second: Awaited<ReturnType<typeof startServer>>;
  let apiKey: string;

  beforeAll(async () => {
    db = await create();
    // Retries 1 and 5 days after the first failure, then the subscription is left unpaid.
    stack = await startSubscriptionStack(db, { billing: { retryScheduleDays: [1, 5], afterFinalFailure: 'unpaid' }, graceDays: GRACE_DAYS });
    // A second server process on the same database: every event is delivered to both at once.
    second = await startServer(await db.connectAgain(), { stripeAccounts: stack.stripeAccounts, config: { dunningGraceDays: GRACE_DAYS } });
    stack.emulator.addWebhookEndpoint({ url: `${second.url}/api/stripe/webhook`, secret: WEBHOOK_SECRET });
    apiKey = (await createApiKey(db, { workspaceId: stack.workspaceId, name: 'product backend', mode: 'test' })).key;
  });
  afterAll(async () => {
    await second?.close();
    await stack?.close();
    await db?.destroy();
  });

  const access = async (customerId: string) => {
    const res = await fetch(`${stack.server.url}/api/v1/customers/${customerId}/access`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as { access: string; reason: string; status: string | null; until: string | null };
  };

  /** The customer's dunning emails, as `<kind> <reference tail>` per recipient, sorted. */
  async function dunningMails(db: Database, stripeInvoiceId: string) {
    const { emailOutbox: o } = db.t;
    const rows = await db.q
      .select()
      .from(o)
      .where(and(eq(o.workspaceId, stack.workspaceId), inArray(o.kind, ['dunning_payment_failed', 'dunning_action_required', 'dunning_payment_received'])));
    return rows.filter((r) => r.reference?.includes(`:${stripeInvoiceId}:`)).sort((a, b) => (a.reference! < b.reference! ? -1 : a.reference! > b.reference! ? 1 : 0));
  }
  const tails = (rows: Awaited<ReturnType<typeof dunningMails>>) => rows.map((r) => r.reference!.split(':').slice(3).join(':'));

  /** A test-clock customer with a separate billing email (two contacts), subscribed to Solo with a good card. */
  async function subscribed(): Promise<{ c: StackCustomer; billingEmail: string; subscription: Stripe.Subscription }> {
    const c = await stack.newCustomer({ testClock: true });
    const billingEmail = `billing-${c.customerId}@example.test`;
    await db.q.update(db.t.customers).set({ email: billingEmail }).where(eq(db.t.customers.id, c.customerId));
    const session = await stack.stripe.checkout.sessions.create({
      mode: 'subscription',
      customer: c.stripeCustomerId,
      line_items: [{ price: stack.plans.solo.stripePriceId, quantity: 1 }],
      metadata: { tally_customer_id: c.customerId },
      success_url: 'http://localhost:5173/ok',
      cancel_url: 'http://localhost:5173/no',
    });
    expect(await stack.completeCheckout(session.id)).toEqual({ ok: true });
    const [subscription] = (await stack.stripe.subscriptions.list({ customer: c.stripeCustomerId })).data;
    expect(subscription).toMatchObject({ status: 'active' });
    return { c, billingEmail, subscription: subscription! };
  }

  const periodEndOf = (s: Stripe.Subscription) => (s as unknown as { items: { data: Array<{ current_period_end: number }> } }).items.data[0]!.current_period_end;
  const renewalInvoiceOf = async (customer: string) => {
    const invoices = (await stack.stripe.invoices.list({ customer })).data.filter((i) => i.billing_reason === 'subscription_cycle');
    expect(invoices).toHaveLength(1);
    return invoices[0]!;
  };

  it('a failed renewal: one notice per contact per attempt, grace then none, the card replaced in the portal pays it: one "payment received"', async () => {
    const { c, billingEmail, subscription } = await subscribed();
    const contacts = [billingEmail, c.email.toLowerCase()].sort();
    // The first payment just worked: no dunning mail at all.
    const firstInvoice = (await stack.stripe.invoices.list({ customer: c.stripeCustomerId })).data[0]!;
    expect(await dunningMails(db, firstInvoice.id)).toEqual([]);
    expect(await access(c.customerId)).toMatchObject({ access: 'active', status: 'active' });

    // Every later charge is declined.
    const failing = await stack.stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: c.stripeCustomerId });
    await stack.stripe.subscriptions.update(subscription.id, { default_payment_method: failing.id });

    // Renewal: drafted at the period end, charged an hour later, declined (attempt 1).
    const periodEnd = periodEndOf(subscription);
    await stack.advanceClock(c.testClockId!, periodEnd + 2 * HOUR);
    let invoice = await renewalInvoiceOf(c.stripeCustomerId);
    expect(invoice).toMatchObject({ status: 'open', attempt_count: 1 });
    const firstRetry = invoice.next_payment_attempt!;
    expect(firstRetry).toBeGreaterThan(periodEnd);
    let mails = await dunningMails(db, invoice.id);
    expect(tails(mails)).toEqual(contacts.map((to) => `failed:1:${to}`));
    expect(mails.map((m) => m.toAddress).sort()).toEqual(contacts);
    const retryText = `${new Date(firstRetry * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
    for (const m of mails) {
      expect(m.kind).toBe('dunning_payment_failed');
      expect(m.textBody).toContain('This was attempt 1.');
      expect(m.textBody).toContain(`Stripe will retry the payment automatically on ${retryText}.`);
      expect(m.textBody).toContain('$29.00');
      expect(m.textBody).toMatch(/How to fix it:\n- /);
    }
    expect(await access(c.customerId)).toMatchObject({ access: 'grace', reason: 'past_due_grace', status: 'past_due' });

    // The same event redelivered (Stripe's Dashboard "Resend") to both processes again: nothing new.
    const failedEvents = stack.emulator.events().filter((e) => e.type === 'invoice.payment_failed' && (e.data.object as Stripe.Invoice).id === invoice.id);
    expect(failedEvents).toHaveLength(1);
    await Promise.all([0, 1].map(() => fetch(`${stack.emulator.url}/_emulator/events/${failedEvents[0]!.id}/resend`, { method: 'POST' })));
    await stack.settle();
    expect(await dunningMails(db, invoice.id)).toHaveLength(2);

    // Retry 1 day after the first failure: attempt 2, declined; still in grace.
    await stack.advanceClock(c.testClockId!, firstRetry + HOUR);
    invoice = await renewalInvoiceOf(c.stripeCustomerId);
    expect(invoice).toMatchObject({ status: 'open', attempt_count: 2 });
    mails = await dunningMails(db, invoice.id);
    expect(tails(mails)).toEqual([...contacts.map((to) => `failed:1:${to}`), ...contacts.map((to) => `failed:2:${to}`)].sort());
    expect(await access(c.customerId)).toMatchObject({ access: 'grace' });

    // Past the grace days (the next retry is 5 days after the first failure): access none, no new notice.
    await stack.advanceClock(c.testClockId!, periodEnd + HOUR + GRACE_DAYS * DAY + 2 * HOUR);
    expect(await access(c.customerId)).toMatchObject({ access: 'none', reason: 'past_due_grace_expired', status: 'past_due' });
    expect(await dunningMails(db, invoice.id)).toHaveLength(4);

    // The customer replaces the card in the portal: the open invoice is retried with it and paid.
    const portal = await stack.stripe.billingPortal.sessions.create({ customer: c.stripeCustomerId, return_url: 'http://localhost:5173/billing' });
    const form = new URLSearchParams({ cardNumber: '4242 4242 4242 4242', cardExpiry: '12 / 34', cardCvc: '123' });
    const saved = await fetch(`${portal.url}/payment-method`, { method: 'POST', body: form, redirect: 'manual' });
    expect(saved.status).toBe(303);
    await stack.settle();
    invoice = await stack.stripe.invoices.retrieve(invoice.id);
    expect(invoice.status).toBe('paid');
    mails = await dunningMails(db, invoice.id);
    expect(mails).toHaveLength(6);
    const received = mails.filter((m) => m.kind === 'dunning_payment_received');
    expect(tails(received)).toEqual(contacts.map((to) => `paid:${to}`));
    expect(received[0]!.textBody).toContain('We received your payment of $29.00');
    expect(await access(c.customerId)).toMatchObject({ access: 'active', status: 'active' });

    const failed = await db.q.select().from(db.t.stripeEvents).where(eq(db.t.stripeEvents.status, 'failed'));
    expect(failed.map((e) => e.type)).toEqual([]);
  });

  it('a renewal needing 3-D Secure: the hosted invoice link once; completing it sends "payment received"', async () => {
    const { c, billingEmail, subscription } = await subscribed();
    const contacts = [billingEmail, c.email.toLowerCase()].sort();
    const sca = await stack.stripe.paymentMethods.attach('pm_card_authenticationRequired', { customer: c.stripeCustomerId });
    await stack.stripe.subscriptions.update(subscription.id, { default_payment_method: sca.id });

    await stack.advanceClock(c.testClockId!, periodEndOf(subscription) + 2 * HOUR);
    let invoice = await renewalInvoiceOf(c.stripeCustomerId);
    expect(invoice.status).toBe('open');
    let mails = await dunningMails(db, invoice.id);
    expect(tails(mails)).toEqual(contacts.map((to) => `action_required:1:${to}`));
    for (const m of mails) {
      expect(m.textBody).toContain(`Complete the payment here: ${invoice.hosted_invoice_url}`);
      expect(m.textBody).toContain('3-D Secure');
    }

    // The customer follows the link and completes the challenge.
    const done = await fetch(`${invoice.hosted_invoice_url}/authenticate`, { method: 'POST', body: new URLSearchParams({ action: 'complete' }), redirect: 'manual' });
    expect(done.status).toBe(303);
    await stack.settle();
    invoice = await stack.stripe.invoices.retrieve(invoice.id);
    expect(invoice.status).toBe('paid');
    mails = await dunningMails(db, invoice.id);
    expect(tails(mails)).toEqual([...contacts.map((to) => `action_required:1:${to}`), ...contacts.map((to) => `paid:${to}`)].sort());
    expect(await access(c.customerId)).toMatchObject({ access: 'active' });
  });
});
