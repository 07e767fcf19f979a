import { and, asc, eq, isNull, type Database } from '@tally/db';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import type { AdminLicenseView, LicenseStatus, LicenseView } from '../schemas/licenses';
import { decryptSecret, SecretDecryptionError, type SecretKeyring } from '../secrets/encryption';
import { hashLicenseKey, maskLicenseKey, parseLicenseKey } from './key';
import { reconcileSubscriptionLicenses } from './reconcile';

interface ListArgs {
  db: Database;
  workspaceId: string;
  customerId: string;
  keyring: SecretKeyring | null;
  graceDays: number;
  now?: Date;
}

/** Reconcile every subscription of the customer (a read brings licenses up to date). */
async function reconcileCustomer({ db, workspaceId, customerId, keyring, graceDays, now }: ListArgs): Promise<void> {
  const { subscriptions: s } = db.t;
  const subs = await db.q.select({ id: s.id }).from(s).where(and(eq(s.workspaceId, workspaceId), eq(s.customerId, customerId))).orderBy(asc(s.createdAt));
  for (const sub of subs) await reconcileSubscriptionLicenses(db, { subscriptionId: sub.id, keyring, graceDays, ...(now ? { now } : {}) });
}

async function licenseRows(db: Database, workspaceId: string, customerId: string) {
  const { licenses: l, plans: p } = db.t;
  return db.q
    .select({
      id: l.id,
      subscriptionId: l.subscriptionId,
      sequence: l.sequence,
      status: l.status,
      keyHash: l.keyHash,
      keyLast4: l.keyLast4,
      keyCiphertext: l.keyCiphertext,
      revealedAt: l.revealedAt,
      fingerprint: l.fingerprint,
      lastVerifiedAt: l.lastVerifiedAt,
      suspendedAt: l.suspendedAt,
      revokedAt: l.revokedAt,
      createdAt: l.createdAt,
      planCode: p.code,
      planName: p.name,
    })
    .from(l)
    .leftJoin(p, eq(p.id, l.planId))
    .where(and(eq(l.workspaceId, workspaceId), eq(l.customerId, customerId)))
    .orderBy(asc(l.createdAt), asc(l.subscriptionId), asc(l.sequence));
}
type LicenseRow = Awaited<ReturnType<typeof licenseRows>>[number];

const baseView = (r: LicenseRow) => ({
  id: r.id,
  sequence: r.sequence,
  plan: r.planCode !== null && r.planName !== null ? { code: r.planCode, name: r.planName } : null,
  status: r.status as LicenseStatus,
  maskedKey: maskLicenseKey(r.keyLast4),
  revealedAt: r.revealedAt,
  createdAt: r.createdAt,
  lastVerifiedAt: r.lastVerifiedAt,
  fingerprintBound: r.fingerprint !== null,
});

/**
 * Reveal a license's full key to this caller at most once: open the sealed key (it must hash
 * to the row's `keyHash`, so a ciphertext moved between rows is refused), then one guarded
 * UPDATE sets `revealedAt` and erases the ciphertext only where it still holds the value read
 * and nobody revealed it yet. Of two concurrent readers, exactly one gets the key.
 * Null when already revealed, revoked, or the sealed value cannot be opened (logged by id).
 */
async function revealOnce(db: Database, row: LicenseRow, workspaceId: string, keyring: SecretKeyring | null, logger: Logger | undefined): Promise<{ key: string; at: Date } | null> {
  if (!row.keyCiphertext || row.revealedAt || row.status === 'revoked' || !keyring) return null;
  let key: string | null;
  try {
    key = parseLicenseKey(decryptSecret({ keyring, workspaceId, sealed: row.keyCiphertext }));
  } catch (err) {
    if (!(err instanceof SecretDecryptionError)) throw err;
    logger?.error({ licenseId: row.id, reason: err.message }, 'License key cannot be decrypted; it stays unrevealed');
    return null;
  }
  if (!key || hashLicenseKey(key) !== row.keyHash) {
    logger?.error({ licenseId: row.id }, 'Sealed license key does not match its hash; it stays unrevealed');
    return null;
  }
  const { licenses: l } = db.t;
  const at = new Date();
  const won = await db.q
    .update(l)
    .set({ revealedAt: at, keyCiphertext: null, updatedAt: at })
    .where(and(eq(l.id, row.id), isNull(l.revealedAt), eq(l.keyCiphertext, row.keyCiphertext)))
    .returning({ id: l.id });
  return won.length === 1 ? { key, at } : null;
}

/**
 * The licenses of a customer of `workspaceId` (the caller resolved the customer), oldest
 * first, after reconciling each of the customer's subscriptions. A license whose key has not
 * been shown yet carries it in `fullKey` in this answer only (see `revealOnce`); every other
 * answer has `fullKey: null` and the masked key.
 */
export async function listLicensesForCustomer(args: ListArgs & { logger?: Logger }): Promise<LicenseView[]> {
  await reconcileCustomer(args);
  const rows = await licenseRows(args.db, args.workspaceId, args.customerId);
  const views: LicenseView[] = [];
  for (const r of rows) {
    const revealed = await revealOnce(args.db, r, args.workspaceId, args.keyring, args.logger);
    views.push({ ...baseView(r), fullKey: revealed?.key ?? null, revealedAt: revealed?.at ?? r.revealedAt });
  }
  return views;
}

/**
 * An admin's view of a customer's licenses (never a full key, and listing reveals nothing).
 * @throws AppError NOT_FOUND when `customerId` is not a customer of `workspaceId`.
 */
export async function listLicensesForAdmin(args: ListArgs): Promise<AdminLicenseView[]> {
  const { customers: c } = args.db.t;
  const [customer] = await args.db.q.select({ id: c.id }).from(c).where(and(eq(c.id, args.customerId), eq(c.workspaceId, args.workspaceId)));
  if (!customer) throw new AppError('NOT_FOUND', 'Customer not found');
  await reconcileCustomer(args);
  const rows = await licenseRows(args.db, args.workspaceId, args.customerId);
  return rows.map((r) => ({ ...baseView(r), subscriptionId: r.subscriptionId, suspendedAt: r.suspendedAt, revokedAt: r.revokedAt }));
}
