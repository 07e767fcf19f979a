/**
 * Admin plans (`plan.adminList`, `plan.save`): a plan is created or edited only when its Stripe
 * Prices check out (monthly / yearly recurring, same currency, active, in this workspace's
 * account); bad input changes nothing and is audited only when saved. Real SDK against the
 * emulator, both dialects.
 */
import { eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { startStripeEmulator, type StripeEmulator } from '@tally/stripe-emulator';
import { TRPCError } from '@trpc/server';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callerFor, countingStripe, seedTenants } from './helpers';

const failure = (e: unknown) => (e instanceof TRPCError ? `${e.code}: ${e.message}` : `not a TRPCError: ${String(e)}`);

describe.each(testDialects)('admin plans ($name)', ({ create }) => {
  let db: TestDatabase;
  let emulator: StripeEmulator;
  let stripe: Stripe;
  let calls: string[];
  let prices: { monthly: Stripe.Price; yearly: Stripe.Price; eurYearly: Stripe.Price; oneOff: Stripe.Price; weekly: Stripe.Price };
  beforeAll(async () => {
    db = await create();
    emulator = await startStripeEmulator({ port: 0, statePath: null });
    const url = new URL(emulator.url);
    ({ stripe, calls } = countingStripe({ host: url.hostname, port: Number(url.port) }));
    const product = await stripe.products.create({ name: 'Team' });
    const mk = (p: Omit<Stripe.PriceCreateParams, 'product'>) => stripe.prices.create({ product: product.id, ...p });
    prices = {
      monthly: await mk({ currency: 'usd', unit_amount: 1500, recurring: { interval: 'month' } }),
      yearly: await mk({ currency: 'usd', unit_amount: 15000, recurring: { interval: 'year' } }),
      eurYearly: await mk({ currency: 'eur', unit_amount: 14000, recurring: { interval: 'year' } }),
      oneOff: await mk({ currency: 'usd', unit_amount: 900 }),
      weekly: await mk({ currency: 'usd', unit_amount: 400, recurring: { interval: 'week' } }),
    };
  });
  afterAll(async () => {
    await emulator.close();
    await db.destroy();
  });

  it('creates and edits plans priced by Stripe, audited; refuses bad prices and duplicate codes without writing', async () => {
    const acme = await seedTenants(db);
    const admin = callerFor(db, stripe, acme.admin, undefined, acme.workspaceId);
    const base = { code: 'team', name: 'Team', description: 'Per seat', features: ['SSO', 'Audit log'], stripePriceId: prices.monthly.id, perSeat: true, trialDays: 14 };
    const { id } = await admin.plan.save({ ...base, stripeYearlyPriceId: prices.yearly.id });
    const listed = await admin.plan.adminList();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id, code: 'team', active: true, perSeat: true, trialDays: 14, features: ['SSO', 'Audit log'], stripeYearlyPriceId: prices.yearly.id, price: { unitAmountMinor: 1500, currency: 'usd', interval: 'month' } });

    const bad: [Record<string, unknown>, RegExp][] = [
      [{ stripePriceId: 'price_doesNotExist999' }, /^BAD_REQUEST: stripePriceId: .*no Price price_doesNotExist999/],
      [{ stripePriceId: prices.oneOff.id }, /^BAD_REQUEST: stripePriceId: .*recurring price billed every month/],
      [{ stripePriceId: prices.weekly.id }, /^BAD_REQUEST: stripePriceId: .*every month/],
      [{ stripePriceId: prices.yearly.id }, /^BAD_REQUEST: stripePriceId: .*every month/],
      [{ stripeYearlyPriceId: prices.monthly.id }, /^BAD_REQUEST: stripeYearlyPriceId: .*every year/],
      [{ stripeYearlyPriceId: prices.eurYearly.id }, /^BAD_REQUEST: stripeYearlyPriceId: the yearly price is in eur/],
    ];
    for (const [change, message] of bad) {
      expect(failure(await admin.plan.save({ ...base, code: 'other', ...change }).catch((e: unknown) => e))).toMatch(message);
    }
    // Shape errors never reach Stripe.
    calls.length = 0;
    for (const change of [{ code: 'Team!' }, { code: '' }, { stripePriceId: 'prod_123' }, { trialDays: -1 }, { trialDays: 731 }, { trialDays: 1.5 }, { name: '' }, { name: 'a\u0000b' }, { features: Array(21).fill('x') }]) {
      expect(failure(await admin.plan.save({ ...base, ...change } as never).catch((e: unknown) => e))).toMatch(/^BAD_REQUEST/);
    }
    expect(calls).toEqual([]);
    expect(failure(await admin.plan.save({ ...base }).catch((e: unknown) => e))).toBe('CONFLICT: Another plan already has the code team');
    expect(await db.q.select().from(db.t.plans).where(eq(db.t.plans.workspaceId, acme.workspaceId))).toHaveLength(1);

    // Edit: the cached price is dropped, so a new price shows at once.
    await admin.plan.save({ ...base, planId: id, name: 'Team+', stripePriceId: prices.monthly.id, active: false, stripeYearlyPriceId: null });
    const [edited] = await admin.plan.adminList();
    expect(edited).toMatchObject({ name: 'Team+', active: false, stripeYearlyPriceId: null });
    const audit = await db.q.select().from(db.t.auditLog).where(eq(db.t.auditLog.workspaceId, acme.workspaceId));
    expect(audit.map((a) => a.action).sort()).toEqual(['plan.create', 'plan.update']);
    // Inactive plans are not offered to customers.
    expect(await callerFor(db, stripe, acme.alice).plan.list()).toEqual([]);
  });

  it('keeps plans to their workspace and to admins', async () => {
    const acme = await seedTenants(db);
    const globex = await seedTenants(db);
    const { id } = await callerFor(db, stripe, acme.admin, undefined, acme.workspaceId).plan.save({ code: 'solo', name: 'Solo', stripePriceId: prices.monthly.id });
    const other = callerFor(db, stripe, globex.admin, undefined, globex.workspaceId);
    expect(await other.plan.adminList()).toEqual([]);
    expect(failure(await other.plan.save({ planId: id, code: 'solo', name: 'Hijack', stripePriceId: prices.monthly.id }).catch((e: unknown) => e))).toBe('NOT_FOUND: Plan not found');
    expect(failure(await callerFor(db, stripe, acme.alice).plan.adminList().catch((e: unknown) => e))).toMatch(/^FORBIDDEN/);
    const [row] = await db.q.select().from(db.t.plans).where(eq(db.t.plans.id, id));
    expect(row).toMatchObject({ name: 'Solo', workspaceId: acme.workspaceId });
  });
});
