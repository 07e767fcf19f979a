/**
 * A server-generated id for every request: `X-Request-Id` on every response, in the tRPC
 * context (`ctx.requestId`), in every log line about the request, and in the generic
 * "Internal error; request id <id>" message, so a user's report can be matched to the log.
 * An incoming `X-Request-Id` is never trusted (a client could forge or reuse ids to confuse
 * the log); behind a proxy that sets its own, log both there.
 *
 * Log lines written while a request is handled carry `requestId` without each caller passing
 * it: `assignRequestId` runs the rest of the request inside an AsyncLocalStorage context, and
 * the server's logger (logger.ts) adds `currentRequestId()` to every line (pino `mixin`).
 * Callback-style body parsers (body-parser's `express.raw`/`json`) resume the request from the
 * socket's context, outside it: wrap them with `keepRequestContext` (the webhook route does).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@tally/api';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { pino, type Logger as Pino } from 'pino';
import { pinoHttp } from 'pino-http';

interface RequestContext {
  requestId: string;
}

const requestContext = new AsyncLocalStorage<RequestContext>();

/** The id of the request being handled in this async context, or undefined outside any request. */
export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}

/** Run `fn` as part of the request `requestId` (its log lines carry the id). */
export function runWithRequestId<T>(requestId: string, fn: () => T): T {
  return requestContext.run({ requestId }, fn);
}

/**
 * Assign the request id (a random UUID v4), send it as `X-Request-Id`, and run the rest of the
 * request in its log context. Mount first. A second mount (an app mounted inside another)
 * keeps the first id.
 */
export const assignRequestId: RequestHandler = (_req, res, next) => {
  const existing: unknown = res.locals.requestId;
  const id = typeof existing === 'string' ? existing : randomUUID();
  res.locals.requestId = id;
  res.setHeader('X-Request-Id', id);
  requestContext.run({ requestId: id }, next);
};

/** The id `assignRequestId` gave this response ('unknown' if it did not run). */
export function requestIdOf(res: Response | undefined): string {
  const id: unknown = res?.locals.requestId;
  return typeof id === 'string' ? id : 'unknown';
}

/**
 * `middleware` (callback style, e.g. `express.raw(...)`) with the request's log context
 * restored when it calls `next`, so handlers after it log with the request id.
 */
export function keepRequestContext(middleware: RequestHandler): RequestHandler {
  return (req, res, next) => {
    const id = requestIdOf(res);
    middleware(req, res, ((err?: unknown) => (id === 'unknown' ? next(err) : requestContext.run({ requestId: id }, () => next(err)))) as NextFunction);
  };
}

/** Paths whose request lines are not logged: probes and scrapes, every few seconds. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A path segment that may be a bearer token (`/pay/<token>`, `/reset-password/<token>`): 16+ URL-safe characters with a digit or capital, not a UUID. */
const TOKEN_LIKE = /^(?=.*[0-9A-Z])[A-Za-z0-9_-]{16,}$/;

/**
 * The path of a request as logged: no query string (tRPC GET inputs, `?token=` links) and
 * token-like segments replaced by `[redacted]`; UUIDs (workspace ids) and words are kept.
 * e.g. `/pay/AbC123...` -> `/pay/[redacted]`.
 */
export function loggablePath(url: string | undefined): string {
  const path = (url ?? '/').split('?')[0] ?? '/';
  return path
    .split('/')
    .map((segment) => (segment.length > 200 || (TOKEN_LIKE.test(segment) && !UUID.test(segment)) ? '[redacted]' : segment))
    .join('/');
}

const isPino = (logger: Logger): logger is Logger & Pino => typeof (logger as Partial<Pino>).child === 'function' && typeof (logger as Partial<Pino>).levels === 'object';

/**
 * A pino instance forwarding to a plain `Logger` (tests' recorder): pino-http needs pino.
 * Each line is parsed back and handed over with its message and fields.
 */
function pinoOver(logger: Logger): Pino {
  return pino(
    { base: undefined, timestamp: false },
    {
      write(line: string) {
        const { level, msg, ...fields } = JSON.parse(line) as { level: number; msg?: string } & Record<string, unknown>;
        const method = level >= 50 ? 'error' : level >= 40 ? 'warn' : 'info';
        logger[method](fields, msg ?? '');
      },
    },
  );
}

/**
 * One log line per finished request (pino-http): `requestId`, `method`, `path` (see
 * `loggablePath`), `status`, `responseTime` (ms), at `info` (`warn` for 4xx other than 401/403/404,
 * `error` for 5xx). Never headers, cookies, bodies or query strings. Probes and scrapes
 * (`/healthz`, `/readyz`, `/metrics`) are not logged. Mount right after `assignRequestId`;
 * mounting it twice logs once.
 */
export function requestLogging(logger: Logger): RequestHandler {
  const withId = (res: ServerResponse, fields: Record<string, unknown>) => ({ ...fields, requestId: requestIdOf(res as unknown as Response) });
  const middleware = pinoHttp<IncomingMessage, ServerResponse>({
    logger: isPino(logger) ? logger : pinoOver(logger),
    wrapSerializers: false,
    genReqId: (_req, res) => requestIdOf(res as unknown as Response),
    autoLogging: { ignore: (req) => QUIET_PATHS.has(loggablePath(req.url)) },
    serializers: {
      req: (req: IncomingMessage) => ({ method: req.method, path: loggablePath((req as Request).originalUrl ?? req.url) }),
      res: (res: ServerResponse) => ({ status: res.statusCode }),
      err: pino.stdSerializers.err,
    },
    // The id as a field of the line (not a child binding), so the logger's mixin does not repeat it.
    customSuccessObject: (_req, res, fields: Record<string, unknown>) => withId(res, fields),
    customErrorObject: (_req, res, _err, fields: Record<string, unknown>) => withId(res, fields),
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 && ![401, 403, 404].includes(res.statusCode) ? 'warn' : 'info'),
    customSuccessMessage: () => 'request completed',
    customErrorMessage: () => 'request failed',
  });
  return (req, res, next) => {
    if (res.locals.requestLogged === true) return next();
    res.locals.requestLogged = true;
    middleware(req, res, next);
  };
}
