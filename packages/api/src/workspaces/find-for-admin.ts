import { and, asc, eq, type Database } from '@tally/db';
import { isTallyId } from '../ids';

/** The header the SPA sends with the workspace an admin selected (`X-Tally-Workspace: <workspaceId>`). */
export const WORKSPACE_HEADER = 'x-tally-workspace';

/**
 * The workspace a user administers: `workspaceId` when they are its admin, else (no
 * `workspaceId`) their oldest admin membership; undefined when they are not an admin of it
 * (a malformed id included: never queried).
 */
export async function findWorkspaceForAdmin({ db, userId, workspaceId }: { db: Database; userId: string; workspaceId?: string | null | undefined }) {
  if (workspaceId && !isTallyId(workspaceId)) return undefined;
  const { workspaces, workspaceMembers } = db.t;
  const [row] = await db.q
    .select({ id: workspaces.id, name: workspaces.name, currency: workspaces.currency })
    .from(workspaceMembers)
    .innerJoin(workspaces, eq(workspaces.id, workspaceMembers.workspaceId))
    .where(workspaceId ? and(eq(workspaceMembers.userId, userId), eq(workspaceMembers.workspaceId, workspaceId)) : eq(workspaceMembers.userId, userId))
    .orderBy(asc(workspaceMembers.createdAt), asc(workspaces.id))
    .limit(1);
  return row;
}

/** Every workspace a user administers, oldest membership first (the SPA's workspace switcher). */
export async function listAdminWorkspaces({ db, userId }: { db: Database; userId: string }) {
  const { workspaces, workspaceMembers } = db.t;
  return db.q
    .select({ id: workspaces.id, name: workspaces.name, currency: workspaces.currency })
    .from(workspaceMembers)
    .innerJoin(workspaces, eq(workspaces.id, workspaceMembers.workspaceId))
    .where(eq(workspaceMembers.userId, userId))
    .orderBy(asc(workspaceMembers.createdAt), asc(workspaces.id));
}
