import { all, and, eq } from '@tally/db';
import { recordAuditInTx } from '../audit/record';
import type { BillingRecordVoidInput } from '../schemas/billing-records';
import { findRecordForAdmin } from './find-accessible';
import { afterSettling, settled, type AdminRecordContext } from './mark-paid';
import type { BillingRecordView } from './view';

/**
 * `billingRecord.void` (admin): a DUE record becomes VOID (final) with `voidReason` and
 * `voidedAt`, through one guarded UPDATE (`WHERE status = 'DUE'`) committed with its audit
 * entry (`billing_record.void`, before and after). A Stripe payment that still arrives is
 * credited to the customer's balance as an overpayment. Afterwards the record's open Checkout
 * Sessions are expired (best effort).
 * Returns the admin `BillingRecordView`.
 * @throws AppError NOT_FOUND (not a record of the selected workspace), PRECONDITION_FAILED
 * (already PAID or VOID).
 */
export async function voidBillingRecord({
  ctx,
  input,
  now = new Date(),
}: {
  ctx: AdminRecordContext;
  input: BillingRecordVoidInput;
  now?: Date;
}): Promise<BillingRecordView> {
  const { db } = ctx;
  const found = await findRecordForAdmin({ db, workspaceId: ctx.workspaceId, recordId: input.recordId });
  if (found.record.status !== 'DUE') throw settled(found.record.status);
  const { billingRecords: r } = db.t;
  const updated = await db.transaction(function* (tx) {
    const [row] = yield* all(
      tx
        .update(r)
        .set({ status: 'VOID', voidReason: input.reason, voidedAt: now, updatedAt: now })
        .where(and(eq(r.id, found.record.id), eq(r.workspaceId, ctx.workspaceId), eq(r.status, 'DUE')))
        .returning(),
    );
    if (!row) return null;
    yield* recordAuditInTx(tx, db.t, {
      workspaceId: ctx.workspaceId,
      actor: ctx.actor,
      action: 'billing_record.void',
      targetType: 'billing_record',
      targetId: row.id,
      before: { status: 'DUE' },
      after: { status: 'VOID', voidReason: input.reason },
      requestId: ctx.requestId,
    });
    return row;
  });
  return afterSettling({ ctx, found, updated, now });
}
