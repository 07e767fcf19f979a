import { and, eq, get, type Database } from '@tally/db';
import { recordAuditInTx } from '../audit/record';
import type { Actor } from '../context';
import { AppError, notFound } from '../errors';
import { newId } from '../ids';
import { AdjustBalanceInput } from '../schemas/customers';
import { publishBillingChange } from '../stream/publish';
import { postLedgerEntry } from './credit';

/**
 * A manual, signed correction of a customer's balance by an admin (ledger entry kind
 * `adjustment`): `amountMinor` > 0 credits, < 0 debits, in the workspace's currency; `reason`
 * becomes the entry's description; `createdByUserId` is the admin; the reference is
 * `adjustment:<new id>` (each call is a new adjustment). The entry, the cached balance and the
 * audit entry `ledger.adjustment` (before/after balance, amount, reason) commit in one
 * transaction, so none exists without the others.
 *
 * A debit may take the balance below zero: an admin correcting a mistaken credit the customer
 * has already spent must be able to post the exact correction, and a negative balance is what
 * the customer owes. The audit entry shows the balance before and after.
 * @param input `{ customerId, amountMinor (non-zero integer, |x| <= 99,999,999 minor units),
 *   reason (1..500, trimmed) }`, checked again here for callers other than tRPC.
 * @returns `{ entryId, balanceMinor (the new balance, minor units), currency }`.
 * @throws AppError BAD_REQUEST for an invalid amount or reason (nothing is stored); NOT_FOUND
 *   when the customer does not exist or belongs to another workspace.
 */
export async function adjustBalance({
  db,
  workspaceId,
  currency,
  actor,
  requestId,
  input,
}: {
  db: Database;
  workspaceId: string;
  /** The workspace's currency (ISO 4217 lowercase). */
  currency: string;
  actor: Actor;
  requestId?: string | null;
  input: AdjustBalanceInput;
}): Promise<{ entryId: string; balanceMinor: number; currency: string }> {
  const parsed = AdjustBalanceInput.safeParse(input);
  if (!parsed.success) throw new AppError('BAD_REQUEST', parsed.error.issues.map((i) => i.message).join('; '));
  const { customerId, amountMinor, reason } = parsed.data;
  const t = db.t;
  const adjusted = await db.transaction(function* (tx) {
    const customer = yield* get(tx.select({ id: t.customers.id }).from(t.customers).where(and(eq(t.customers.id, customerId), eq(t.customers.workspaceId, workspaceId))));
    if (!customer) throw notFound('Customer');
    const posted = yield* postLedgerEntry(tx, t, {
      workspaceId,
      customerId,
      currency,
      amountMinor,
      kind: 'adjustment',
      reference: `adjustment:${newId()}`,
      description: reason,
      createdByUserId: actor.userId,
    });
    if (!posted.entryId) throw new Error('adjustment reference collided'); // a fresh UUIDv7: cannot happen
    const entryId = posted.entryId;
    // Read after our own upsert: the row is ours until commit, so this is exactly our result.
    const balance = yield* get(
      tx
        .select({ amountMinor: t.customerBalances.amountMinor })
        .from(t.customerBalances)
        .where(and(eq(t.customerBalances.customerId, customerId), eq(t.customerBalances.currency, currency))),
    );
    const balanceMinor = Number(balance?.amountMinor);
    if (!Number.isSafeInteger(balanceMinor)) throw new AppError('BAD_REQUEST', 'This adjustment would take the balance out of range');
    yield* recordAuditInTx(tx, t, {
      workspaceId,
      actor,
      action: 'ledger.adjustment',
      targetType: 'customer',
      targetId: customerId,
      before: { balanceMinor: balanceMinor - amountMinor, currency },
      after: { balanceMinor, currency, entryId, amountMinor, reason },
      requestId: requestId ?? null,
    });
    return { entryId, balanceMinor, currency };
  });
  // Committed: tell the live stream (issue 10).
  publishBillingChange({ kind: 'balance.changed', workspaceId, customerId, balanceMinor: adjusted.balanceMinor, currency });
  return adjusted;
}
