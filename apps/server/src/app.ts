/**
 * The Express app: the raw-body Stripe webhook route, better-auth, tRPC, /healthz and, in
 * production, the built SPA. No global body parser: only the webhook route reads a body
 * itself (raw bytes, for the signature); tRPC and better-auth parse their own.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { appRouter, createInnerContext, receiveStripeWebhook, type Auth, type Services } from '@tally/api';
import { sql } from '@tally/db';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import { fromNodeHeaders, toNodeHandler } from 'better-auth/node';
import express, { type ErrorRequestHandler } from 'express';

/** Largest webhook body accepted; Stripe events are far smaller. Beyond it: 413. */
export const WEBHOOK_BODY_LIMIT = '1mb';

export function createApp({ services, auth, webDistDir }: { services: Services; auth: Auth; webDistDir?: string | null }) {
  const app = express();
  app.disable('x-powered-by');

  app.post('/api/stripe/webhook', express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT }), async (req, res, next) => {
    try {
      const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const result = await receiveStripeWebhook({
        db: services.db,
        stripe: services.stripe,
        webhookSecret: services.config.stripeWebhookSecret,
        rawBody,
        signature: req.header('stripe-signature'),
      });
      if (result.httpStatus === 400) res.status(400).json({ error: result.error });
      else if (result.httpStatus === 500) res.status(500).json({ error: 'Processing failed; Stripe will retry', eventId: result.eventId });
      else res.status(200).json({ received: true, eventId: result.eventId, status: result.status, duplicate: result.duplicate });
    } catch (err) {
      next(err);
    }
  });

  app.all('/api/auth/{*path}', toNodeHandler(auth));

  app.use(
    '/trpc',
    createExpressMiddleware({
      router: appRouter,
      createContext: async ({ req }) => {
        const session = await auth.api.getSession({ headers: fromNodeHeaders(req.headers) });
        return createInnerContext({
          ...services,
          actor: session ? { userId: session.user.id, email: session.user.email } : null,
          origin: req.header('origin') ?? null,
        });
      },
      onError: ({ error, path: procedure }) => {
        if (error.code === 'INTERNAL_SERVER_ERROR') console.error(`[trpc] ${procedure ?? '?'}:`, error.cause ?? error);
      },
    }),
  );

  app.get('/healthz', async (_req, res) => {
    const body = { database: services.db.dialect, stripe: services.config.stripeMode };
    try {
      await services.db.rows(sql`select 1`);
      res.json({ status: 'ok', ...body });
    } catch {
      res.status(503).json({ status: 'unavailable', ...body });
    }
  });

  if (webDistDir && existsSync(path.join(webDistDir, 'index.html'))) {
    app.use(express.static(webDistDir, { index: false, maxAge: '1h' }));
    app.get('/{*path}', (_req, res) => res.sendFile(path.join(webDistDir, 'index.html')));
  }

  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    const status = typeof err?.status === 'number' ? err.status : 500;
    if (status === 413) return void res.status(413).json({ error: `Body larger than ${WEBHOOK_BODY_LIMIT}` });
    if (status >= 500) console.error('[server]', err);
    res.status(status).json({ error: status >= 500 ? 'Internal error' : String(err?.message ?? 'Bad request') });
  };
  app.use(onError);
  return app;
}
