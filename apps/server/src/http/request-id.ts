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
import type { Logger } from '@tally/api';
import type { NextFunction, RequestHandler, Response } from 'express';

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

/**
 * One log line per finished request: `requestId`, `req: { method, path }` (see `loggablePath`),
 * `res: { status }`, `responseTime` (ms), message `request completed` at `info` (`warn` for
 * 4xx other than 401/403/404), or `request failed` at `error` for 5xx and for a response the
 * client abandoned before it was sent (`res: { status, aborted: true }`). Never headers,
 * cookies, bodies or query strings. Probes and scrapes (`/healthz`, `/readyz`, `/metrics`)
 * are not logged. Mount right after `assignRequestId`; mounting it twice logs once.
 *
 * Written on the server's own logger (pino: redaction, scrubbing, the request id mixin) from
 * the response's `finish`/`close` event. It replaced pino-http, which built a child logger per
 * request (its bindings serialized through the redaction paths): about 250 µs of CPU per
 * webhook delivery on a 2-core machine, a fifth of the delivery's cost (issue 11).
 */
export function requestLogging(logger: Logger): RequestHandler {
  const lines = withoutFieldRedaction(logger);
  return (req, res, next) => {
    if (res.locals.requestLogged === true) return next();
    res.locals.requestLogged = true;
    const path = loggablePath(req.originalUrl ?? req.url);
    if (QUIET_PATHS.has(path)) return next();
    const started = performance.now();
    let logged = false;
    const done = () => {
      if (logged) return;
      logged = true;
      const status = res.statusCode;
      const aborted = !res.writableFinished;
      const fields = { requestId: requestIdOf(res), req: { method: req.method, path }, res: aborted ? { status, aborted: true } : { status }, responseTime: Math.round(performance.now() - started) };
      if (aborted || status >= 500) lines.error(fields, 'request failed');
      else if (status >= 400 && status !== 401 && status !== 403 && status !== 404) lines.warn(fields, 'request completed');
      else lines.info(fields, 'request completed');
    };
    res.once('finish', done);
    res.once('close', done);
    next();
  };
}

/**
 * For a pino logger, a child without field redaction (pino's `child(bindings, { redact })`
 * override), for request lines: their fields are Tally's own (method, a `loggablePath`, status,
 * time, id), none under a redacted name, so redaction could only cost time (about 30 µs a
 * line). The streamWrite hook still scrubs secret-shaped values from the finished line, and
 * the request id mixin still applies. Any other logger is used as it is.
 */
function withoutFieldRedaction(logger: Logger): Logger {
  const child = (logger as Partial<{ child(bindings: object, options: object): Logger }>).child;
  return typeof child === 'function' ? child.call(logger, {}, { redact: { paths: [] } }) : logger;
}
