/**
 * Issue 8, item 1 (dev seed): `seedDemoPlans` creates Solo $29, Team $15 per seat (and $150
 * per seat yearly) and Enterprise $299 (licenses) as products and prices in the emulator and the plans for
 * them; running it again (every development start does) creates nothing new. A Stripe that
 * cannot be reached fails with the SDK's connection error (the server warns and starts anyway).
 * Real SDK against the emulator, both dialects.
 */
import { createServer } from 'node:net';
import { eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { startStripeEmulator, type StripeEmulator } from '@tally/stripe-emulator';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PLANS, demoPriceLookupKey, demoYearlyPriceLookupKey, seedDemoPlans } from '../src/plans/seed-demo-plans';
import { listPlansForWorkspace } from '../src/plans/list-for-customer';
import { silentLogger } from '../src/logger';
import { countingStripe, seedTenants, testStripeAccounts } from './helpers';

describe.each(testDialects)('seedDemoPlans ($name)', ({ create }) => {
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

  const plansOf = (workspaceId: string) => db.q.select().from(db.t.plans).where(eq(db.t.plans.workspaceId, workspaceId)).orderBy(db.t.plans.code);

  it('creates 3 products, 3 monthly USD prices, a yearly one for Team and 3 plans once; a second run creates nothing and keeps admin edits', async () => {
    const { stripe } = countingStripe(api);
    const { workspaceId } = await seedTenants(db);
    const first = await seedDemoPlans({ db, stripe, workspaceId });
    expect(Object.keys(first).sort()).toEqual(['enterprise', 'solo', 'team']);
    await db.q.update(db.t.plans).set({ name: 'Solo (renamed)' }).where(eq(db.t.plans.id, first.solo.id));
    const second = await seedDemoPlans({ db, stripe, workspaceId });
    for (const code of ['solo', 'team', 'enterprise'] as const) {
      expect(second[code].id).toBe(first[code].id);
      expect(second[code].stripePriceId).toBe(first[code].stripePriceId);
      expect(second[code].stripeYearlyPriceId).toBe(first[code].stripeYearlyPriceId);
    }

    const prices = await stripe.prices.list({ limit: 100 });
    expect(prices.data).toHaveLength(4);
    const products = await stripe.products.list({ limit: 100 });
    expect(products.data).toHaveLength(3);
    const byCode = new Map(prices.data.map((p) => [p.lookup_key, p]));
    const expected = { solo: 2900, team: 1500, enterprise: 29900 } as const;
    for (const [code, amount] of Object.entries(expected)) {
      const price = byCode.get(demoPriceLookupKey(code));
      expect(price, code).toBeDefined();
      expect(price).toMatchObject({ unit_amount: amount, currency: 'usd', type: 'recurring', active: true, recurring: { interval: 'month', interval_count: 1 } });
      expect(price!.id).toBe(second[code as keyof typeof expected].stripePriceId);
      const product = products.data.find((p) => p.id === price!.product);
      expect(product?.name).toBe(DEMO_PLANS.find((d) => d.code === code)!.name);
    }

    // Team also bills yearly: $150 per seat a year, on the same product; the others are monthly only.
    const yearly = byCode.get(demoYearlyPriceLookupKey('team'));
    expect(yearly).toMatchObject({ unit_amount: 15000, currency: 'usd', type: 'recurring', active: true, recurring: { interval: 'year', interval_count: 1 }, product: byCode.get(demoPriceLookupKey('team'))!.product });
    expect([second.solo.stripeYearlyPriceId, second.team.stripeYearlyPriceId, second.enterprise.stripeYearlyPriceId]).toEqual([null, yearly!.id, null]);

    const rows = await plansOf(workspaceId);
    expect(rows.map((r) => ({ code: r.code, name: r.name, perSeat: r.perSeat, trialDays: r.trialDays, issuesLicenses: r.issuesLicenses, active: r.active }))).toEqual([
      { code: 'enterprise', name: 'Enterprise', perSeat: false, trialDays: 0, issuesLicenses: true, active: true },
      { code: 'solo', name: 'Solo (renamed)', perSeat: false, trialDays: 14, issuesLicenses: false, active: true },
      { code: 'team', name: 'Team', perSeat: true, trialDays: 14, issuesLicenses: false, active: true },
    ]);

    // What customers see: the amounts come from the Stripe prices.
    const listed = await listPlansForWorkspace({ db, stripeAccounts: testStripeAccounts(stripe), logger: silentLogger, workspaceId });
    expect(Object.fromEntries(listed.map((p) => [p.code, p.price?.unitAmountMinor]))).toEqual({ solo: 2900, team: 1500, enterprise: 29900 });
    expect(Object.fromEntries(listed.map((p) => [p.code, p.yearlyPrice?.unitAmountMinor ?? null]))).toEqual({ solo: null, team: 15000, enterprise: null });
  });

  it('a second workspace on the same Stripe account reuses the prices (found by lookup key) and gets its own plans', async () => {
    const { stripe } = countingStripe(api);
    const before = (await stripe.prices.list({ limit: 100 })).data.length;
    const a = await seedTenants(db);
    const b = await seedTenants(db);
    const pa = await seedDemoPlans({ db, stripe, workspaceId: a.workspaceId });
    const pb = await seedDemoPlans({ db, stripe, workspaceId: b.workspaceId });
    expect(pb.team.stripePriceId).toBe(pa.team.stripePriceId);
    expect(pb.team.stripeYearlyPriceId).toBe(pa.team.stripeYearlyPriceId);
    expect(pb.team.id).not.toBe(pa.team.id);
    expect(await plansOf(b.workspaceId)).toHaveLength(3);
    // The first test's prices are reused too: still four prices in this emulator.
    expect((await stripe.prices.list({ limit: 100 })).data.length).toBe(Math.max(before, 4));
  });

  it('an unreachable Stripe fails with the SDK connection error and writes no plan', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const stripe = new Stripe('sk_test_unreachable_0001', { host: '127.0.0.1', port, protocol: 'http', maxNetworkRetries: 0 });
    const { workspaceId } = await seedTenants(db);
    await expect(seedDemoPlans({ db, stripe, workspaceId })).rejects.toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(await plansOf(workspaceId)).toEqual([]);
  });
});
