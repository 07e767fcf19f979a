import type { RequestHandler } from 'express';
import { maskKey } from '../core/accounts';
import type { EmulatorContext } from '../core/context';
import { StripeApiError, authenticationError, docUrl } from './errors';

const TEST_KEY = /^(sk|rk)_test_\S+$/;
const MIN_KEY_LENGTH = 12;
/** Keys containing this are refused as expired (401 `api_key_expired`), for tests of a revoked or rolled key. */
export const REVOKED_KEY_MARKER = '_revoked_';

function presentedKey(header: string | undefined): string | null {
  if (!header) return null;
  const [scheme, credentials = ''] = header.split(' ', 2);
  if (scheme?.toLowerCase() === 'bearer') return credentials.trim();
  // `curl -u sk_test_...:` sends the key as the Basic auth user name.
  if (scheme?.toLowerCase() === 'basic') return Buffer.from(credentials, 'base64').toString('utf8').split(':')[0] ?? '';
  return null;
}

/**
 * The test-mode secret or restricted key (`sk_test_…`/`rk_test_…`, 12+ characters) of an
 * `Authorization: Bearer <key>` (or Basic auth) header, or the 401 Stripe answers otherwise
 * (https://docs.stripe.com/api/authentication): no key, an invalid one (live mode, malformed,
 * too short), or an expired one — any key containing `_revoked_` here, answered as Stripe
 * answers a rolled or deleted key (`api_key_expired`, "Expired API Key provided: sk_test_…").
 */
export function acceptedKey(authorization: string | undefined): string {
  const key = presentedKey(authorization);
  if (!key) {
    throw authenticationError(
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details.",
    );
  }
  if (!TEST_KEY.test(key) || key.length < MIN_KEY_LENGTH) {
    throw authenticationError(`Invalid API Key provided: ${maskKey(key)}`);
  }
  if (key.includes(REVOKED_KEY_MARKER)) {
    throw new StripeApiError(401, {
      type: 'invalid_request_error',
      code: 'api_key_expired',
      doc_url: docUrl('api_key_expired'),
      message: `Expired API Key provided: ${maskKey(key)}`,
    });
  }
  return key;
}

/**
 * Requires an accepted API key (see {@link acceptedKey}) and puts the context of the account it
 * belongs to in `res.locals.ctx` (made on first use of the key, see `core/accounts.ts`).
 */
export function authenticate(accountFor: (key: string) => EmulatorContext): RequestHandler {
  return (req, res, next) => {
    const key = acceptedKey(req.get('authorization'));
    res.locals.ctx = accountFor(key);
    res.locals.maskedKey = maskKey(key);
    next();
  };
}
