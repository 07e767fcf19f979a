/**
 * Retention of the Stripe event log (issue 10 item 7): the payloads of `processed` and
 * `ignored` events older than TALLY_EVENT_RETENTION_DAYS (default 90) are pruned daily; the
 * row (id, type, status, outcome, times) stays. `failed`, `dead`, `received` and `anomaly`
 * events keep their payloads (they may still be replayed or examined).
 */
import { all, and, eq, inArray, isNull, lt, type Database } from '@tally/db';

/** Events whose payload retention may prune. */
export const PRUNABLE_EVENT_STATUSES = ['processed', 'ignored'] as const;
/** Rows per pruning transaction (packages/db/src/sqlite-busy.ts, "Rule for long writes"). */
export const PRUNE_CHUNK_ROWS = 300;
const DAY_MS = 86_400_000;

/** What one pruning run did. */
export interface PruneSummary {
  /** Events whose payload was pruned now. */
  pruned: number;
  /** Transactions committed. */
  chunks: number;
  /** Events received before this were eligible. */
  cutoff: Date;
}

/**
 * Prune the payloads of `processed` and `ignored` events received more than `olderThanDays`
 * days before `now`: `payload` becomes '' and `payloadPrunedAt` is set. Written in chunks of
 * at most `chunkSize` rows, one short transaction each (idempotent: a pruned row no longer
 * matches), so other writers never wait long and a stopped run resumes where it was.
 * @param olderThanDays whole days, 1..36500 (ServerConfig.eventRetentionDays).
 * @param shouldStop checked between chunks.
 * @throws RangeError for `olderThanDays` or `chunkSize` out of range; the database's error
 *   (chunks committed before it stay pruned).
 */
export async function pruneStripeEventPayloads(
  db: Database,
  { olderThanDays, now = new Date(), chunkSize = PRUNE_CHUNK_ROWS, shouldStop }: { olderThanDays: number; now?: Date; chunkSize?: number; shouldStop?: () => boolean },
): Promise<PruneSummary> {
  if (!Number.isSafeInteger(olderThanDays) || olderThanDays < 1 || olderThanDays > 36_500) throw new RangeError(`olderThanDays must be a whole number of days from 1 to 36500, got ${olderThanDays}`);
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1 || chunkSize > 1000) throw new RangeError(`chunkSize must be a whole number from 1 to 1000, got ${chunkSize}`);
  const cutoff = new Date(now.getTime() - olderThanDays * DAY_MS);
  const { stripeEvents: e } = db.t;
  const eligible = and(inArray(e.status, [...PRUNABLE_EVENT_STATUSES]), lt(e.receivedAt, cutoff), isNull(e.payloadPrunedAt));
  let pruned = 0;
  let chunks = 0;
  for (;;) {
    if (shouldStop?.()) break;
    const batch = await db.q.select({ scope: e.scope, id: e.id }).from(e).where(eligible).orderBy(e.receivedAt).limit(chunkSize);
    if (batch.length === 0) break;
    const byScope = new Map<string, string[]>();
    for (const { scope, id } of batch) byScope.set(scope, [...(byScope.get(scope) ?? []), id]);
    const prunedAt = new Date();
    const done = await db.transaction(function* (tx) {
      let n = 0;
      for (const [scope, ids] of byScope) {
        const rows = yield* all(
          tx
            .update(e)
            .set({ payload: '', payloadPrunedAt: prunedAt })
            .where(and(eq(e.scope, scope), inArray(e.id, ids), eligible))
            .returning({ id: e.id }),
        );
        n += rows.length;
      }
      return n;
    });
    pruned += done;
    chunks += 1;
    if (batch.length < chunkSize) break;
  }
  return { pruned, chunks, cutoff };
}
