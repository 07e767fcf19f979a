/**
 * Issue 8, item 3: the invoice mirror through the real webhook entry (signed deliveries), its
 * effect on the subscription's `pastDueSince`, and the invoice lists (`invoice.list`,
 * `invoice.listForCustomer`): Stripe invoices and billing records together.
 * Payloads are Stripe's fixture Invoice in both API shapes: `subscription` on the invoice
 * (2024-04-10 and older) or `parent.subscription_details.subscription` (current).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { and, eq, type Invoice } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { TRPCError } from '@trpc/server';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/ids';
import { silentLogger } from '../src/logger';
import type { StripeAccounts } from '../src/stripe/accounts';
import { accessForCustomer } from '../src/subscriptions/customer-access';
import { receiveStripeWebhook } from '../src/webhooks/receive';
import { DEPLOYMENT_SCOPE, type EventReceipt } from '../src/webhooks/types';
import { callerFor, seedTenants, TEST_KEYRING, WEBHOOK_SECRET } from './helpers';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixtures = JSON.parse(readFileSync(path.join(repoRoot, '../shared/stripe/fixtures3.json'), 'utf8')).resources as Record<string, Record<string, unknown>>;
const DEPLOYMENT: EventReceipt = { scope: DEPLOYMENT_SCOPE, workspaceId: null };
const signer = new Stripe('sk_test_signer_only_123456');
const uid = () => newId().replace(/-/g, '');
const T0 = 1_790_000_000;
const code = (e: unknown) => (e instanceof TRPCError ? e.code : `not a TRPCError: ${String(e)}`);

type Obj = Record<string, unknown>;

/**
 * Stripe's example Invoice for `customer`. `shape: 'old'` names the subscription on the invoice
 * (2024-04-10), `current` under `parent.subscription_details` (the fixture's `subscription` key
 * removed); `subscription: null` makes a one-off invoice.
 */
function invoiceObject({ id, customer, subscription, shape = 'current', status = 'open', ...rest }: Obj & { id: string; customer: unknown; subscription: string | null; shape?: 'old' | 'current' }): Obj {
  const inv = structuredClone(fixtures.invoice!) as Obj;
  Object.assign(inv, {
    id,
    customer,
    status,
    livemode: false,
    created: T0,
    number: 'ABCD-0001',
    billing_reason: 'subscription_cycle',
    total: 2900,
    amount_due: 2900,
    amount_paid: status === 'paid' ? 2900 : 0,
    amount_remaining: status === 'paid' ? 0 : 2900,
    attempt_count: 0,
    next_payment_attempt: null,
    hosted_invoice_url: `https://invoice.stripe.com/i/${id}`,
    invoice_pdf: `https://pay.stripe.com/invoice/${id}/pdf`,
    period_start: T0 - 30 * 86_400,
    period_end: T0,
    status_transitions: { finalized_at: status === 'draft' ? null : T0 + 3600, paid_at: status === 'paid' ? T0 + 3600 : null, voided_at: null, marked_uncollectible_at: null },
  });
  if (shape === 'old') {
    inv.subscription = subscription;
    delete inv.parent;
  } else {
    delete inv.subscription;
    inv.parent = subscription ? { type: 'subscription_details', quote_details: null, subscription_details: { metadata: {}, subscription } } : null;
  }
  return { ...inv, ...rest };
}

function subscriptionObject(id: string, customer: string, status: string): Obj {
  const sub = structuredClone(fixtures.subscription!) as Obj;
  return { ...sub, id, customer, status, cancel_at_period_end: false, test_clock: null, livemode: false, latest_invoice: null };
}

function eventOf(type: string, object: unknown, { created = T0, id = `evt_${uid()}` }: { created?: number; id?: string } = {}): Obj {
  return { ...structuredClone(fixtures.event!), id, type, api_version: '2026-10-28.endive', created, livemode: false, data: { object } };
}

describe.each(testDialects)('invoice mirror ($name)', ({ create }) => {
  let db: TestDatabase;
  let tenants: Awaited<ReturnType<typeof seedTenants>>;
  let other: Awaited<ReturnType<typeof seedTenants>>;
  const cus = { alice: `cus_A${uid().slice(0, 12)}`, bob: `cus_B${uid().slice(0, 12)}` };

  beforeAll(async () => {
    db = await create();
    tenants = await seedTenants(db);
    other = await seedTenants(db);
    await db.q.update(db.t.customers).set({ stripeCustomerId: cus.alice }).where(eq(db.t.customers.id, tenants.alice.customerId));
    await db.q.update(db.t.customers).set({ stripeCustomerId: cus.bob }).where(eq(db.t.customers.id, tenants.bob.customerId));
  });
  afterAll(async () => {
    await db?.destroy();
  });

  async function deliver(event: Obj | string, { receipt = DEPLOYMENT, stripeAccounts }: { receipt?: EventReceipt; stripeAccounts?: StripeAccounts } = {}) {
    const payload = typeof event === 'string' ? event : JSON.stringify(event);
    const signature = signer.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
    const result = await receiveStripeWebhook({ db, receipt, webhookSecret: WEBHOOK_SECRET, rawBody: Buffer.from(payload), signature, logger: silentLogger, expected: { livemode: false }, ...(stripeAccounts ? { stripeAccounts } : {}) });
    const id = typeof event === 'string' ? (JSON.parse(event) as { id: string }).id : (event.id as string);
    const [logged] = await db.q.select().from(db.t.stripeEvents).where(and(eq(db.t.stripeEvents.scope, receipt.scope), eq(db.t.stripeEvents.id, id)));
    return { result, logged: logged! };
  }
  async function mirror(stripeInvoiceId: string): Promise<Invoice | undefined> {
    const [row] = await db.q.select().from(db.t.invoices).where(eq(db.t.invoices.stripeInvoiceId, stripeInvoiceId));
    return row;
  }

  it('understands the subscription of both API shapes, and mirrors number, status, amounts, links, period and lines', async () => {
    for (const shape of ['old', 'current'] as const) {
      const id = `in_${uid()}`;
      const sub = `sub_${uid()}`;
      const { result, logged } = await deliver(eventOf('invoice.finalized', invoiceObject({ id, customer: cus.alice, subscription: sub, shape })));
      expect(result).toMatchObject({ httpStatus: 200, status: 'processed' });
      expect(logged.outcome).toContain(id);
      const row = await mirror(id);
      expect(row).toMatchObject({
        workspaceId: tenants.workspaceId,
        customerId: tenants.alice.customerId,
        stripeSubscriptionId: sub,
        number: 'ABCD-0001',
        status: 'open',
        billingReason: 'subscription_cycle',
        currency: 'usd',
        totalMinor: 2900,
        amountDueMinor: 2900,
        amountPaidMinor: 0,
        amountRemainingMinor: 2900,
        hostedInvoiceUrl: `https://invoice.stripe.com/i/${id}`,
        invoicePdfUrl: `https://pay.stripe.com/invoice/${id}/pdf`,
        attemptCount: 0,
        firstFailedAt: null,
        paymentActionRequired: false,
        syncedAtMs: T0 * 1000,
      });
      expect(row!.periodEnd!.getTime()).toBe(T0 * 1000);
      expect(row!.finalizedAt!.getTime()).toBe((T0 + 3600) * 1000);
      expect(JSON.parse(row!.linesSummary)).toEqual([{ description: 'My First Invoice Item (created for API docs)', amountMinor: 1000, quantity: 1 }]);
    }
    // The fixture's own `parent.subscription_details.subscription` is "subscription": not an id, so no subscription.
    const id = `in_${uid()}`;
    await deliver(eventOf('invoice.created', { ...structuredClone(fixtures.invoice!), id, customer: cus.alice, livemode: false }));
    expect(await mirror(id)).toMatchObject({ status: 'draft', stripeSubscriptionId: null, amountDueMinor: 1000 });
  });

  it('keeps at most 20 lines, NUL-stripped and cut; drops links that are not http(s); ignores foreign and garbage invoices', async () => {
    const id = `in_${uid()}`;
    const lines = Array.from({ length: 25 }, (_, k) => ({ description: k === 0 ? `x\u0000y${'z'.repeat(500)}` : `line ${k}`, amount: k, quantity: 1 }));
    await deliver(
      eventOf(
        'invoice.finalized',
        invoiceObject({ id, customer: cus.alice, subscription: null, number: 'N\u0000UL', hosted_invoice_url: 'javascript:alert(1)', invoice_pdf: 'https://x.test/a b', lines: { object: 'list', data: [...lines, 'garbage'] } }),
      ),
    );
    const row = await mirror(id);
    const summary = JSON.parse(row!.linesSummary) as { description: string }[];
    expect(summary).toHaveLength(20);
    expect(summary[0]!.description).toHaveLength(200);
    expect(summary[0]!.description.startsWith('xyzzz')).toBe(true);
    expect(row).toMatchObject({ number: 'NUL', hostedInvoiceUrl: null, invoicePdfUrl: null, stripeSubscriptionId: null });

    const foreign = await deliver(eventOf('invoice.paid', invoiceObject({ id: `in_${uid()}`, customer: 'cus_Foreign99', subscription: null, status: 'paid' })));
    expect(foreign.result).toMatchObject({ status: 'ignored' });
    expect(foreign.logged.outcome).toContain('cus_Foreign99');
    const atOther = await deliver(eventOf('invoice.paid', invoiceObject({ id: `in_${uid()}`, customer: cus.alice, subscription: null, status: 'paid' })), { receipt: { scope: other.workspaceId, workspaceId: other.workspaceId } });
    expect(atOther.result).toMatchObject({ status: 'ignored' });
    const base = invoiceObject({ id: `in_${uid()}`, customer: cus.alice, subscription: null });
    for (const bad of [null, 'in_1', {}, { ...base, id: 'sub_1' }, { ...base, id: 'in_\u0000' }, { ...base, status: 'pending' }, { ...base, currency: 'US$' }, { ...base, currency: undefined }, { ...base, customer: 'cus_' }]) {
      const { result } = await deliver(eventOf('invoice.payment_failed', bad));
      expect(result, JSON.stringify(bad)?.slice(0, 60)).toMatchObject({ httpStatus: 200, status: 'ignored' });
    }
    // Wrong types in optional fields read as absent.
    const sloppy = `in_${uid()}`;
    await deliver(eventOf('invoice.finalized', { ...invoiceObject({ id: sloppy, customer: cus.alice, subscription: 'sub_\u0000' }), amount_due: '2900', attempt_count: 1.5, total: 2 ** 60, next_payment_attempt: 'tomorrow', status_transitions: 'x' }));
    expect(await mirror(sloppy)).toMatchObject({ amountDueMinor: 0, attemptCount: 0, totalMinor: 0, nextPaymentAttemptAt: null, finalizedAt: null, stripeSubscriptionId: null });
  });

  it('statuses only move forward: a later open never undoes paid, void is final, and a tie goes to the later status or more attempts', async () => {
    const id = `in_${uid()}`;
    await deliver(eventOf('invoice.paid', invoiceObject({ id, customer: cus.alice, subscription: null, status: 'paid' }), { created: T0 + 100 }));
    await deliver(eventOf('invoice.finalized', invoiceObject({ id, customer: cus.alice, subscription: null, status: 'open' }), { created: T0 + 200 }));
    expect(await mirror(id)).toMatchObject({ status: 'paid', amountPaidMinor: 2900, syncedAtMs: (T0 + 100) * 1000 });

    const voided = `in_${uid()}`;
    await deliver(eventOf('invoice.voided', invoiceObject({ id: voided, customer: cus.alice, subscription: null, status: 'void' }), { created: T0 + 100 }));
    await deliver(eventOf('invoice.paid', invoiceObject({ id: voided, customer: cus.alice, subscription: null, status: 'paid' }), { created: T0 + 300 }));
    await deliver(eventOf('invoice.finalized', invoiceObject({ id: voided, customer: cus.alice, subscription: null, status: 'open' }), { created: T0 + 400 }));
    expect((await mirror(voided))!.status).toBe('void');
    // uncollectible -> paid is forward.
    const unc = `in_${uid()}`;
    await deliver(eventOf('invoice.marked_uncollectible', invoiceObject({ id: unc, customer: cus.alice, subscription: null, status: 'uncollectible' }), { created: T0 }));
    await deliver(eventOf('invoice.paid', invoiceObject({ id: unc, customer: cus.alice, subscription: null, status: 'paid' }), { created: T0 + 1 }));
    expect((await mirror(unc))!.status).toBe('paid');

    for (const order of [0, 1]) {
      const tie = `in_${uid()}`;
      const open = eventOf('invoice.finalized', invoiceObject({ id: tie, customer: cus.alice, subscription: null, status: 'open', attempt_count: 0 }), { created: T0 + 50 });
      const failed = eventOf('invoice.payment_failed', invoiceObject({ id: tie, customer: cus.alice, subscription: null, status: 'open', attempt_count: 1 }), { created: T0 + 50 });
      const paid = eventOf('invoice.paid', invoiceObject({ id: tie, customer: cus.alice, subscription: null, status: 'paid', attempt_count: 2 }), { created: T0 + 50 });
      for (const e of order === 0 ? [open, failed, paid] : [paid, failed, open]) await deliver(e);
      expect(await mirror(tie)).toMatchObject({ status: 'paid', attemptCount: 2 });
      const tie2 = `in_${uid()}`;
      const a = eventOf('invoice.finalized', invoiceObject({ id: tie2, customer: cus.alice, subscription: null, attempt_count: 0 }), { created: T0 + 50 });
      const b = eventOf('invoice.payment_failed', invoiceObject({ id: tie2, customer: cus.alice, subscription: null, attempt_count: 1 }), { created: T0 + 50 });
      for (const e of order === 0 ? [a, b] : [b, a]) await deliver(e);
      expect((await mirror(tie2))!.attemptCount).toBe(1);
    }
  });

  it('firstFailedAt is set once from the failed attempt and survives payment; paymentActionRequired lasts until paid, whatever the order', async () => {
    const finalized = T0 + 3600;
    for (const order of ['in order', 'reversed'] as const) {
      const id = `in_${uid()}`;
      const failed = eventOf('invoice.payment_failed', invoiceObject({ id, customer: cus.bob, subscription: null, attempt_count: 1, next_payment_attempt: T0 + 3 * 86_400 }), { created: T0 + 10 });
      const action = eventOf('invoice.payment_action_required', invoiceObject({ id, customer: cus.bob, subscription: null, attempt_count: 2 }), { created: T0 + 20 });
      const paid = eventOf('invoice.paid', invoiceObject({ id, customer: cus.bob, subscription: null, status: 'paid', attempt_count: 1 }), { created: T0 + 30 });
      const events = order === 'in order' ? [failed, action, paid] : [paid, action, failed];
      await deliver(events[0]!);
      await deliver(events[1]!);
      if (order === 'in order') expect(await mirror(id)).toMatchObject({ status: 'open', paymentActionRequired: true });
      await deliver(events[2]!);
      const row = await mirror(id);
      expect(row, order).toMatchObject({ status: 'paid', paymentActionRequired: false });
      expect(row!.firstFailedAt!.getTime(), order).toBe(finalized * 1000);
    }
    // Still open: the flag stays, even when a stale action-required event arrives after a newer failure.
    const id = `in_${uid()}`;
    await deliver(eventOf('invoice.payment_failed', invoiceObject({ id, customer: cus.bob, subscription: null, attempt_count: 2 }), { created: T0 + 40 }));
    await deliver(eventOf('invoice.payment_action_required', invoiceObject({ id, customer: cus.bob, subscription: null, attempt_count: 1 }), { created: T0 + 30 }));
    expect(await mirror(id)).toMatchObject({ status: 'open', attemptCount: 2, paymentActionRequired: true });
    // A first attempt that succeeded is no failure.
    const ok = `in_${uid()}`;
    await deliver(eventOf('invoice.paid', invoiceObject({ id: ok, customer: cus.bob, subscription: null, status: 'paid', attempt_count: 1 })));
    expect((await mirror(ok))!.firstFailedAt).toBeNull();
  });

  it("sets the subscription's pastDueSince from its failed invoice whichever arrives first, and clears it when active again", async () => {
    for (const order of ['subscription first', 'invoice first'] as const) {
      const sub = `sub_${uid()}`;
      const inv = `in_${uid()}`;
      const pastDue = eventOf('customer.subscription.updated', subscriptionObject(sub, cus.alice, 'past_due'), { created: T0 + 10 });
      const failed = eventOf('invoice.payment_failed', invoiceObject({ id: inv, customer: cus.alice, subscription: sub, attempt_count: 1 }), { created: T0 + 10 });
      for (const e of order === 'subscription first' ? [pastDue, failed] : [failed, pastDue]) expect((await deliver(e)).result).toMatchObject({ status: 'processed' });
      const [row] = await db.q.select().from(db.t.subscriptions).where(eq(db.t.subscriptions.stripeSubscriptionId, sub));
      expect(row!.status, order).toBe('past_due');
      expect(row!.pastDueSince!.getTime(), order).toBe((T0 + 3600) * 1000);
      // Paid, then active again.
      await deliver(eventOf('invoice.paid', invoiceObject({ id: inv, customer: cus.alice, subscription: sub, status: 'paid', attempt_count: 2 }), { created: T0 + 20 }));
      await deliver(eventOf('customer.subscription.updated', subscriptionObject(sub, cus.alice, 'active'), { created: T0 + 20 }));
      const [after] = await db.q.select().from(db.t.subscriptions).where(eq(db.t.subscriptions.stripeSubscriptionId, sub));
      expect(after).toMatchObject({ status: 'active', pastDueSince: null });
    }
    // Grace is judged from it (access.ts): two days after the failure, grace; nine days after, none.
    const sub = `sub_${uid()}`;
    await deliver(eventOf('invoice.payment_failed', invoiceObject({ id: `in_${uid()}`, customer: cus.bob, subscription: sub, attempt_count: 1 }), { created: T0 + 10 }));
    await deliver(eventOf('customer.subscription.updated', subscriptionObject(sub, cus.bob, 'past_due'), { created: T0 + 10 }));
    const at = (days: number) => accessForCustomer(db, { workspaceId: tenants.workspaceId, customerId: tenants.bob.customerId, graceDays: 7, now: new Date((T0 + 3600 + days * 86_400) * 1000) });
    expect((await at(2)).access).toBe('grace');
    expect((await at(9)).access).toBe('none');
  });

  it('re-reads the invoice from Stripe when a client is available', async () => {
    const id = `in_${uid()}`;
    const client = { invoices: { retrieve: async () => invoiceObject({ id, customer: cus.alice, subscription: null, status: 'paid', attempt_count: 3 }) } } as unknown as Stripe;
    const accounts: StripeAccounts = {
      deployment: { mode: 'emulator', client, webhookSecret: WEBHOOK_SECRET },
      keyring: TEST_KEYRING,
      clientForKey: () => client,
      forWorkspace: async () => ({ configured: true, source: 'deployment', client, mode: 'emulator', expected: { livemode: false }, webhookSecret: WEBHOOK_SECRET, stripeAccountId: null }),
    };
    await deliver(eventOf('invoice.payment_failed', invoiceObject({ id, customer: cus.alice, subscription: null, attempt_count: 1 })), { stripeAccounts: accounts });
    const row = await mirror(id);
    expect(row).toMatchObject({ status: 'paid', attemptCount: 3 });
    // The event says the attempt failed: recorded, though Stripe's invoice is paid by now.
    expect(row!.firstFailedAt!.getTime()).toBe((T0 + 3600) * 1000);
    expect(row!.syncedAtMs).toBeGreaterThan(T0 * 1000);
  });

  describe('invoice lists', () => {
    let ws: Awaited<ReturnType<typeof seedTenants>>;
    const mk = async (stripeInvoiceId: string, status: string, created: number, amount: number) =>
      db.q.insert(db.t.invoices).values({
        id: newId(),
        workspaceId: ws.workspaceId,
        customerId: ws.alice.customerId,
        stripeInvoiceId,
        status,
        currency: 'usd',
        number: `N-${stripeInvoiceId.slice(-4)}`,
        totalMinor: amount,
        amountDueMinor: amount,
        amountPaidMinor: status === 'paid' ? amount : 0,
        amountRemainingMinor: status === 'paid' ? 0 : amount,
        hostedInvoiceUrl: `https://invoice.stripe.com/i/${stripeInvoiceId}`,
        invoicePdfUrl: `https://pay.stripe.com/${stripeInvoiceId}.pdf`,
        linesSummary: JSON.stringify([{ description: 'Team plan', amountMinor: amount, quantity: 1 }]),
        stripeCreated: new Date(created),
      });
    const record = async (description: string, status: 'DUE' | 'PAID' | 'VOID', createdAt: number, amountMinor: number, dueDate = '2020-01-01') =>
      db.q.insert(db.t.billingRecords).values({
        id: newId(),
        workspaceId: ws.workspaceId,
        customerId: ws.alice.customerId,
        description,
        amountMinor,
        currency: 'usd',
        dueDate,
        status,
        payToken: uid().padEnd(43, 'x').slice(0, 43),
        createdAt: new Date(createdAt),
      });

    beforeAll(async () => {
      ws = await seedTenants(db);
      await mk('in_list_open1', 'open', Date.UTC(2026, 2, 1), 2900);
      await mk('in_list_paid1', 'paid', Date.UTC(2026, 0, 1), 1500);
      await mk('in_list_draft', 'draft', Date.UTC(2026, 3, 1), 700);
      await record('March retainer', 'DUE', Date.UTC(2026, 1, 1), 120_000);
      await record('Setup fee', 'PAID', Date.UTC(2025, 11, 1), 5_000, '2026-12-31');
    });

    it('invoice.list: a customer sees Stripe invoices (no drafts) and billing records, newest first', async () => {
      const { items, hasMore } = await callerFor(db, signer, ws.alice).invoice.list();
      expect(hasMore).toBe(false);
      expect(items.map((i) => [i.kind, i.number ?? i.description, i.status])).toEqual([
        ['stripe_invoice', 'N-pen1', 'open'],
        ['billing_record', 'March retainer', 'DUE'],
        ['stripe_invoice', 'N-aid1', 'paid'],
        ['billing_record', 'Setup fee', 'PAID'],
      ]);
      const [open, due, paid, fee] = items;
      expect(open).toMatchObject({ amountDueMinor: 2900, amountPaidMinor: 0, amountRemainingMinor: 2900, currency: 'usd', payUrl: 'https://invoice.stripe.com/i/in_list_open1', invoicePdfUrl: 'https://pay.stripe.com/in_list_open1.pdf', description: 'Team plan' });
      expect(paid).toMatchObject({ amountPaidMinor: 1500, payUrl: null, hostedInvoiceUrl: 'https://invoice.stripe.com/i/in_list_paid1' });
      // Customers never get the pay link's bearer token.
      expect(due).toMatchObject({ amountMinor: 120_000, amountRemainingMinor: 120_000, dueDate: '2020-01-01', overdue: true, payUrl: null, hostedInvoiceUrl: null });
      expect(fee).toMatchObject({ amountPaidMinor: 5_000, overdue: false });
      expect((await callerFor(db, signer, ws.alice).invoice.list({ customerId: ws.alice.customerId, limit: 2 })).items).toHaveLength(2);
      expect((await callerFor(db, signer, ws.alice).invoice.list({ limit: 2 })).hasMore).toBe(true);
      // Bob (same workspace, another customer) sees none of Alice's.
      expect((await callerFor(db, signer, ws.bob).invoice.list()).items).toEqual([]);
    });

    it('invoice.listForCustomer: admins of the workspace see drafts and pay links; anything else is refused', async () => {
      const admin = callerFor(db, signer, ws.admin, undefined, ws.workspaceId);
      const { items } = await admin.invoice.listForCustomer({ customerId: ws.alice.customerId });
      expect(items.map((i) => i.status)).toEqual(['draft', 'open', 'DUE', 'paid', 'PAID']);
      expect(items.find((i) => i.status === 'DUE')!.payUrl).toMatch(/\/pay\/[A-Za-z0-9_-]{43}$/);
      // Another workspace's customer reads as missing, for the other workspace's admin too.
      await expect(admin.invoice.listForCustomer({ customerId: tenants.alice.customerId })).rejects.toSatisfy((e) => code(e) === 'NOT_FOUND');
      await expect(callerFor(db, signer, other.admin, undefined, other.workspaceId).invoice.listForCustomer({ customerId: ws.alice.customerId })).rejects.toSatisfy((e) => code(e) === 'NOT_FOUND');
      // Not an admin; not signed in.
      await expect(callerFor(db, signer, ws.alice, undefined, ws.workspaceId).invoice.listForCustomer({ customerId: ws.alice.customerId })).rejects.toSatisfy((e) => code(e) === 'FORBIDDEN');
      await expect(callerFor(db, signer, null).invoice.list()).rejects.toSatisfy((e) => code(e) === 'UNAUTHORIZED');
      // A customer id that is not theirs.
      await expect(callerFor(db, signer, ws.bob).invoice.list({ customerId: ws.alice.customerId })).rejects.toSatisfy((e) => code(e) === 'NOT_FOUND');
    });

    it('refuses malformed input before any query', async () => {
      const alice = callerFor(db, signer, ws.alice);
      const admin = callerFor(db, signer, ws.admin, undefined, ws.workspaceId);
      for (const input of [{ customerId: 'not-a-uuid' }, { customerId: `${ws.alice.customerId}\u0000` }, { limit: 0 }, { limit: 101 }, { limit: 1.5 }, { limit: '5' }]) {
        await expect(alice.invoice.list(input as never), JSON.stringify(input)).rejects.toSatisfy((e) => code(e) === 'BAD_REQUEST');
      }
      for (const input of [{}, { customerId: 'x'.repeat(100_000) }, { customerId: ws.alice.customerId, limit: -1 }]) {
        await expect(admin.invoice.listForCustomer(input as never)).rejects.toSatisfy((e) => code(e) === 'BAD_REQUEST');
      }
    });
  });
});
