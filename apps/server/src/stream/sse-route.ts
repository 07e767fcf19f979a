/**
 * `GET /api/v1/billing/stream` (issue 10 item 1): the live billing stream for other backends,
 * as Server-Sent Events (html.spec.whatwg.org/multipage/server-sent-events.html).
 *
 * Who (checked before anything streams):
 * - `Authorization: Bearer <workspace API key>` (http/api-key-auth.ts): the key's whole workspace.
 * - Else the session cookie: an admin gets the workspace in `?workspaceId=` (else their first),
 *   a customer member their customer (`?customerId=` picks one of several); see
 *   `resolveStreamAudience`.
 * Answers: 503 JSON `{ error }` naming ENABLE_BILLING_STREAM / BILLING_EVENTS_REDIS_URL /
 * REDIS_URL when the deployment has no stream; 400 for a malformed `Last-Event-ID`; 401 signed
 * out or a bad key; 403 / 404 as `resolveStreamAudience` decides. Then 200 and the stream:
 * - `retry: 3000` first, then `event: status` / `data: {"state":"live"|"reconnecting"}` at
 *   connect and on every change of the bus (Redis lost: `reconnecting`, the connection stays
 *   open; Redis back: `live`, and messages committed meanwhile follow);
 * - each message as `id: <bus id>` / `data: <BillingStreamMessage JSON>` (the default `message`
 *   event); resume with the standard `Last-Event-ID` header (EventSource sends it on
 *   reconnect) or `?lastEventId=`;
 * - `: ping` comment lines every `heartbeatMs` (15 s), so proxies keep the connection open.
 * A subscriber that stops reading is cut off once too far behind (the connection ends; it
 * reconnects with its last id and catches up). Closing the connection ends the subscription.
 */
import { once } from 'node:events';
import { AppError, BillingStreamInterrupted, isStreamId, resolveStreamAudience, runningBus, type Auth, type BillingStream, type BillingStreamAudience, type Logger } from '@tally/api';
import type { Database } from '@tally/db';
import { fromNodeHeaders } from 'better-auth/node';
import express, { type Request, type RequestHandler } from 'express';
import { apiKeyOf, requireApiKey } from '../http/api-key-auth';

export const BILLING_STREAM_PATH = '/api/v1/billing/stream';

/** Default heartbeat interval, ms (issue 10: "heartbeats every 15 s"). */
export const HEARTBEAT_MS = 15_000;

export interface BillingStreamRouteOptions {
  db: Database;
  auth: Auth;
  /** `Services.billingStream`: the bus, or why there is none. */
  stream: BillingStream | undefined;
  logger: Logger;
  heartbeatMs?: number;
  /** The reconnection delay suggested to EventSource clients, ms. Default 3,000. */
  retryMs?: number;
}

const STATUS_OF: Record<string, number> = { BAD_REQUEST: 400, UNAUTHORIZED: 401, FORBIDDEN: 403, NOT_FOUND: 404 };

/** A query parameter given once as a string, else null (arrays and objects are ignored). */
function queryString(req: Request, name: string): string | null {
  const value = req.query[name];
  return typeof value === 'string' && value.length > 0 && value.length <= 64 ? value : null;
}

/** The router serving `GET /api/v1/billing/stream`. */
export function billingStreamRoutes({ db, auth, stream, logger, heartbeatMs = HEARTBEAT_MS, retryMs = 3_000 }: BillingStreamRouteOptions): express.Router {
  const router = express.Router();
  const apiKey = requireApiKey(db);

  const available: RequestHandler = (_req, res, next) => {
    const running = runningBus(stream);
    if ('message' in running) {
      res.status(503).json({ error: running.message });
      return;
    }
    next();
  };
  // A Bearer header means API key auth (401 on a bad key, never a fall back to the cookie).
  const keyIfSent: RequestHandler = (req, res, next) => (req.headers.authorization !== undefined ? apiKey(req, res, next) : next());

  router.get(BILLING_STREAM_PATH, available, keyIfSent, async (req, res, next) => {
    const running = runningBus(stream);
    if ('message' in running) return; // checked above
    const rawLastId = req.header('last-event-id') ?? queryString(req, 'lastEventId');
    const lastEventId = rawLastId?.trim() ? rawLastId.trim() : null;
    if (lastEventId && !isStreamId(lastEventId)) {
      res.status(400).json({ error: 'Last-Event-ID must be a billing stream id (<ms>-<seq>), as sent in the `id:` lines' });
      return;
    }

    let audience: BillingStreamAudience;
    try {
      if (res.locals.apiKey) {
        audience = { workspaceId: apiKeyOf(res).workspaceId };
      } else {
        const session = await auth.api.getSession({ headers: fromNodeHeaders(req.headers) });
        if (!session) {
          res.setHeader('WWW-Authenticate', 'Bearer realm="tally"');
          res.status(401).json({ error: 'Sign in, or send Authorization: Bearer <workspace API key>' });
          return;
        }
        audience = await resolveStreamAudience({ db, userId: session.user.id, workspaceId: queryString(req, 'workspaceId'), customerId: queryString(req, 'customerId') });
      }
    } catch (err) {
      if (err instanceof AppError && STATUS_OF[err.code]) {
        res.status(STATUS_OF[err.code]!).json({ error: err.message });
        return;
      }
      next(err);
      return;
    }

    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    // nginx would otherwise buffer the stream.
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    req.socket.setNoDelay(true);

    const closed = new AbortController();
    res.on('close', () => closed.abort());
    const items = running.bus.subscribe({ audience, lastEventId, signal: closed.signal });
    const heartbeat = setInterval(() => {
      if (!res.writableEnded) res.write(': ping\n\n');
    }, heartbeatMs);
    const send = async (chunk: string) => {
      if (!res.write(chunk)) await once(res, 'drain', { signal: closed.signal });
    };
    try {
      await send(`retry: ${retryMs}\n\n`);
      for await (const item of items) {
        if (item.type === 'state') await send(`event: status\ndata: ${JSON.stringify({ state: item.state })}\n\n`);
        else await send(`id: ${item.message.id}\ndata: ${JSON.stringify(item.message)}\n\n`);
      }
    } catch (err) {
      if (!(err instanceof BillingStreamInterrupted) && !closed.signal.aborted) {
        logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'Billing stream: an SSE subscriber ended with an error');
      }
    } finally {
      clearInterval(heartbeat);
      await items.return?.();
      if (!res.writableEnded) res.end();
    }
  });

  return router;
}
