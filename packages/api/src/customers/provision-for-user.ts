import { run, type Database } from '@tally/db';
import { newId } from '../ids';
import { ensurePrimaryWorkspace } from '../workspaces/ensure-primary';

/**
 * What a new sign-up becomes: a workspace admin of the primary workspace when their email
 * is in `adminEmails`, otherwise the owner of a new customer in it.
 */
export async function provisionUser({
  db,
  user,
  adminEmails,
}: {
  db: Database;
  user: { id: string; email: string; name: string };
  adminEmails: readonly string[];
}) {
  const workspace = await ensurePrimaryWorkspace({ db });
  const { workspaceMembers, customers, customerMemberships } = db.t;
  if (adminEmails.includes(user.email.toLowerCase())) {
    await db.q
      .insert(workspaceMembers)
      .values({ id: newId(), workspaceId: workspace.id, userId: user.id, role: 'admin' })
      .onConflictDoNothing();
    return { role: 'admin' as const, workspaceId: workspace.id };
  }
  const customerId = newId();
  await db.transaction(function* (tx) {
    yield* run(tx.insert(customers).values({ id: customerId, workspaceId: workspace.id, name: user.name || user.email, email: user.email }));
    yield* run(tx.insert(customerMemberships).values({ id: newId(), customerId, userId: user.id, role: 'owner' }));
  });
  return { role: 'customer' as const, workspaceId: workspace.id, customerId };
}

