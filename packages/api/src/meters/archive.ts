import { and, eq, get, isNull, sql, type Database, type Meter } from '@tally/db';
import { recordAuditInTx, type AuditActor } from '../audit/record';
import { AppError, notFound } from '../errors';
import { isTallyId } from '../ids';
import { meterAuditView } from './save';

/**
 * Archive (`archived: true`) or unarchive a meter of the workspace. An archived meter refuses
 * new usage events (ingestion reads only meters with `archivedAt` null, answering
 * `unknown_meter`); its stored usage, rollups and invoices stay. Idempotent: archiving an
 * archived meter (or unarchiving an active one) changes nothing and writes no audit entry;
 * otherwise `meter.archive` / `meter.unarchive` is audited (before/after) in the same
 * transaction.
 * @returns the meter row after the call.
 * @throws AppError BAD_REQUEST for a malformed id; NOT_FOUND for a meter of another workspace or none.
 */
export async function archiveMeter(
  db: Database,
  { workspaceId, meterId, archived, actor, requestId = null, now = new Date() }: { workspaceId: string; meterId: string; archived: boolean; actor: AuditActor; requestId?: string | null; now?: Date },
): Promise<Meter> {
  if (typeof meterId !== 'string' || !isTallyId(meterId)) throw new AppError('BAD_REQUEST', 'meterId must be a Tally id (a UUID)');
  if (typeof archived !== 'boolean') throw new AppError('BAD_REQUEST', 'archived must be true or false');
  const { meters: m } = db.t;
  return db.transaction(function* (tx) {
    const before = yield* get(tx.select().from(m).where(and(eq(m.id, meterId), eq(m.workspaceId, workspaceId))));
    if (!before) throw notFound('Meter');
    // Guarded on the current state, so of two concurrent identical calls only one changes the row and is audited.
    const after = yield* get(
      tx
        .update(m)
        .set({ archivedAt: archived ? now : null, updatedAt: now })
        .where(and(eq(m.id, meterId), archived ? isNull(m.archivedAt) : sql`${m.archivedAt} is not null`))
        .returning(),
    );
    if (!after) return (yield* get(tx.select().from(m).where(eq(m.id, meterId)))) ?? before;
    yield* recordAuditInTx(tx, db.t, {
      workspaceId,
      actor,
      action: archived ? 'meter.archive' : 'meter.unarchive',
      targetType: 'meter',
      targetId: meterId,
      before: meterAuditView(before),
      after: meterAuditView(after),
      requestId,
    });
    return after;
  });
}
