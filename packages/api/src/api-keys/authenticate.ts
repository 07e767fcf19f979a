import { and, eq, isNull, lt, or, type Database } from '@tally/db';
import { isApiKeyShaped, type ApiKeyMode } from '../schemas/api-keys';
import { hashApiKey } from './hash';

/** Who a valid API key speaks for. */
export interface ApiKeyPrincipal {
  workspaceId: string;
  keyId: string;
  mode: ApiKeyMode;
}

/** `last_used_at` is written at most once per this many milliseconds per key (one write a minute, not one per request). */
export const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * The workspace a presented API key (`Authorization: Bearer <key>`) belongs to, or null when
 * it is not a live key: not a string of the key shape (checked before any query), unknown, or
 * revoked. The lookup is by the key's SHA-256, so timing reveals nothing about stored keys.
 * Updates `last_used_at` when it is older than a minute (one guarded UPDATE, so concurrent
 * requests on several processes write it at most about once a minute).
 */
export async function authenticateApiKey(db: Database, key: unknown, { now = new Date() }: { now?: Date } = {}): Promise<ApiKeyPrincipal | null> {
  if (!isApiKeyShaped(key)) return null;
  const { apiKeys: k } = db.t;
  const [row] = await db.q
    .select({ id: k.id, workspaceId: k.workspaceId, mode: k.mode, lastUsedAt: k.lastUsedAt, revokedAt: k.revokedAt })
    .from(k)
    .where(eq(k.keyHash, hashApiKey(key)));
  if (!row || row.revokedAt) return null;
  if (row.mode !== 'live' && row.mode !== 'test') return null;
  const staleBefore = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
  if (!row.lastUsedAt || row.lastUsedAt.getTime() < staleBefore.getTime()) {
    await db.q
      .update(k)
      .set({ lastUsedAt: now })
      .where(and(eq(k.id, row.id), or(isNull(k.lastUsedAt), lt(k.lastUsedAt, staleBefore))));
  }
  return { workspaceId: row.workspaceId, keyId: row.id, mode: row.mode };
}
