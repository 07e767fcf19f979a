/**
 * Licenses end to end (issue 8 item 6), driven by the emulator through the `stripe` SDK with
 * the real webhook route: an Enterprise checkout issues one active license (shown once in
 * full), a failed renewal (test clock, `pm_card_chargeCustomerFail`) suspends it, paying the
 * invoice makes it active again, canceling revokes it; `POST /api/v1/licenses/verify` agrees
 * at every step.
 */
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSubscriptionStack, type SubscriptionStack } from './subscription-harness';

describe.each(testDialects)('license scenario ($name)', ({ create }) => {
  let db: TestDatabase;
  let stack: SubscriptionStack;
  beforeAll(async () => {
    db = await create();
    stack = await startSubscriptionStack(db);
  });
  afterAll(async () => {
    await stack?.close();
    await db.destroy();
  });

  const verify = async (key: string, ip: string) => {
    const res = await fetch(`${stack.server.url}/api/v1/licenses/verify`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': ip }, body: JSON.stringify({ key }) });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  };

  it('Enterprise checkout -> 1 active license; renewal fails -> suspended; paid -> active; canceled -> revoked', { timeout: 120_000 }, async () => {
    const customer = await stack.newCustomer({ testClock: true });
    const me = stack.caller(customer.actor);
    const { checkoutSessionId } = await me.subscription.createCheckout({ plan: 'enterprise' });
    await stack.completeCheckout(checkoutSessionId);

    const [sub] = (await stack.stripe.subscriptions.list({ customer: customer.stripeCustomerId })).data;
    expect(sub?.status).toBe('active');
    const first = await me.license.list();
    expect(first.map((l) => [l.status, l.plan?.code])).toEqual([['active', 'enterprise']]);
    const key = first[0]!.fullKey!;
    expect(key).toMatch(/^TLY(-[0-9A-Z]{4}){7}$/);
    expect((await me.license.list())[0]!.fullKey).toBeNull();
    const active = await verify(key, '192.0.2.1');
    expect(active).toMatchObject({ valid: true, status: 'active', plan: 'enterprise' });
    const periodEnd = new Date(String(active.expiresAt)).getTime() / 1000;
    expect(periodEnd).toBeGreaterThan(Date.now() / 1000 + 20 * 86_400);

    // The renewal is charged to a card that fails.
    const failing = await stack.stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.stripeCustomerId });
    await stack.stripe.subscriptions.update(sub!.id, { default_payment_method: failing.id });
    await stack.settle();
    await stack.advanceClock(customer.testClockId!, periodEnd + 2 * 3600);
    expect((await stack.stripe.subscriptions.retrieve(sub!.id)).status).toBe('past_due');
    expect((await me.license.list()).map((l) => l.status)).toEqual(['suspended']);
    expect(await verify(key, '192.0.2.2')).toMatchObject({ valid: false, status: 'suspended', plan: 'enterprise' });

    // Paid with a good card: active again, same key.
    const [open] = (await stack.stripe.invoices.list({ customer: customer.stripeCustomerId, status: 'open' })).data;
    expect(open).toBeDefined();
    const visa = await stack.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.stripeCustomerId });
    await stack.stripe.invoices.pay(open!.id!, { payment_method: visa.id });
    await stack.settle();
    expect((await stack.stripe.subscriptions.retrieve(sub!.id)).status).toBe('active');
    expect((await me.license.list()).map((l) => [l.status, l.fullKey])).toEqual([['active', null]]);
    const renewed = await verify(key, '192.0.2.3');
    expect(renewed).toMatchObject({ valid: true, status: 'active' });
    expect(new Date(String(renewed.expiresAt)).getTime() / 1000).toBeGreaterThan(periodEnd + 20 * 86_400);

    // Canceled: revoked for good.
    await stack.stripe.subscriptions.cancel(sub!.id);
    await stack.settle();
    expect((await me.license.list()).map((l) => l.status)).toEqual(['revoked']);
    expect(await verify(key, '192.0.2.4')).toEqual({ valid: false, status: 'revoked', plan: 'enterprise', expiresAt: null });
    // The admin sees the same, masked.
    const admin = stack.caller(stack.admin);
    expect((await admin.license.listForCustomer({ customerId: customer.customerId })).map((l) => [l.status, l.maskedKey.slice(-4)])).toEqual([['revoked', key.slice(-4)]]);
  });
});
