import express, { type Response } from 'express';
import type { EmulatorContext } from '../core/context';
import { submitAuthentication, submitCheckoutForm, needsEmail, type CheckoutForm, type SubmitResult } from '../payments/checkout-form';
import { pendingAuthentication } from '../payments/checkout-payment';
import { expireDueSessions, sessionDetails } from '../resources/checkout-sessions';
import { renderAuthentication, renderCheckoutForm, renderClosedSession, renderUnknownSession, successUrl, type CheckoutFormView } from './checkout-page';

const formValue = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * The hosted Checkout page (`session.url` = `/c/pay/:id`): GET shows the form (or a page saying
 * the session is complete or expired); POST pays, then redirects (303) to `success_url` with
 * `{CHECKOUT_SESSION_ID}` filled in, to the 3-D Secure step, or re-renders with the error.
 */
export function checkoutPages(ctx: EmulatorContext): express.Router {
  const router = express.Router();
  router.use(express.urlencoded({ extended: false, limit: '64kb' }));

  const findSession = (id: string) => {
    expireDueSessions(ctx);
    return ctx.store.checkoutSessions.get(id);
  };

  const sendPage = (res: Response, status: number, body: string) => {
    res.status(status).set('Cache-Control', 'no-store').type('html').send(body);
  };

  const formView = (id: string, rest: Omit<CheckoutFormView, 'session' | 'lineItems' | 'askEmail'> = {}): CheckoutFormView => {
    const session = ctx.store.checkoutSessions.get(id)!;
    return { session, lineItems: sessionDetails(ctx, id).lineItems, askEmail: needsEmail(session), ...rest };
  };

  const respond = (res: Response, id: string, result: SubmitResult, values: CheckoutForm = {}) => {
    switch (result.status) {
      case 'succeeded':
        return res.redirect(303, result.session.success_url ? successUrl(result.session) : `/c/pay/${id}`);
      case 'requires_action':
        return res.redirect(303, `/c/pay/${id}/authenticate`);
      case 'failed':
        return sendPage(res, 402, renderCheckoutForm(formView(id, { error: { field: 'cardNumber', message: result.error.message }, values: { email: values.email } })));
      case 'invalid':
        return sendPage(res, 400, renderCheckoutForm(formView(id, { error: result.error, values: { ...values, cardCvc: undefined } })));
      case 'closed':
        return res.redirect(303, `/c/pay/${id}`);
    }
  };

  router.get('/:id', (req, res) => {
    const session = findSession(req.params.id);
    if (!session) return sendPage(res, 404, renderUnknownSession(req.params.id));
    if (session.status !== 'open') return sendPage(res, 200, renderClosedSession(session));
    sendPage(res, 200, renderCheckoutForm(formView(session.id)));
  });

  router.post('/:id', (req, res) => {
    if (!findSession(req.params.id)) return sendPage(res, 404, renderUnknownSession(req.params.id));
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values: CheckoutForm = {
      email: formValue(body.email),
      cardNumber: formValue(body.cardNumber),
      cardExpiry: formValue(body.cardExpiry),
      cardCvc: formValue(body.cardCvc),
    };
    respond(res, req.params.id, submitCheckoutForm(ctx, req.params.id, values), values);
  });

  router.get('/:id/authenticate', (req, res) => {
    const session = findSession(req.params.id);
    if (!session) return sendPage(res, 404, renderUnknownSession(req.params.id));
    const intent = session.status === 'open' ? pendingAuthentication(ctx, session) : undefined;
    if (!intent) return res.redirect(303, `/c/pay/${session.id}`);
    sendPage(res, 200, renderAuthentication(session, ctx.store.paymentMethods.get(String(intent.payment_method))));
  });

  router.post('/:id/authenticate', (req, res) => {
    if (!findSession(req.params.id)) return sendPage(res, 404, renderUnknownSession(req.params.id));
    const approve = (req.body as Record<string, unknown> | undefined)?.action === 'complete';
    respond(res, req.params.id, submitAuthentication(ctx, req.params.id, approve));
  });

  return router;
}
