/**
 * `POST /api/v1/licenses/verify` for installed software (issue 8 item 6): `{ key, fingerprint? }`
 * -> 200 `{ valid, status, plan, expiresAt[, reason] }` (see `LicenseVerifyResult` in
 * @tally/api/schemas). No cookies, no Origin check: a license key is the credential.
 *
 * Order (each refusal is JSON with the request id):
 * 1. Per-IP limit (`req.ip` as TALLY_TRUST_PROXY resolves it; IPv6 by /56), counted before
 *    anything else so junk counts too.
 * 2. `Content-Type: application/json` only, else 415; a declared body over 4 KB is 413 before
 *    a byte is read (a chunked one is cut off at 4 KB by the parser, also 413); invalid JSON
 *    is 400.
 * 3. Body shape (`LicenseVerifyBody`): `key` must be a string and `fingerprint`, if sent, 1 to
 *    200 printable ASCII characters, else 400. Any string key is accepted here: a malformed
 *    key gets the same 200 answer as an unknown one.
 * 4. Per-key limit, keyed by SHA-256 of the canonical key (of the raw text for a malformed
 *    one), so the key itself is never stored in `rate_limits` nor logged.
 * Over a limit: 429 `{ error, retryAfterSeconds, requestId }` with `Retry-After` and the IETF
 * `RateLimit`/`RateLimit-Policy` headers. Limits are counted in the shared `rate_limits` table,
 * so every process sees the same counts.
 */
import { createHash } from 'node:crypto';
import { parseLicenseKey, verifyLicense, type Services } from '@tally/api';
import { LicenseVerifyBody } from '@tally/api/schemas';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { WindowCounterStore } from './rate-limit-store';
import { requestIdOf } from './request-id';

export const LICENSE_VERIFY_PATH = '/api/v1/licenses/verify';

export interface LicenseVerifyLimits {
  /** Requests per client IP per window (milliseconds). */
  perIp: { limit: number; windowMs: number };
  /** Requests per license key per window (milliseconds). */
  perKey: { limit: number; windowMs: number };
  /** Largest body, bytes. */
  maxBodyBytes: number;
}

export const DEFAULT_LICENSE_VERIFY_LIMITS: LicenseVerifyLimits = {
  perIp: { limit: 60, windowMs: 60_000 },
  perKey: { limit: 10, windowMs: 60_000 },
  maxBodyBytes: 4 * 1024,
};

const mediaType = (header: string | undefined) => (header ?? '').split(';')[0]!.trim().toLowerCase();

/** The per-key limiter's key: a digest of the canonical key (or of the raw text when malformed), never the key. */
export function licenseLimiterKey(rawKey: string): string {
  const canonical = parseLicenseKey(rawKey);
  return createHash('sha256')
    .update(canonical ?? `raw:${rawKey}`, 'utf8')
    .digest('base64url')
    .slice(0, 32);
}

function limiter(services: Services, name: string, prefix: string, window: { limit: number; windowMs: number }, keyGenerator: (req: Request, res: Response) => string) {
  return rateLimit({
    ...window,
    store: new WindowCounterStore(services.db, prefix),
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: name,
    keyGenerator,
    handler: (req, res, _next, options) => {
      const info = (req as Request & Record<string, { resetTime?: Date } | undefined>)[options.requestPropertyName];
      const seconds = info?.resetTime ? Math.max(1, Math.ceil((info.resetTime.getTime() - Date.now()) / 1000)) : Math.ceil(window.windowMs / 1000);
      res.setHeader('Retry-After', String(seconds));
      res.status(429).json({ error: `Too many license checks; try again in ${seconds} s`, retryAfterSeconds: seconds, requestId: requestIdOf(res) });
    },
    logger: {
      error: (err, message) => services.logger.error({ err }, message ?? 'rate limiter error'),
      warn: (err, message) => services.logger.warn({ err }, message ?? 'rate limiter warning'),
    },
  });
}

export function licenseVerifyRoutes(services: Services, limits: LicenseVerifyLimits = DEFAULT_LICENSE_VERIFY_LIMITS): Router {
  const router = Router();

  const requireJson: RequestHandler = (req, res, next) => {
    if (mediaType(req.headers['content-type']) !== 'application/json') {
      return void res.status(415).json({ error: 'Send license checks as JSON (Content-Type: application/json)', requestId: requestIdOf(res) });
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (Number.isFinite(declared) && declared > limits.maxBodyBytes) {
      return void res.status(413).json({ error: `Body larger than ${limits.maxBodyBytes} bytes`, requestId: requestIdOf(res) });
    }
    next();
  };

  // body-parser's own messages quote the body (which holds the key): answer fixed ones.
  const parseJson = express.json({ limit: limits.maxBodyBytes, type: () => true });
  const jsonBody: RequestHandler = (req, res, next) =>
    parseJson(req, res, (err?: unknown) => {
      if (!err) return next();
      const status = (err as { status?: unknown }).status;
      if (status === 413) return void res.status(413).json({ error: `Body larger than ${limits.maxBodyBytes} bytes`, requestId: requestIdOf(res) });
      if (status === 415) return void res.status(415).json({ error: 'Send license checks as UTF-8 JSON', requestId: requestIdOf(res) });
      if (status === 400) return void res.status(400).json({ error: 'Body is not valid JSON', requestId: requestIdOf(res) });
      next(err);
    });

  const validateBody: RequestHandler = (req, res, next) => {
    const parsed = LicenseVerifyBody.safeParse(req.body);
    if (!parsed.success) {
      return void res.status(400).json({ error: parsed.error.issues.map((i) => i.message).join('; '), requestId: requestIdOf(res) });
    }
    res.locals.licenseVerify = parsed.data;
    res.locals.licenseLimiterKey = licenseLimiterKey(parsed.data.key);
    next();
  };

  router.post(
    LICENSE_VERIFY_PATH,
    limiter(services, 'license-verify-per-ip', 'lic-ip:', limits.perIp, (req) => ipKeyGenerator(req.ip ?? 'unknown')),
    requireJson,
    jsonBody,
    validateBody,
    limiter(services, 'license-verify-per-key', 'lic-key:', limits.perKey, (_req, res) => res.locals.licenseLimiterKey as string),
    async (_req, res, next) => {
      const body = res.locals.licenseVerify as LicenseVerifyBody;
      try {
        const result = await verifyLicense(services.db, {
          key: body.key,
          fingerprint: body.fingerprint,
          keyring: services.stripeAccounts.keyring,
          graceDays: services.config.dunningGraceDays,
        });
        res.setHeader('Cache-Control', 'no-store');
        res.json(result);
      } catch (err) {
        next(err);
      }
    },
  );
  router.all(LICENSE_VERIFY_PATH, (_req, res) => {
    res.setHeader('Allow', 'POST');
    res.status(405).json({ error: 'Use POST', requestId: requestIdOf(res) });
  });
  return router;
}
