/**
 * License keys (issue 8 item 6): shapes shared by the server and the SPA (no server imports;
 * nothing from `../schemas`, which re-exports this file).
 *
 * A key reads `TLY-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX`: seven groups of four Crockford base32
 * symbols (`0-9 A-Z` without I, L, O, U), 27 random symbols (135 bits from
 * `crypto.randomBytes`) and one Luhn mod 32 check symbol at the end. Input is
 * case-insensitive, dashes and spaces are optional, the `TLY` prefix is optional, and the
 * confusables I/L -> 1, O -> 0 are read as Crockford does (crockford.com/base32.html).
 * Parsing is in `licenses/key.ts`; the server stores only the SHA-256 of the canonical form.
 */
import { z } from 'zod';

/** What every key starts with. */
export const LICENSE_KEY_PREFIX = 'TLY';
/** Symbols per group and groups per key (the last group ends with the check symbol). */
export const LICENSE_KEY_GROUP_LENGTH = 4;
export const LICENSE_KEY_GROUPS = 7;
/** Random symbols (5 bits each: 135 bits). */
export const LICENSE_KEY_DATA_LENGTH = LICENSE_KEY_GROUP_LENGTH * LICENSE_KEY_GROUPS - 1;
/** The canonical form: `TLY-` and seven dash-separated groups of four. */
export const LICENSE_KEY_PATTERN = /^TLY(?:-[0-9A-HJKMNP-TV-Z]{4}){7}$/;
/** A masked key as lists show it: everything but the last group hidden. */
export const LICENSE_KEY_MASK = `${LICENSE_KEY_PREFIX}-${Array.from({ length: LICENSE_KEY_GROUPS - 1 }, () => '••••').join('-')}-`;

/** Longest machine fingerprint software may bind a license to, characters. */
export const LICENSE_FINGERPRINT_MAX = 200;
/** Printable ASCII (space to `~`), so a fingerprint is safe in a text column and a log. */
export const LICENSE_FINGERPRINT_PATTERN = /^[\x20-\x7e]+$/;

/** Stored license statuses. `trialing` is never stored: verify answers it live from the subscription. */
export const LICENSE_STATUS_VALUES = ['active', 'suspended', 'revoked'] as const;
export type LicenseStatus = (typeof LICENSE_STATUS_VALUES)[number];

/** What `POST /api/v1/licenses/verify` answers in `status`. */
export const LICENSE_VERIFY_STATUS_VALUES = ['active', 'trialing', 'suspended', 'revoked', 'invalid'] as const;
export type LicenseVerifyStatus = (typeof LICENSE_VERIFY_STATUS_VALUES)[number];

const uuid = (field: string) => z.uuid({ error: `${field} must be a Tally id (a UUID)` });

/** `license.list`: optionally the customer to act for (else the caller's first). */
export const LicenseListInput = z.object({ customerId: uuid('customerId').optional() }).optional();
export type LicenseListInput = z.infer<typeof LicenseListInput>;

/** `license.listForCustomer` (admin). */
export const AdminLicenseListInput = z.object({ customerId: uuid('customerId') });
export type AdminLicenseListInput = z.infer<typeof AdminLicenseListInput>;

/** `license.resetFingerprint`: unbind a license from its machine so another one can bind it. */
export const ResetLicenseFingerprintInput = z.object({ licenseId: uuid('licenseId'), customerId: uuid('customerId').optional() });
export type ResetLicenseFingerprintInput = z.infer<typeof ResetLicenseFingerprintInput>;

/**
 * The body of `POST /api/v1/licenses/verify`. `key` is any string (a malformed key is answered
 * like an unknown one, never as a bad request); `fingerprint` is 1 to 200 printable ASCII
 * characters when present. Other fields are ignored.
 */
export const LicenseVerifyBody = z.object({
  key: z.string({ error: 'key must be a string' }),
  fingerprint: z
    .string({ error: 'fingerprint must be a string' })
    .min(1, 'fingerprint must not be empty')
    .max(LICENSE_FINGERPRINT_MAX, `fingerprint must be at most ${LICENSE_FINGERPRINT_MAX} characters`)
    .regex(LICENSE_FINGERPRINT_PATTERN, 'fingerprint must be printable ASCII characters')
    .optional(),
});
export type LicenseVerifyBody = z.infer<typeof LicenseVerifyBody>;

/**
 * The answer of `POST /api/v1/licenses/verify` (always HTTP 200 for a well-formed request).
 * - `valid`: the software may run (status `active` or `trialing`, and the fingerprint matches).
 * - `plan`: the plan code (`enterprise`); null for `invalid`.
 * - `expiresAt`: ISO 8601; the trial end while trialing, else the end of the current billing
 *   period (renewal extends it); null for `revoked` and `invalid`.
 * - `reason` (only when `valid` is false for a license that is otherwise usable):
 *   `fingerprint_mismatch` (bound to another machine) or `fingerprint_required` (bound, but the
 *   request sent none).
 */
export interface LicenseVerifyResult {
  valid: boolean;
  status: LicenseVerifyStatus;
  plan: string | null;
  expiresAt: string | null;
  reason?: 'fingerprint_mismatch' | 'fingerprint_required';
}

/** A license as its customer sees it (`license.list`). */
export interface LicenseView {
  id: string;
  /** 1, 2, ... in issue order within the subscription. */
  sequence: number;
  plan: { code: string; name: string } | null;
  status: LicenseStatus;
  /** `TLY-••••-…-XXXX`: only the last group. */
  maskedKey: string;
  /** The full key, in this response only: the first list after issue reveals it, then it is erased. Null afterwards. */
  fullKey: string | null;
  /** When the full key was shown (null: not yet, e.g. before a list). */
  revealedAt: Date | null;
  createdAt: Date;
  lastVerifiedAt: Date | null;
  /** A machine fingerprint is bound (see `license.resetFingerprint`). */
  fingerprintBound: boolean;
}

/** A license as an admin sees it (`license.listForCustomer`): never the full key. */
export interface AdminLicenseView extends Omit<LicenseView, 'fullKey'> {
  subscriptionId: string;
  suspendedAt: Date | null;
  revokedAt: Date | null;
}
