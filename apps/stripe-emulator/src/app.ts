import express, { type RequestHandler } from 'express';
import type { Accounts } from './core/accounts';
import type { EmulatorContext } from './core/context';
import { createApiRouter } from './http/api-router';
import { assignRequestId, requestLogger } from './http/request-id';
import { authenticationPages } from './pages/authentication-routes';
import { invoicePages, portalPages } from './pages/billing-routes';
import { checkoutPages } from './pages/checkout-routes';
import { dashboard } from './pages/dashboard';
import { RESOURCES } from './resources';
import { meterEventsCertificate } from './http/meter-events-proxy';
import type { WebhookDispatcher } from './webhooks/dispatcher';

/**
 * Serves a hosted page with the state of the account that owns the object in its URL (ids are
 * random, so at most one does; when none does, the default account's router answers its 404).
 * `idAt` is the index of the id among the path's segments (`/cs_test_…/authenticate` → 0).
 */
function byOwner(accounts: Accounts, idAt: number, owns: (ctx: EmulatorContext, id: string) => boolean, pages: (ctx: EmulatorContext) => express.Router): RequestHandler {
  const routers = new Map<string, express.Router>();
  return (req, res, next) => {
    let id = '';
    try {
      id = decodeURIComponent(req.path.split('/').filter(Boolean)[idAt] ?? '');
    } catch {
      // A malformed escape: no account owns it.
    }
    const account = (id ? accounts.find((ctx) => owns(ctx, id)) : undefined) ?? accounts.default;
    let router = routers.get(account.id);
    if (!router) routers.set(account.id, (router = pages(account.ctx)));
    router(req, res, next);
  };
}

/** The emulator's HTTP application: the `/v1` API, hosted checkout pages under `/c/pay`, 3-D Secure challenges under `/3ds`, and `/_emulator`. */
export function createApp(accounts: Accounts, webhooks: WebhookDispatcher, log: (line: string) => void): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(assignRequestId, requestLogger(log));
  app.use(createApiRouter(accounts, RESOURCES, log));
  app.use('/c/pay', byOwner(accounts, 0, (ctx, id) => ctx.store.checkoutSessions.get(id) !== undefined, checkoutPages));
  app.use('/3ds', byOwner(accounts, 0, (ctx, id) => (ctx.store.paymentIntents.get(id) ?? ctx.store.setupIntents.get(id)) !== undefined, authenticationPages));
  app.use('/i', byOwner(accounts, 0, (ctx, id) => ctx.store.invoices.get(id) !== undefined, invoicePages));
  app.use('/p', byOwner(accounts, 1, (ctx, id) => ctx.store.billingPortalSessions.get(id) !== undefined, portalPages));
  // The certificate the emulator presents as meter-events.stripe.com (trusted by `runStripeTrigger`'s CLI).
  app.get('/_emulator/meter_events_certificate.pem', async (_req, res) => {
    res.type('application/x-pem-file').send(await meterEventsCertificate());
  });
  app.use('/_emulator', dashboard(accounts, webhooks));
  app.get('/', (_req, res) => res.redirect('/_emulator'));
  return app;
}
