import { all, and, eq, type Database } from '@tally/db';
import { recordAuditInTx } from '../audit/record';
import type { Actor } from '../context';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { utcDate, type BillingRecordMarkPaidInput } from '../schemas/billing-records';
import type { ApiConfig } from '../services';
import type { StripeAccounts } from '../stripe/accounts';
import { publishBillingChange } from '../stream/publish';
import { expireOpenCheckouts } from './expire-open-checkouts';
import { findRecordForAdmin } from './find-accessible';
import { viewsOf, type BillingRecordRow, type BillingRecordView } from './view';

/** The context of an admin change to a record that may have open Checkout Sessions. */
export interface AdminRecordContext {
  db: Database;
  stripeAccounts: StripeAccounts;
  config: ApiConfig;
  logger: Logger;
  actor: Actor;
  requestId: string;
  workspaceId: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * `billingRecord.markPaid` (admin): a payment outside Stripe (bank transfer, cash, check,
 * other) moves a DUE record to PAID, with `paymentMethod`, `paymentReference`, `manualPaidOn`
 * (`paidOn`, a calendar date no later than tomorrow in UTC, so an admin ahead of UTC can enter
 * their today), `paidAt` (now) and `paidByUserId`. The move is one guarded UPDATE
 * (`WHERE status = 'DUE'`), committed with its audit entry (`billing_record.mark_paid`, before
 * and after), so a concurrent mark, void or Stripe payment cannot also win: a Stripe payment
 * arriving later is credited as an overpayment. Afterwards the record's open Checkout Sessions
 * are expired (best effort, `expireOpenCheckouts`).
 * Returns the admin `BillingRecordView`.
 * @throws AppError BAD_REQUEST (`paidOn` in the future), NOT_FOUND (not a record of the
 * selected workspace), PRECONDITION_FAILED (already PAID or VOID: both are final).
 */
export async function markBillingRecordPaid({
  ctx,
  input,
  now = new Date(),
}: {
  ctx: AdminRecordContext;
  input: BillingRecordMarkPaidInput;
  now?: Date;
}): Promise<BillingRecordView> {
  const latest = utcDate(new Date(now.getTime() + DAY_MS));
  if (input.paidOn > latest) throw new AppError('BAD_REQUEST', 'paidOn cannot be in the future');
  const { db } = ctx;
  const found = await findRecordForAdmin({ db, workspaceId: ctx.workspaceId, recordId: input.recordId });
  if (found.record.status !== 'DUE') throw settled(found.record.status);

  const { billingRecords: r } = db.t;
  const paymentReference = input.reference ? input.reference : null;
  const updated = await db.transaction(function* (tx) {
    const [row] = yield* all(
      tx
        .update(r)
        .set({
          status: 'PAID',
          paymentMethod: input.method,
          paymentReference,
          manualPaidOn: input.paidOn,
          paidAt: now,
          paidByUserId: ctx.actor.userId,
          updatedAt: now,
        })
        .where(and(eq(r.id, found.record.id), eq(r.workspaceId, ctx.workspaceId), eq(r.status, 'DUE')))
        .returning(),
    );
    if (!row) return null;
    yield* recordAuditInTx(tx, db.t, {
      workspaceId: ctx.workspaceId,
      actor: ctx.actor,
      action: 'billing_record.mark_paid',
      targetType: 'billing_record',
      targetId: row.id,
      before: { status: 'DUE' },
      after: { status: 'PAID', paymentMethod: input.method, paymentReference, manualPaidOn: input.paidOn },
      requestId: ctx.requestId,
    });
    return row;
  });
  // Committed: tell the live stream (issue 10).
  if (updated) publishBillingChange({ kind: 'billing_record.paid', workspaceId: updated.workspaceId, customerId: updated.customerId, billingRecordId: updated.id, amountMinor: updated.amountMinor, currency: updated.currency });
  return afterSettling({ ctx, found, updated, now });
}

/**
 * After a guarded DUE -> PAID/VOID update: PRECONDITION_FAILED when it moved nothing (the record
 * was settled first), else the record's open Checkout Sessions are expired (best effort) and
 * its admin view returned.
 */
export async function afterSettling({
  ctx,
  found,
  updated,
  now,
}: {
  ctx: AdminRecordContext;
  found: { record: { id: string }; customerName: string };
  updated: BillingRecordRow | null | undefined;
  now: Date;
}): Promise<BillingRecordView> {
  const { db } = ctx;
  const { billingRecords: r } = db.t;
  if (!updated) {
    const [current] = await db.q.select({ status: r.status }).from(r).where(eq(r.id, found.record.id));
    throw settled(current?.status ?? 'VOID');
  }
  await expireOpenCheckouts({ db, stripeAccounts: ctx.stripeAccounts, logger: ctx.logger, record: updated, logFields: { requestId: ctx.requestId } });
  const [view] = await viewsOf(db, [{ record: updated, customerName: found.customerName }], { audience: 'admin', webUrl: ctx.config.webUrl, today: utcDate(now) });
  return view!;
}

/** PAID and VOID are final. */
export function settled(status: string): AppError {
  return new AppError('PRECONDITION_FAILED', status === 'PAID' ? 'This billing record is already paid' : 'This billing record is void');
}
