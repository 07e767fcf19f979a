import { desc, eq, type Database } from '@tally/db';
import { AppError } from '../errors';
import { isTallyId } from '../ids';
import type { ApiKeyMode } from '../schemas/api-keys';

/** A key as lists show it: never the key or its hash. */
export interface ApiKeyView {
  id: string;
  name: string;
  mode: ApiKeyMode;
  /** `tly_<mode>_` and the first 5 random characters. */
  displayPrefix: string;
  createdByUserId: string | null;
  createdAt: Date;
  /** Last successful authentication, to the minute; null when never used. */
  lastUsedAt: Date | null;
  /** Null while the key works. */
  revokedAt: Date | null;
}

/**
 * The workspace's API keys, newest first, revoked ones included (with `revokedAt`).
 * @throws AppError BAD_REQUEST for a malformed workspace id.
 */
export async function listApiKeys(db: Database, { workspaceId }: { workspaceId: string }): Promise<ApiKeyView[]> {
  if (typeof workspaceId !== 'string' || !isTallyId(workspaceId)) throw new AppError('BAD_REQUEST', 'workspaceId must be a Tally id (a UUID)');
  const { apiKeys: k } = db.t;
  const rows = await db.q
    .select({ id: k.id, name: k.name, mode: k.mode, displayPrefix: k.displayPrefix, createdByUserId: k.createdByUserId, createdAt: k.createdAt, lastUsedAt: k.lastUsedAt, revokedAt: k.revokedAt })
    .from(k)
    .where(eq(k.workspaceId, workspaceId))
    .orderBy(desc(k.createdAt), desc(k.id));
  return rows.map((r) => ({ ...r, mode: r.mode as ApiKeyMode }));
}
