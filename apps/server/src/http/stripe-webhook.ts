import { receiveStripeWebhook, resolveWebhookEndpoint, type Services } from '@tally/api';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import express, { type ErrorRequestHandler, type NextFunction, type RequestHandler, type Router } from 'express';
import { observeWebhookDelivery, type WebhookDeliveryOutcome } from './metrics';
import { sendJson } from './errors';
import { keepRequestContext } from './request-id';

/** Largest webhook body accepted; Stripe events are far smaller. Beyond it: 413. */
export const WEBHOOK_BODY_LIMIT = '1mb';

/**
 * The Stripe webhook routes: `POST /api/stripe/webhook` (the deployment's env secret; a
 * `?workspaceId=<id>` query selects a workspace too) and `POST /api/stripe/webhook/<workspaceId>`
 * (that workspace's own secret). Raw bytes (the signature covers them), no other body or
 * rate middleware: the guard is the signature. Answers: 200 processed/duplicate, 400 bad
 * signature or shape, 404 unknown workspace, 409 no secret for this URL, 500 Stripe retries.
 * Every answer is counted in `/metrics` (`observeWebhookDelivery`: event type and outcome,
 * latency), and the route's log lines carry the request id.
 */
export function stripeWebhookRoutes(services: Services): Router {
  const router = express.Router();
  const deliver = deliveryHandler(services);
  const raw = rawBodyParser();
  router.post('/api/stripe/webhook', raw, (req, res, next) => {
    const q = req.query.workspaceId;
    // Repeated or nested (?workspaceId[]=...) values are not a workspace id: 404 via the shape check.
    deliver(req, res, q === undefined ? null : typeof q === 'string' ? q : 'invalid').catch(next);
  });
  router.post('/api/stripe/webhook/:workspaceId', raw, (req, res, next) => {
    deliver(req, res, typeof req.params.workspaceId === 'string' ? req.params.workspaceId : 'invalid').catch(next);
  });
  return router;
}

/** A POST to a webhook URL in its canonical shape: the path exactly, a workspace id of URL-safe characters (nothing to decode), any query. */
const CANONICAL_WEBHOOK_URL = /^\/api\/stripe\/webhook(?:\/([A-Za-z0-9_-]{1,128}))?(?:\?(.*))?$/s;

/**
 * The same routes without Express's router, for the requests Stripe actually sends: a POST to
 * a canonical webhook URL (see `CANONICAL_WEBHOOK_URL`). Express's `app.handle` (request and
 * response prototypes, the router walking its layers) costs about 100 µs a request on this
 * machine, a fifth of what a credit costs (issue 11). `front` is the app's own middleware
 * before any route (request id, access line, security headers), run in order; then the same
 * raw-body parser, delivery handler and `onError` as the routes. Returns false, having touched
 * nothing, for any other request (other methods, case or trailing-slash variants, encoded
 * segments): Express answers those as before.
 */
export function stripeWebhookFastPath(
  services: Services,
  front: RequestHandler[],
  onError: ErrorRequestHandler,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const deliver = deliveryHandler(services);
  const chain = [...front, rawBodyParser()];
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const match = CANONICAL_WEBHOOK_URL.exec(req.url ?? '');
    if (!match) return false;
    let workspaceId: string | null = match[1] ?? null;
    if (workspaceId === null && match[2] !== undefined) {
      // Express 5's default ("simple") query parser is node's querystring: the same values here.
      const q = parseQuery(match[2]).workspaceId;
      workspaceId = q === undefined ? null : typeof q === 'string' ? q : 'invalid';
    }
    const request = req as express.Request;
    const response = res as express.Response;
    // What Express's app.handle gives every response, and the middleware reads.
    response.locals ??= Object.create(null) as Record<string, unknown>;
    // The handler passes an error on only when the answer has begun: end the connection, as Express's final handler does.
    const fail = (err: unknown): void => void onError(err, request, response, () => res.destroy());
    let i = 0;
    const next = (err?: unknown): void => {
      if (err) return fail(err);
      const middleware = chain[i++];
      if (middleware) return void middleware(request, response, next as NextFunction);
      deliver(request, response, workspaceId).catch(fail);
    };
    next();
    return true;
  };
}

/** Raw bytes (the signature covers them), 413 past `WEBHOOK_BODY_LIMIT`. body-parser resumes from the socket's async context: keep the request's (log lines carry its id). */
function rawBodyParser(): RequestHandler {
  return keepRequestContext(express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT }));
}

/** Verify, store and settle one delivery whose raw body `req.body` holds, and answer it. Rejects only on an unexpected error (the caller's error handler answers 500). */
function deliveryHandler(services: Services): (req: express.Request, res: express.Response, workspaceId: string | null) => Promise<void> {
  return async (req, res, workspaceId) => {
    const started = process.hrtime.bigint();
    const observe = (type: string | null, outcome: WebhookDeliveryOutcome) => observeWebhookDelivery(type, outcome, Number(process.hrtime.bigint() - started) / 1e9);
    try {
      const endpoint = await resolveWebhookEndpoint({
        db: services.db,
        stripeAccounts: services.stripeAccounts,
        publicUrl: services.config.publicUrl,
        workspaceId,
      });
      if (!endpoint.ok) {
        observe(null, 'rejected');
        sendJson(res, endpoint.httpStatus, { error: endpoint.error });
        return;
      }
      const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const signature = req.headers['stripe-signature'];
      const result = await receiveStripeWebhook({
        db: services.db,
        receipt: endpoint.receipt,
        webhookSecret: endpoint.webhookSecret,
        rawBody,
        signature: typeof signature === 'string' ? signature : undefined,
        logger: services.logger,
        expected: endpoint.expected,
        stripeAccounts: services.stripeAccounts,
        graceDays: services.config.dunningGraceDays,
        webUrl: services.config.webUrl,
      });
      if (result.httpStatus === 400) {
        observe(null, 'rejected');
        sendJson(res, 400, { error: result.error });
      } else if (result.httpStatus === 500) {
        observe(result.type ?? null, 'failed');
        sendJson(res, 500, { error: 'Processing failed; Stripe will retry', eventId: result.eventId });
      } else {
        observe(result.type ?? null, result.duplicate ? 'duplicate' : result.status);
        sendJson(res, 200, { received: true, eventId: result.eventId, status: result.status, duplicate: result.duplicate });
      }
    } catch (err) {
      observe(null, 'failed');
      throw err;
    }
  };
}
