/**
 * better-auth's per-IP rate limits, stored in our `rate_limits` table so every server process
 * shares them. Each request is one atomic upsert (`hitWindowCounter`), under keys prefixed
 * `auth:` (better-auth's own key is `<ip>|<path>`).
 *
 * Why not better-auth's built-in `storage: 'database'`: after a window resets it deletes every
 * row of the model older than its longest window (60 s here), which on a shared table would
 * wipe Tally's own counters (15-minute failed sign-in windows, mutation limits). This
 * storage prunes only its own `auth:` rows.
 */
import { and, lt, sql, type Database } from '@tally/db';
import type { BetterAuthRateLimitOptions } from 'better-auth';
import type { Logger } from '../logger';
import { hitWindowCounter } from '../rate-limits/window-counter';

export type RateLimitStorage = NonNullable<BetterAuthRateLimitOptions['customStorage']>;

/** Prefix of better-auth's rows in `rate_limits`. */
export const AUTH_RATE_LIMIT_PREFIX = 'auth:';
/** How often (at most) one process deletes expired `auth:` rows. */
const PRUNE_EVERY_MS = 10 * 60_000;

/**
 * A better-auth `customStorage` on `rate_limits`: fixed windows of `rule.window` seconds,
 * allowing `rule.max` requests per key per window.
 * @param longestWindowSeconds `auth:` rows whose window started longer ago than this are deleted,
 *   at most once per `pruneEveryMs` (default 10 minutes) per process.
 */
export function databaseRateLimitStorage({
  db,
  logger,
  longestWindowSeconds,
  pruneEveryMs = PRUNE_EVERY_MS,
}: {
  db: Database;
  logger: Logger;
  longestWindowSeconds: number;
  pruneEveryMs?: number;
}): RateLimitStorage {
  let lastPrune = Date.now();
  const prune = async (now: number) => {
    if (now - lastPrune < pruneEveryMs) return;
    lastPrune = now;
    const r = db.t.rateLimits;
    try {
      await db.q.delete(r).where(and(sql`${r.key} like ${`${AUTH_RATE_LIMIT_PREFIX}%`}`, lt(r.lastRequest, now - longestWindowSeconds * 1000)));
    } catch (err) {
      logger.warn({ err }, 'pruning expired auth rate-limit rows failed');
    }
  };
  return {
    async consume(key, rule) {
      const now = Date.now();
      const { count, resetAt } = await hitWindowCounter(db, { key: `${AUTH_RATE_LIMIT_PREFIX}${key}`, windowMs: rule.window * 1000, now });
      await prune(now);
      if (count <= rule.max) return { allowed: true, retryAfter: null };
      return { allowed: false, retryAfter: Math.max(1, Math.ceil((resetAt.getTime() - now) / 1000)) };
    },
  };
}
