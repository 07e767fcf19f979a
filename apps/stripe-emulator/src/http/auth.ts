import type { RequestHandler } from 'express';
import { authenticationError } from './errors';

const TEST_KEY = /^(sk|rk)_test_\S+$/;
const MIN_KEY_LENGTH = 12;

function presentedKey(header: string | undefined): string | null {
  if (!header) return null;
  const [scheme, credentials = ''] = header.split(' ', 2);
  if (scheme?.toLowerCase() === 'bearer') return credentials.trim();
  // `curl -u sk_test_...:` sends the key as the Basic auth user name.
  if (scheme?.toLowerCase() === 'basic') return Buffer.from(credentials, 'base64').toString('utf8').split(':')[0] ?? '';
  return null;
}

const masked = (key: string) => `${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`;

/**
 * Requires a test-mode secret or restricted key (`sk_test_…`/`rk_test_…`, 12+ characters) as
 * `Authorization: Bearer <key>` (or Basic auth), answering 401 as Stripe does otherwise
 * (https://docs.stripe.com/api/authentication). Any such key is accepted: there is one account.
 */
export const authenticate: RequestHandler = (req, _res, next) => {
  const key = presentedKey(req.get('authorization'));
  if (!key) {
    throw authenticationError(
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details.",
    );
  }
  if (!TEST_KEY.test(key) || key.length < MIN_KEY_LENGTH) {
    throw authenticationError(`Invalid API Key provided: ${masked(key)}`);
  }
  next();
};
