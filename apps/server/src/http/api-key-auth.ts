/**
 * Workspace API key authentication for the server-to-server API (`/api/v1`): the key comes
 * only from `Authorization: Bearer <key>` (RFC 6750 §2.1; never a cookie or a query string),
 * is shape-checked before any query, and is resolved by `authenticateApiKey` (SHA-256 lookup;
 * revoked or unknown -> null). Failures answer 401 JSON `{ error }` with a `WWW-Authenticate`
 * challenge (RFC 6750 §3) and never say whether a well-formed key exists or was revoked.
 */
import { authenticateApiKey, type ApiKeyPrincipal } from '@tally/api';
import type { Database } from '@tally/db';
import type { RequestHandler, Response } from 'express';

/** Longest Authorization header read (a key is 52 characters). */
const MAX_AUTHORIZATION_LENGTH = 512;
const BEARER = /^Bearer +([^\s]+) *$/i;

/** The principal `requireApiKey` resolved for this request (only after it ran). */
export function apiKeyOf(res: Response): ApiKeyPrincipal {
  const principal = res.locals.apiKey as ApiKeyPrincipal | undefined;
  if (!principal) throw new Error('apiKeyOf called on a route without requireApiKey');
  return principal;
}

function unauthorized(res: Response, error: string, invalidToken: boolean): void {
  res.setHeader('WWW-Authenticate', invalidToken ? 'Bearer realm="tally", error="invalid_token"' : 'Bearer realm="tally"');
  res.status(401).json({ error });
}

/** Middleware: a live workspace API key, or 401. Puts the principal on `res.locals.apiKey`. */
export function requireApiKey(db: Database): RequestHandler {
  return async (req, res, next) => {
    const header = req.headers.authorization;
    if (!header) return unauthorized(res, 'Missing API key: send Authorization: Bearer <workspace API key>', false);
    const match = header.length <= MAX_AUTHORIZATION_LENGTH ? BEARER.exec(header) : null;
    if (!match) return unauthorized(res, 'Malformed Authorization header: expected Bearer <workspace API key>', true);
    try {
      const principal = await authenticateApiKey(db, match[1]);
      if (!principal) return unauthorized(res, 'Invalid API key (unknown, revoked or malformed)', true);
      res.locals.apiKey = principal;
      next();
    } catch (err) {
      next(err);
    }
  };
}
