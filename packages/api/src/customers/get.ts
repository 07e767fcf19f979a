import { and, asc, eq, isNull, type Database } from '@tally/db';
import { notFound } from '../errors';
import { balancesOf } from './list';

/**
 * One customer of the workspace, for the admin's customer page: `{ id, name, email,
 * stripeCustomerId, createdAt, balances: [{ currency, amountMinor }] (minor units; the
 * workspace's currency first), members: [{ userId, email, role }] (oldest first),
 * pendingInvitations: [{ id, email, role, createdAt }] (to this customer, not yet accepted) }`.
 * The ledger and billing records are paged separately (`customers.ledger`, `billingRecord.list`).
 * @throws AppError NOT_FOUND when the customer does not exist or belongs to another workspace.
 */
export async function getCustomer({ db, workspaceId, workspaceCurrency, customerId }: { db: Database; workspaceId: string; workspaceCurrency: string; customerId: string }) {
  const { customers: c, customerMemberships: m, users: u, invitations: i } = db.t;
  const [customer] = await db.q
    .select({ id: c.id, name: c.name, email: c.email, stripeCustomerId: c.stripeCustomerId, createdAt: c.createdAt })
    .from(c)
    .where(and(eq(c.id, customerId), eq(c.workspaceId, workspaceId)));
  if (!customer) throw notFound('Customer');
  const members = await db.q
    .select({ userId: u.id, email: u.email, role: m.role })
    .from(m)
    .innerJoin(u, eq(u.id, m.userId))
    .where(eq(m.customerId, customer.id))
    .orderBy(asc(m.createdAt), asc(m.id));
  const pendingInvitations = await db.q
    .select({ id: i.id, email: i.email, role: i.role, createdAt: i.createdAt })
    .from(i)
    .where(and(eq(i.customerId, customer.id), eq(i.workspaceId, workspaceId), isNull(i.acceptedAt)))
    .orderBy(asc(i.createdAt), asc(i.id));
  const balances = (await balancesOf(db, [customer.id], workspaceCurrency)).get(customer.id) ?? [];
  return { ...customer, balances, members, pendingInvitations };
}
