/**
 * Rotating TALLY_SECRET_ENCRYPTION_KEY (`pnpm tally secrets rotate`, `secrets status`).
 *
 * Sealed values live in `workspace_stripe_accounts.secret_key_sealed` and
 * `.webhook_secret_sealed` (Settings -> Stripe), and in `licenses.key_ciphertext` (a license
 * key not yet revealed to its customer; erased, so null, once revealed or revoked). All are
 * sealed by `encryptSecret` with their workspace id as associated data.
 *
 * Procedure: set the new key as TALLY_SECRET_ENCRYPTION_KEY and the old one as
 * TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS on every process (they then read both and seal new
 * values with the new key), run `secrets rotate`, check `secrets status` shows only the new
 * key id, then remove TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS.
 */
import { all, and, asc, count, eq, gt, type Database } from '@tally/db';
import { isNotNull } from 'drizzle-orm';
import { isSealedWithOldKey, resealSecret, SecretDecryptionError, secretKeyId, type SecretKeyring } from './encryption';

/** The sealed columns of `workspace_stripe_accounts`: `secret_key_sealed` and `webhook_secret_sealed`. */
export const SEALED_COLUMNS = ['secretKeySealed', 'webhookSecretSealed'] as const;
export type SealedColumn = (typeof SEALED_COLUMNS)[number];
/** The sealed column of `licenses`: `key_ciphertext` (null once the key was revealed, or the license revoked). */
export const LICENSE_SEALED_COLUMN = 'keyCiphertext' as const;

/** Rows read and written per transaction (short, idempotent batches: see docs/ARCHITECTURE.md, SQLite locks). */
export const ROTATE_BATCH_SIZE = 50;

/** Rows looked at so far, of `total` (counted when rotation started; never less than `done`). */
export interface RotateCount {
  done: number;
  total: number;
}

export interface RotateProgress extends RotateCount {
  /** Both tables together (`workspaces` + `licenses`); workspaces are rotated first, then licenses. */
  done: number;
  total: number;
  /** `workspace_stripe_accounts` rows (workspaces with keys). */
  workspaces: RotateCount;
  /** `licenses` rows holding a sealed key (not yet revealed). */
  licenses: RotateCount;
}

/**
 * A value that could not be re-sealed, and where it is. `rowId` is the row's primary key: the
 * workspace id for `workspace_stripe_accounts`, the license id for `licenses`.
 */
export type RotateFailure =
  | { table: 'workspace_stripe_accounts'; rowId: string; workspaceId: string; column: SealedColumn; reason: string }
  | { table: 'licenses'; rowId: string; workspaceId: string; column: typeof LICENSE_SEALED_COLUMN; reason: string };
type FailureLocation = RotateFailure extends infer F ? (F extends RotateFailure ? Omit<F, 'reason'> : never) : never;

export interface RotateResult {
  /** Values re-sealed under the current key (both tables). */
  rotated: number;
  /** Values already under the current key (nothing to do). */
  alreadyCurrent: number;
  /**
   * Values that neither key opens (or altered, or moved between workspaces or rows): a
   * workspace must paste its keys again; an unrevealed license key stays unrevealable.
   */
  failed: RotateFailure[];
  /**
   * Values changed by someone else while rotating (a save of Stripe settings; a license key
   * revealed or revoked, which erases it): not overwritten; run again to check them.
   */
  changedMeanwhile: number;
  /** Workspaces (`workspace_stripe_accounts` rows) looked at. */
  rows: number;
  /** Licenses holding a sealed key (not yet revealed) looked at. */
  licenseRows: number;
}

interface Candidate<L extends FailureLocation> {
  at: L;
  sealed: string | null;
}
interface Update<L extends FailureLocation> {
  at: L;
  from: string;
  to: string;
}

/**
 * One table's pass: page rows by id in batches, re-seal outside any transaction, then write
 * the batch in one short transaction of guarded updates (`write` returns how many applied).
 */
async function rotatePass<Row, L extends FailureLocation>({
  keyring,
  batchSize,
  result,
  page,
  idOf,
  candidates,
  write,
  onBatch,
}: {
  keyring: SecretKeyring;
  batchSize: number;
  result: RotateResult;
  page: (after: string | null, limit: number) => Promise<Row[]>;
  idOf: (row: Row) => string;
  candidates: (row: Row) => Candidate<L>[];
  write: (updates: Update<L>[]) => Promise<number>;
  onBatch: (rows: number) => void;
}): Promise<void> {
  let after: string | null = null;
  for (;;) {
    const rows = await page(after, batchSize);
    if (rows.length === 0) break;
    after = idOf(rows[rows.length - 1]!);
    const updates: Update<L>[] = [];
    for (const row of rows) {
      for (const { at, sealed } of candidates(row)) {
        if (sealed === null) continue;
        if (!isSealedWithOldKey(keyring, sealed)) {
          result.alreadyCurrent++;
          continue;
        }
        try {
          updates.push({ at, from: sealed, to: resealSecret({ keyring, workspaceId: at.workspaceId, sealed }) });
        } catch (err) {
          if (!(err instanceof SecretDecryptionError)) throw err;
          result.failed.push({ ...at, reason: err.message } as RotateFailure);
        }
      }
    }
    if (updates.length > 0) {
      const applied = await write(updates);
      result.rotated += applied;
      result.changedMeanwhile += updates.length - applied;
    }
    onBatch(rows.length);
  }
}

/**
 * Re-seal every stored sealed value under `keyring.current`, opening old values with
 * `keyring.previous`: workspace Stripe keys and webhook signing secrets
 * (`workspace_stripe_accounts`), then license keys not yet revealed (`licenses.key_ciphertext`;
 * null ones are skipped). Idempotent (values already current are left alone) and safe beside a
 * running server: rows are read in batches of `batchSize` by primary key (workspace id, then
 * license id); every re-seal is computed outside the transaction, and each batch's writes are
 * one short transaction whose updates apply only where the column still holds the value that
 * was read (a concurrent save, reveal or revocation wins and is counted in `changedMeanwhile`).
 * Nothing is awaited inside a transaction. A value no configured key opens is reported in
 * `failed` (with its table and row id), never thrown. Never logs or returns a value.
 * `onProgress` is called after each batch.
 * @throws only database errors (and non-decryption errors of the crypto layer).
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
  const { workspaceStripeAccounts: w, licenses: l } = db.t;
  const sealedLicense = isNotNull(l.keyCiphertext);
  const [[workspaceTotal], [licenseTotal]] = await Promise.all([
    db.q.select({ n: count() }).from(w),
    db.q.select({ n: count() }).from(l).where(sealedLicense),
  ]);
  const workspaces: RotateCount = { done: 0, total: Number(workspaceTotal?.n ?? 0) };
  const licenses: RotateCount = { done: 0, total: Number(licenseTotal?.n ?? 0) };
  const result: RotateResult = { rotated: 0, alreadyCurrent: 0, failed: [], changedMeanwhile: 0, rows: 0, licenseRows: 0 };
  const report = () => {
    if (!onProgress) return;
    const ws = { done: workspaces.done, total: Math.max(workspaces.total, workspaces.done) };
    const ls = { done: licenses.done, total: Math.max(licenses.total, licenses.done) };
    onProgress({ done: ws.done + ls.done, total: ws.total + ls.total, workspaces: ws, licenses: ls });
  };

  await rotatePass({
    keyring,
    batchSize,
    result,
    page: (after, limit) =>
      db.q
        .select({ workspaceId: w.workspaceId, secretKeySealed: w.secretKeySealed, webhookSecretSealed: w.webhookSecretSealed })
        .from(w)
        .where(after === null ? undefined : gt(w.workspaceId, after))
        .orderBy(asc(w.workspaceId))
        .limit(limit),
    idOf: (row) => row.workspaceId,
    candidates: (row) =>
      SEALED_COLUMNS.map((column) => ({
        at: { table: 'workspace_stripe_accounts' as const, rowId: row.workspaceId, workspaceId: row.workspaceId, column },
        sealed: row[column],
      })),
    write: (updates) =>
      db.transaction(function* (tx) {
        let n = 0;
        for (const u of updates) {
          const changed = yield* all(
            tx
              .update(w)
              .set({ [u.at.column]: u.to })
              .where(and(eq(w.workspaceId, u.at.rowId), eq(w[u.at.column], u.from)))
              .returning({ id: w.workspaceId }),
          );
          n += changed.length;
        }
        return n;
      }),
    onBatch: (rows) => {
      result.rows += rows;
      workspaces.done += rows;
      report();
    },
  });

  await rotatePass({
    keyring,
    batchSize,
    result,
    page: (after, limit) =>
      db.q
        .select({ id: l.id, workspaceId: l.workspaceId, keyCiphertext: l.keyCiphertext })
        .from(l)
        .where(after === null ? sealedLicense : and(sealedLicense, gt(l.id, after)))
        .orderBy(asc(l.id))
        .limit(limit),
    idOf: (row) => row.id,
    candidates: (row) => [{ at: { table: 'licenses' as const, rowId: row.id, workspaceId: row.workspaceId, column: LICENSE_SEALED_COLUMN }, sealed: row.keyCiphertext }],
    write: (updates) =>
      db.transaction(function* (tx) {
        let n = 0;
        for (const u of updates) {
          // A reveal or revocation erases the ciphertext meanwhile: then nothing matches here.
          const changed = yield* all(
            tx
              .update(l)
              .set({ keyCiphertext: u.to })
              .where(and(eq(l.id, u.at.rowId), eq(l.keyCiphertext, u.from)))
              .returning({ id: l.id }),
          );
          n += changed.length;
        }
        return n;
      }),
    onBatch: (rows) => {
      result.licenseRows += rows;
      licenses.done += rows;
      report();
    },
  });
  return result;
}

export interface SecretsStatus {
  /** Id of TALLY_SECRET_ENCRYPTION_KEY (`secretKeyId`), and of _PREVIOUS when set. */
  currentKeyId: string;
  previousKeyId: string | null;
  /**
   * Stored values per key id they name, most first, counting workspace Stripe keys, webhook
   * signing secrets and unrevealed license keys; `role` says which configured key it is, if any.
   */
  byKey: { keyId: string; values: number; role: 'current' | 'previous' | 'unknown' }[];
  /** Values (of either table) that are not sealed values at all (malformed). */
  malformed: number;
  /** Workspaces with stored keys (`workspace_stripe_accounts` rows). */
  rows: number;
}

/**
 * How many stored values each encryption key seals, over `workspace_stripe_accounts` and the
 * licenses still holding a sealed key (read only; never opens a value).
 */
export async function secretsStatus({ db, keyring }: { db: Database; keyring: SecretKeyring }): Promise<SecretsStatus> {
  const { workspaceStripeAccounts: w, licenses: l } = db.t;
  const [rows, licenseRows] = await Promise.all([
    db.q.select({ secretKeySealed: w.secretKeySealed, webhookSecretSealed: w.webhookSecretSealed }).from(w),
    db.q.select({ keyCiphertext: l.keyCiphertext }).from(l).where(isNotNull(l.keyCiphertext)),
  ]);
  const currentKeyId = secretKeyId(keyring.current);
  const previousKeyId = keyring.previous ? secretKeyId(keyring.previous) : null;
  const counts = new Map<string, number>();
  let malformed = 0;
  const values = [...rows.flatMap((row) => [row.secretKeySealed, row.webhookSecretSealed]), ...licenseRows.map((row) => row.keyCiphertext)];
  for (const sealed of values) {
    if (sealed === null) continue;
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== 'v1' || !/^[0-9a-f]{12}$/.test(parts[1]!)) {
      malformed++;
      continue;
    }
    counts.set(parts[1]!, (counts.get(parts[1]!) ?? 0) + 1);
  }
  const byKey = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([keyId, values]) => ({ keyId, values, role: keyId === currentKeyId ? ('current' as const) : keyId === previousKeyId ? ('previous' as const) : ('unknown' as const) }));
  return { currentKeyId, previousKeyId, byKey, malformed, rows: rows.length };
}
