/** tRPC `usage.record` (issue 9 item 3): the admin's in-app path into the same ingestion, on both dialects. */
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/ids';
import { callerFor, countingStripe, seedTenants } from './helpers';
import { insertMeter } from './usage-helpers';

const code = (e: unknown) => (e instanceof TRPCError ? e.code : `not a TRPCError: ${String(e)}`);

describe.each(testDialects)('usage.record ($name)', ({ create }) => {
  let db: TestDatabase;
  let acme: Awaited<ReturnType<typeof seedTenants>>;
  const { stripe } = countingStripe();

  beforeAll(async () => {
    db = await create();
    acme = await seedTenants(db);
    await insertMeter(db, acme.workspaceId, { key: 'stt_words' });
  });
  afterAll(() => db.destroy());

  const ev = (overrides: Record<string, unknown> = {}) => ({ customerId: acme.alice.customerId, meter: 'stt_words', quantity: 5, idempotencyKey: `r-${newId()}`, ...overrides });

  it('records a batch for the selected workspace and answers per event', async () => {
    const admin = callerFor(db, stripe, acme.admin);
    const batch = [ev(), ev({ quantity: -1 })];
    const res = await admin.usage.record({ events: batch });
    expect(res).toMatchObject({ accepted: 1, rejected: 1 });
    expect(res.results[1]).toMatchObject({ code: 'invalid', error: expect.stringMatching(/quantity must not be negative/) });
    expect((await admin.usage.record({ events: batch })).duplicates).toBe(1);
  });

  it('refuses an empty batch and one over 1,000 events with BAD_REQUEST, storing nothing', async () => {
    const admin = callerFor(db, stripe, acme.admin);
    const before = (await db.q.select().from(db.t.usageEvents)).length;
    expect(await admin.usage.record({ events: [] }).catch(code)).toBe('BAD_REQUEST');
    expect(await admin.usage.record({ events: Array.from({ length: 1001 }, () => ev()) }).catch(code)).toBe('BAD_REQUEST');
    expect((await db.q.select().from(db.t.usageEvents)).length).toBe(before);
  });

  it('a customer member cannot record usage', async () => {
    expect(await callerFor(db, stripe, acme.alice).usage.record({ events: [ev()] }).catch(code)).toBe('FORBIDDEN');
  });
});
