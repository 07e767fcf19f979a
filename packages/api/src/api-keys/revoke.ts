import { and, eq, get, isNull, type Database } from '@tally/db';
import { recordAuditInTx, type AuditActor } from '../audit/record';
import { AppError, notFound } from '../errors';
import { isTallyId } from '../ids';

/**
 * Revoke a workspace's API key: from the commit on, `authenticateApiKey` answers null for it
 * (the route answers 401). Idempotent: revoking a revoked key changes nothing and returns the
 * original `revokedAt` with `alreadyRevoked: true`. With `actor`, an `api_key.revoke` audit
 * entry is written in the same transaction (only when this call revoked it).
 * @throws AppError BAD_REQUEST for a malformed id; NOT_FOUND for a key of another workspace or none.
 */
export async function revokeApiKey(
  db: Database,
  { workspaceId, keyId, actor, now = new Date() }: { workspaceId: string; keyId: string; actor?: AuditActor; now?: Date },
): Promise<{ id: string; revokedAt: Date; alreadyRevoked: boolean }> {
  if (typeof workspaceId !== 'string' || !isTallyId(workspaceId)) throw new AppError('BAD_REQUEST', 'workspaceId must be a Tally id (a UUID)');
  if (typeof keyId !== 'string' || !isTallyId(keyId)) throw new AppError('BAD_REQUEST', 'keyId must be a Tally id (a UUID)');
  return db.transaction(function* (tx) {
    const t = db.t;
    const k = t.apiKeys;
    const revoked = yield* get(
      tx
        .update(k)
        .set({ revokedAt: now })
        .where(and(eq(k.id, keyId), eq(k.workspaceId, workspaceId), isNull(k.revokedAt)))
        .returning({ id: k.id, name: k.name, displayPrefix: k.displayPrefix, revokedAt: k.revokedAt }),
    );
    if (revoked) {
      if (actor) {
        yield* recordAuditInTx(tx, t, {
          workspaceId,
          actor,
          action: 'api_key.revoke',
          targetType: 'api_key',
          targetId: keyId,
          before: { name: revoked.name, displayPrefix: revoked.displayPrefix, revokedAt: null },
          after: { name: revoked.name, displayPrefix: revoked.displayPrefix, revokedAt: now.toISOString() },
        });
      }
      return { id: keyId, revokedAt: revoked.revokedAt ?? now, alreadyRevoked: false };
    }
    const existing = yield* get(tx.select({ revokedAt: k.revokedAt }).from(k).where(and(eq(k.id, keyId), eq(k.workspaceId, workspaceId))));
    if (!existing?.revokedAt) throw notFound('API key');
    return { id: keyId, revokedAt: existing.revokedAt, alreadyRevoked: true };
  });
}
