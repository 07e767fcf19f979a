/**
 * Issue 6, item 6: every id a procedure takes is checked by shape before any query, so a NUL
 * byte, a huge string or a wrong kind of id is a clear BAD_REQUEST, never a 500 with SQL.
 */
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callerFor, countingStripe, seedTenants } from './helpers';

const BAD_IDS: [string, unknown][] = [
  ['a NUL byte', 'a\u0000b'],
  ['a UUID with a NUL byte', '0190f5b2-7d1a-7c3e-9b2a-4f1e2d3c4b5a\u0000'],
  ['SQL', "' or 1=1 --"],
  ['10 000 characters', 'x'.repeat(10_000)],
  ['an empty string', ''],
  ['a number', 42],
];

describe.each(testDialects)('ids are validated by shape ($name)', ({ create }) => {
  let db: TestDatabase;
  let tenants: Awaited<ReturnType<typeof seedTenants>>;
  const { stripe, calls } = countingStripe();
  beforeAll(async () => {
    db = await create();
    tenants = await seedTenants(db);
  });
  afterAll(() => db.destroy());

  async function expectBadRequest(call: () => Promise<unknown>, field: string) {
    const err = await call().then(
      () => new Error('expected BAD_REQUEST, got a result'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TRPCError);
    expect((err as TRPCError).code).toBe('BAD_REQUEST');
    expect((err as TRPCError).message).toContain(field);
    expect((err as TRPCError).message).not.toMatch(/Failed query|select|params/i);
  }

  describe.each(BAD_IDS)('%s', (_label, bad) => {
    it('customerId of balance.get, ledger.list, topup.presets, topup.createCheckout, topup.bySession', async () => {
      const alice = callerFor(db, stripe, tenants.alice);
      const customerId = bad as string;
      await expectBadRequest(() => alice.balance.get({ customerId }), 'customerId');
      await expectBadRequest(() => alice.ledger.list({ customerId }), 'customerId');
      await expectBadRequest(() => alice.topup.presets({ customerId }), 'customerId');
      await expectBadRequest(() => alice.topup.createCheckout({ amountMinor: 500, customerId }), 'customerId');
      await expectBadRequest(() => alice.topup.bySession({ sessionId: 'cs_test_a1ok', customerId }), 'customerId');
    });

    it('cursors of ledger.list, admin.events, admin.topups', async () => {
      const cursor = bad as string;
      await expectBadRequest(() => callerFor(db, stripe, tenants.alice).ledger.list({ cursor }), 'cursor');
      const admin = callerFor(db, stripe, tenants.admin);
      await expectBadRequest(() => admin.admin.events({ cursor }), 'cursor');
      await expectBadRequest(() => admin.admin.topups({ cursor }), 'cursor');
    });

    it('sessionId of topup.bySession', async () => {
      await expectBadRequest(() => callerFor(db, stripe, tenants.alice).topup.bySession({ sessionId: bad as string }), 'sessionId');
    });
  });

  it('a Checkout Session id of another kind of object, or with a NUL inside, is refused', async () => {
    const alice = callerFor(db, stripe, tenants.alice);
    for (const sessionId of ['pi_3Ov1', 'cs_test_a1\u0000', `cs_test_${'a'.repeat(300)}`, 'cs_test_a1/../x']) {
      await expectBadRequest(() => alice.topup.bySession({ sessionId }), 'sessionId');
    }
  });

  it('an events cursor must be <ms>:<event id>', async () => {
    const admin = callerFor(db, stripe, tenants.admin);
    for (const cursor of ['1700000000000', '1700000000000:', 'abc:evt_1', '1700000000000:evt_1\u0000', '1:cs_test_1']) {
      await expectBadRequest(() => admin.admin.events({ cursor }), 'cursor');
    }
  });

  it('well-shaped ids still work: unknown ones are NOT_FOUND or an empty page, and Stripe is never called', async () => {
    const alice = callerFor(db, stripe, tenants.alice);
    const unknown = '0190f5b2-7d1a-7c3e-9b2a-4f1e2d3c4b5a';
    await expect(alice.balance.get({ customerId: unknown })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(alice.ledger.list({ customerId: tenants.alice.customerId, cursor: unknown })).resolves.toEqual({ items: [], nextCursor: null });
    await expect(alice.topup.bySession({ sessionId: 'cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(alice.topup.bySession({ sessionId: 'cs_live_a1B2' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const admin = callerFor(db, stripe, tenants.admin);
    await expect(admin.admin.events({ cursor: `${Date.now()}:evt_1Pgc76B7WZ01zgkWwyRHS12y` })).resolves.toMatchObject({ items: [] });
    await expect(admin.admin.topups({ cursor: unknown })).resolves.toMatchObject({ items: [] });
    expect(calls).toEqual([]);
  });
});
