/**
 * Dunning notices (issue 8 item 5) from `sendInvoiceNotice`, called as the invoice webhook
 * handlers call it: after the mirror write, with the event and the mirror row. Exactly once
 * per attempt (duplicates, concurrent calls, a second process), stale failures ignored,
 * "payment received" only after trouble, payload values shape-checked.
 */
import { and, eq, type Database, type Invoice, type Subscription } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingContactsOf } from '../src/dunning/recipients';
import { DUNNING_EMAIL_KINDS, sendInvoiceNotice, type InvoiceNoticeEvent } from '../src/dunning/notify';
import { newId } from '../src/ids';
import { recordingLogger } from '../src/logger';
import { seedTenants } from './helpers';

const WEB_URL = 'http://localhost:5173';
const DAY = 86_400;

let seq = 0;
function stripeEvent(type: InvoiceNoticeEvent, object: Record<string, unknown>): Stripe.Event {
  return { id: `evt_dunning_${++seq}_${newId().replace(/-/g, '')}`, object: 'event', type, created: Math.floor(Date.now() / 1000), livemode: false, api_version: '2026-10-28.endive', data: { object } } as unknown as Stripe.Event;
}

describe.each(testDialects)('dunning notices ($name)', ({ create }) => {
  let db: TestDatabase;
  let tenants: Awaited<ReturnType<typeof seedTenants>>;
  let planId: string;

  beforeAll(async () => {
    db = await create();
    tenants = await seedTenants(db);
    await db.q.update(db.t.workspaces).set({ name: 'Acme Voice' }).where(eq(db.t.workspaces.id, tenants.workspaceId));
    planId = newId();
    await db.q.insert(db.t.plans).values({ id: planId, workspaceId: tenants.workspaceId, code: 'team', name: 'Team', stripePriceId: 'price_team_1' });
  });
  afterAll(() => db.destroy());

  /** A customer with a billing email, an owner (another address), a second owner with the billing email in other case, and a member. */
  async function customerWithContacts(label: string) {
    const t = db.t;
    const customerId = newId();
    const billing = `billing-${label}-${customerId}@example.test`;
    await db.q.insert(t.customers).values({ id: customerId, workspaceId: tenants.workspaceId, name: `Customer ${label}`, email: billing, stripeCustomerId: `cus_${label}${seq++}` });
    const user = async (email: string, role: 'owner' | 'member') => {
      const userId = newId();
      await db.q.insert(t.users).values({ id: userId, name: role, email });
      await db.q.insert(t.customerMemberships).values({ id: newId(), customerId, userId, role });
    };
    const owner = `owner-${label}-${customerId}@example.test`;
    await user(owner, 'owner');
    await user(billing.toUpperCase(), 'owner');
    await user(`member-${label}-${customerId}@example.test`, 'member');
    return { customerId, billing, owner };
  }

  async function mirror(customerId: string, overrides: Partial<Invoice> = {}): Promise<{ invoice: Invoice; subscription: Subscription }> {
    const t = db.t;
    const subscriptionId = newId();
    const stripeSubscriptionId = `sub_${newId().replace(/-/g, '')}`;
    await db.q.insert(t.subscriptions).values({ id: subscriptionId, workspaceId: tenants.workspaceId, customerId, stripeSubscriptionId, stripeCustomerId: 'cus_x', planId, status: 'past_due', seats: 3 });
    const id = newId();
    await db.q.insert(t.invoices).values({
      id,
      workspaceId: tenants.workspaceId,
      customerId,
      stripeInvoiceId: `in_${newId().replace(/-/g, '')}`,
      stripeSubscriptionId,
      number: 'ACME-0042',
      status: 'open',
      currency: 'usd',
      totalMinor: 4500,
      amountDueMinor: 4500,
      attemptCount: 1,
      hostedInvoiceUrl: 'https://invoice.stripe.com/i/acct_1/test_abc',
      ...overrides,
    });
    const [invoice] = await db.q.select().from(t.invoices).where(eq(t.invoices.id, id));
    const [subscription] = await db.q.select().from(t.subscriptions).where(eq(t.subscriptions.id, subscriptionId));
    return { invoice: invoice!, subscription: subscription! };
  }

  const reread = async (invoice: Invoice) => (await db.q.select().from(db.t.invoices).where(eq(db.t.invoices.id, invoice.id)))[0]!;
  const setInvoice = async (invoice: Invoice, set: Partial<Invoice>) => {
    await db.q.update(db.t.invoices).set(set).where(eq(db.t.invoices.id, invoice.id));
    return reread(invoice);
  };
  const payload = (invoice: Invoice, fields: Record<string, unknown> = {}) => ({
    id: invoice.stripeInvoiceId,
    object: 'invoice',
    status: 'open',
    number: invoice.number,
    currency: 'usd',
    amount_due: 4500,
    amount_paid: 0,
    attempt_count: 1,
    next_payment_attempt: Math.floor(Date.UTC(2030, 0, 4, 9, 30) / 1000),
    hosted_invoice_url: invoice.hostedInvoiceUrl,
    ...fields,
  });
  const notify = (on: Database, type: InvoiceNoticeEvent, invoice: Invoice, subscription: Subscription | null, fields: Record<string, unknown> = {}) =>
    sendInvoiceNotice(on, { event: stripeEvent(type, payload(invoice, fields)), type, invoice, subscription, webUrl: WEB_URL });
  const outbox = async (invoice: Invoice) =>
    (await db.q.select().from(db.t.emailOutbox).where(and(eq(db.t.emailOutbox.workspaceId, tenants.workspaceId)))).filter((m) => m.reference?.includes(`:${invoice.stripeInvoiceId}:`)).sort((a, b) => (a.reference! < b.reference! ? -1 : 1));

  it('billing contacts: the billing email and the owners, lowercased and deduplicated; members are not contacts', async () => {
    const c = await customerWithContacts('contacts');
    expect(await billingContactsOf(db, { workspaceId: tenants.workspaceId, customerId: c.customerId })).toEqual([c.billing, c.owner]);
    // Another workspace's view of the customer: nobody.
    expect(await billingContactsOf(db, { workspaceId: newId(), customerId: c.customerId })).toEqual([]);
  });

  it('payment_failed: one notice per contact per attempt, with the amount, what failed, the retry date and how to fix it', async () => {
    const c = await customerWithContacts('failed');
    const { invoice, subscription } = await mirror(c.customerId);
    const result = await notify(db, 'invoice.payment_failed', invoice, subscription);
    expect(result).toEqual({ notice: 'failed', recipients: 2, enqueued: 2 });

    const mails = await outbox(invoice);
    expect(mails.map((m) => [m.toAddress, m.kind, m.reference, m.status])).toEqual(
      [c.billing, c.owner].sort().map((to) => [to, DUNNING_EMAIL_KINDS.failed, `dunning:${tenants.workspaceId}:${invoice.stripeInvoiceId}:failed:1:${to}`, 'pending']),
    );
    const mail = mails[0]!;
    expect(mail.subject).toBe('Acme Voice: payment of $45.00 failed (invoice ACME-0042)');
    expect(mail.htmlBody).toBeNull();
    expect(mail.textBody).toContain('Hello Customer failed');
    expect(mail.textBody).toContain('We could not collect the payment of $45.00 for your Team subscription (invoice ACME-0042). This was attempt 1.');
    expect(mail.textBody).toContain('What failed: the automatic charge to the payment method on file did not go through (declined, or no usable payment method).');
    expect(mail.textBody).toContain('Next retry: Stripe will retry the payment automatically on 2030-01-04 09:30 UTC.');
    expect(mail.textBody).toContain(`- Update your payment method: open ${WEB_URL}/subscription and choose "Update payment method"`);
    expect(mail.textBody).toContain('https://invoice.stripe.com/i/acct_1/test_abc');

    // Attempt 2 (Stripe's retry) is a new notice; the last one says there are no more retries.
    const second = await setInvoice(invoice, { attemptCount: 2 });
    expect((await notify(db, 'invoice.payment_failed', second, subscription, { attempt_count: 2, next_payment_attempt: null })).enqueued).toBe(2);
    const third = await outbox(invoice);
    expect(third).toHaveLength(4);
    const last = third.find((m) => m.reference!.includes(':failed:2:'))!;
    expect(last.textBody).toContain('This was attempt 2.');
    expect(last.textBody).toContain('Next retry: No further retries: Stripe will not try this payment again automatically.');
  });

  it('the same event twice, two concurrent calls and a second process: still one notice per contact and attempt', async () => {
    const c = await customerWithContacts('dup');
    const { invoice, subscription } = await mirror(c.customerId);
    const event = stripeEvent('invoice.payment_failed', payload(invoice));
    // Another server process (closed by destroy()).
    const other = await db.connectAgain();
    const results = await Promise.all([
      sendInvoiceNotice(db, { event, type: 'invoice.payment_failed', invoice, subscription }),
      sendInvoiceNotice(db, { event, type: 'invoice.payment_failed', invoice, subscription }),
      sendInvoiceNotice(other, { event, type: 'invoice.payment_failed', invoice, subscription }),
      // A redelivery of the same attempt as a different event id (Stripe's duplicates).
      sendInvoiceNotice(other, { event: stripeEvent('invoice.payment_failed', payload(invoice)), type: 'invoice.payment_failed', invoice, subscription }),
    ]);
    expect(results.reduce((n, r) => n + r.enqueued, 0)).toBe(2);
    expect((await notify(db, 'invoice.payment_failed', invoice, subscription)).enqueued).toBe(0);
    expect((await outbox(invoice)).map((m) => m.toAddress).sort()).toEqual([c.billing, c.owner].sort());
  });

  it('a failure (or authentication request) that arrives after the invoice is paid or void sends nothing', async () => {
    const c = await customerWithContacts('stale');
    const { invoice, subscription } = await mirror(c.customerId, { status: 'paid', amountPaidMinor: 4500, paidAt: new Date() });
    const logger = recordingLogger();
    const stale = await sendInvoiceNotice(db, { event: stripeEvent('invoice.payment_failed', payload(invoice)), type: 'invoice.payment_failed', invoice, subscription, logger });
    expect(stale).toMatchObject({ notice: 'failed', enqueued: 0, skipped: 'the invoice is already paid' });
    expect(logger.records).toMatchObject([{ level: 'info', message: 'No dunning notice sent', fields: { stripeInvoiceId: invoice.stripeInvoiceId } }]);
    expect((await notify(db, 'invoice.payment_action_required', invoice, subscription)).enqueued).toBe(0);
    const voided = await setInvoice(invoice, { status: 'void' });
    expect((await notify(db, 'invoice.payment_failed', voided, subscription)).skipped).toBe('the invoice is already void');
    expect(await outbox(invoice)).toEqual([]);
  });

  it('payment received: only after a failed attempt, once for invoice.paid and invoice.payment_succeeded together', async () => {
    const c = await customerWithContacts('recovered');
    const { invoice, subscription } = await mirror(c.customerId);
    await notify(db, 'invoice.payment_failed', invoice, subscription);
    const paid = await setInvoice(invoice, { status: 'paid', attemptCount: 2, amountPaidMinor: 4500, amountDueMinor: 4500, firstFailedAt: new Date(), paidAt: new Date() });
    const paidFields = { status: 'paid', attempt_count: 2, amount_paid: 4500, next_payment_attempt: null };
    const [a, b] = await Promise.all([notify(db, 'invoice.paid', paid, subscription, paidFields), notify(db, 'invoice.payment_succeeded', paid, subscription, paidFields)]);
    expect(a.enqueued + b.enqueued).toBe(2);
    expect((await notify(db, 'invoice.paid', paid, subscription, paidFields)).enqueued).toBe(0);
    const received = (await outbox(invoice)).filter((m) => m.kind === DUNNING_EMAIL_KINDS.paid);
    expect(received.map((m) => m.reference).sort()).toEqual([c.billing, c.owner].sort().map((to) => `dunning:${tenants.workspaceId}:${invoice.stripeInvoiceId}:paid:${to}`));
    expect(received[0]!.subject).toBe('Acme Voice: payment received (invoice ACME-0042)');
    expect(received[0]!.textBody).toContain('We received your payment of $45.00 for your Team subscription (invoice ACME-0042). Thank you.');
  });

  it('a first payment that just worked sends nothing', async () => {
    const c = await customerWithContacts('happy');
    const { invoice, subscription } = await mirror(c.customerId, { status: 'paid', attemptCount: 1, amountPaidMinor: 4500, paidAt: new Date() });
    const fields = { status: 'paid', attempt_count: 1, amount_paid: 4500 };
    expect(await notify(db, 'invoice.paid', invoice, subscription, fields)).toMatchObject({ notice: 'paid', enqueued: 0, skipped: 'paid without an earlier failed attempt' });
    expect((await notify(db, 'invoice.payment_succeeded', invoice, subscription, fields)).enqueued).toBe(0);
    // A paid event for an invoice that is not paid (neither the payload nor the mirror) sends nothing either.
    const open = await setInvoice(invoice, { status: 'open', firstFailedAt: new Date() });
    expect((await notify(db, 'invoice.paid', open, subscription, { status: 'open', attempt_count: 3 })).skipped).toBe('the invoice is not paid');
    expect(await outbox(invoice)).toEqual([]);
  });

  it('payment_action_required: the hosted invoice link to complete 3-D Secure, once per attempt; a later payment is "received"', async () => {
    const c = await customerWithContacts('sca');
    const { invoice, subscription } = await mirror(c.customerId, { paymentActionRequired: true });
    expect((await notify(db, 'invoice.payment_action_required', invoice, subscription)).enqueued).toBe(2);
    expect((await notify(db, 'invoice.payment_action_required', invoice, subscription)).enqueued).toBe(0);
    const [mail] = await outbox(invoice);
    expect(mail).toMatchObject({ kind: DUNNING_EMAIL_KINDS.action_required, subject: 'Acme Voice: confirm your payment of $45.00 (invoice ACME-0042)' });
    expect(mail!.reference).toMatch(new RegExp(`^dunning:${tenants.workspaceId}:${invoice.stripeInvoiceId}:action_required:1:`));
    expect(mail!.textBody).toContain('3-D Secure');
    expect(mail!.textBody).toContain('Complete the payment here: https://invoice.stripe.com/i/acct_1/test_abc');

    // Paid on the first attempt after authentication, the handler having cleared the flag: the earlier notice still counts.
    const paid = await setInvoice(invoice, { status: 'paid', paymentActionRequired: false, amountPaidMinor: 4500 });
    expect((await notify(db, 'invoice.paid', paid, subscription, { status: 'paid', attempt_count: 1, amount_paid: 4500 })).enqueued).toBe(2);
  });

  it('payload values are shape-checked: a hostile link, number or amount never reaches the text; another invoice id sends nothing', async () => {
    const c = await customerWithContacts('hostile');
    const { invoice, subscription } = await mirror(c.customerId, { hostedInvoiceUrl: null, number: null });
    const result = await notify(db, 'invoice.payment_failed', invoice, subscription, {
      hosted_invoice_url: 'javascript:alert(1)',
      number: '<script>alert(1)</script>',
      amount_due: '4500; drop table',
      currency: 'US D',
      attempt_count: 1.5,
      next_payment_attempt: 'tomorrow',
    });
    // attempt_count 1.5 falls back to the mirror's 1; amount and currency to the mirror's.
    expect(result.enqueued).toBe(2);
    const [mail] = await outbox(invoice);
    expect(mail!.reference).toContain(':failed:1:');
    expect(mail!.textBody).not.toMatch(/javascript|<script|drop table/);
    expect(mail!.textBody).toContain(`invoice ${invoice.stripeInvoiceId}`);
    expect(mail!.textBody).toContain('$45.00');
    expect(mail!.textBody).toContain('No further retries');
    expect(mail!.textBody).not.toContain('Or pay this invoice now');

    const other = await customerWithContacts('mismatch');
    const m = await mirror(other.customerId);
    expect((await notify(db, 'invoice.payment_failed', m.invoice, m.subscription, { id: 'in_somebody_else' })).skipped).toBe('the event names another invoice than the mirror row');
    expect((await notify(db, 'invoice.payment_failed', m.invoice, m.subscription, { id: "in_x'; --" })).skipped).toBe('not an invoice payload with a valid id');
    expect((await sendInvoiceNotice(db, { event: { id: 'evt_1', data: {} } as unknown as Stripe.Event, type: 'invoice.payment_failed', invoice: m.invoice, subscription: null })).skipped).toBe('not an invoice payload with a valid id');
    expect(await outbox(m.invoice)).toEqual([]);
  });

  it('a customer without contacts gets nothing; without webUrl the notice still says how to fix it', async () => {
    const t = db.t;
    const customerId = newId();
    await db.q.insert(t.customers).values({ id: customerId, workspaceId: tenants.workspaceId, name: 'Nobody', email: null });
    const { invoice } = await mirror(customerId);
    expect((await notify(db, 'invoice.payment_failed', invoice, null)).skipped).toBe('the customer has no billing contact');

    const c = await customerWithContacts('nourl');
    const m = await mirror(c.customerId);
    await sendInvoiceNotice(db, { event: stripeEvent('invoice.payment_failed', payload(m.invoice, { next_payment_attempt: Math.floor(Date.UTC(2030, 1, 1) / 1000) + DAY })), type: 'invoice.payment_failed', invoice: m.invoice, subscription: null });
    const [mail] = await outbox(m.invoice);
    expect(mail!.textBody).toContain('We could not collect the payment of $45.00 for invoice ACME-0042.');
    expect(mail!.textBody).toContain('Next retry: Stripe will retry the payment automatically on 2030-02-02 00:00 UTC.');
    expect(mail!.textBody).toContain('Or pay this invoice now with any card: https://invoice.stripe.com/i/acct_1/test_abc');
    expect(mail!.textBody).toContain('- Update your payment method: sign in to Acme Voice, open Billing and choose "Update payment method"');
    expect(mail!.textBody).not.toContain('/subscription');
  });
});
