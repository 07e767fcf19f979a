import { and, desc, eq, lt, type Database, type TopupStatus } from '@tally/db';

/** Top-ups of a workspace, newest first (UUIDv7 ids are the cursor), with the customer's name. */
export async function listTopups({
  db,
  workspaceId,
  status,
  limit,
  cursor,
}: {
  db: Database;
  workspaceId: string;
  status?: TopupStatus | undefined;
  limit: number;
  cursor?: string | null | undefined;
}) {
  const { topups: tp, customers: c } = db.t;
  const rows = await db.q
    .select({
      id: tp.id,
      status: tp.status,
      amountMinor: tp.amountMinor,
      creditedAmountMinor: tp.creditedAmountMinor,
      currency: tp.currency,
      stripeCheckoutSessionId: tp.stripeCheckoutSessionId,
      customerId: tp.customerId,
      customerName: c.name,
      createdAt: tp.createdAt,
      paidAt: tp.paidAt,
    })
    .from(tp)
    .innerJoin(c, eq(c.id, tp.customerId))
    .where(and(eq(tp.workspaceId, workspaceId), status ? eq(tp.status, status) : undefined, cursor ? lt(tp.id, cursor) : undefined))
    .orderBy(desc(tp.id))
    .limit(limit + 1);
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}
