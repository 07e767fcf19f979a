import { testDialects, type TestDatabase } from '@tally/db/testing';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callerFor, countingStripe, seedTenants } from './helpers';

describe.each(testDialects)('topup.createCheckout input ($name)', ({ create }) => {
  let db: TestDatabase;
  let tenants: Awaited<ReturnType<typeof seedTenants>>;
  beforeAll(async () => {
    db = await create();
    tenants = await seedTenants(db);
  });
  afterAll(() => db.destroy());

  const topupCount = async () => (await db.q.select().from(db.t.topups)).length;

  it.each([
    ['49 (below the minimum)', 49],
    ['0', 0],
    ['-500', -500],
    ['12.5 (not an integer)', 12.5],
    ['NaN', Number.NaN],
    ['"500" (a string)', '500'],
    ['10^12 (above the maximum)', 1e12],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['null', null],
    ['missing', undefined],
  ])('rejects %s with BAD_REQUEST, no Stripe call, no row', async (_label, amountMinor) => {
    const { stripe, calls } = countingStripe();
    const before = await topupCount();
    const caller = callerFor(db, stripe, tenants.alice);
    const err = await caller.topup.createCheckout({ amountMinor } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCError);
    expect((err as TRPCError).code).toBe('BAD_REQUEST');
    expect(calls).toEqual([]);
    expect(await topupCount()).toBe(before);
  });

  it('names the bound in the message', async () => {
    const { stripe } = countingStripe();
    await expect(callerFor(db, stripe, tenants.alice).topup.createCheckout({ amountMinor: 49 })).rejects.toThrow('at least $0.50');
  });

  it.each([
    ['a foreign origin', 'https://evil.example'],
    ['a look-alike origin', 'http://localhost:5173.evil.example'],
    ['no origin', null],
  ])('rejects %s with FORBIDDEN, no Stripe call, no row', async (_label, origin) => {
    const { stripe, calls } = countingStripe();
    const before = await topupCount();
    const err = await callerFor(db, stripe, tenants.alice, origin).topup.createCheckout({ amountMinor: 500 }).catch((e: unknown) => e);
    expect((err as TRPCError).code).toBe('FORBIDDEN');
    expect(calls).toEqual([]);
    expect(await topupCount()).toBe(before);
  });

  it('rejects another customer id with NOT_FOUND, no Stripe call', async () => {
    const { stripe, calls } = countingStripe();
    const err = await callerFor(db, stripe, tenants.alice)
      .topup.createCheckout({ amountMinor: 500, customerId: tenants.bob.customerId })
      .catch((e: unknown) => e);
    expect((err as TRPCError).code).toBe('NOT_FOUND');
    expect(calls).toEqual([]);
  });
});
