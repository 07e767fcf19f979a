/**
 * Issue 7, item 6: paying billing records through Stripe Checkout (the real SDK against the
 * Stripe emulator, events delivered signed to `receiveStripeWebhook`): the session is exactly
 * what the record asks, the webhook marks it PAID once, and a payment is never lost nor counted
 * twice — two tabs, a webhook after a manual mark, a payment for a VOID record each end in one
 * settled record plus one `overpayment` credit, whatever the delivery order, repetition,
 * concurrency or endpoint.
 */
import { and, eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { startStripeEmulator, type StripeEmulator } from '@tally/stripe-emulator';
import { TRPCError } from '@trpc/server';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/context';
import { recordingLogger } from '../src/logger';
import { BILLING_CHECKOUT_LIFETIME_S, MAX_OPEN_CHECKOUTS_PER_RECORD } from '../src/billing-records/start-checkout';
import { receiveStripeWebhook } from '../src/webhooks/receive';
import { DEPLOYMENT_SCOPE, type EventReceipt } from '../src/webhooks/types';
import type { StripeAccounts } from '../src/stripe/accounts';
import { callerFor, countingStripe, ORIGIN, seedTenants, testStripeAccounts, WEBHOOK_SECRET } from './helpers';

const code = (e: unknown) => (e instanceof TRPCError ? e.code : `not a TRPCError: ${String(e)}`);
const DEPLOYMENT: EventReceipt = { scope: DEPLOYMENT_SCOPE, workspaceId: null };
const atWorkspace = (workspaceId: string): EventReceipt => ({ scope: workspaceId, workspaceId });
const today = () => new Date().toISOString().slice(0, 10);

/** A deterministic shuffle (mulberry32), so a failing order can be replayed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * A copy of `event` with top-level fields and fields of its `data.object` replaced, as plain
 * JSON (typed loosely on purpose: spreading `Stripe.Event`, a union of every event type, makes
 * the type checker enumerate them all).
 */
function withObject(event: Stripe.Event, top: Record<string, unknown>, object: Record<string, unknown>): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(event)) as { data: { object: Record<string, unknown> } } & Record<string, unknown>;
  return { ...plain, ...top, data: { ...plain.data, object: { ...plain.data.object, ...object } } };
}

describe.each(testDialects)('billing record payments ($name)', ({ create }) => {
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

  const caller = (actor: Actor | null, origin: string | null = ORIGIN) => callerFor(db, accounts, actor, origin);
  const t = () => db.t;

  async function setup(amountMinor = 120_000) {
    const tenants = await seedTenants(db);
    const record = await caller(tenants.admin).billingRecord.create({ customerId: tenants.alice.customerId, description: 'March retainer', amountMinor, dueDate: today() });
    return { ...tenants, record, token: record.payUrl!.slice(record.payUrl!.lastIndexOf('/') + 1) };
  }
  /** Start a checkout as `actor` and return the new session's id (the latest checkout row). */
  async function pay(recordId: string, actor: Actor) {
    const { url } = await caller(actor).billingRecord.pay({ recordId });
    const rows = await checkoutsOf(recordId);
    const latest = rows.sort((x, y) => y.attempt - x.attempt)[0]!;
    expect(latest.status).toBe('open');
    return { url, sessionId: latest.stripeCheckoutSessionId! };
  }
  const checkoutsOf = (recordId: string) => db.q.select().from(t().billingRecordCheckouts).where(eq(t().billingRecordCheckouts.billingRecordId, recordId));
  const recordRow = async (recordId: string) => (await db.q.select().from(t().billingRecords).where(eq(t().billingRecords.id, recordId)))[0]!;
  const ledgerOf = (customerId: string) => db.q.select().from(t().ledgerEntries).where(eq(t().ledgerEntries.customerId, customerId));
  const balanceOf = async (customerId: string) =>
    (await db.q.select().from(t().customerBalances).where(and(eq(t().customerBalances.customerId, customerId), eq(t().customerBalances.currency, 'usd'))))[0]?.amountMinor ?? 0;

  function eventOf(type: string, sessionId: string): Stripe.Event {
    const event = emulator.events().findLast((e) => e.type === type && (e.data.object as { id?: string }).id === sessionId);
    expect(event, `${type} for ${sessionId}`).toBeDefined();
    return event!;
  }
  /** Deliver an event as Stripe would: the raw JSON, signed with the endpoint's secret. */
  function deliver(event: unknown, receipt: EventReceipt = DEPLOYMENT) {
    const payload = JSON.stringify(event);
    const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
    return receiveStripeWebhook({ db, receipt, webhookSecret: WEBHOOK_SECRET, rawBody: Buffer.from(payload), signature, logger: recordingLogger(), expected: { livemode: false }, stripeAccounts: accounts });
  }
  async function complete(sessionId: string) {
    expect(await emulator.completeCheckoutSession(sessionId)).toEqual({ ok: true });
    return eventOf('checkout.session.completed', sessionId);
  }

  it('pay opens a Checkout Session for exactly the record; the webhook marks it PAID once (redelivery, second endpoint)', async () => {
    const { alice, admin, record, workspaceId } = await setup();
    const { url, sessionId } = await pay(record.id, alice);
    const session = await stripe.checkout.sessions.retrieve(sessionId);
    expect(url).toBe(session.url);
    expect(session).toMatchObject({
      mode: 'payment',
      status: 'open',
      amount_total: 120_000,
      currency: 'usd',
      client_reference_id: record.id,
      metadata: { tally_billing_record_id: record.id, tally_customer_id: alice.customerId, tally_workspace_id: workspaceId, tally_attempt: '1' },
      success_url: `${ORIGIN}/billing?paid=${record.id}`,
      cancel_url: `${ORIGIN}/billing?cancelled=${record.id}`,
    });
    expect(session.expires_at - session.created).toBe(BILLING_CHECKOUT_LIFETIME_S);
    const items = await stripe.checkout.sessions.listLineItems(sessionId);
    expect(items.data.map((i) => [i.quantity, i.amount_total, i.description])).toEqual([[1, 120_000, 'March retainer']]);
    const [checkout] = await checkoutsOf(record.id);
    expect(checkout).toMatchObject({ attempt: 1, amountMinor: 120_000, currency: 'usd', createdByUserId: alice.userId, workspaceId });
    expect((await recordRow(record.id)).paymentAttempts).toBe(1);
    const idempotent = calls.filter((c) => c.startsWith('POST') && c.includes('/v1/checkout/sessions'));
    expect(idempotent.length).toBeGreaterThan(0);

    const completed = await complete(sessionId);
    const pi = (await stripe.checkout.sessions.retrieve(sessionId)).payment_intent as string;
    expect((await stripe.paymentIntents.retrieve(pi)).metadata).toMatchObject({ tally_billing_record_id: record.id, tally_attempt: '1' });
    expect(await deliver(completed)).toMatchObject({ httpStatus: 200, status: 'processed', duplicate: false });
    const paid = await recordRow(record.id);
    expect(paid).toMatchObject({
      status: 'PAID',
      paymentMethod: 'stripe',
      stripeCheckoutSessionId: sessionId,
      stripePaymentIntentId: pi,
      stripePaymentStatus: 'paid',
      paidByUserId: null,
    });
    expect(paid.paidAt).toBeInstanceOf(Date);
    expect(paid.stripeLastEventAt!.getTime()).toBe(completed.created * 1000);
    expect((await checkoutsOf(record.id))[0]!.status).toBe('complete');

    expect(await deliver(completed)).toMatchObject({ httpStatus: 200, status: 'processed', duplicate: true });
    expect(await deliver(completed, atWorkspace(workspaceId))).toMatchObject({ httpStatus: 200, status: 'processed', duplicate: false });
    expect(await recordRow(record.id)).toEqual(paid);
    expect(await ledgerOf(alice.customerId)).toEqual([]);
    const view = await caller(admin).billingRecord.get({ recordId: record.id, audience: 'admin' });
    expect(view).toMatchObject({ status: 'PAID', paymentMethod: 'stripe', stripePaymentIntentId: pi, overpayments: [] });
    expect((await caller(alice).billingRecord.get({ recordId: record.id })).status).toBe('PAID');
    // PAID is final for pay too.
    expect(code(await caller(alice).billingRecord.pay({ recordId: record.id }).catch((e) => e))).toBe('PRECONDITION_FAILED');
  });

  it('two tabs: two sessions both paid -> one PAID record and exactly one overpayment, whatever the order, repetition, concurrency or endpoint', async () => {
    const { alice, admin, record, workspaceId } = await setup(5_000);
    const first = await pay(record.id, alice);
    const second = await pay(record.id, admin); // an admin may pay it too
    const events = [await complete(first.sessionId), await complete(second.sessionId)];
    const pis = await Promise.all([first, second].map(async (s) => (await stripe.checkout.sessions.retrieve(s.sessionId)).payment_intent as string));

    // Concurrent deliveries, each event twice, at the deployment endpoint...
    const round1 = await Promise.all([events[1], events[0], events[1], events[0]].map((e) => deliver(e)));
    for (const r of round1) expect(r).toMatchObject({ httpStatus: 200, status: 'processed' });
    // ...then shuffled, twice again, at the workspace's own endpoint.
    for (const e of shuffled([...events, ...events], 7)) expect(await deliver(e, atWorkspace(workspaceId))).toMatchObject({ httpStatus: 200, status: 'processed' });

    const paid = await recordRow(record.id);
    expect(paid).toMatchObject({ status: 'PAID', paymentMethod: 'stripe' });
    const winner = paid.stripeCheckoutSessionId === first.sessionId ? 0 : 1;
    expect([first.sessionId, second.sessionId][winner]).toBe(paid.stripeCheckoutSessionId);
    expect(paid.stripePaymentIntentId).toBe(pis[winner]);
    const ledger = await ledgerOf(alice.customerId);
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({ kind: 'overpayment', amountMinor: 5_000, currency: 'usd', billingRecordId: record.id, reference: `overpayment:${pis[1 - winner]}`, workspaceId });
    expect(await balanceOf(alice.customerId)).toBe(5_000);
    expect((await checkoutsOf(record.id)).map((c) => c.status)).toEqual(['complete', 'complete']);
    const view = await caller(admin).billingRecord.get({ recordId: record.id, audience: 'admin' });
    expect(view.overpayments).toEqual([{ entryId: ledger[0]!.id, amountMinor: 5_000, currency: 'usd', createdAt: ledger[0]!.createdAt }]);
  });

  it('a webhook after a manual mark (bank transfer): still PAID by bank transfer, one overpayment', async () => {
    const { alice, admin, record, workspaceId } = await setup(7_500);
    const { sessionId } = await pay(record.id, alice);
    const completed = await complete(sessionId); // paid at Stripe, webhook not there yet
    const marked = await caller(admin).billingRecord.markPaid({ recordId: record.id, method: 'bank_transfer', reference: 'TRX-1', paidOn: today() });
    expect(marked.status).toBe('PAID');
    const pi = (await stripe.checkout.sessions.retrieve(sessionId)).payment_intent as string;

    for (const receipt of shuffled([DEPLOYMENT, DEPLOYMENT, atWorkspace(workspaceId), atWorkspace(workspaceId)], 11)) {
      expect(await deliver(completed, receipt)).toMatchObject({ httpStatus: 200, status: 'processed' });
    }
    expect(await recordRow(record.id)).toMatchObject({
      status: 'PAID',
      paymentMethod: 'bank_transfer',
      paymentReference: 'TRX-1',
      paidByUserId: admin.userId,
      stripeCheckoutSessionId: null,
      stripePaymentIntentId: null,
    });
    const ledger = await ledgerOf(alice.customerId);
    expect(ledger).toMatchObject([{ kind: 'overpayment', amountMinor: 7_500, reference: `overpayment:${pi}`, billingRecordId: record.id }]);
    expect(ledger[0]!.description).toContain('March retainer');
    expect(await balanceOf(alice.customerId)).toBe(7_500);
    expect((await caller(admin).billingRecord.get({ recordId: record.id, audience: 'admin' })).overpayments).toHaveLength(1);
  });

  it('a payment for a VOID record is credited as an overpayment; the record stays VOID', async () => {
    const { alice, admin, record } = await setup(2_000);
    const { sessionId } = await pay(record.id, alice);
    const completed = await complete(sessionId);
    await caller(admin).billingRecord.void({ recordId: record.id, reason: 'Issued by mistake' });
    expect(await deliver(completed)).toMatchObject({ status: 'processed', duplicate: false });
    expect(await deliver(completed)).toMatchObject({ status: 'processed', duplicate: true });
    expect(await recordRow(record.id)).toMatchObject({ status: 'VOID', paidAt: null, paymentMethod: null, voidReason: 'Issued by mistake' });
    expect(await ledgerOf(alice.customerId)).toMatchObject([{ kind: 'overpayment', amountMinor: 2_000, billingRecordId: record.id }]);
    expect(await balanceOf(alice.customerId)).toBe(2_000);
  });

  it('once PAID (by hand, by void, by webhook) the other open sessions are expired at Stripe', async () => {
    // markPaid
    {
      const { alice, admin, record } = await setup();
      const a = await pay(record.id, alice);
      const b = await pay(record.id, alice);
      await caller(admin).billingRecord.markPaid({ recordId: record.id, method: 'cash', paidOn: today() });
      for (const s of [a, b]) expect((await stripe.checkout.sessions.retrieve(s.sessionId)).status).toBe('expired');
      expect((await checkoutsOf(record.id)).map((c) => c.status)).toEqual(['expired', 'expired']);
      // Their expired events change nothing on the PAID record.
      const before = await recordRow(record.id);
      for (const s of [a, b]) expect(await deliver(eventOf('checkout.session.expired', s.sessionId))).toMatchObject({ status: 'processed' });
      expect(await recordRow(record.id)).toEqual(before);
    }
    // void
    {
      const { alice, admin, record } = await setup();
      const a = await pay(record.id, alice);
      await caller(admin).billingRecord.void({ recordId: record.id, reason: 'x' });
      expect((await stripe.checkout.sessions.retrieve(a.sessionId)).status).toBe('expired');
    }
    // webhook: the delivery (receive -> handler, with the Stripe accounts) expires the others after PAID
    {
      const { alice, record } = await setup();
      const a = await pay(record.id, alice);
      const b = await pay(record.id, alice);
      const c = await pay(record.id, alice);
      const completed = await complete(b.sessionId);
      const logger = recordingLogger();
      const payload = JSON.stringify(completed);
      const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
      const result = await receiveStripeWebhook({ db, receipt: DEPLOYMENT, webhookSecret: WEBHOOK_SECRET, rawBody: Buffer.from(payload), signature, logger, expected: { livemode: false }, stripeAccounts: accounts });
      expect(result).toMatchObject({ status: 'processed', duplicate: false });
      expect(await recordRow(record.id)).toMatchObject({ status: 'PAID', stripeCheckoutSessionId: b.sessionId });
      expect((await stripe.checkout.sessions.retrieve(a.sessionId)).status).toBe('expired');
      expect((await stripe.checkout.sessions.retrieve(b.sessionId)).status).toBe('complete');
      expect((await stripe.checkout.sessions.retrieve(c.sessionId)).status).toBe('expired');
      expect(Object.fromEntries((await checkoutsOf(record.id)).map((k) => [k.stripeCheckoutSessionId, k.status]))).toEqual({
        [a.sessionId]: 'expired',
        [b.sessionId]: 'complete',
        [c.sessionId]: 'expired',
      });
      expect(logger.records.filter((r) => r.level !== 'info')).toEqual([]);
      // The stored delivery afterwards changes nothing.
      expect(await deliver(completed)).toMatchObject({ status: 'processed', duplicate: true });
      expect(await ledgerOf(alice.customerId)).toEqual([]);
    }
  });

  it('an amount or currency differing from the checkout (a forged, correctly signed event) is an anomaly: nothing applied', async () => {
    const { alice, record } = await setup(4_200);
    const { sessionId } = await pay(record.id, alice);
    const completed = await complete(sessionId);
    const forge = (id: string, patch: Record<string, unknown>) => withObject(completed, { id }, patch);
    for (const [id, patch] of [
      ['evt_forged_amount', { amount_total: 99_999_999 }],
      ['evt_forged_low', { amount_total: 4_199 }],
      ['evt_forged_currency', { currency: 'eur' }],
      ['evt_forged_mode', { mode: 'subscription' }],
      ['evt_forged_string', { amount_total: '4200' }],
    ] as const) {
      expect(await deliver(forge(id, patch))).toMatchObject({ httpStatus: 200, status: 'anomaly' });
    }
    expect(await deliver(withObject(completed, { id: 'evt_forged_live', livemode: true }, {}))).toMatchObject({ status: 'anomaly' });
    expect(await recordRow(record.id)).toMatchObject({ status: 'DUE', paidAt: null, stripeCheckoutSessionId: null });
    expect((await checkoutsOf(record.id))[0]!.status).toBe('open');
    expect(await ledgerOf(alice.customerId)).toEqual([]);
    const [logged] = await db.q.select().from(t().stripeEvents).where(eq(t().stripeEvents.id, 'evt_forged_amount'));
    expect(logged!.outcome).toContain('amount_total 99999999 != requested 4200');
    // The genuine event still pays it.
    expect(await deliver(completed)).toMatchObject({ status: 'processed' });
    expect((await recordRow(record.id)).status).toBe('PAID');
  });

  it('expired and async_payment_failed leave the record DUE with the payment status recorded', async () => {
    const { alice, record } = await setup();
    const a = await pay(record.id, alice);
    const b = await pay(record.id, alice);
    await stripe.checkout.sessions.expire(a.sessionId);
    const expired = eventOf('checkout.session.expired', a.sessionId);
    expect(await deliver(expired)).toMatchObject({ status: 'processed' });
    expect(await deliver(expired)).toMatchObject({ status: 'processed', duplicate: true });
    let row = await recordRow(record.id);
    expect(row).toMatchObject({ status: 'DUE', stripePaymentStatus: 'unpaid' });
    expect(row.stripeLastEventAt!.getTime()).toBe(expired.created * 1000);

    const open = await stripe.checkout.sessions.retrieve(b.sessionId);
    const failed = { id: 'evt_async_failed_1', object: 'event', type: 'checkout.session.async_payment_failed', livemode: false, created: expired.created + 1, api_version: expired.api_version, data: { object: open } };
    expect(await deliver(failed)).toMatchObject({ status: 'processed' });
    row = await recordRow(record.id);
    expect(row).toMatchObject({ status: 'DUE', stripePaymentStatus: 'unpaid' });
    expect(row.stripeLastEventAt!.getTime()).toBe((expired.created + 1) * 1000);
    expect(Object.fromEntries((await checkoutsOf(record.id)).map((k) => [k.stripeCheckoutSessionId, k.status]))).toEqual({ [a.sessionId]: 'expired', [b.sessionId]: 'failed' });
    // A later payment still works.
    const c = await pay(record.id, alice);
    expect(await deliver(await complete(c.sessionId))).toMatchObject({ status: 'processed' });
    expect((await recordRow(record.id)).status).toBe('PAID');
  });

  it('a pay link pays the record signed out', async () => {
    const { alice, record, token } = await setup(9_900);
    const anon = caller(null);
    expect(await anon.payLink.get({ token })).toMatchObject({ status: 'DUE', amountMinor: 9_900, customerName: 'alice' });
    const { url } = await anon.payLink.pay({ token });
    const [checkout] = await checkoutsOf(record.id);
    expect(checkout).toMatchObject({ createdByUserId: null, status: 'open' });
    const session = await stripe.checkout.sessions.retrieve(checkout!.stripeCheckoutSessionId!);
    expect(url).toBe(session.url);
    expect(session).toMatchObject({ amount_total: 9_900, client_reference_id: record.id, success_url: `${ORIGIN}/pay/${token}?paid=1`, cancel_url: `${ORIGIN}/pay/${token}?cancelled=1` });
    expect(await deliver(await complete(session.id))).toMatchObject({ status: 'processed' });
    expect(await anon.payLink.get({ token })).toMatchObject({ status: 'PAID', overdue: false });
    expect(code(await anon.payLink.pay({ token }).catch((e) => e))).toBe('PRECONDITION_FAILED');
    expect(await ledgerOf(alice.customerId)).toEqual([]);
  });

  it(`at most ${MAX_OPEN_CHECKOUTS_PER_RECORD} open checkouts per record (pay link included), refused before Stripe; an expired one frees a slot`, async () => {
    const { alice, record, token } = await setup();
    const anon = caller(null);
    const opened = await Promise.allSettled(Array.from({ length: MAX_OPEN_CHECKOUTS_PER_RECORD + 3 }, (_, i) => (i % 2 ? anon.payLink.pay({ token }) : caller(alice).billingRecord.pay({ recordId: record.id }))));
    expect(opened.filter((r) => r.status === 'fulfilled')).toHaveLength(MAX_OPEN_CHECKOUTS_PER_RECORD);
    for (const r of opened) if (r.status === 'rejected') expect(code(r.reason)).toBe('TOO_MANY_REQUESTS');
    const before = calls.length;
    expect(code(await anon.payLink.pay({ token }).catch((e) => e))).toBe('TOO_MANY_REQUESTS');
    expect(calls.length).toBe(before);
    const rows = await checkoutsOf(record.id);
    expect(rows).toHaveLength(MAX_OPEN_CHECKOUTS_PER_RECORD);
    expect(rows.map((r) => r.attempt).sort((x, y) => x - y)).toEqual(Array.from({ length: MAX_OPEN_CHECKOUTS_PER_RECORD }, (_, i) => i + 1));

    const sessionId = rows[0]!.stripeCheckoutSessionId!;
    await stripe.checkout.sessions.expire(sessionId);
    await deliver(eventOf('checkout.session.expired', sessionId));
    await expect(anon.payLink.pay({ token })).resolves.toMatchObject({ url: expect.any(String) });
  });

  it("an event at another workspace's URL never touches the record (ignored); a session not among the record's checkouts is ignored", async () => {
    const { alice, record } = await setup();
    const other = await seedTenants(db);
    const { sessionId } = await pay(record.id, alice);
    const completed = await complete(sessionId);
    expect(await deliver(completed, atWorkspace(other.workspaceId))).toMatchObject({ status: 'ignored' });
    expect((await recordRow(record.id)).status).toBe('DUE');

    const stranger = await stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: [{ quantity: 1, price_data: { currency: 'usd', unit_amount: 120_000, product_data: { name: 'x' } } }],
      client_reference_id: record.id,
      metadata: { tally_billing_record_id: record.id },
      success_url: `${ORIGIN}/x`,
    });
    expect(await deliver(await complete(stranger.id))).toMatchObject({ status: 'ignored' });
    expect((await recordRow(record.id)).status).toBe('DUE');
    expect(await ledgerOf(alice.customerId)).toEqual([]);

    expect(await deliver(completed)).toMatchObject({ status: 'processed' });
    expect((await recordRow(record.id)).status).toBe('PAID');
  });

  it('a session known only by client_reference_id and its checkout row (no metadata) is still a billing record payment', async () => {
    const { alice, record } = await setup();
    const { sessionId } = await pay(record.id, alice);
    const completed = await complete(sessionId);
    const bare = withObject(completed, { id: 'evt_without_metadata' }, { metadata: {} });
    expect(await deliver(bare)).toMatchObject({ status: 'processed' });
    expect(await recordRow(record.id)).toMatchObject({ status: 'PAID', stripeCheckoutSessionId: sessionId });
    expect(await ledgerOf(alice.customerId)).toEqual([]);
  });

  it('a payment whose session id was never stored (the server stopped after creating it) is not lost', async () => {
    const { alice, record } = await setup();
    const { sessionId } = await pay(record.id, alice);
    await db.q
      .update(t().billingRecordCheckouts)
      .set({ stripeCheckoutSessionId: null, status: 'creating' })
      .where(eq(t().billingRecordCheckouts.billingRecordId, record.id));
    expect(await deliver(await complete(sessionId))).toMatchObject({ status: 'processed' });
    expect(await recordRow(record.id)).toMatchObject({ status: 'PAID', stripeCheckoutSessionId: sessionId });
    expect(await checkoutsOf(record.id)).toMatchObject([{ stripeCheckoutSessionId: sessionId, status: 'complete' }]);
  });

  it('top-up sessions still go to the top-up handler', async () => {
    const { alice } = await setup();
    const topup = await caller(alice).topup.createCheckout({ amountMinor: 500 });
    expect(await deliver(await complete(topup.checkoutSessionId))).toMatchObject({ status: 'processed' });
    expect(await ledgerOf(alice.customerId)).toMatchObject([{ kind: 'topup', amountMinor: 500, reference: `topup:${topup.topupId}` }]);
  });
});
