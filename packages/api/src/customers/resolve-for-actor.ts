import { and, asc, eq, type Database } from '@tally/db';
import { AppError } from '../errors';

/**
 * The customer a signed-in user acts for: `customerId` if they are a member of it, else
 * their oldest membership.
 * @throws AppError NOT_FOUND when the user is not a member of `customerId` (or of any
 * customer): another tenant's id is indistinguishable from a missing one.
 */
export async function resolveCustomerForActor({
  db,
  userId,
  customerId,
}: {
  db: Database;
  userId: string;
  customerId?: string | undefined;
}) {
  const { customers, customerMemberships, workspaces } = db.t;
  const [row] = await db.q
    .select({
      id: customers.id,
      name: customers.name,
      email: customers.email,
      workspaceId: customers.workspaceId,
      stripeCustomerId: customers.stripeCustomerId,
      currency: workspaces.currency,
    })
    .from(customerMemberships)
    .innerJoin(customers, eq(customers.id, customerMemberships.customerId))
    .innerJoin(workspaces, eq(workspaces.id, customers.workspaceId))
    .where(
      customerId
        ? and(eq(customerMemberships.userId, userId), eq(customerMemberships.customerId, customerId))
        : eq(customerMemberships.userId, userId),
    )
    .orderBy(asc(customerMemberships.createdAt))
    .limit(1);
  if (!row) throw new AppError('NOT_FOUND', 'Customer not found');
  return row;
}

export type ActingCustomer = Awaited<ReturnType<typeof resolveCustomerForActor>>;
