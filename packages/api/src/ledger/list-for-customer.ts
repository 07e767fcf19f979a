import { and, desc, eq, lt, type Database } from '@tally/db';
import { notFound } from '../errors';

/**
 * One page of a customer's ledger as its workspace's admin sees it, newest first:
 * `{ items: [{ id, kind, amountMinor (signed minor units), currency, description, reference,
 * billingRecordId, createdAt }], nextCursor }`. Ids are UUIDv7 (time-ordered), so the cursor is
 * the last id seen.
 * @throws AppError NOT_FOUND when the customer does not exist or belongs to another workspace.
 */
export async function listLedgerForCustomer({
  db,
  workspaceId,
  customerId,
  limit,
  cursor,
}: {
  db: Database;
  workspaceId: string;
  customerId: string;
  limit: number;
  cursor?: string | null | undefined;
}) {
  const { customers: c, ledgerEntries: l } = db.t;
  const [customer] = await db.q
    .select({ id: c.id })
    .from(c)
    .where(and(eq(c.id, customerId), eq(c.workspaceId, workspaceId)));
  if (!customer) throw notFound('Customer');
  const rows = await db.q
    .select({
      id: l.id,
      kind: l.kind,
      amountMinor: l.amountMinor,
      currency: l.currency,
      description: l.description,
      reference: l.reference,
      billingRecordId: l.billingRecordId,
      createdAt: l.createdAt,
    })
    .from(l)
    .where(and(eq(l.customerId, customer.id), eq(l.workspaceId, workspaceId), cursor ? lt(l.id, cursor) : undefined))
    .orderBy(desc(l.id))
    .limit(limit + 1);
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}
