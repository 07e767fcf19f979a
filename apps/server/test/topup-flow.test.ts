/**
 * A top-up end to end without a browser: sign up and verify over HTTP (better-auth cookie), start a
 * checkout through tRPC, pay it on the Stripe emulator, and watch the signed webhook credit
 * the balance once. Real `stripe` SDK, real emulator, real server, both dialects.
 */
import { eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { startStripeEmulator, type StripeEmulator } from '@tally/stripe-emulator';
import Stripe from 'stripe';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORIGIN, signUpVerified, startServer, WEBHOOK_SECRET } from './harness';

describe.each(testDialects)('top-up through the emulator ($name)', ({ create }) => {
  let db: TestDatabase;
  let emulator: StripeEmulator;
  let server: Awaited<ReturnType<typeof startServer>>;
  let cookie = '';

  beforeAll(async () => {
    db = await create();
    emulator = await startStripeEmulator({ port: 0, retryScheduleMs: [50, 100, 200], statePath: null });
    const api = new URL(emulator.url);
    const stripe = new Stripe('sk_test_server_flow_123', { host: api.hostname, port: Number(api.port), protocol: 'http' });
    server = await startServer(db, { stripe });
    emulator.addWebhookEndpoint({ url: `${server.url}/api/stripe/webhook`, secret: WEBHOOK_SECRET });
    // Signing up sends a verification email; its link signs in (and provisions the customer).
    cookie = await signUpVerified(server.url, db, { email: `flow-${Date.now()}@example.test`, password: 'correct horse battery', name: 'Flow Tester' });
    expect(cookie).toContain('session_token');
  });
  afterAll(async () => {
    await server.close();
    await emulator.close();
    await db.destroy();
  });

  async function trpc<T>(path: string, input?: unknown, method: 'GET' | 'POST' = 'GET'): Promise<{ status: number; data: T }> {
    const encoded = encodeURIComponent(JSON.stringify(superjson.serialize(input)));
    const res = await fetch(method === 'GET' ? `${server.url}/trpc/${path}?input=${encoded}` : `${server.url}/trpc/${path}`, {
      method,
      headers: { cookie, origin: ORIGIN, 'content-type': 'application/json' },
      ...(method === 'POST' ? { body: JSON.stringify(superjson.serialize(input)) } : {}),
    });
    const body = (await res.json()) as { result?: { data: unknown }; error?: unknown };
    return { status: res.status, data: (body.result ? superjson.deserialize(body.result.data as never) : body.error) as T };
  }

  it('a sign-up is provisioned as a customer with a zero balance', async () => {
    expect(await trpc('balance.get')).toEqual({ status: 200, data: { amountMinor: 0, currency: 'usd' } });
  });

  it('a declined card credits nothing; a paid session credits amount_total once', async () => {
    const started = await trpc<{ url: string; checkoutSessionId: string; topupId: string }>('topup.createCheckout', { amountMinor: 500 }, 'POST');
    expect(started.status).toBe(200);
    const { url, checkoutSessionId, topupId } = started.data;
    expect(url).toContain(emulator.url);

    const [topup] = await db.q.select().from(db.t.topups).where(eq(db.t.topups.id, topupId));
    expect(topup).toMatchObject({ status: 'pending', stripeCheckoutSessionId: checkoutSessionId, amountMinor: 500 });
    const [customer] = await db.q.select().from(db.t.customers).where(eq(db.t.customers.id, topup!.customerId));
    expect(customer?.stripeCustomerId).toMatch(/^cus_/);

    expect(await emulator.completeCheckoutSession(checkoutSessionId, { card: '4000 0000 0000 0002' })).toMatchObject({ ok: false, code: 'generic_decline' });
    await emulator.waitForIdle();
    expect((await trpc('balance.get')).data).toEqual({ amountMinor: 0, currency: 'usd' });

    expect(await emulator.completeCheckoutSession(checkoutSessionId)).toEqual({ ok: true });
    await emulator.waitForIdle();
    expect((await trpc('balance.get')).data).toEqual({ amountMinor: 500, currency: 'usd' });
    expect((await trpc<{ status: string; paidAt: Date }>('topup.bySession', { sessionId: checkoutSessionId })).data).toMatchObject({ status: 'paid', paidAt: expect.any(Date) });

    const delivered = emulator.deliveries().filter((d) => d.status === 200).map((d) => d.eventType);
    expect(delivered).toEqual(expect.arrayContaining(['payment_intent.payment_failed', 'charge.succeeded', 'payment_intent.succeeded', 'checkout.session.completed']));
    const events = await db.q.select().from(db.t.stripeEvents).where(eq(db.t.stripeEvents.type, 'checkout.session.completed'));
    expect(events.map((e) => e.status)).toEqual(['processed']);
  });

  it('a second top-up reuses the stored Stripe customer', async () => {
    const before = await db.q.select({ stripeCustomerId: db.t.customers.stripeCustomerId }).from(db.t.customers);
    const started = await trpc<{ checkoutSessionId: string }>('topup.createCheckout', { amountMinor: 1234 }, 'POST');
    expect(started.status).toBe(200);
    expect(await emulator.completeCheckoutSession(started.data.checkoutSessionId)).toEqual({ ok: true });
    await emulator.waitForIdle();
    expect((await trpc('balance.get')).data).toEqual({ amountMinor: 1734, currency: 'usd' });
    expect(await db.q.select({ stripeCustomerId: db.t.customers.stripeCustomerId }).from(db.t.customers)).toEqual(before);
    const ledger = await trpc<{ items: { amountMinor: number }[] }>('ledger.list', {});
    expect(ledger.data.items.map((i) => i.amountMinor)).toEqual([1234, 500]);
  });

  it('past TOPUP_MAX_OPEN unfinished top-ups, createCheckout answers 429 with a clear message; an expired one frees a slot', async () => {
    const open: string[] = [];
    for (let i = 0; i < 5; i++) {
      const started = await trpc<{ checkoutSessionId: string }>('topup.createCheckout', { amountMinor: 500 }, 'POST');
      expect(started.status).toBe(200);
      open.push(started.data.checkoutSessionId);
    }
    const refused = await trpc<{ json: { message: string } }>('topup.createCheckout', { amountMinor: 500 }, 'POST');
    expect(refused.status).toBe(429);
    expect(refused.data.json.message).toContain('You already have 5 unfinished top-ups');

    // Stripe's expiry (here forced through the API) reaches Tally as checkout.session.expired.
    const stripe = new Stripe('sk_test_server_flow_123', { host: new URL(emulator.url).hostname, port: Number(new URL(emulator.url).port), protocol: 'http' });
    await stripe.checkout.sessions.expire(open[0]!);
    await emulator.waitForIdle();
    expect((await trpc('topup.createCheckout', { amountMinor: 500 }, 'POST')).status).toBe(200);
  });

  it('createCheckout from a foreign Origin is FORBIDDEN over HTTP', async () => {
    const res = await fetch(`${server.url}/trpc/topup.createCheckout`, {
      method: 'POST',
      headers: { cookie, origin: 'https://evil.example', 'content-type': 'application/json' },
      body: JSON.stringify(superjson.serialize({ amountMinor: 500 })),
    });
    expect(res.status).toBe(403);
  });
});
