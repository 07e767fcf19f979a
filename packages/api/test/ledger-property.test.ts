import { eq, sql } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postLedgerEntry } from '../src/ledger/credit';
import { seedTenants } from './helpers';

describe.each(testDialects)('ledger invariants ($name)', ({ create }) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await create();
  });
  afterAll(() => db.destroy());

  it('random credits and debits with repeated references: balance == sum of entries, one entry per reference', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            ref: fc.integer({ min: 0, max: 15 }),
            amountMinor: fc.integer({ min: -100_000, max: 1_000_000 }),
            currency: fc.constantFrom('usd', 'eur'),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        async (postings) => {
          const { workspaceId, alice } = await seedTenants(db);
          const expected = new Map<string, { amountMinor: number; currency: string }>();
          // Run in two concurrent streams to exercise interleaving on the same references.
          const half = Math.ceil(postings.length / 2);
          const streams = [postings.slice(0, half), postings.slice(half)].map(async (stream) => {
            for (const p of stream) {
              const reference = `prop:${alice.customerId}:${p.ref}`;
              const { posted } = await db.transaction((tx) =>
                postLedgerEntry(tx, db.t, { workspaceId, customerId: alice.customerId, currency: p.currency, amountMinor: p.amountMinor, kind: 'adjustment', reference, description: 'property' }),
              );
              if (posted) {
                expect(expected.has(reference)).toBe(false);
                expected.set(reference, p);
              }
            }
          });
          await Promise.all(streams);
          const t = db.t;
          const entries = await db.q.select().from(t.ledgerEntries).where(eq(t.ledgerEntries.customerId, alice.customerId));
          expect(entries.length).toBe(expected.size);
          expect(new Set(entries.map((e) => e.reference)).size).toBe(entries.length);
          const sums = await db.q
            .select({ currency: t.ledgerEntries.currency, sum: sql<number>`sum(${t.ledgerEntries.amountMinor})`.mapWith(Number) })
            .from(t.ledgerEntries)
            .where(eq(t.ledgerEntries.customerId, alice.customerId))
            .groupBy(t.ledgerEntries.currency);
          const cached = await db.q.select().from(t.customerBalances).where(eq(t.customerBalances.customerId, alice.customerId));
          for (const currency of ['usd', 'eur']) {
            const modelSum = [...expected.values()].filter((e) => e.currency === currency).reduce((a, e) => a + e.amountMinor, 0);
            const sqlSum = sums.find((s) => s.currency === currency)?.sum ?? 0;
            const cache = cached.find((c) => c.currency === currency)?.amountMinor ?? 0;
            expect(sqlSum).toBe(modelSum);
            expect(cache).toBe(sqlSum);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('refuses a non-integer amount and writes nothing', async () => {
    const { workspaceId, alice } = await seedTenants(db);
    await expect(
      db.transaction((tx) =>
        postLedgerEntry(tx, db.t, { workspaceId, customerId: alice.customerId, currency: 'usd', amountMinor: 1.5, kind: 'adjustment', reference: `bad:${alice.customerId}`, description: 'x' }),
      ),
    ).rejects.toThrow(RangeError);
    expect(await db.q.select().from(db.t.ledgerEntries).where(eq(db.t.ledgerEntries.customerId, alice.customerId))).toEqual([]);
  });

  it('rolls back the whole transaction when a later statement fails', async () => {
    const { workspaceId, alice } = await seedTenants(db);
    const t = db.t;
    await expect(
      db.transaction(function* (tx) {
        yield* postLedgerEntry(tx, t, { workspaceId, customerId: alice.customerId, currency: 'usd', amountMinor: 100, kind: 'adjustment', reference: `rb:${alice.customerId}`, description: 'x' });
        throw new Error('boom after the credit');
      }),
    ).rejects.toThrow('boom');
    expect(await db.q.select().from(t.ledgerEntries).where(eq(t.ledgerEntries.customerId, alice.customerId))).toEqual([]);
    expect(await db.q.select().from(t.customerBalances).where(eq(t.customerBalances.customerId, alice.customerId))).toEqual([]);
  });
});
