import { and, eq, type Database } from '@tally/db';

/** A customer's balance in one currency: `{ amountMinor, currency }` (0 when no entries). */
export async function getBalance({ db, customerId, currency }: { db: Database; customerId: string; currency: string }) {
  const { customerBalances } = db.t;
  const [row] = await db.q
    .select({ amountMinor: customerBalances.amountMinor })
    .from(customerBalances)
    .where(and(eq(customerBalances.customerId, customerId), eq(customerBalances.currency, currency)));
  return { amountMinor: row?.amountMinor ?? 0, currency };
}
