/**
 * A server-generated id for every request: `X-Request-Id` on every response, in the tRPC
 * context (`ctx.requestId`), in every log line about the request, and in the generic
 * "Internal error; request id <id>" message, so a user's report can be matched to the log.
 * An incoming `X-Request-Id` is never trusted (a client could forge or reuse ids to confuse
 * the log); behind a proxy that sets its own, log both there.
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler, Response } from 'express';

/** Assign the request id (a random UUID v4) and send it as `X-Request-Id`. Mount first. */
export const assignRequestId: RequestHandler = (_req, res, next) => {
  const id = randomUUID();
  res.locals.requestId = id;
  res.setHeader('X-Request-Id', id);
  next();
};

/** The id `assignRequestId` gave this response ('unknown' if it did not run). */
export function requestIdOf(res: Response | undefined): string {
  const id: unknown = res?.locals.requestId;
  return typeof id === 'string' ? id : 'unknown';
}
