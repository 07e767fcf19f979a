/**
 * Issue 10 item 7 in the server: the daily payload pruning job (`startEventRetention`): prunes
 * old processed/ignored payloads under its lease, skips while another process holds it, and
 * refuses a retention out of range.
 */
import { acquireJobLease, DEPLOYMENT_SCOPE, releaseJobLease, silentLogger } from '@tally/api';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_RETENTION_LEASE, EVENT_RETENTION_SCHEDULE, startEventRetention } from '../src/jobs/event-retention';

const DAY = 86_400_000;

describe.each(testDialects)('the event retention job ($name)', ({ create }) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await create();
  });
  afterAll(async () => {
    await db.destroy();
  });

  it('prunes old processed and ignored payloads once per run, skips while another process holds the lease', async () => {
    const now = new Date('2026-03-01T03:30:00Z');
    const row = (id: string, status: 'processed' | 'ignored' | 'failed' | 'dead', ageDays: number) => {
      const at = new Date(now.getTime() - ageDays * DAY);
      return { scope: DEPLOYMENT_SCOPE, id, type: 'invoice.paid', livemode: false, stripeCreatedAt: at, payload: '{"x":1}', status, attempts: 1, receivedAt: at, updatedAt: at };
    };
    await db.q.insert(db.t.stripeEvents).values([row('evt_p_old', 'processed', 31), row('evt_i_old', 'ignored', 40), row('evt_p_new', 'processed', 29), row('evt_f_old', 'failed', 60), row('evt_d_old', 'dead', 60)]);
    const job = startEventRetention({ db, logger: silentLogger, retentionDays: 30, owner: 'retention-a', now: () => now });
    const rival = startEventRetention({ db, logger: silentLogger, retentionDays: 30, schedule: null, owner: 'retention-b', now: () => now });
    try {
      expect(job.nextRun()?.toISOString()).toMatch(/T03:30:00\.000Z$/);
      expect(EVENT_RETENTION_SCHEDULE).toBe('30 3 * * *');
      expect(await acquireJobLease(db, { name: EVENT_RETENTION_LEASE, owner: 'retention-b', ttlMs: 60_000 })).toBe(true);
      expect(await job.runNow()).toEqual({ status: 'busy' });
      await releaseJobLease(db, { name: EVENT_RETENTION_LEASE, owner: 'retention-b' });
      expect(await job.runNow()).toMatchObject({ status: 'ran', summary: { pruned: 2 } });
      expect(await rival.runNow()).toMatchObject({ status: 'ran', summary: { pruned: 0 } });
      const rows = await db.q.select({ id: db.t.stripeEvents.id, payload: db.t.stripeEvents.payload }).from(db.t.stripeEvents);
      expect(Object.fromEntries(rows.map((r) => [r.id, r.payload]))).toEqual({ evt_p_old: '', evt_i_old: '', evt_p_new: '{"x":1}', evt_f_old: '{"x":1}', evt_d_old: '{"x":1}' });
    } finally {
      await job.stop();
      await rival.stop();
    }
    expect(job.nextRun()).toBeNull();
    expect(await job.runNow()).toEqual({ status: 'stopped' });
  });

  it('refuses a retention that is not a whole number of days >= 1', () => {
    for (const retentionDays of [0, -1, 2.5, Number.NaN]) expect(() => startEventRetention({ db, logger: silentLogger, retentionDays, schedule: null })).toThrow(RangeError);
  });
});
