/**
 * The subscription stack itself: the demo plans exist in the emulator, a test-clock customer's
 * trialing subscription bought through Checkout reaches the server's webhook route, and moving
 * the clock past the trial produces the renewal events, all stored in the event log.
 */
import { eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSubscriptionStack, type SubscriptionStack } from './subscription-harness';

describe.each(testDialects)('subscription stack ($name)', ({ create }) => {
  let db: TestDatabase;
  let stack: SubscriptionStack;
  beforeAll(async () => {
    db = await create();
    stack = await startSubscriptionStack(db);
  });
  afterAll(async () => {
    await stack?.close();
    await db?.destroy();
  });

  it('delivers a test-clock subscription lifecycle to the webhook route', async () => {
    const price = await stack.stripe.prices.retrieve(stack.plans.team.stripePriceId);
    expect(price).toMatchObject({ unit_amount: 1500, currency: 'usd', recurring: { interval: 'month' } });
    const c = await stack.newCustomer({ testClock: true });
    const session = await stack.stripe.checkout.sessions.create({
      mode: 'subscription',
      customer: c.stripeCustomerId,
      line_items: [{ price: stack.plans.team.stripePriceId, quantity: 3 }],
      subscription_data: { trial_period_days: 14 },
      success_url: 'http://localhost:5173/ok',
      cancel_url: 'http://localhost:5173/no',
    });
    expect(await stack.completeCheckout(session.id)).toEqual({ ok: true });
    const subs = await stack.stripe.subscriptions.list({ customer: c.stripeCustomerId });
    expect(subs.data[0]).toMatchObject({ status: 'trialing', items: { data: [{ quantity: 3 }] } });
    const clock = await stack.stripe.testHelpers.testClocks.retrieve(c.testClockId!);
    await stack.advanceClock(c.testClockId!, clock.frozen_time + 15 * 86_400);
    const after = await stack.stripe.subscriptions.retrieve(subs.data[0]!.id);
    expect(after.status).toBe('active');

    const types = (await db.q.select({ type: db.t.stripeEvents.type }).from(db.t.stripeEvents)).map((r) => r.type);
    for (const type of ['checkout.session.completed', 'customer.subscription.created', 'customer.subscription.trial_will_end', 'customer.subscription.updated', 'invoice.paid']) {
      expect(types).toContain(type);
    }
    const failed = await db.q.select().from(db.t.stripeEvents).where(eq(db.t.stripeEvents.status, 'failed'));
    expect(failed).toEqual([]);
  });
});
