import { and, eq, type Database } from '@tally/db';
import { AppError } from '../errors';

/**
 * Unbind a license from its machine (a new install binds it on its first verify with a
 * fingerprint). The license must belong to the customer of `workspaceId`.
 * @throws AppError NOT_FOUND for a license of another customer (or none).
 */
export async function resetLicenseFingerprint({ db, workspaceId, customerId, licenseId }: { db: Database; workspaceId: string; customerId: string; licenseId: string }): Promise<{ id: string; fingerprintBound: false }> {
  const { licenses: l } = db.t;
  const now = new Date();
  const rows = await db.q
    .update(l)
    .set({ fingerprint: null, updatedAt: now })
    .where(and(eq(l.id, licenseId), eq(l.workspaceId, workspaceId), eq(l.customerId, customerId)))
    .returning({ id: l.id });
  if (rows.length === 0) throw new AppError('NOT_FOUND', 'License not found');
  return { id: licenseId, fingerprintBound: false };
}
