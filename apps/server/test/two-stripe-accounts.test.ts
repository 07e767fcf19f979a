/**
 * Issue 7: two workspaces, each with its own Stripe account (two keys -> two emulator
 * accounts), its own registered webhook endpoint and secret. A top-up and a billing record
 * payment in each reach the right workspace through the emulator's signed deliveries to
 * `/api/stripe/webhook/<workspaceId>`; nothing reaches the other workspace or the deployment.
 */
import { createCallerFactory, createInnerContext, appRouter, silentLogger, type Actor } from '@tally/api';
import { and, eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { startStripeEmulator, type StripeEmulator } from '@tally/stripe-emulator';
import { EMULATOR_DEV_API_KEY, EMULATOR_SECOND_API_KEY } from '@tally/stripe-emulator/defaults';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedTenants } from '../../../packages/api/test/helpers';
import { ORIGIN, serverStripeAccounts, startServer, testApiConfig } from './harness';

describe.each(testDialects)('two workspaces on two Stripe accounts ($name)', ({ create }) => {
  let db: TestDatabase;
  let emulator: StripeEmulator;
  let server: Awaited<ReturnType<typeof startServer>>;
  let stripeAccounts: ReturnType<typeof serverStripeAccounts>;

  beforeAll(async () => {
    db = await create();
    // One account per key, as `pnpm dev` runs it; the deployment (dev key) has no endpoint.
    emulator = await startStripeEmulator({ port: 0, retryScheduleMs: [50, 100, 200], statePath: null, accountPerKey: true });
    const api = new URL(emulator.url);
    const where = { host: api.hostname, port: Number(api.port) };
    stripeAccounts = serverStripeAccounts({ stripe: new Stripe(EMULATOR_DEV_API_KEY, { ...where, protocol: 'http' }), api: where });
    server = await startServer(db, { stripeAccounts });
  });
  afterAll(async () => {
    await server.close();
    await emulator.close();
    await db.destroy();
  });

  const caller = (actor: Actor, selectedWorkspaceId: string | null = null) =>
    createCallerFactory(appRouter)(
      // publicUrl: the registered endpoints point at this test's server.
      createInnerContext({ db, stripeAccounts, config: { ...testApiConfig, publicUrl: server.url }, logger: silentLogger, actor, origin: ORIGIN, selectedWorkspaceId }),
    );

  it('a top-up and a record payment in each workspace reach only that workspace', async () => {
    const a = await seedTenants(db);
    const b = await seedTenants(db);
    const setups = [
      { ws: a, key: EMULATOR_SECOND_API_KEY, topup: 500, record: 120_000 },
      { ws: b, key: 'sk_test_tally_two_accounts_b_0001', topup: 700, record: 35_050 },
    ];
    const accountIds: string[] = [];
    for (const { ws, key } of setups) {
      const admin = caller(ws.admin, ws.workspaceId);
      const saved = await admin.settings.stripe.save({ secretKey: key });
      expect(saved.key).toMatchObject({ verified: true, mode: 'test' });
      const registered = await admin.settings.stripe.registerWebhookEndpoint();
      expect(registered.webhookEndpoint?.id).toMatch(/^we_/);
      expect(registered.webhookUrl).toBe(`${server.url}/api/stripe/webhook/${ws.workspaceId}`);
      accountIds.push(saved.key!.stripeAccountId!);
    }
    expect(accountIds[0]).toBe(emulator.accountIdForKey(EMULATOR_SECOND_API_KEY));
    expect(accountIds[1]).not.toBe(accountIds[0]);

    const sessions: { workspaceId: string; sessionId: string }[] = [];
    for (const { ws, topup, record } of setups) {
      const customer = caller(ws.alice);
      const started = await customer.topup.createCheckout({ amountMinor: topup });
      sessions.push({ workspaceId: ws.workspaceId, sessionId: started.checkoutSessionId });
      const created = await caller(ws.admin, ws.workspaceId).billingRecord.create({ customerId: ws.alice.customerId, description: 'March retainer', amountMinor: record, dueDate: '2030-04-01' });
      await customer.billingRecord.pay({ recordId: created.id });
      const [checkout] = await db.q.select().from(db.t.billingRecordCheckouts).where(eq(db.t.billingRecordCheckouts.billingRecordId, created.id));
      sessions.push({ workspaceId: ws.workspaceId, sessionId: checkout!.stripeCheckoutSessionId! });
    }
    // Each session lives in its own workspace's Stripe account only.
    const clientA = new Stripe(setups[0]!.key, { host: new URL(emulator.url).hostname, port: Number(new URL(emulator.url).port), protocol: 'http' });
    await expect(clientA.checkout.sessions.retrieve(sessions[2]!.sessionId)).rejects.toMatchObject({ statusCode: 404 });

    for (const { sessionId } of sessions) expect(await emulator.completeCheckoutSession(sessionId)).toEqual({ ok: true });
    await emulator.waitForIdle();

    for (const { ws, topup, record } of setups) {
      const balance = await caller(ws.alice).balance.get();
      expect(balance).toEqual({ amountMinor: topup, currency: 'usd' });
      const records = await caller(ws.admin, ws.workspaceId).billingRecord.list({ audience: 'admin' });
      expect(records.items.map((r) => [r.amountMinor, r.status])).toEqual([[record, 'PAID']]);
      // Every completed session of this workspace was logged under its own scope, once.
      const completed = await db.q
        .select({ scope: db.t.stripeEvents.scope, status: db.t.stripeEvents.status, workspaceId: db.t.stripeEvents.workspaceId })
        .from(db.t.stripeEvents)
        .where(and(eq(db.t.stripeEvents.type, 'checkout.session.completed'), eq(db.t.stripeEvents.scope, ws.workspaceId)));
      expect(completed).toEqual([
        { scope: ws.workspaceId, status: 'processed', workspaceId: ws.workspaceId },
        { scope: ws.workspaceId, status: 'processed', workspaceId: ws.workspaceId },
      ]);
    }
    // Nothing came through the deployment endpoint, and every delivery was accepted.
    expect(await db.q.select().from(db.t.stripeEvents).where(eq(db.t.stripeEvents.scope, 'deployment'))).toEqual([]);
    const deliveries = emulator.accounts().flatMap((acct) => emulator.deliveries(acct.id));
    expect(deliveries.length).toBeGreaterThan(0);
    expect(deliveries.filter((d) => d.status !== 200)).toEqual([]);
  });
});
