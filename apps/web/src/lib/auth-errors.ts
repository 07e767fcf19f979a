/**
 * Words for better-auth's answers on the sign-in, sign-up and password pages. better-auth's
 * client resolves to `{ error: { status, code?, message? } }` instead of throwing; its codes
 * are `BASE_ERROR_CODES` in `@better-auth/core/error`.
 */
import { safeNextPath } from './next-path';

/**
 * Mirrors the server's password policy (issue 6: better-auth `minPasswordLength` 12 plus a
 * zxcvbn-ts strength check on the server). The server decides; this check only saves a
 * round trip, and the strength verdict comes back as the server's 400 message.
 */
export { PASSWORD_MIN_LENGTH } from '@tally/api/schemas';
import { PASSWORD_MIN_LENGTH } from '@tally/api/schemas';

/** The rule as shown under every new-password field. */
export const PASSWORD_RULE = `At least ${PASSWORD_MIN_LENGTH} characters, and not easy to guess: a few unrelated words work well.`;

export const PASSWORD_TOO_SHORT_TEXT = `Use a password of at least ${PASSWORD_MIN_LENGTH} characters.`;

/** The error for a password under the minimum length, or null when long enough. */
export function passwordLengthError(password: string): string | null {
  return password.length < PASSWORD_MIN_LENGTH ? PASSWORD_TOO_SHORT_TEXT : null;
}

/**
 * Seconds to wait from a 429 answer: `Retry-After` (RFC 9110 §10.2.3: delay-seconds or an
 * HTTP-date) or better-auth's own `X-Retry-After` (seconds). Null when neither is usable.
 */
export function retryAfterSeconds(headers: Headers, now: Date = new Date()): number | null {
  for (const name of ['Retry-After', 'X-Retry-After']) {
    const raw = headers.get(name)?.trim();
    if (!raw) continue;
    if (/^\d+$/.test(raw)) return Number(raw);
    const at = Date.parse(raw);
    if (!Number.isNaN(at)) return Math.max(0, Math.ceil((at - now.getTime()) / 1000));
  }
  return null;
}

/** "Too many attempts. Try again in 3 minutes." from the seconds to wait (null: unknown). */
export function tooManyAttemptsText(seconds: number | null): string {
  if (seconds === null) return 'Too many attempts. Try again in a few minutes.';
  if (seconds < 60) {
    const s = Math.max(1, seconds);
    return `Too many attempts. Try again in ${s} second${s === 1 ? '' : 's'}.`;
  }
  const minutes = Math.ceil(seconds / 60);
  return `Too many attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}

/**
 * Collects the wait from a 429 while a better-auth client call runs: pass `fetchOptions` as
 * the call's second argument and read `seconds` after it resolves.
 */
export function captureRetryAfter() {
  let seconds: number | null = null;
  return {
    fetchOptions: {
      onError({ response }: { response: Response }) {
        if (response.status === 429) seconds = retryAfterSeconds(response.headers);
      },
    },
    get seconds() {
      return seconds;
    },
  };
}

/**
 * What an `?error=` from better-auth's email-verification redirect (`GET /verify-email`)
 * means to the person who clicked the link.
 */
export function verificationLinkErrorText(code: string): string {
  switch (code) {
    case 'TOKEN_EXPIRED':
      return 'This verification link has expired. Sign in to get a new one.';
    case 'INVALID_TOKEN':
      return 'This verification link is not valid (it may be incomplete). Sign in to get a new one.';
    case 'USER_NOT_FOUND':
      return 'This verification link belongs to an account that no longer exists.';
    case 'INVALID_USER':
      return 'This verification link is for a different account. Sign out first, then open it again.';
    default:
      return 'This verification link did not work. Sign in to get a new one.';
  }
}

/**
 * better-auth's verification link redirects to its callbackURL (`/`) with `?error=CODE` when
 * the token is bad; signed out, `RequireAuth` then sends the browser to sign-in with that URL
 * in `?next=`. Returns the code (from `?error=` or inside `next`) and `next` without it.
 */
export function linkErrorAndNext(params: URLSearchParams): { linkError: string | null; next: string } {
  const next = new URL(safeNextPath(params.get('next')), 'http://tally.invalid');
  const nested = next.searchParams.get('error');
  next.searchParams.delete('error');
  return { linkError: params.get('error') ?? nested, next: next.pathname + next.search + next.hash };
}

/** The message for a failed call that is not one of the cases a page handles itself. */
export function genericAuthErrorText(error: { status: number; message?: string }, fallback: string): string {
  if (error.status === 429) return tooManyAttemptsText(null);
  if (error.status >= 500) return 'Something went wrong on our side. Please try again.';
  return error.message || fallback;
}

export const NETWORK_ERROR_TEXT = 'Cannot reach the Tally server. Check your connection and try again.';
