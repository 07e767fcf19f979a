/**
 * Issue 7, item 5: per-workspace webhook URLs through the real Express app.
 * `POST /api/stripe/webhook/<workspaceId>` (and `?workspaceId=`) verifies with that
 * workspace's own secret; the workspace is trusted only after the signature verifies; the
 * event log is unique per (workspace, event id); an event at B's URL never touches A's rows.
 */
import { randomBytes } from 'node:crypto';
import { and, eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { encryptSecret } from '@tally/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../../packages/api/src/ids';
import { checkoutSession, seedPendingTopup, serverStripeAccounts, sign, startServer, stripeEvent, stripeFixtures, TEST_KEYRING, WEBHOOK_SECRET } from './harness';

type Server = Awaited<ReturnType<typeof startServer>>;

async function post(url: string, payload: string, signature?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', ...(signature ? { 'stripe-signature': signature } : {}) },
    body: payload,
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
}

describe.each(testDialects)('per-workspace Stripe webhooks ($name)', ({ create }) => {
  let db: TestDatabase;
  /** Deployment on the emulator (secret WEBHOOK_SECRET), as in development. */
  let server: Server;
  /** Production without STRIPE_SECRET_KEY: no deployment Stripe at all. */
  let noneServer: Server;
  beforeAll(async () => {
    db = await create();
    server = await startServer(db, { stripeAccounts: serverStripeAccounts({ mode: 'emulator' }) });
    noneServer = await startServer(db, { config: { stripeMode: 'none' }, stripeAccounts: serverStripeAccounts({ mode: 'none' }) });
  });
  afterAll(async () => {
    await server.close();
    await noneServer.close();
    await db.destroy();
  });

  /** A workspace (with a customer and a pending top-up) and, unless `own` is false, its own key and signing secret. */
  async function workspace({ own = true, webhookSecret = true }: { own?: boolean; webhookSecret?: boolean } = {}) {
    const seeded = await seedPendingTopup(db, 500);
    const secret = `whsec_ws_${randomBytes(12).toString('hex')}`;
    if (own) {
      const key = `sk_test_ws_${randomBytes(10).toString('hex')}`;
      const { workspaceId } = seeded;
      await db.q.insert(db.t.workspaceStripeAccounts).values({
        workspaceId,
        secretKeySealed: encryptSecret({ keyring: TEST_KEYRING, workspaceId, plaintext: key }),
        keyKind: 'secret',
        mode: 'test',
        keyLast4: key.slice(-4),
        webhookSecretSealed: webhookSecret ? encryptSecret({ keyring: TEST_KEYRING, workspaceId, plaintext: secret }) : null,
        webhookSecretLast4: webhookSecret ? secret.slice(-4) : null,
        stripeAccountId: `acct_${randomBytes(8).toString('hex')}`,
        verifiedAt: new Date(),
        savedByUserId: 'seed',
        savedAt: new Date(),
      });
    }
    return { ...seeded, secret };
  }
  type Workspace = Awaited<ReturnType<typeof workspace>>;

  /** `checkout.session.completed` paying `ws`'s pending top-up. */
  const paidEvent = (ws: Workspace, overrides: Record<string, unknown> = {}) =>
    stripeEvent('checkout.session.completed', checkoutSession({ id: ws.sessionId, client_reference_id: ws.topupId, amount_total: 500 }), overrides);
  const urlOf = (s: Server, workspaceId: string) => `${s.url}/api/stripe/webhook/${workspaceId}`;
  const deliverSigned = (url: string, event: object, secret: string) => {
    const payload = JSON.stringify(event);
    return post(url, payload, sign(payload, { secret }));
  };
  const eventRows = (id: string) => db.q.select().from(db.t.stripeEvents).where(eq(db.t.stripeEvents.id, id));
  const allEventCount = async () => (await db.q.select({ id: db.t.stripeEvents.id }).from(db.t.stripeEvents)).length;
  const ledgerOf = (customerId: string) => db.q.select().from(db.t.ledgerEntries).where(eq(db.t.ledgerEntries.customerId, customerId));
  const topupOf = async (topupId: string) => (await db.q.select().from(db.t.topups).where(eq(db.t.topups.id, topupId)))[0]!;

  it("an event signed with A's secret sent to B's URL -> 400, nothing stored", async () => {
    const a = await workspace();
    const b = await workspace();
    const before = await allEventCount();
    for (const event of [paidEvent(a), paidEvent(b)]) {
      const res = await deliverSigned(urlOf(server, b.workspaceId), event, a.secret);
      expect(res.status).toBe(400);
      expect(String(res.body?.error)).toMatch(/signature/i);
      // The deployment's secret does not open a workspace with its own either.
      expect((await deliverSigned(urlOf(server, b.workspaceId), event, WEBHOOK_SECRET)).status).toBe(400);
    }
    expect(await allEventCount()).toBe(before);
    expect(await ledgerOf(b.customerId)).toEqual([]);
    expect((await topupOf(b.topupId)).status).toBe('pending');
  });

  it('an unknown or malformed workspace id -> 404, nothing stored', async () => {
    const a = await workspace();
    const before = await allEventCount();
    const event = paidEvent(a);
    for (const id of [newId(), 'not-a-uuid', `${a.workspaceId}x`, encodeURIComponent(`${a.workspaceId}\u0000`), encodeURIComponent("' or 1=1 --"), 'a'.repeat(5000)]) {
      const res = await deliverSigned(urlOf(server, id), event, a.secret);
      expect(res.status, id.slice(0, 40)).toBe(404);
      expect(res.body).toEqual({ error: 'Unknown workspace' });
      expect((await deliverSigned(`${server.url}/api/stripe/webhook?workspaceId=${id}`, event, a.secret)).status).toBe(404);
    }
    // A repeated query value is not a workspace id.
    expect((await deliverSigned(`${server.url}/api/stripe/webhook?workspaceId=${a.workspaceId}&workspaceId=${a.workspaceId}`, event, a.secret)).status).toBe(404);
    // Another parameter (Express's simple query parser keeps `workspaceId[x]` as its own name) is the deployment URL: A's secret does not verify there.
    expect((await deliverSigned(`${server.url}/api/stripe/webhook?workspaceId[x]=${a.workspaceId}`, event, a.secret)).status).toBe(400);
    expect(await allEventCount()).toBe(before);
    expect(await ledgerOf(a.customerId)).toEqual([]);
  });

  it("the same event id at A's and B's URL is stored and handled once in each; it credits only A's top-up; redeliveries are duplicates", async () => {
    const a = await workspace();
    const b = await workspace();
    const event = paidEvent(a);
    const atA = await deliverSigned(urlOf(server, a.workspaceId), event, a.secret);
    expect(atA).toMatchObject({ status: 200, body: { received: true, eventId: event.id, status: 'processed', duplicate: false } });
    const atB = await deliverSigned(urlOf(server, b.workspaceId), event, b.secret);
    expect(atB).toMatchObject({ status: 200, body: { received: true, eventId: event.id, status: 'ignored', duplicate: false } });

    const rows = await eventRows(event.id);
    expect(rows.map((r) => [r.scope, r.workspaceId, r.status, r.attempts]).sort()).toEqual(
      [
        [a.workspaceId, a.workspaceId, 'processed', 1],
        [b.workspaceId, b.workspaceId, 'ignored', 1],
      ].sort(),
    );
    expect((await ledgerOf(a.customerId)).map((e) => [e.amountMinor, e.reference])).toEqual([[500, `topup:${a.topupId}`]]);
    expect(await ledgerOf(b.customerId)).toEqual([]);

    for (const [ws, status] of [[a, 'processed'], [b, 'ignored']] as const) {
      const again = await deliverSigned(urlOf(server, ws.workspaceId), event, ws.secret);
      expect(again).toMatchObject({ status: 200, body: { eventId: event.id, status, duplicate: true } });
    }
    const [rowA] = await db.q.select().from(db.t.stripeEvents).where(and(eq(db.t.stripeEvents.scope, a.workspaceId), eq(db.t.stripeEvents.id, event.id)));
    expect(rowA?.attempts).toBe(2);
    expect(await ledgerOf(a.customerId)).toHaveLength(1);
  });

  it("A's top-up paid at B's URL (signed with B's secret) is ignored and credits nothing; at A's URL it is credited", async () => {
    const a = await workspace();
    const b = await workspace();
    const event = paidEvent(a);
    const atB = await deliverSigned(urlOf(server, b.workspaceId), event, b.secret);
    expect(atB).toMatchObject({ status: 200, body: { status: 'ignored', duplicate: false } });
    const [row] = await eventRows(event.id);
    expect(row).toMatchObject({ scope: b.workspaceId, workspaceId: b.workspaceId, status: 'ignored' });
    expect(row?.outcome).toContain(`No top-up ${a.topupId}`);
    expect(await ledgerOf(a.customerId)).toEqual([]);
    expect(await topupOf(a.topupId)).toMatchObject({ status: 'pending', creditedAmountMinor: null });

    // Through `?workspaceId=` on the deployment path, exactly as through the path segment.
    const viaQuery = await deliverSigned(`${server.url}/api/stripe/webhook?workspaceId=${a.workspaceId}`, event, a.secret);
    expect(viaQuery).toMatchObject({ status: 200, body: { status: 'processed', duplicate: false } });
    expect(await topupOf(a.topupId)).toMatchObject({ status: 'paid', creditedAmountMinor: 500 });
    expect((await eventRows(event.id)).map((r) => r.scope).sort()).toEqual([a.workspaceId, b.workspaceId].sort());
    // ... and a redelivery at the path is the same event of the same scope.
    expect(await deliverSigned(urlOf(server, a.workspaceId), event, a.secret)).toMatchObject({ status: 200, body: { duplicate: true, status: 'processed' } });
    // The query names a workspace: the deployment's secret does not open it.
    expect((await deliverSigned(`${server.url}/api/stripe/webhook?workspaceId=${a.workspaceId}`, paidEvent(a), WEBHOOK_SECRET)).status).toBe(400);
  });

  it('a workspace on the deployment keys takes events at its URL with the deployment secret, scoped to it', async () => {
    const c = await workspace({ own: false });
    const event = paidEvent(c);
    expect((await deliverSigned(urlOf(server, c.workspaceId), event, c.secret)).status).toBe(400);
    const res = await deliverSigned(urlOf(server, c.workspaceId), event, WEBHOOK_SECRET);
    expect(res).toMatchObject({ status: 200, body: { status: 'processed' } });
    expect(await eventRows(event.id)).toMatchObject([{ scope: c.workspaceId, workspaceId: c.workspaceId, status: 'processed' }]);
  });

  it('a workspace with its own key but no webhook secret -> 409 saying what to do, nothing stored', async () => {
    const d = await workspace({ webhookSecret: false });
    const before = await allEventCount();
    const event = paidEvent(d);
    for (const secret of [d.secret, WEBHOOK_SECRET]) {
      const res = await deliverSigned(urlOf(server, d.workspaceId), event, secret);
      expect(res.status).toBe(409);
      expect(String(res.body?.error)).toContain('no webhook signing secret yet');
      expect(String(res.body?.error)).toContain('Register webhook endpoint');
    }
    expect(await allEventCount()).toBe(before);
    expect((await topupOf(d.topupId)).status).toBe('pending');
  });

  it("stripeMode 'none': /api/stripe/webhook -> 409 naming the per-workspace URL; a workspace with its own secret still takes events", async () => {
    const a = await workspace();
    const c = await workspace({ own: false });
    const before = await allEventCount();
    const event = paidEvent(a);
    for (const secret of [WEBHOOK_SECRET, a.secret]) {
      const res = await deliverSigned(`${noneServer.url}/api/stripe/webhook`, event, secret);
      expect(res.status).toBe(409);
      expect(String(res.body?.error)).toContain('/api/stripe/webhook/<workspaceId>');
      expect(String(res.body?.error)).toContain('STRIPE_WEBHOOK_SECRET');
    }
    // A workspace without its own keys has nothing to verify with either.
    const noKeys = await deliverSigned(urlOf(noneServer, c.workspaceId), paidEvent(c), WEBHOOK_SECRET);
    expect(noKeys.status).toBe(409);
    expect(String(noKeys.body?.error)).toContain('Stripe is not configured for this workspace');
    expect(await allEventCount()).toBe(before);

    expect(await deliverSigned(urlOf(noneServer, a.workspaceId), event, a.secret)).toMatchObject({ status: 200, body: { status: 'processed' } });
    expect(await topupOf(a.topupId)).toMatchObject({ status: 'paid' });
  });

  it('a missing or garbled signature at a workspace URL -> 400, nothing stored', async () => {
    const a = await workspace();
    const before = await allEventCount();
    const payload = JSON.stringify(paidEvent(a));
    expect((await post(urlOf(server, a.workspaceId), payload)).status).toBe(400);
    expect((await post(urlOf(server, a.workspaceId), payload, 't=1,v1=deadbeef')).status).toBe(400);
    expect((await post(urlOf(server, a.workspaceId), `${payload} `, sign(payload, { secret: a.secret }))).status).toBe(400);
    expect(await allEventCount()).toBe(before);
  });

  it("Stripe's example payloads and a billing record's events, twice and shuffled, at a workspace URL: all 2xx, the record paid once, the second payment one overpayment", async () => {
    const ws = await workspace();
    const t = db.t;
    const recordId = newId();
    await db.q.insert(t.billingRecords).values({
      id: recordId, workspaceId: ws.workspaceId, customerId: ws.customerId, description: 'March retainer', amountMinor: 120_000, currency: 'usd',
      dueDate: '2030-04-01', status: 'DUE', payToken: randomBytes(32).toString('base64url'),
    });
    const sessions = [1, 2].map((attempt) => ({ attempt, id: `cs_test_${randomBytes(12).toString('hex')}`, pi: `pi_test_${randomBytes(12).toString('hex')}` }));
    for (const s of sessions) {
      await db.q.insert(t.billingRecordCheckouts).values({
        id: newId(), workspaceId: ws.workspaceId, billingRecordId: recordId, attempt: s.attempt, stripeCheckoutSessionId: s.id, amountMinor: 120_000, currency: 'usd', status: 'open',
      });
    }
    const metadata = { tally_billing_record_id: recordId, tally_customer_id: ws.customerId, tally_workspace_id: ws.workspaceId };
    const sessionOf = (s: (typeof sessions)[number], extra: Record<string, unknown> = {}) =>
      checkoutSession({ id: s.id, client_reference_id: recordId, metadata, amount_total: 120_000, payment_intent: s.pi, ...extra });
    const fixtures = stripeFixtures();
    const events = Object.entries(fixtures).map(([name, object]) => stripeEvent(`${name}.updated`, object));
    events.push(
      stripeEvent('checkout.session.completed', fixtures['checkout.session']!),
      stripeEvent('checkout.session.completed', sessionOf(sessions[0]!)),
      stripeEvent('checkout.session.completed', sessionOf(sessions[1]!, { payment_status: 'unpaid' })),
      stripeEvent('checkout.session.async_payment_succeeded', sessionOf(sessions[1]!)),
      stripeEvent('checkout.session.async_payment_failed', sessionOf(sessions[0]!, { payment_status: 'unpaid' })),
      stripeEvent('checkout.session.expired', sessionOf(sessions[1]!, { status: 'expired', payment_status: 'unpaid' })),
      // Forged amount, correctly signed: an anomaly, never a payment.
      stripeEvent('checkout.session.completed', sessionOf(sessions[1]!, { amount_total: 1 })),
    );
    const deliveries = [...events, ...events];
    for (let i = deliveries.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
    }
    const statuses = new Map<number, number>();
    for (const event of deliveries) {
      const { status } = await deliverSigned(urlOf(server, ws.workspaceId), event, ws.secret);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    expect([...statuses.keys()]).toEqual([200]);
    const [record] = await db.q.select().from(t.billingRecords).where(eq(t.billingRecords.id, recordId));
    expect(record).toMatchObject({ status: 'PAID', paymentMethod: 'stripe' });
    expect(sessions.map((s) => s.id)).toContain(record!.stripeCheckoutSessionId);
    const entries = await ledgerOf(ws.customerId);
    // Whichever session paid first, the other is credited once as an overpayment; nothing else moves money.
    expect(entries.map((e) => [e.kind, e.amountMinor, e.billingRecordId])).toEqual([['overpayment', 120_000, recordId]]);
    const other = sessions.find((s) => s.id !== record!.stripeCheckoutSessionId)!;
    expect(entries[0]!.reference).toBe(`overpayment:${other.pi}`);
    const [balance] = await db.q.select().from(t.customerBalances).where(eq(t.customerBalances.customerId, ws.customerId));
    expect(balance?.amountMinor).toBe(120_000);
  });
});
