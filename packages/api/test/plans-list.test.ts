/**
 * `plan.list`: the customer's workspace's active plans, priced by the Stripe Prices (monthly
 * and optional yearly, read through the workspace's Stripe client, cached), never by a typed
 * amount; a cache in the older shape is stale. Real SDK against
 * the emulator, both dialects.
 */
import { eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { startStripeEmulator, type StripeEmulator } from '@tally/stripe-emulator';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/ids';
import { callerFor, countingStripe, seedTenants } from './helpers';

const code = (e: unknown) => (e instanceof TRPCError ? e.code : `not a TRPCError: ${String(e)}`);

describe.each(testDialects)('plan.list ($name)', ({ create }) => {
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

  it('lists active plans with the Stripe price (minor units, interval), cached; unknown prices are null, never an error', async () => {
    const { stripe, calls } = countingStripe(api);
    const product = await stripe.products.create({ name: 'Team' });
    const price = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 1500, recurring: { interval: 'month' } });
    const acme = await seedTenants(db);
    const globex = await seedTenants(db);
    const plan = (code: string, stripePriceId: string, extra: Record<string, unknown> = {}) => ({ id: newId(), workspaceId: acme.workspaceId, code, name: code, stripePriceId, createdAt: new Date('2026-01-01T00:00:00Z'), ...extra });
    await db.q.insert(db.t.plans).values([
      plan('team', price.id, { perSeat: true, trialDays: 14, features: JSON.stringify(['Shared inbox', 'SSO']) }),
      plan('gone', 'price_doesNotExist123'),
      plan('old', price.id, { active: false }),
    ]);
    calls.length = 0;
    const alice = callerFor(db, stripe, acme.alice);
    const listed = await alice.plan.list();
    expect(listed.map((p) => [p.code, p.price, p.yearlyPrice])).toEqual([
      ['gone', null, null],
      ['team', { unitAmountMinor: 1500, currency: 'usd', interval: 'month', intervalCount: 1 }, null],
    ]);
    expect(listed.find((p) => p.code === 'team')).toMatchObject({ perSeat: true, trialDays: 14, features: ['Shared inbox', 'SSO'] });
    expect(calls).toHaveLength(2);
    // Cached: only the price Stripe could not serve is asked for again.
    calls.length = 0;
    await alice.plan.list();
    expect(calls).toEqual([expect.stringContaining('/v1/prices/price_doesNotExist123')]);

    // Another workspace sees its own (none); another workspace's customer id is NOT_FOUND.
    const bob = callerFor(db, stripe, globex.alice);
    expect(await bob.plan.list()).toEqual([]);
    expect(code(await bob.plan.list({ customerId: acme.alice.customerId }).catch((e: unknown) => e))).toBe('NOT_FOUND');
    expect(code(await callerFor(db, stripe, null).plan.list().catch((e: unknown) => e))).toBe('UNAUTHORIZED');
  });

  it('a plan with a yearly price lists it as yearlyPrice, cached with the monthly one; a cache in the old shape is read again', async () => {
    const { stripe, calls } = countingStripe(api);
    const product = await stripe.products.create({ name: 'Team' });
    const monthly = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 1500, recurring: { interval: 'month' } });
    const yearly = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 15000, recurring: { interval: 'year' } });
    const acme = await seedTenants(db);
    const teamId = newId();
    await db.q.insert(db.t.plans).values([
      { id: teamId, workspaceId: acme.workspaceId, code: 'team', name: 'Team', stripePriceId: monthly.id, stripeYearlyPriceId: yearly.id, perSeat: true, createdAt: new Date('2026-01-01T00:00:00Z') },
      { id: newId(), workspaceId: acme.workspaceId, code: 'zgone', name: 'Gone', stripePriceId: monthly.id, stripeYearlyPriceId: 'price_yearlyDoesNotExist1', createdAt: new Date('2026-01-02T00:00:00Z') },
    ]);
    const alice = callerFor(db, stripe, acme.alice);
    calls.length = 0;
    const listed = await alice.plan.list();
    expect(listed.map((p) => [p.code, p.price?.unitAmountMinor ?? null, p.yearlyPrice])).toEqual([
      ['team', 1500, { unitAmountMinor: 15000, currency: 'usd', interval: 'year', intervalCount: 1 }],
      ['zgone', 1500, null],
    ]);
    expect(calls).toHaveLength(4);
    // Cached, both prices: only the yearly price Stripe could not serve is asked for again.
    calls.length = 0;
    expect(await alice.plan.list()).toEqual(listed);
    expect(calls).toEqual([expect.stringContaining('/v1/prices/price_yearlyDoesNotExist1')]);

    // A row cached in the old shape (a bare price, fresh) is stale: both prices are read again and cached in the new shape.
    await db.q
      .update(db.t.plans)
      .set({ priceCache: JSON.stringify({ unitAmountMinor: 999, currency: 'usd', interval: 'month', intervalCount: 1 }), priceCachedAt: new Date() })
      .where(eq(db.t.plans.id, teamId));
    calls.length = 0;
    const again = await alice.plan.list();
    expect(again.find((p) => p.code === 'team')).toMatchObject({ price: { unitAmountMinor: 1500 }, yearlyPrice: { unitAmountMinor: 15000 } });
    expect(calls.filter((c) => c.includes(monthly.id) || c.includes(yearly.id))).toHaveLength(2);
    const [row] = await db.q.select().from(db.t.plans).where(eq(db.t.plans.id, teamId));
    expect(JSON.parse(row!.priceCache!)).toMatchObject({ monthly: { priceId: monthly.id, price: { unitAmountMinor: 1500 } }, yearly: { priceId: yearly.id, price: { unitAmountMinor: 15000 } } });

    // A changed yearly price id is not served from the cache.
    const yearly2 = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 14000, recurring: { interval: 'year' } });
    await db.q.update(db.t.plans).set({ stripeYearlyPriceId: yearly2.id }).where(eq(db.t.plans.id, teamId));
    expect((await alice.plan.list()).find((p) => p.code === 'team')?.yearlyPrice?.unitAmountMinor).toBe(14000);
  });
});
