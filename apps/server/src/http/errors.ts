/**
 * Errors that say enough and no more: a 5xx answers "Internal error; request id <id>" (the
 * id is also the `X-Request-Id` header) and the cause goes to the server log under that id,
 * never to the client (OWASP Error Handling Cheat Sheet: no stack traces, SQL or internals in
 * responses).
 */
import type { Logger } from '@tally/api';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler } from 'express';
import { loggablePath, requestIdOf } from './request-id';

/** The client-facing message of an internal error. */
export function internalErrorMessage(requestId: string): string {
  return `Internal error; request id ${requestId}`;
}

/**
 * `err` made fit for the log: a failed Drizzle query keeps its SQL text and the driver's
 * error (the cause) but loses its bound parameters, which may hold personal data (emails,
 * names). Anything else is returned as is (pino serializes message, stack and causes).
 */
export function loggableError(err: unknown): unknown {
  if (!(err instanceof DrizzleQueryError)) return err;
  const safe = new Error(`Failed query: ${err.query}`, { cause: err.cause });
  safe.name = 'DrizzleQueryError';
  const frames = err.stack?.split('\n').filter((line) => /^\s+at /.test(line)) ?? [];
  safe.stack = [`${safe.name}: ${safe.message}`, ...frames].join('\n');
  return safe;
}

/**
 * The last Express error handler (routes other than tRPC, which formats its own errors).
 * A 4xx keeps its status and, when the error says it may be shown (`expose`, as body-parser's
 * errors do), its message (a 413 names the limit it exceeded); a 5xx (or anything without a status) answers 500 with the generic
 * message and is logged with the request id.
 */
export function errorHandler({ logger }: { logger: Logger }): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const requestId = requestIdOf(res);
    const raw = (err as { status?: unknown; statusCode?: unknown } | null)?.status ?? (err as { statusCode?: unknown } | null)?.statusCode;
    const status = typeof raw === 'number' && raw >= 400 && raw <= 599 ? raw : 500;
    if (status >= 500) {
      logger.error({ requestId, method: req.method, path: loggablePath(req.originalUrl ?? req.url), err: loggableError(err) }, 'Request failed');
      return sendJson(res, status, { error: internalErrorMessage(requestId), requestId });
    }
    const expose = (err as { expose?: unknown } | null)?.expose === true;
    // body-parser's 413 carries the route's limit in bytes (webhook 1 MB, auth 64 KB).
    const limit = (err as { limit?: unknown } | null)?.limit;
    const tooLarge = status === 413 && typeof limit === 'number' ? `Body larger than ${limit} bytes` : undefined;
    sendJson(res, status, { error: tooLarge ?? (expose ? String((err as Error).message) : 'Bad request'), requestId });
  };
}

/** A JSON answer through node's own response API only (no ETag hash): the webhook fast path (stripe-webhook.ts) answers, and calls this handler, outside Express. */
export function sendJson(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}
