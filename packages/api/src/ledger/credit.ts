import { all, sql, type LedgerEntryKind, type Tables, type TxBody, type TxBuilder } from '@tally/db';
import { newId } from '../ids';

export interface LedgerPosting {
  workspaceId: string;
  customerId: string;
  /** ISO 4217 lowercase. */
  currency: string;
  /** Signed minor units: > 0 credits, < 0 debits. Must be a safe integer. */
  amountMinor: number;
  kind: LedgerEntryKind;
  /** Unique idempotency reference, e.g. `topup:<id>`. A reference takes effect once, ever. */
  reference: string;
  description: string;
  topupId?: string | null;
  /** The billing record an `overpayment` came from. */
  billingRecordId?: string | null;
  stripeEventId?: string | null;
  /** The admin who posted it by hand (`adjustment`); null for Stripe-caused entries. */
  createdByUserId?: string | null;
}

/**
 * Transaction step: append a ledger entry and move the cached balance by the same amount,
 * unless an entry with this reference already exists (then nothing changes).
 * Returns whether this call posted it, and then the entry's id and the cached balance after it
 * (`balanceMinor`, minor units of `currency`: what the live stream's `balance.changed`
 * carries once the transaction commits). Exactly-once rests on the UNIQUE(reference)
 * constraint with ON CONFLICT DO NOTHING, so it holds across processes on both dialects.
 * @throws RangeError when `amountMinor` is not a safe integer.
 */
export function* postLedgerEntry(tx: TxBuilder, t: Tables, entry: LedgerPosting): TxBody<{ posted: false; entryId: null; balanceMinor: null } | { posted: true; entryId: string; balanceMinor: number }> {
  if (!Number.isSafeInteger(entry.amountMinor)) throw new RangeError(`amountMinor must be a safe integer, got ${entry.amountMinor}`);
  const inserted = yield* all(
    tx
      .insert(t.ledgerEntries)
      .values({
        id: newId(),
        workspaceId: entry.workspaceId,
        customerId: entry.customerId,
        currency: entry.currency,
        amountMinor: entry.amountMinor,
        kind: entry.kind,
        reference: entry.reference,
        description: entry.description,
        topupId: entry.topupId ?? null,
        billingRecordId: entry.billingRecordId ?? null,
        stripeEventId: entry.stripeEventId ?? null,
        createdByUserId: entry.createdByUserId ?? null,
      })
      .onConflictDoNothing({ target: t.ledgerEntries.reference })
      .returning({ id: t.ledgerEntries.id }),
  );
  const entryId = inserted[0]?.id;
  if (!entryId) return { posted: false, entryId: null, balanceMinor: null };
  const [balance] = yield* all(
    tx
      .insert(t.customerBalances)
      .values({ customerId: entry.customerId, currency: entry.currency, amountMinor: entry.amountMinor, updatedAt: new Date() })
      .onConflictDoUpdate({
        target: [t.customerBalances.customerId, t.customerBalances.currency],
        set: {
          amountMinor: sql`${t.customerBalances.amountMinor} + ${entry.amountMinor}`,
          updatedAt: new Date(),
        },
      })
      .returning({ amountMinor: t.customerBalances.amountMinor }),
  );
  return { posted: true, entryId, balanceMinor: Number(balance?.amountMinor) };
}
