import { and, desc, eq, inArray, lt, or, sql, count, type Database } from '@tally/db';

/** A balance in one currency, minor units. */
export interface CurrencyBalance {
  /** ISO 4217 lowercase. */
  currency: string;
  /** Signed minor units (negative: the customer owes). */
  amountMinor: number;
}

/** `%`, `_` and the escape character itself, escaped for `LIKE ... ESCAPE '\'`. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The cached balances (`customer_balances`) of some customers, per currency: the workspace's
 * currency always first (0 when the customer has no entry in it), then any other currency
 * they hold, alphabetically.
 */
export async function balancesOf(db: Database, customerIds: readonly string[], workspaceCurrency: string): Promise<Map<string, CurrencyBalance[]>> {
  const { customerBalances: b } = db.t;
  const rows = customerIds.length
    ? await db.q
        .select({ customerId: b.customerId, currency: b.currency, amountMinor: b.amountMinor })
        .from(b)
        .where(inArray(b.customerId, [...customerIds]))
        .orderBy(b.currency)
    : [];
  const result = new Map<string, CurrencyBalance[]>();
  for (const id of customerIds) {
    const own = rows.filter((r) => r.customerId === id);
    const main = own.find((r) => r.currency === workspaceCurrency);
    result.set(id, [
      { currency: workspaceCurrency, amountMinor: main?.amountMinor ?? 0 },
      ...own.filter((r) => r.currency !== workspaceCurrency).map((r) => ({ currency: r.currency, amountMinor: r.amountMinor })),
    ]);
  }
  return result;
}

/**
 * One page of the workspace's customers, newest first, for the admin *Customers* page.
 * - `search`: a case-insensitive substring of the name or the billing email, matched with
 *   `lower(column) LIKE lower(?)` (the same on SQLite and Postgres; `%`, `_` and `\` are
 *   literal). SQLite's `lower()` folds ASCII letters only, so non-ASCII letters match as typed
 *   there (Postgres folds them too).
 * - Order and cursor: `createdAt` then id, descending; `nextCursor` is `<createdAt ms>:<id>`
 *   (ids alone are not time-ordered: a self sign-up's customer id is a UUIDv5).
 * Each item: `{ id, name, email, stripeCustomerId, createdAt, balances: [{ currency,
 * amountMinor }] (minor units, see `balancesOf`), openRecordCount }` where openRecordCount
 * counts the customer's DUE billing records.
 */
export async function listCustomers({
  db,
  workspaceId,
  workspaceCurrency,
  search,
  limit,
  cursor,
}: {
  db: Database;
  workspaceId: string;
  /** ISO 4217 lowercase: always listed in `balances`. */
  workspaceCurrency: string;
  search?: string | undefined;
  limit: number;
  /** `nextCursor` of the previous page (shape-checked by the caller). */
  cursor?: string | null | undefined;
}) {
  const { customers: c, billingRecords: r } = db.t;
  const conditions = [eq(c.workspaceId, workspaceId)];
  const text = search?.trim();
  if (text) {
    const pattern = `%${escapeLike(text)}%`;
    conditions.push(or(sql`lower(${c.name}) like lower(${pattern}) escape '\\'`, sql`lower(${c.email}) like lower(${pattern}) escape '\\'`)!);
  }
  if (cursor) {
    const i = cursor.indexOf(':');
    const at = new Date(Number(cursor.slice(0, i)));
    const id = cursor.slice(i + 1);
    conditions.push(or(lt(c.createdAt, at), and(eq(c.createdAt, at), lt(c.id, id)))!);
  }
  const rows = await db.q
    .select({ id: c.id, name: c.name, email: c.email, stripeCustomerId: c.stripeCustomerId, createdAt: c.createdAt })
    .from(c)
    .where(and(...conditions))
    .orderBy(desc(c.createdAt), desc(c.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const ids = page.map((p) => p.id);
  const balances = await balancesOf(db, ids, workspaceCurrency);
  const open = ids.length
    ? await db.q
        .select({ customerId: r.customerId, n: count() })
        .from(r)
        .where(and(eq(r.workspaceId, workspaceId), eq(r.status, 'DUE'), inArray(r.customerId, ids)))
        .groupBy(r.customerId)
    : [];
  const items = page.map((p) => ({
    ...p,
    balances: balances.get(p.id) ?? [],
    openRecordCount: Number(open.find((o) => o.customerId === p.id)?.n ?? 0),
  }));
  const last = page.at(-1);
  return { items, nextCursor: rows.length > limit && last ? `${last.createdAt.getTime()}:${last.id}` : null };
}
