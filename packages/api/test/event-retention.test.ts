/**
 * Issue 10 item 7, retention: payloads of processed and ignored events older than the
 * retention are pruned (in chunks); failed, dead, received and anomaly events keep theirs.
 */
import { asc } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneStripeEventPayloads } from '../src/events/retention';
import { DEPLOYMENT_SCOPE } from '../src/webhooks/types';

const DAY = 86_400_000;
const STATUSES = ['received', 'processed', 'ignored', 'failed', 'anomaly', 'dead'] as const;

describe.each(testDialects)('Stripe event payload retention ($name)', ({ create }) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await create();
  });
  afterAll(async () => {
    await db.destroy();
  });

  it('prunes only processed and ignored events older than the retention, in chunks; a second run prunes nothing', async () => {
    const now = new Date('2026-06-01T12:00:00Z');
    const rows = [];
    for (const status of STATUSES) {
      for (const [age, label] of [
        [91, 'old'],
        [89, 'new'],
      ] as const) {
        for (let i = 0; i < 3; i++) {
          const receivedAt = new Date(now.getTime() - age * DAY);
          rows.push({
            scope: i === 2 ? '01900000-0000-7000-8000-000000000001' : DEPLOYMENT_SCOPE,
            id: `evt_${status}_${label}_${i}`,
            type: 'checkout.session.completed',
            livemode: false,
            stripeCreatedAt: receivedAt,
            payload: `{"id":"evt_${status}_${label}_${i}"}`,
            status,
            attempts: 1,
            receivedAt,
            updatedAt: receivedAt,
          });
        }
      }
    }
    await db.q.insert(db.t.stripeEvents).values(rows);
    const summary = await pruneStripeEventPayloads(db, { olderThanDays: 90, now, chunkSize: 4 });
    expect(summary).toEqual({ pruned: 6, chunks: 2, cutoff: new Date(now.getTime() - 90 * DAY) });
    const after = await db.q.select().from(db.t.stripeEvents).orderBy(asc(db.t.stripeEvents.id));
    const prunedIds = after.filter((r) => r.payload === '').map((r) => r.id);
    expect(prunedIds.sort()).toEqual(['evt_ignored_old_0', 'evt_ignored_old_1', 'evt_ignored_old_2', 'evt_processed_old_0', 'evt_processed_old_1', 'evt_processed_old_2']);
    for (const row of after) {
      if (prunedIds.includes(row.id)) {
        expect(row.payloadPrunedAt).toBeInstanceOf(Date);
      } else {
        expect(row).toMatchObject({ payload: `{"id":"${row.id}"}`, payloadPrunedAt: null });
      }
      // Everything but the payload stays.
      expect(row).toMatchObject({ status: row.id.split('_')[1], attempts: 1, type: 'checkout.session.completed' });
    }
    expect(await pruneStripeEventPayloads(db, { olderThanDays: 90, now })).toMatchObject({ pruned: 0, chunks: 0 });
    // A shorter retention reaches the newer ones too, still never failed/dead/received/anomaly.
    expect(await pruneStripeEventPayloads(db, { olderThanDays: 1, now })).toMatchObject({ pruned: 6, chunks: 1 });
    const kept = (await db.q.select().from(db.t.stripeEvents)).filter((r) => r.payload !== '').map((r) => r.status);
    expect(new Set(kept)).toEqual(new Set(['received', 'failed', 'anomaly', 'dead']));
    expect(kept).toHaveLength(24);
  });

  it('rejects a retention or chunk size out of range, changing nothing', async () => {
    for (const olderThanDays of [0, -5, 1.5, Number.NaN, 36_501]) {
      await expect(pruneStripeEventPayloads(db, { olderThanDays })).rejects.toThrow(RangeError);
    }
    for (const chunkSize of [0, 1001, 2.5]) {
      await expect(pruneStripeEventPayloads(db, { olderThanDays: 1, chunkSize })).rejects.toThrow(RangeError);
    }
  });
});
