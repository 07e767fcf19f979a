/**
 * Prepared statements (src/prepared.ts) on both dialects: values go through the columns'
 * encoders (Dates, booleans, NULL) exactly as the query builder writes them, rows come back
 * mapped, and a statement runs on the transaction's own connection (a rollback undoes it;
 * on Postgres, concurrent transactions each run it on their connection).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { allPrepared, param, placeholder, preparedStatement, runPrepared } from '../src/prepared';
import { testDialects, type TestDatabase } from '../src/testing';

const insertEvent = preparedStatement<{ id: string; livemode: boolean; at: Date; processedAt: Date | null; outcome: string | null }, { id: string; attempts: number }>(
  'tally_test_insert_event',
  (q, t) =>
    q
      .insert(t.stripeEvents)
      .values({
        scope: 'test',
        id: placeholder('id'),
        type: 'test.event',
        livemode: param('livemode', t.stripeEvents.livemode),
        stripeCreatedAt: param('at', t.stripeEvents.stripeCreatedAt),
        payload: '{}',
        status: 'received',
        outcome: placeholder('outcome'),
        processedAt: param('processedAt', t.stripeEvents.processedAt),
        attempts: 1,
        receivedAt: param('at', t.stripeEvents.receivedAt),
        updatedAt: param('at', t.stripeEvents.updatedAt),
      })
      .returning({ id: t.stripeEvents.id, attempts: t.stripeEvents.attempts }),
);
const bumpAttempts = preparedStatement<{ id: string; at: Date }>('tally_test_bump_attempts', (q, t) =>
  q.update(t.stripeEvents).set({ attempts: 7, updatedAt: param('at', t.stripeEvents.updatedAt) }).where(eq(t.stripeEvents.id, placeholder('id'))),
);

describe.each(testDialects)('prepared statements ($name)', ({ create }) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await create();
  });
  afterAll(async () => {
    await db.destroy();
  });
  const read = async (id: string) => {
    const e = db.t.stripeEvents;
    const [row] = await db.q.select({ livemode: e.livemode, stripeCreatedAt: e.stripeCreatedAt, processedAt: e.processedAt, outcome: e.outcome, attempts: e.attempts, updatedAt: e.updatedAt }).from(e).where(eq(e.id, id));
    return row;
  };

  it('stores Dates, booleans and NULL as the query builder does, and returns mapped rows', async () => {
    const at = new Date('2026-11-30T23:59:58.123Z');
    const rows = await db.transaction(function* () {
      const first = yield* allPrepared(insertEvent, { id: 'evt_prepared_1', livemode: true, at, processedAt: null, outcome: null });
      const second = yield* allPrepared(insertEvent, { id: 'evt_prepared_2', livemode: false, at, processedAt: at, outcome: 'done' });
      return [...first, ...second];
    });
    expect(rows).toEqual([
      { id: 'evt_prepared_1', attempts: 1 },
      { id: 'evt_prepared_2', attempts: 1 },
    ]);
    expect(await read('evt_prepared_1')).toEqual({ livemode: true, stripeCreatedAt: at, processedAt: null, outcome: null, attempts: 1, updatedAt: at });
    expect(await read('evt_prepared_2')).toEqual({ livemode: false, stripeCreatedAt: at, processedAt: at, outcome: 'done', attempts: 1, updatedAt: at });
  });

  it('runs inside the transaction: a rollback undoes it', async () => {
    const at = new Date();
    await expect(
      db.transaction(function* () {
        yield* allPrepared(insertEvent, { id: 'evt_prepared_rolled_back', livemode: false, at, processedAt: null, outcome: null });
        yield* runPrepared(bumpAttempts, { id: 'evt_prepared_1', at });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await read('evt_prepared_rolled_back')).toBeUndefined();
    expect((await read('evt_prepared_1'))?.attempts).toBe(1);
  });

  it('many concurrent transactions run the same statement, each on its own connection', async () => {
    const at = new Date();
    const ids = Array.from({ length: 24 }, (_, i) => `evt_prepared_concurrent_${i}`);
    const inserted = await Promise.all(ids.map((id) => db.transaction(function* () {
      const [row] = yield* allPrepared(insertEvent, { id, livemode: false, at, processedAt: null, outcome: null });
      yield* runPrepared(bumpAttempts, { id, at });
      return row?.id;
    })));
    expect(inserted).toEqual(ids);
    const e = db.t.stripeEvents;
    const stored = await db.q.select({ id: e.id, attempts: e.attempts }).from(e).where(eq(e.type, 'test.event'));
    expect(stored.filter((r) => r.id.startsWith('evt_prepared_concurrent_')).map((r) => r.attempts)).toEqual(ids.map(() => 7));
  });

  it('refuses a second statement with the same name', () => {
    expect(() => preparedStatement('tally_test_insert_event', (q, t) => q.select().from(t.stripeEvents))).toThrow(/used twice/);
  });
});
