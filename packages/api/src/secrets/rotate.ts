/**
 * Rotating TALLY_SECRET_ENCRYPTION_KEY (`pnpm tally secrets rotate`, `secrets status`).
 *
 * Procedure: set the new key as TALLY_SECRET_ENCRYPTION_KEY and the old one as
 * TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS on every process (they then read both and seal new
 * values with the new key), run `secrets rotate`, check `secrets status` shows only the new
 * key id, then remove TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS.
 */
import { all, and, asc, eq, gt, type Database } from '@tally/db';
import { isSealedWithOldKey, resealSecret, SecretDecryptionError, secretKeyId, type SecretKeyring } from './encryption';

/** Every sealed column: `workspace_stripe_accounts.secret_key_sealed` and `.webhook_secret_sealed`. */
export const SEALED_COLUMNS = ['secretKeySealed', 'webhookSecretSealed'] as const;
export type SealedColumn = (typeof SEALED_COLUMNS)[number];

/** Rows read and written per transaction (short, idempotent batches: see docs/ARCHITECTURE.md, SQLite locks). */
export const ROTATE_BATCH_SIZE = 50;

export interface RotateProgress {
  /** Rows (workspaces with keys) looked at so far, of `total`. */
  done: number;
  total: number;
}

export interface RotateResult {
  /** Values re-sealed under the current key. */
  rotated: number;
  /** Values already under the current key (nothing to do). */
  alreadyCurrent: number;
  /** Values that neither key opens (or altered, or moved between workspaces): the workspace must paste them again. */
  failed: { workspaceId: string; column: SealedColumn; reason: string }[];
  /** Values changed by someone else while rotating (a save): not overwritten; run again to check them. */
  changedMeanwhile: number;
  /** Workspaces (rows) looked at. */
  rows: number;
}

/**
 * Re-seal every stored workspace secret under `keyring.current`, opening old values with
 * `keyring.previous`. Idempotent (values already current are left alone) and safe beside a
 * running server: rows are read in batches of `batchSize` by workspace id; every re-seal is
 * computed outside the transaction, and each batch's writes are one short transaction whose
 * updates apply only where the column still holds the value that was read (a concurrent save
 * wins and is counted in `changedMeanwhile`). Nothing is awaited inside a transaction.
 * Never logs or returns a value.
 */
export async function rotateWorkspaceSecrets({
  db,
  keyring,
  batchSize = ROTATE_BATCH_SIZE,
  onProgress,
}: {
  db: Database;
  keyring: SecretKeyring;
  batchSize?: number;
  onProgress?: (progress: RotateProgress) => void;
}): Promise<RotateResult> {
  const w = db.t.workspaceStripeAccounts;
  const total = (await db.q.select({ id: w.workspaceId }).from(w)).length;
  const result: RotateResult = { rotated: 0, alreadyCurrent: 0, failed: [], changedMeanwhile: 0, rows: 0 };
  let after: string | null = null;
  for (;;) {
    const rows: { workspaceId: string; secretKeySealed: string; webhookSecretSealed: string | null }[] = await db.q
      .select({ workspaceId: w.workspaceId, secretKeySealed: w.secretKeySealed, webhookSecretSealed: w.webhookSecretSealed })
      .from(w)
      .where(after === null ? undefined : gt(w.workspaceId, after))
      .orderBy(asc(w.workspaceId))
      .limit(batchSize);
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.workspaceId;

    const updates: { workspaceId: string; column: SealedColumn; from: string; to: string }[] = [];
    for (const row of rows) {
      for (const column of SEALED_COLUMNS) {
        const sealed = row[column];
        if (sealed === null) continue;
        if (!isSealedWithOldKey(keyring, sealed)) {
          result.alreadyCurrent++;
          continue;
        }
        try {
          updates.push({ workspaceId: row.workspaceId, column, from: sealed, to: resealSecret({ keyring, workspaceId: row.workspaceId, sealed }) });
        } catch (err) {
          if (!(err instanceof SecretDecryptionError)) throw err;
          result.failed.push({ workspaceId: row.workspaceId, column, reason: err.message });
        }
      }
    }
    if (updates.length > 0) {
      const applied = await db.transaction(function* (tx) {
        let n = 0;
        for (const u of updates) {
          const col = w[u.column];
          const changed = yield* all(
            tx
              .update(w)
              .set({ [u.column]: u.to })
              .where(and(eq(w.workspaceId, u.workspaceId), eq(col, u.from)))
              .returning({ id: w.workspaceId }),
          );
          n += changed.length;
        }
        return n;
      });
      result.rotated += applied;
      result.changedMeanwhile += updates.length - applied;
    }
    result.rows += rows.length;
    onProgress?.({ done: result.rows, total: Math.max(total, result.rows) });
  }
  return result;
}

export interface SecretsStatus {
  /** Id of TALLY_SECRET_ENCRYPTION_KEY (`secretKeyId`), and of _PREVIOUS when set. */
  currentKeyId: string;
  previousKeyId: string | null;
  /** Stored values per key id they name, most first; `role` says which configured key it is, if any. */
  byKey: { keyId: string; values: number; role: 'current' | 'previous' | 'unknown' }[];
  /** Values that are not sealed values at all (malformed). */
  malformed: number;
  /** Workspaces with stored keys. */
  rows: number;
}

/** How many stored values each encryption key seals (read only; never opens a value). */
export async function secretsStatus({ db, keyring }: { db: Database; keyring: SecretKeyring }): Promise<SecretsStatus> {
  const w = db.t.workspaceStripeAccounts;
  const rows = await db.q.select({ secretKeySealed: w.secretKeySealed, webhookSecretSealed: w.webhookSecretSealed }).from(w);
  const currentKeyId = secretKeyId(keyring.current);
  const previousKeyId = keyring.previous ? secretKeyId(keyring.previous) : null;
  const counts = new Map<string, number>();
  let malformed = 0;
  for (const row of rows) {
    for (const sealed of [row.secretKeySealed, row.webhookSecretSealed]) {
      if (sealed === null) continue;
      const parts = sealed.split('.');
      if (parts.length !== 5 || parts[0] !== 'v1' || !/^[0-9a-f]{12}$/.test(parts[1]!)) {
        malformed++;
        continue;
      }
      counts.set(parts[1]!, (counts.get(parts[1]!) ?? 0) + 1);
    }
  }
  const byKey = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([keyId, values]) => ({ keyId, values, role: keyId === currentKeyId ? ('current' as const) : keyId === previousKeyId ? ('previous' as const) : ('unknown' as const) }));
  return { currentKeyId, previousKeyId, byKey, malformed, rows: rows.length };
}
