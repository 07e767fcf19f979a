/**
 * Issue 6, item 5: at most `maxOpenTopups` open (pending) top-ups per customer, refused before
 * any row or Stripe call; Checkout Sessions expire after CHECKOUT_SESSION_LIFETIME_S, and an
 * expired or paid top-up frees its slot. Real SDK against the Stripe emulator.
 */
import { eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { startStripeEmulator, type StripeEmulator } from '@tally/stripe-emulator';
import { TRPCError } from '@trpc/server';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInnerContext, type Actor } from '../src/context';
import { recordingLogger } from '../src/logger';
import { appRouter } from '../src/router/index';
import { CHECKOUT_SESSION_LIFETIME_S } from '../src/topups/create-checkout';
import { createCallerFactory } from '../src/trpc';
import { receiveStripeWebhook } from '../src/webhooks/receive';
import { countingStripe, ORIGIN, seedTenants, testConfig, WEBHOOK_SECRET, testStripeAccounts } from './helpers';

const MAX_OPEN = 2;

describe.each(testDialects)('open top-ups per customer ($name)', ({ create }) => {
  let db: TestDatabase;
  let emulator: StripeEmulator;
  let api: { host: string; port: number };
  beforeAll(async () => {
    db = await create();
    emulator = await startStripeEmulator({ port: 0, statePath: null });
    const url = new URL(emulator.url);
    api = { host: url.hostname, port: Number(url.port) };
  });
  afterAll(async () => {
    await emulator.close();
    await db.destroy();
  });

  function callerFor(stripe: Stripe, actor: Actor) {
    const ctx = createInnerContext({ db, stripeAccounts: testStripeAccounts(stripe), config: { ...testConfig, maxOpenTopups: MAX_OPEN }, logger: recordingLogger(), actor, origin: ORIGIN, requestId: 'req-test' });
    return createCallerFactory(appRouter)(ctx);
  }
  const topupsOf = (customerId: string) => db.q.select().from(db.t.topups).where(eq(db.t.topups.customerId, customerId));

  /** Feed the emulator's latest event of `type` for `sessionId` to the webhook receiver, signed as Stripe signs it. */
  async function deliverFromEmulator(type: string, sessionId: string) {
    const event = emulator.events().findLast((e) => e.type === type && (e.data.object as { id?: string }).id === sessionId);
    expect(event).toBeDefined();
    const payload = JSON.stringify(event);
    const { stripe } = countingStripe();
    const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
    return receiveStripeWebhook({ db, receipt: { scope: 'deployment', workspaceId: null }, webhookSecret: WEBHOOK_SECRET, rawBody: Buffer.from(payload), signature, logger: recordingLogger(), expected: { livemode: false } });
  }

  it(`one top-up beyond ${MAX_OPEN} open is refused with no row and no Stripe call; sessions expire after the lifetime`, async () => {
    const { alice } = await seedTenants(db);
    const { stripe, calls } = countingStripe(api);
    const caller = callerFor(stripe, alice);
    const started = [];
    for (let i = 0; i < MAX_OPEN; i++) started.push(await caller.topup.createCheckout({ amountMinor: 500 }));
    const session = await stripe.checkout.sessions.retrieve(started[0]!.checkoutSessionId);
    // Our clock sets expires_at; the emulator stamps `created` a moment later.
    expect(session.expires_at - session.created).toBeGreaterThan(CHECKOUT_SESSION_LIFETIME_S - 5);
    expect(session.expires_at - session.created).toBeLessThanOrEqual(CHECKOUT_SESSION_LIFETIME_S);

    const callsBefore = calls.length;
    const err = await caller.topup.createCheckout({ amountMinor: 500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCError);
    expect((err as TRPCError).code).toBe('TOO_MANY_REQUESTS');
    expect((err as TRPCError).message).toContain(`You already have ${MAX_OPEN} unfinished top-ups`);
    expect(calls.length).toBe(callsBefore);
    expect(await topupsOf(alice.customerId)).toHaveLength(MAX_OPEN);

    // Another customer is not affected.
    const { bob } = await seedTenants(db);
    await expect(callerFor(stripe, bob).topup.createCheckout({ amountMinor: 500 })).resolves.toMatchObject({ topupId: expect.any(String) });
  });

  it('an expired top-up and a paid one each free a slot', async () => {
    const { alice } = await seedTenants(db);
    const { stripe } = countingStripe(api);
    const caller = callerFor(stripe, alice);
    const first = await caller.topup.createCheckout({ amountMinor: 500 });
    const second = await caller.topup.createCheckout({ amountMinor: 700 });
    await expect(caller.topup.createCheckout({ amountMinor: 500 })).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });

    await stripe.checkout.sessions.expire(first.checkoutSessionId);
    expect(await deliverFromEmulator('checkout.session.expired', first.checkoutSessionId)).toMatchObject({ httpStatus: 200, status: 'processed' });
    const third = await caller.topup.createCheckout({ amountMinor: 500 });
    await expect(caller.topup.createCheckout({ amountMinor: 500 })).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });

    expect(await emulator.completeCheckoutSession(second.checkoutSessionId)).toEqual({ ok: true });
    expect(await deliverFromEmulator('checkout.session.completed', second.checkoutSessionId)).toMatchObject({ httpStatus: 200, status: 'processed' });
    await expect(caller.topup.createCheckout({ amountMinor: 500 })).resolves.toMatchObject({ topupId: expect.any(String) });

    const statuses = Object.fromEntries((await topupsOf(alice.customerId)).map((t) => [t.id, t.status]));
    expect(statuses[first.topupId]).toBe('expired');
    expect(statuses[second.topupId]).toBe('paid');
    expect(statuses[third.topupId]).toBe('pending');
  });

  it('a pending top-up older than the session lifetime no longer counts (its session has expired at Stripe)', async () => {
    const { alice } = await seedTenants(db);
    const { stripe } = countingStripe(api);
    const caller = callerFor(stripe, alice);
    for (let i = 0; i < MAX_OPEN; i++) await caller.topup.createCheckout({ amountMinor: 500 });
    await expect(caller.topup.createCheckout({ amountMinor: 500 })).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    const [oldest] = await topupsOf(alice.customerId);
    await db.q
      .update(db.t.topups)
      .set({ createdAt: new Date(Date.now() - CHECKOUT_SESSION_LIFETIME_S * 1000 - 1000) })
      .where(eq(db.t.topups.id, oldest!.id));
    await expect(caller.topup.createCheckout({ amountMinor: 500 })).resolves.toMatchObject({ topupId: expect.any(String) });
  });

  it(`${MAX_OPEN + 18} concurrent starts (batched or parallel requests) open exactly ${MAX_OPEN}`, async () => {
    const { alice } = await seedTenants(db);
    const { stripe } = countingStripe(api);
    const caller = callerFor(stripe, alice);
    const results = await Promise.allSettled(Array.from({ length: MAX_OPEN + 18 }, () => caller.topup.createCheckout({ amountMinor: 500 })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(MAX_OPEN);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as TRPCError).code).toBe('TOO_MANY_REQUESTS');
    expect(await topupsOf(alice.customerId)).toHaveLength(MAX_OPEN);
  });
});
