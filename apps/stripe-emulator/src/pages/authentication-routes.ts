import express, { type Response } from 'express';
import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context';
import { NO_REQUEST } from '../core/events';
import { authenticatePaymentIntent } from '../payments/pay';
import { authenticateSetupIntent } from '../payments/setup-intents';
import { formatAmount, html, page, type Html } from './html';

/** The 3-D Secure challenge page for an intent (`pi_...` or `seti_...`): `question` says what is confirmed. */
function renderChallenge(intentId: string, title: string, question: Html): string {
  const body = html`<div class="card" style="max-width: 440px; margin: 0 auto">
    <h1>3-D Secure authentication</h1>
    <p>${question}</p>
    <p class="muted">This is a test challenge: choose how it ends.</p>
    <form method="post" action="/3ds/${intentId}">
      <button type="submit" name="action" value="complete">Complete authentication</button>
      <button type="submit" name="action" value="fail" class="secondary">Fail authentication</button>
    </form>
  </div>`;
  return page(title, body);
}

function renderDone(text: string): string {
  return page('Authentication', html`<div class="card" style="max-width: 440px; margin: 0 auto"><h1>3-D Secure</h1><p>${text}</p></div>`);
}

const cardEnding = (paymentMethod: Stripe.PaymentMethod | undefined) =>
  paymentMethod?.card ? html`the card ending in <strong>${paymentMethod.card.last4}</strong>` : '';

function renderPaymentChallenge(intent: Stripe.PaymentIntent, paymentMethod: Stripe.PaymentMethod | undefined): string {
  const card = cardEnding(paymentMethod);
  return renderChallenge(
    intent.id,
    'Authenticate payment',
    html`Your bank asks you to confirm the payment of <strong>${formatAmount(intent.amount, intent.currency)}</strong>${card ? html` with ${card}` : ''}.`,
  );
}

function renderPaymentDone(intent: Stripe.PaymentIntent): string {
  return renderDone(intent.status === 'succeeded' ? 'The payment succeeded.' : `This payment is not waiting for authentication (status: ${intent.status}).`);
}

function renderSetupChallenge(intent: Stripe.SetupIntent, paymentMethod: Stripe.PaymentMethod | undefined): string {
  return renderChallenge(intent.id, 'Authenticate card setup', html`Your bank asks you to confirm saving ${cardEnding(paymentMethod) || 'your card'} for future payments.`);
}

function renderSetupDone(intent: Stripe.SetupIntent): string {
  return renderDone(intent.status === 'succeeded' ? 'The card was set up.' : `This setup is not waiting for authentication (status: ${intent.status}).`);
}

/** The challenge of a SetupIntent (`seti_...`): GET shows it, POST ends it, as for PaymentIntents. */
function setupIntentChallenge(ctx: EmulatorContext, router: express.Router, send: (res: Response, status: number, body: string) => void): void {
  const notFound = (res: Response, id: string) => send(res, 404, page('Not found', html`<p>No such SetupIntent: <code>${id}</code></p>`));
  router.get('/:id', (req, res, next) => {
    if (!req.params.id.startsWith('seti_')) return next();
    const intent = ctx.store.setupIntents.get(req.params.id);
    if (!intent) return notFound(res, req.params.id);
    if (intent.status !== 'requires_action') return send(res, 200, renderSetupDone(intent));
    send(res, 200, renderSetupChallenge(intent, ctx.store.paymentMethods.get(String(intent.payment_method))));
  });
  router.post('/:id', (req, res, next) => {
    if (!req.params.id.startsWith('seti_')) return next();
    const intent = ctx.store.setupIntents.get(req.params.id);
    if (!intent) return notFound(res, req.params.id);
    if (intent.status !== 'requires_action') return send(res, 409, renderSetupDone(intent));
    const returnUrl = intent.next_action?.redirect_to_url?.return_url ?? null;
    const approve = (req.body as Record<string, unknown> | undefined)?.action === 'complete';
    const { setupIntent } = authenticateSetupIntent(ctx, intent, approve, NO_REQUEST);
    if (returnUrl) {
      const url = new URL(returnUrl);
      url.searchParams.set('setup_intent', setupIntent.id);
      url.searchParams.set('setup_intent_client_secret', setupIntent.client_secret ?? '');
      return res.redirect(303, url.toString());
    }
    send(res, 200, renderSetupDone(setupIntent));
  });
}

/**
 * The 3-D Secure challenge of API PaymentIntents (`next_action` of a PaymentIntent in
 * `requires_action`, see `threeDSecureAction`): GET shows it; POST `action=complete|fail` ends it
 * and redirects (303) to the `return_url` given at confirmation, if any. SetupIntents needing
 * 3-D Secure (`seti_...`) use the same page.
 */
export function authenticationPages(ctx: EmulatorContext): express.Router {
  const router = express.Router();
  router.use(express.urlencoded({ extended: false, limit: '8kb' }));
  const send = (res: Response, status: number, body: string) => res.status(status).set('Cache-Control', 'no-store').type('html').send(body);
  setupIntentChallenge(ctx, router, send);

  router.get('/:id', (req, res) => {
    const intent = ctx.store.paymentIntents.get(req.params.id);
    if (!intent) return send(res, 404, page('Not found', html`<p>No such PaymentIntent: <code>${req.params.id}</code></p>`));
    if (intent.status !== 'requires_action') return send(res, 200, renderPaymentDone(intent));
    send(res, 200, renderPaymentChallenge(intent, ctx.store.paymentMethods.get(String(intent.payment_method))));
  });

  router.post('/:id', (req, res) => {
    const intent = ctx.store.paymentIntents.get(req.params.id);
    if (!intent) return send(res, 404, page('Not found', html`<p>No such PaymentIntent: <code>${req.params.id}</code></p>`));
    if (intent.status !== 'requires_action') return send(res, 409, renderPaymentDone(intent));
    const returnUrl = intent.next_action?.redirect_to_url?.return_url ?? null;
    const approve = (req.body as Record<string, unknown> | undefined)?.action === 'complete';
    const { paymentIntent } = authenticatePaymentIntent(ctx, intent, approve, NO_REQUEST);
    if (returnUrl) {
      const url = new URL(returnUrl);
      url.searchParams.set('payment_intent', paymentIntent.id);
      url.searchParams.set('payment_intent_client_secret', paymentIntent.client_secret ?? '');
      return res.redirect(303, url.toString());
    }
    send(res, 200, renderPaymentDone(paymentIntent));
  });
  return router;
}
