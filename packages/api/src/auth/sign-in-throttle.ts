/**
 * Per-account throttle of failed sign-ins (OWASP Authentication Cheat Sheet, "Account
 * lockout"; NIST SP 800-63B §5.2.2 "Rate limiting"): at most 5 failed password attempts for
 * one email in 15 minutes, from any number of IPs. Unknown emails are counted exactly like
 * known ones, so the answer never tells whether an account exists.
 *
 * Counting is hit-first: every attempt is counted before the password is checked (one atomic
 * upsert), and an attempt that turns out not to be a wrong password is taken back. So even
 * concurrent attempts get at most 5 password checks per window.
 */
import type { Database } from '@tally/db';
import { forgiveWindowCounter, hitWindowCounter, resetWindowCounter } from '../rate-limits/window-counter';

/** Failed attempts allowed per email per window. */
export const SIGN_IN_FAILURE_LIMIT = 5;
/** Window length in milliseconds (15 minutes). */
export const SIGN_IN_FAILURE_WINDOW_MS = 15 * 60_000;

/** Longest email accepted as a counter key (RFC 5321 limits a path to 256 octets). */
const MAX_EMAIL_LENGTH = 254;

/** The counter key for an email (case-insensitive), or null when it cannot be an email. */
export function signInFailureKey(email: unknown): string | null {
  if (typeof email !== 'string') return null;
  const normalized = email.trim().toLowerCase();
  if (!normalized || normalized.length > MAX_EMAIL_LENGTH) return null;
  return `signin-fail:${normalized}`;
}

/**
 * Count one sign-in attempt for `key` (from `signInFailureKey`).
 * @returns `allowed: false` with `retryAfterSeconds` (whole seconds until the window ends)
 *   once more than `SIGN_IN_FAILURE_LIMIT` attempts fell in the window.
 */
export async function countSignInAttempt(db: Database, { key, now = Date.now() }: { key: string; now?: number }) {
  const { count, resetAt } = await hitWindowCounter(db, { key, windowMs: SIGN_IN_FAILURE_WINDOW_MS, now });
  const retryAfterSeconds = Math.max(1, Math.ceil((resetAt.getTime() - now) / 1000));
  return { allowed: count <= SIGN_IN_FAILURE_LIMIT, retryAfterSeconds };
}

/** Take back an attempt that was not a wrong password (bad input, unverified email). */
export async function forgiveSignInAttempt(db: Database, { key }: { key: string }) {
  await forgiveWindowCounter(db, { key });
}

/** A successful sign-in forgets the email's failures. */
export async function clearSignInFailures(db: Database, { key }: { key: string }) {
  await resetWindowCounter(db, { key });
}
