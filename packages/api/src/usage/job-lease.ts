/**
 * Named job leases (`job_leases`): so one process at a time runs a job that several server
 * processes schedule (the monthly usage period close). A lease is a row `{ name, owner,
 * expiresAt }`; it is taken with ONE statement,
 *
 *   INSERT ... ON CONFLICT (name) DO UPDATE SET owner, expires_at
 *     WHERE job_leases.expires_at < now OR job_leases.owner = <owner> RETURNING name
 *
 * so when several processes try at once exactly one gets a row back (Postgres serializes the
 * conflicting upserts on the primary key; SQLite writers run one at a time). The holder renews
 * it with the same call before it expires and gives it back with `releaseJobLease`; a crashed
 * holder's lease simply expires. A lease is not a lock on data: the work it guards must still
 * be idempotent (the usage close is: unique invoice rows, Stripe idempotency keys), it only
 * keeps processes from doing it twice at the same time.
 */
import { and, eq, lt, or, type Database } from '@tally/db';

/** Longest lease name and owner label, characters. */
const MAX_LABEL = 200;

function checkLabel(what: string, value: string): void {
  if (value.length === 0 || value.length > MAX_LABEL) throw new RangeError(`${what} must be 1..${MAX_LABEL} characters`);
}

/**
 * Take (or renew) the lease `name` for `owner` until `now + ttlMs`.
 * @returns true when `owner` holds the lease now (it was free, expired, or already `owner`'s);
 *   false when another owner holds an unexpired lease (nothing changed).
 * @throws RangeError for an empty or over-long name/owner or a ttl that is not a positive number of ms.
 */
export async function acquireJobLease(db: Database, { name, owner, ttlMs, now = new Date() }: { name: string; owner: string; ttlMs: number; now?: Date }): Promise<boolean> {
  checkLabel('lease name', name);
  checkLabel('lease owner', owner);
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`ttlMs must be a positive number of milliseconds, got ${ttlMs}`);
  const l = db.t.jobLeases;
  const expiresAt = new Date(now.getTime() + ttlMs);
  const rows = await db.q
    .insert(l)
    .values({ name, owner, expiresAt, updatedAt: now })
    .onConflictDoUpdate({
      target: l.name,
      set: { owner, expiresAt, updatedAt: now },
      setWhere: or(lt(l.expiresAt, now), eq(l.owner, owner)),
    })
    .returning({ name: l.name });
  return rows.length === 1;
}

/** Give the lease back (only if `owner` still holds it). @returns whether a lease was released. */
export async function releaseJobLease(db: Database, { name, owner }: { name: string; owner: string }): Promise<boolean> {
  const l = db.t.jobLeases;
  const rows = await db.q
    .delete(l)
    .where(and(eq(l.name, name), eq(l.owner, owner)))
    .returning({ name: l.name });
  return rows.length === 1;
}
