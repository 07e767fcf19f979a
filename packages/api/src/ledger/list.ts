import { and, desc, eq, lt, type Database } from '@tally/db';

/**
 * A customer's ledger entries, newest first, `limit` per page. Ids are UUIDv7 (time-ordered),
 * so the cursor is the last id seen. Returns `{ items, nextCursor }`.
 */
export async function listLedgerEntries({
  db,
  customerId,
  limit,
  cursor,
}: {
  db: Database;
  customerId: string;
  limit: number;
  cursor?: string | null | undefined;
}) {
  const { ledgerEntries: l } = db.t;
  const rows = await db.q
    .select({
      id: l.id,
      amountMinor: l.amountMinor,
      currency: l.currency,
      kind: l.kind,
      reference: l.reference,
      description: l.description,
      createdAt: l.createdAt,
    })
    .from(l)
    .where(cursor ? and(eq(l.customerId, customerId), lt(l.id, cursor)) : eq(l.customerId, customerId))
    .orderBy(desc(l.id))
    .limit(limit + 1);
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}
