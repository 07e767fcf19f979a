import { and, eq, run, type Database } from '@tally/db';
import { recordAuditInTx } from '../audit/record';
import type { Actor } from '../context';
import { AppError } from '../errors';
import { newId } from '../ids';
import type { BillingRecordCreateInput } from '../schemas/billing-records';
import type { ApiConfig } from '../services';
import { newPayToken } from './pay-token';
import { toBillingRecordView, type BillingRecordView } from './view';

/**
 * Issue a billing record (admin): `amountMinor` integer minor units (1 to 99,999,999, checked
 * by `BillingRecordCreateInput`), `currency` lowercase ISO 4217 (default the workspace's),
 * `dueDate` a calendar date `YYYY-MM-DD`. The record starts `DUE` with a fresh pay link token;
 * the row and its audit entry (`billing_record.create`) commit together.
 * Returns the admin `BillingRecordView` (with `payUrl`).
 * @throws AppError NOT_FOUND when the customer is not in the selected workspace.
 */
export async function createBillingRecord({
  ctx,
  input,
}: {
  ctx: { db: Database; config: ApiConfig; actor: Actor; requestId: string; workspaceId: string; workspaceCurrency: string };
  input: BillingRecordCreateInput;
}): Promise<BillingRecordView> {
  const { db } = ctx;
  const { customers, billingRecords } = db.t;
  const [customer] = await db.q
    .select({ id: customers.id, name: customers.name })
    .from(customers)
    .where(and(eq(customers.id, input.customerId), eq(customers.workspaceId, ctx.workspaceId)))
    .limit(1);
  if (!customer) throw new AppError('NOT_FOUND', 'Customer not found');

  const now = new Date();
  const row = {
    id: newId(),
    workspaceId: ctx.workspaceId,
    customerId: customer.id,
    description: input.description,
    amountMinor: input.amountMinor,
    currency: input.currency ?? ctx.workspaceCurrency,
    dueDate: input.dueDate,
    status: 'DUE' as const,
    payToken: newPayToken(),
    paymentAttempts: 0,
    createdByUserId: ctx.actor.userId,
    createdAt: now,
    updatedAt: now,
  };
  await db.transaction(function* (tx) {
    yield* run(tx.insert(billingRecords).values(row));
    yield* recordAuditInTx(tx, db.t, {
      workspaceId: ctx.workspaceId,
      actor: ctx.actor,
      action: 'billing_record.create',
      targetType: 'billing_record',
      targetId: row.id,
      before: null,
      after: { customerId: row.customerId, description: row.description, amountMinor: row.amountMinor, currency: row.currency, dueDate: row.dueDate, status: row.status },
      requestId: ctx.requestId,
    });
  });
  const [stored] = await db.q.select().from(billingRecords).where(eq(billingRecords.id, row.id));
  return toBillingRecordView(stored!, { customerName: customer.name, audience: 'admin', webUrl: ctx.config.webUrl, overpayments: [] });
}
