import { eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedPlansFromPriceMap } from '../src/plans/seed-from-price-map';
import { seedTenants } from './helpers';

describe.each(testDialects)('plans from STRIPE_PRODUCT_PRICE_MAP ($name)', ({ create }) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await create();
  });
  afterAll(() => db.destroy());

  const plansOf = (workspaceId: string) =>
    db.q.select({ code: db.t.plans.code, name: db.t.plans.name, price: db.t.plans.stripePriceId, cache: db.t.plans.priceCache }).from(db.t.plans).where(eq(db.t.plans.workspaceId, workspaceId)).orderBy(db.t.plans.code);

  it('creates missing plans, re-prices changed ones, leaves others alone; concurrent starts create each plan once', async () => {
    const { workspaceId } = await seedTenants(db);
    const other = await seedTenants(db);
    const entries = [
      { code: 'solo', priceId: 'price_1Solo' },
      { code: 'team', priceId: 'price_1Team' },
    ];
    const runs = await Promise.all([1, 2, 3].map(() => seedPlansFromPriceMap({ db, workspaceId, entries })));
    expect(runs.reduce((n, r) => n + r.created, 0)).toBe(2);
    expect(await plansOf(workspaceId)).toEqual([
      { code: 'solo', name: 'Solo', price: 'price_1Solo', cache: null },
      { code: 'team', name: 'Team', price: 'price_1Team', cache: null },
    ]);
    await db.q.update(db.t.plans).set({ priceCache: '{"unitAmount":2900}', name: 'Solo (renamed)' }).where(eq(db.t.plans.code, 'solo'));
    expect(await seedPlansFromPriceMap({ db, workspaceId, entries: [{ code: 'solo', priceId: 'price_2Solo' }, { code: 'team', priceId: 'price_1Team' }] })).toEqual({ created: 0, repriced: 1 });
    expect(await plansOf(workspaceId)).toEqual([
      { code: 'solo', name: 'Solo (renamed)', price: 'price_2Solo', cache: null },
      { code: 'team', name: 'Team', price: 'price_1Team', cache: null },
    ]);
    expect(await plansOf(other.workspaceId)).toEqual([]);
  });
});
