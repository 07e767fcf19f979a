import { createHash, timingSafeEqual } from 'node:crypto';
import { eq, sql, type Database } from '@tally/db';
import type { LicenseVerifyResult, LicenseVerifyStatus } from '../schemas/licenses';
import type { SecretKeyring } from '../secrets/encryption';
import { hashLicenseKey, parseLicenseKey } from './key';
import { reconcileSubscriptionLicenses } from './reconcile';

/** The one answer for a malformed and for an unknown key (same fields, same values). */
export const INVALID_LICENSE: Readonly<LicenseVerifyResult> = Object.freeze({ valid: false, status: 'invalid', plan: null, expiresAt: null });

/** Equal strings, compared in constant time over their SHA-256 digests (length leaks nothing either). */
function sameText(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a, 'utf8').digest(), createHash('sha256').update(b, 'utf8').digest());
}

/**
 * What installed software learns about a license key (`POST /api/v1/licenses/verify`).
 *
 * 1. The key is parsed first (`parseLicenseKey`: length, alphabet, check symbol); a malformed
 *    key returns `INVALID_LICENSE` without touching the database. A well-formed key is looked
 *    up by its SHA-256 (an index lookup on a hash, no string comparison on the secret); an
 *    unknown one returns the same `INVALID_LICENSE`.
 * 2. The status is judged live: the license's subscription is reconciled first
 *    (`reconcileSubscriptionLicenses`, access at Stripe's "now" for it, so grace ending or a test
 *    clock moving counts at request time), then: revoked -> `revoked`; suspended -> `suspended`;
 *    active -> `trialing` while the subscription trials, else `active`.
 * 3. Fingerprint (decision): the first verify that sends one binds it (not for a revoked
 *    license), atomically with `lastVerifiedAt` in one UPDATE, so of two machines racing only
 *    one binds. Later, another fingerprint answers `valid: false` with
 *    `reason: 'fingerprint_mismatch'`, and none at all `reason: 'fingerprint_required'`; the
 *    status stays the license's own. `license.resetFingerprint` unbinds it.
 * 4. `lastVerifiedAt` is set on every verify of a known key.
 *
 * `expiresAt`: the trial end while trialing, else the current period's end (ISO 8601); null
 * when revoked. `plan`: the license's plan code.
 * @throws database errors only (the route answers 500).
 */
export async function verifyLicense(
  db: Database,
  { key, fingerprint, keyring, graceDays, now = new Date() }: { key: unknown; fingerprint?: string | null | undefined; keyring: SecretKeyring | null; graceDays: number; now?: Date },
): Promise<LicenseVerifyResult> {
  const canonical = parseLicenseKey(key);
  if (!canonical) return { ...INVALID_LICENSE };
  const { licenses: l, plans: p } = db.t;
  const [found] = await db.q.select({ id: l.id, subscriptionId: l.subscriptionId }).from(l).where(eq(l.keyHash, hashLicenseKey(canonical)));
  if (!found) return { ...INVALID_LICENSE };

  const judged = await reconcileSubscriptionLicenses(db, { subscriptionId: found.subscriptionId, keyring, graceDays, now });
  const fp = fingerprint ?? null;
  const [row] = await db.q
    .update(l)
    .set({
      lastVerifiedAt: new Date(),
      ...(fp !== null ? { fingerprint: sql`case when ${l.fingerprint} is null and ${l.status} <> 'revoked' then cast(${fp} as text) else ${l.fingerprint} end` } : {}),
    })
    .where(eq(l.id, found.id))
    .returning({ status: l.status, planId: l.planId, fingerprint: l.fingerprint });
  if (!row) return { ...INVALID_LICENSE };

  let status: LicenseVerifyStatus;
  if (row.status === 'revoked' || !judged || judged.target.kind === 'revokeAll') status = 'revoked';
  else if (row.status === 'suspended' || judged.target.status === 'suspended') status = 'suspended';
  else status = judged.target.answer;

  const [plan] = row.planId ? await db.q.select({ code: p.code }).from(p).where(eq(p.id, row.planId)) : [];
  const sub = judged?.subscription;
  const expires = status === 'revoked' || !sub ? null : status === 'trialing' ? (sub.trialEnd ?? sub.currentPeriodEnd) : sub.currentPeriodEnd;

  let reason: LicenseVerifyResult['reason'];
  if (status !== 'revoked' && row.fingerprint !== null) {
    if (fp === null) reason = 'fingerprint_required';
    else if (!sameText(row.fingerprint, fp)) reason = 'fingerprint_mismatch';
  }
  return {
    valid: (status === 'active' || status === 'trialing') && reason === undefined,
    status,
    plan: plan?.code ?? null,
    expiresAt: expires ? expires.toISOString() : null,
    ...(reason ? { reason } : {}),
  };
}
