/** Test helpers for usage metering: meters inserted directly (the meters domain is tested on its own). */
import type { Database, Meter } from '@tally/db';
import { newId } from '../src/ids';

/** Insert a meter row. Defaults: `sum`, 100 minor units per 1,000 units, `invoice` mode. */
export async function insertMeter(db: Database, workspaceId: string, overrides: Partial<Meter> & { key: string }): Promise<Meter> {
  const now = new Date();
  const row: Meter = {
    id: newId(),
    workspaceId,
    displayName: overrides.key,
    unit: 'unit',
    aggregation: 'sum',
    priceMinor: 100,
    blockSize: 1000,
    billingMode: 'invoice',
    stripeMeterEventName: null,
    archivedAt: null,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
  await db.q.insert(db.t.meters).values(row);
  return row;
}

/** Credit a customer's balance directly through the ledger (a top-up stand-in). */
export async function creditBalance(db: Database, { workspaceId, customerId, amountMinor, currency = 'usd' }: { workspaceId: string; customerId: string; amountMinor: number; currency?: string }) {
  const { postLedgerEntry } = await import('../src/ledger/credit');
  await db.transaction(function* (tx) {
    yield* postLedgerEntry(tx, db.t, { workspaceId, customerId, currency, amountMinor, kind: 'topup', reference: `test-credit:${newId()}`, description: 'test credit' });
  });
}
