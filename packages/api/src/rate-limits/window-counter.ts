/**
 * Fixed-window counters in the `rate_limits` table, shared by every server process on both
 * dialects: the store behind express-rate-limit (mutations per user and per IP) and the
 * failed sign-in throttle per account. Each call is one atomic statement (an upsert), never
 * read-then-write, so concurrent hits on several processes are all counted.
 */
import { and, eq, gt, lt, sql, type Database } from '@tally/db';
import { newId } from '../ids';

export interface WindowCount {
  /** Hits in the current window, this one included. */
  count: number;
  /** When the current window ends. */
  resetAt: Date;
}

/**
 * Count one hit on `key` in a window of `windowMs` milliseconds: a window older than that
 * restarts at 1. Returns the count after this hit.
 */
export async function hitWindowCounter(db: Database, { key, windowMs, now = Date.now() }: { key: string; windowMs: number; now?: number }): Promise<WindowCount> {
  const { rateLimits: r } = db.t;
  const expired = sql`${r.lastRequest} <= cast(${now - windowMs} as bigint)`;
  const [row] = await db.q
    .insert(r)
    .values({ id: newId(), key, count: 1, lastRequest: now })
    .onConflictDoUpdate({
      target: r.key,
      set: {
        count: sql`case when ${expired} then 1 else ${r.count} + 1 end`,
        lastRequest: sql`case when ${expired} then cast(${now} as bigint) else ${r.lastRequest} end`,
      },
    })
    .returning({ count: r.count, lastRequest: r.lastRequest });
  return { count: row!.count, resetAt: new Date(Number(row!.lastRequest) + windowMs) };
}

/** The current window's count for `key` without counting a hit (0 when the window has passed). */
export async function peekWindowCounter(db: Database, { key, windowMs, now = Date.now() }: { key: string; windowMs: number; now?: number }): Promise<WindowCount> {
  const { rateLimits: r } = db.t;
  const [row] = await db.q
    .select({ count: r.count, lastRequest: r.lastRequest })
    .from(r)
    .where(and(eq(r.key, key), gt(r.lastRequest, now - windowMs)));
  return row ? { count: row.count, resetAt: new Date(Number(row.lastRequest) + windowMs) } : { count: 0, resetAt: new Date(now + windowMs) };
}

/** Take one hit back (e.g. a request that should not count after all); never below 0. */
export async function forgiveWindowCounter(db: Database, { key }: { key: string }): Promise<void> {
  const { rateLimits: r } = db.t;
  await db.q
    .update(r)
    .set({ count: sql`case when ${r.count} > 0 then ${r.count} - 1 else 0 end` })
    .where(eq(r.key, key));
}

/** Forget `key` entirely (e.g. failed sign-ins after a successful one). */
export async function resetWindowCounter(db: Database, { key }: { key: string }): Promise<void> {
  const { rateLimits: r } = db.t;
  await db.q.delete(r).where(eq(r.key, key));
}

/**
 * Delete counters whose window started more than `olderThanMs` ago (every limiter's window is
 * far shorter), so keys of one-off IPs and emails do not pile up. Returns how many went.
 */
export async function pruneWindowCounters(db: Database, { olderThanMs, now = Date.now() }: { olderThanMs: number; now?: number }): Promise<number> {
  const { rateLimits: r } = db.t;
  const gone = await db.q.delete(r).where(lt(r.lastRequest, now - olderThanMs)).returning({ key: r.key });
  return gone.length;
}
