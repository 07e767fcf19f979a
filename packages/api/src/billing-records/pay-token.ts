import { randomBytes } from 'node:crypto';

/**
 * A new pay link token (`/pay/<token>`): 32 bytes from the operating system's CSPRNG
 * (`node:crypto` randomBytes), base64url without padding, so 43 characters of
 * `[A-Za-z0-9_-]` and 256 bits: unguessable (the issue asks >= 128 bits). The token is the
 * link's only credential; `PAY_TOKEN_PATTERN` (schemas) checks its shape before any query.
 */
export function newPayToken(): string {
  return randomBytes(32).toString('base64url');
}
