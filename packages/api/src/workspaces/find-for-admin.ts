import { asc, eq, type Database } from '@tally/db';

/** The workspace a user administers (first by membership age), or undefined. */
export async function findWorkspaceForAdmin({ db, userId }: { db: Database; userId: string }) {
  const { workspaces, workspaceMembers } = db.t;
  const [row] = await db.q
    .select({ id: workspaces.id, name: workspaces.name, currency: workspaces.currency })
    .from(workspaceMembers)
    .innerJoin(workspaces, eq(workspaces.id, workspaceMembers.workspaceId))
    .where(eq(workspaceMembers.userId, userId))
    .orderBy(asc(workspaceMembers.createdAt))
    .limit(1);
  return row;
}
