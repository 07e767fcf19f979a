import { allPrepared, param, placeholder, preparedStatement, sql, type LedgerEntryKind, type Tables, type TxBody, type TxBuilder } from '@tally/db';
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
export function* postLedgerEntry(_tx: TxBuilder, _t: Tables, entry: LedgerPosting): TxBody<{ posted: false; entryId: null; balanceMinor: null } | { posted: true; entryId: string; balanceMinor: number }> {
  if (!Number.isSafeInteger(entry.amountMinor)) throw new RangeError(`amountMinor must be a safe integer, got ${entry.amountMinor}`);
  const now = new Date();
  const inserted = yield* allPrepared(insertLedgerEntry, {
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
    now,
  });
  const entryId = inserted[0]?.id;
  if (!entryId) return { posted: false, entryId: null, balanceMinor: null };
  const [balance] = yield* allPrepared(moveCachedBalance, { customerId: entry.customerId, currency: entry.currency, amountMinor: entry.amountMinor, now });
  return { posted: true, entryId, balanceMinor: Number(balance?.amountMinor) };
}

/** `postLedgerEntry`'s insert, prepared once per database (every credit and debit runs it). */
const insertLedgerEntry = preparedStatement<
  { [K in keyof LedgerPosting]-?: Exclude<LedgerPosting[K], undefined> } & { id: string; now: Date },
  { id: string }
>('tally_insert_ledger_entry', (q, t) =>
  q
    .insert(t.ledgerEntries)
    .values({
      id: placeholder('id'),
      workspaceId: placeholder('workspaceId'),
      customerId: placeholder('customerId'),
      currency: placeholder('currency'),
      amountMinor: placeholder('amountMinor'),
      kind: placeholder('kind'),
      reference: placeholder('reference'),
      description: placeholder('description'),
      topupId: placeholder('topupId'),
      billingRecordId: placeholder('billingRecordId'),
      stripeEventId: placeholder('stripeEventId'),
      createdByUserId: placeholder('createdByUserId'),
      createdAt: param('now', t.ledgerEntries.createdAt),
    })
    .onConflictDoNothing({ target: t.ledgerEntries.reference })
    .returning({ id: t.ledgerEntries.id }),
);

/** `postLedgerEntry`'s cached balance move (created at the amount when absent), prepared once per database. */
const moveCachedBalance = preparedStatement<{ customerId: string; currency: string; amountMinor: number; now: Date }, { amountMinor: number }>('tally_move_cached_balance', (q, t) => {
  const b = t.customerBalances;
  return q
    .insert(b)
    .values({ customerId: placeholder('customerId'), currency: placeholder('currency'), amountMinor: placeholder('amountMinor'), updatedAt: param('now', b.updatedAt) })
    .onConflictDoUpdate({
      target: [b.customerId, b.currency],
      set: { amountMinor: sql`${b.amountMinor} + ${param('amountMinor', b.amountMinor)}`, updatedAt: param('now', b.updatedAt) },
    })
    .returning({ amountMinor: b.amountMinor });
});
