import { and, asc, eq, isNull, type Database, type Meter } from '@tally/db';

/**
 * The meters of a workspace, by key (`Meter` rows: `priceMinor` in the workspace currency's
 * minor units per `blockSize` units; `archivedAt` set for archived ones). Archived meters
 * (which refuse new events) only with `includeArchived`.
 * Source: `meters`, scoped to `workspaceId`.
 */
export async function listMeters(db: Database, { workspaceId, includeArchived = false }: { workspaceId: string; includeArchived?: boolean }): Promise<Meter[]> {
  const { meters: m } = db.t;
  return db.q
    .select()
    .from(m)
    .where(and(eq(m.workspaceId, workspaceId), includeArchived ? undefined : isNull(m.archivedAt)))
    .orderBy(asc(m.key));
}
