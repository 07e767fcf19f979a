/**
 * `plan.list`: the customer's workspace's active plans, priced by the Stripe Price (read
 * through the workspace's Stripe client, cached), never by a typed amount. Real SDK against
 * the emulator, both dialects.
 */
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
    expect(listed.map((p) => [p.code, p.price])).toEqual([
      ['gone', null],
      ['team', { unitAmountMinor: 1500, currency: 'usd', interval: 'month', intervalCount: 1 }],
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
});
