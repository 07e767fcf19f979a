import { testDialects, type TestDatabase } from '@tally/db/testing';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postLedgerEntry } from '../src/ledger/credit';
import { callerFor, countingStripe, seedTenants } from './helpers';

const code = (e: unknown) => (e instanceof TRPCError ? e.code : `not a TRPCError: ${String(e)}`);

describe.each(testDialects)('tenancy and roles ($name)', ({ create }) => {
  let db: TestDatabase;
  let tenants: Awaited<ReturnType<typeof seedTenants>>;
  const { stripe } = countingStripe();
  beforeAll(async () => {
    db = await create();
    tenants = await seedTenants(db);
    await db.transaction((tx) =>
      postLedgerEntry(tx, db.t, {
        workspaceId: tenants.workspaceId,
        customerId: tenants.bob.customerId,
        currency: 'usd',
        amountMinor: 700,
        kind: 'adjustment',
        reference: `seed:${tenants.bob.customerId}`,
        description: 'seed',
      }),
    );
  });
  afterAll(() => db.destroy());

  it("a customer user reading another customer's balance or ledger gets NOT_FOUND", async () => {
    const alice = callerFor(db, stripe, tenants.alice);
    expect(code(await alice.balance.get({ customerId: tenants.bob.customerId }).catch((e) => e))).toBe('NOT_FOUND');
    expect(code(await alice.ledger.list({ customerId: tenants.bob.customerId }).catch((e) => e))).toBe('NOT_FOUND');
    expect(code(await alice.topup.bySession({ sessionId: 'cs_test_x', customerId: tenants.bob.customerId }).catch((e) => e))).toBe('NOT_FOUND');
  });

  it('a customer user reads their own balance and ledger', async () => {
    const bob = callerFor(db, stripe, tenants.bob);
    expect(await bob.balance.get()).toEqual({ amountMinor: 700, currency: 'usd' });
    const page = await bob.ledger.list({ customerId: tenants.bob.customerId });
    expect(page.items.map((i) => i.amountMinor)).toEqual([700]);
    expect(await callerFor(db, stripe, tenants.alice).balance.get()).toEqual({ amountMinor: 0, currency: 'usd' });
  });

  it('a customer calling an admin procedure gets FORBIDDEN', async () => {
    const alice = callerFor(db, stripe, tenants.alice);
    expect(code(await alice.admin.events({}).catch((e) => e))).toBe('FORBIDDEN');
    expect(code(await alice.admin.topups({}).catch((e) => e))).toBe('FORBIDDEN');
  });

  it('signed-out calls get UNAUTHORIZED', async () => {
    const anon = callerFor(db, stripe, null);
    for (const call of [
      () => anon.balance.get(),
      () => anon.ledger.list({}),
      () => anon.topup.presets(),
      () => anon.topup.createCheckout({ amountMinor: 500 }),
      () => anon.admin.events({}),
    ]) {
      expect(code(await call().catch((e) => e))).toBe('UNAUTHORIZED');
    }
    expect((await anon.me.get()).user).toBeNull();
  });

  it('an admin reads the activity of their workspace', async () => {
    const admin = callerFor(db, stripe, tenants.admin);
    await expect(admin.admin.events({})).resolves.toMatchObject({ items: [] });
    await expect(admin.admin.topups({})).resolves.toMatchObject({ items: [] });
  });
});
