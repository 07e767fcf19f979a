import express from 'express';
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

/** The emulator's HTTP application: the `/v1` API, hosted checkout pages under `/c/pay`, 3-D Secure challenges under `/3ds`, and `/_emulator`. */
export function createApp(ctx: EmulatorContext, webhooks: WebhookDispatcher, log: (line: string) => void): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(assignRequestId, requestLogger(log));
  app.use(createApiRouter(ctx, RESOURCES, log));
  app.use('/c/pay', checkoutPages(ctx));
  app.use('/3ds', authenticationPages(ctx));
  app.use('/i', invoicePages(ctx));
  app.use('/p', portalPages(ctx));
  // The certificate the emulator presents as meter-events.stripe.com (trusted by `runStripeTrigger`'s CLI).
  app.get('/_emulator/meter_events_certificate.pem', async (_req, res) => {
    res.type('application/x-pem-file').send(await meterEventsCertificate());
  });
  app.use('/_emulator', dashboard(ctx.store, webhooks));
  app.get('/', (_req, res) => res.redirect('/_emulator'));
  return app;
}
