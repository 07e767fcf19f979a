import { receiveStripeWebhook, resolveWebhookEndpoint, type Services } from '@tally/api';
import express, { type Router } from 'express';
import { observeWebhookDelivery, type WebhookDeliveryOutcome } from './metrics';
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
  const handle = (workspaceIdOf: (req: express.Request) => string | null): express.RequestHandler => async (req, res, next) => {
    const started = process.hrtime.bigint();
    const observe = (type: string | null, outcome: WebhookDeliveryOutcome) => observeWebhookDelivery(type, outcome, Number(process.hrtime.bigint() - started) / 1e9);
    try {
      const endpoint = await resolveWebhookEndpoint({
        db: services.db,
        stripeAccounts: services.stripeAccounts,
        publicUrl: services.config.publicUrl,
        workspaceId: workspaceIdOf(req),
      });
      if (!endpoint.ok) {
        observe(null, 'rejected');
        answer(res, endpoint.httpStatus, { error: endpoint.error });
        return;
      }
      const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const result = await receiveStripeWebhook({
        db: services.db,
        receipt: endpoint.receipt,
        webhookSecret: endpoint.webhookSecret,
        rawBody,
        signature: req.header('stripe-signature'),
        logger: services.logger,
        expected: endpoint.expected,
        stripeAccounts: services.stripeAccounts,
        graceDays: services.config.dunningGraceDays,
        webUrl: services.config.webUrl,
      });
      if (result.httpStatus === 400) {
        observe(null, 'rejected');
        answer(res, 400, { error: result.error });
      } else if (result.httpStatus === 500) {
        observe(result.type ?? null, 'failed');
        answer(res, 500, { error: 'Processing failed; Stripe will retry', eventId: result.eventId });
      } else {
        observe(result.type ?? null, result.duplicate ? 'duplicate' : result.status);
        answer(res, 200, { received: true, eventId: result.eventId, status: result.status, duplicate: result.duplicate });
      }
    } catch (err) {
      observe(null, 'failed');
      next(err);
    }
  };
  // body-parser resumes from the socket's async context: keep the request's (log lines carry its id).
  const raw = keepRequestContext(express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT }));
  router.post('/api/stripe/webhook', raw, handle((req) => {
    const q = req.query.workspaceId;
    if (q === undefined) return null;
    // Repeated or nested (?workspaceId[]=...) values are not a workspace id: 404 via the shape check.
    return typeof q === 'string' ? q : 'invalid';
  }));
  router.post('/api/stripe/webhook/:workspaceId', raw, handle((req) => (typeof req.params.workspaceId === 'string' ? req.params.workspaceId : 'invalid')));
  return router;
}

/**
 * A JSON answer to Stripe. `res.json` would also hash the body for an ETag, which no webhook
 * sender reads (about 15 µs per delivery, issue 11).
 */
function answer(res: express.Response, status: number, body: Record<string, unknown>): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}
