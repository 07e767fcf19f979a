/**
 * What every request to `/trpc` passes before tRPC reads its body or runs a procedure
 * (issue 6: abuse limits). Refusals are `TRPCError`s handed to tRPC's adapter, so the client
 * gets a normal tRPC error (status, code, message; one per call of a batch).
 *
 * For POST, which is every mutation and only mutations (tRPC refuses queries over POST and
 * mutations over GET without `allowMethodOverride`), in this order:
 * 1. `Content-Type: application/json` only, else 415: tRPC would also take multipart/form-data
 *    and octet-stream, which a cross-site HTML form can send without a CORS preflight.
 * 2. `Origin` must be one of ALLOWED_FRONTEND_ORIGINS, else 403 (a missing Origin too:
 *    browsers always send it on POST; scripts must say who they are). OWASP CSRF Cheat Sheet,
 *    "Verifying Origin with standard headers".
 * 3. A declared `Content-Length` above the limit is 413 before a byte is read; a chunked body
 *    is cut off by tRPC's own `maxBodySize` once it passes the limit.
 * 4. Per-IP mutation rate limit (`req.ip`, i.e. as TALLY_TRUST_PROXY resolves it; IPv6 by
 *    /56 subnet), counted in the database so all processes share it.
 * Then for every method: the session is resolved once (better-auth) and kept for
 * `createContext`; for POST with a session, the per-user mutation rate limit.
 *
 * A rate limit counts HTTP requests: a batch of up to `maxBatchSize` calls counts once.
 */
import type { Auth, Logger } from '@tally/api';
import type { Database } from '@tally/db';
import { TRPCError } from '@trpc/server';
import { fromNodeHeaders } from 'better-auth/node';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { ipKeyGenerator, rateLimit, type Options as RateLimitOptions } from 'express-rate-limit';
import { WindowCounterStore } from './rate-limit-store';

/** better-auth's session for the request (user and session rows), or null when signed out. */
export type Session = Awaited<ReturnType<Auth['api']['getSession']>>;

/** The session `trpcGuards` resolved for this request (null: signed out or not resolved). */
export function sessionOf(res: Response): Session | null {
  return (res.locals.session as Session | undefined) ?? null;
}

/** A limit of `limit` requests per `windowMs` milliseconds. */
export interface WindowLimit {
  limit: number;
  windowMs: number;
}

export interface TrpcGuardOptions {
  db: Database;
  auth: Auth;
  logger: Logger;
  allowedOrigins: readonly string[];
  /** Largest request body in bytes. */
  maxBodyBytes: number;
  mutationsPerIp: WindowLimit;
  mutationsPerUser: WindowLimit;
}

/** The media type of a Content-Type header, lowercased, without parameters (RFC 9110 §8.3). */
function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

function mutationLimiter(name: string, prefix: string, window: WindowLimit, db: Database, logger: Logger, rest: Partial<RateLimitOptions>) {
  return rateLimit({
    ...window,
    store: new WindowCounterStore(db, prefix),
    // IETF draft-ietf-httpapi-ratelimit-headers-08: `RateLimit-Policy` and `RateLimit`
    // (one entry per limiter, by name), plus Retry-After on 429.
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: name,
    handler: (req, _res, next, options) => {
      const info = (req as Request & Record<string, { resetTime?: Date } | undefined>)[options.requestPropertyName];
      const seconds = info?.resetTime ? Math.max(1, Math.ceil((info.resetTime.getTime() - Date.now()) / 1000)) : Math.ceil(window.windowMs / 1000);
      next(new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `Too many requests; try again in ${seconds} s` }));
    },
    logger: {
      error: (err, message) => logger.error({ err }, message ?? 'rate limiter error'),
      warn: (err, message) => logger.warn({ err }, message ?? 'rate limiter warning'),
    },
    ...rest,
  });
}

/**
 * The guard chain as one Connect middleware, for `createExpressMiddleware({ middleware })`.
 * Errors it passes on become tRPC error responses (onError and the errorFormatter see them).
 */
export function trpcGuards({ db, auth, logger, allowedOrigins, maxBodyBytes, mutationsPerIp, mutationsPerUser }: TrpcGuardOptions): RequestHandler {
  const guards = express.Router();

  guards.use((req, _res, next) => {
    if (req.method !== 'POST') return next();
    if (mediaType(req.headers['content-type']) !== 'application/json') {
      return next(new TRPCError({ code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send tRPC requests with Content-Type: application/json' }));
    }
    const origin = req.headers.origin;
    if (!origin || !allowedOrigins.includes(origin)) {
      return next(
        new TRPCError({
          code: 'FORBIDDEN',
          message: origin ? 'This origin may not call the API (not in ALLOWED_FRONTEND_ORIGINS)' : 'Missing Origin header: the API accepts changes only from an allowed web origin',
        }),
      );
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      return next(new TRPCError({ code: 'PAYLOAD_TOO_LARGE', message: `Request body larger than ${maxBodyBytes} bytes` }));
    }
    next();
  });

  guards.use(
    mutationLimiter('mutations-per-ip', 'mut-ip:', mutationsPerIp, db, logger, {
      skip: (req) => req.method !== 'POST',
      keyGenerator: (req) => ipKeyGenerator(req.ip ?? 'unknown'),
    }),
  );

  guards.use(async (req, res, next) => {
    try {
      res.locals.session = await auth.api.getSession({ headers: fromNodeHeaders(req.headers) });
      next();
    } catch (err) {
      next(err);
    }
  });

  guards.use(
    mutationLimiter('mutations-per-user', 'mut-user:', mutationsPerUser, db, logger, {
      skip: (req, res) => req.method !== 'POST' || !sessionOf(res),
      keyGenerator: (_req, res) => sessionOf(res)!.user.id,
    }),
  );

  return guards;
}
