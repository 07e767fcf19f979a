import type { RequestHandler } from 'express';
import { newId } from '../core/ids';

/** Gives every response a `Request-Id` header (`req_...`), kept in `res.locals.requestId` for events and idempotency. */
export const assignRequestId: RequestHandler = (_req, res, next) => {
  const id = newId('req');
  res.locals.requestId = id;
  res.set('Request-Id', id);
  next();
};

/** Logs each request once answered: `POST /v1/customers 200 3 ms req_...`. */
export function requestLogger(log: (line: string) => void): RequestHandler {
  return (req, res, next) => {
    const started = Date.now();
    res.on('finish', () => log(`${req.method} ${req.originalUrl} ${res.statusCode} ${Date.now() - started} ms ${String(res.locals.requestId)}`));
    next();
  };
}
