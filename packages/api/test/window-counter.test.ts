import { testDialects, type TestDatabase } from '@tally/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgiveWindowCounter, hitWindowCounter, peekWindowCounter, pruneWindowCounters, resetWindowCounter } from '../src/rate-limits/window-counter';

describe.each(testDialects)('rate-limit window counter ($name)', ({ create }) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await create();
  });
  afterAll(async () => {
    await db.destroy();
  });

  it('counts hits in a window, restarts after it, and peeks without counting', async () => {
    const key = `k-${Math.random()}`;
    const t0 = 1_000_000;
    expect(await hitWindowCounter(db, { key, windowMs: 1000, now: t0 })).toEqual({ count: 1, resetAt: new Date(t0 + 1000) });
    expect((await hitWindowCounter(db, { key, windowMs: 1000, now: t0 + 500 })).count).toBe(2);
    expect((await peekWindowCounter(db, { key, windowMs: 1000, now: t0 + 600 })).count).toBe(2);
    await forgiveWindowCounter(db, { key });
    expect((await peekWindowCounter(db, { key, windowMs: 1000, now: t0 + 600 })).count).toBe(1);
    expect((await peekWindowCounter(db, { key, windowMs: 1000, now: t0 + 1001 })).count).toBe(0);
    expect(await hitWindowCounter(db, { key, windowMs: 1000, now: t0 + 1001 })).toEqual({ count: 1, resetAt: new Date(t0 + 2001) });
    await resetWindowCounter(db, { key });
    expect((await peekWindowCounter(db, { key, windowMs: 1000, now: t0 + 1002 })).count).toBe(0);
  });

  it('counts every one of many concurrent hits from two connections', async () => {
    const other = await db.connectAgain();
    const key = `c-${Math.random()}`;
    const now = Date.now();
    await Promise.all(Array.from({ length: 40 }, (_, i) => hitWindowCounter(i % 2 ? db : other, { key, windowMs: 60_000, now })));
    expect((await peekWindowCounter(db, { key, windowMs: 60_000, now })).count).toBe(40);
  });

  it('prunes only counters whose window started before the cut-off', async () => {
    const now = 50_000_000;
    await hitWindowCounter(db, { key: 'prune-old', windowMs: 1000, now: now - 2 * 86_400_000 });
    await hitWindowCounter(db, { key: 'prune-new', windowMs: 1000, now: now - 1000 });
    expect(await pruneWindowCounters(db, { olderThanMs: 86_400_000, now })).toBeGreaterThanOrEqual(1);
    expect((await peekWindowCounter(db, { key: 'prune-old', windowMs: 10 * 86_400_000, now })).count).toBe(0);
    expect((await peekWindowCounter(db, { key: 'prune-new', windowMs: 10 * 86_400_000, now })).count).toBe(1);
  });
});
