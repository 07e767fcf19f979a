import express, { type Response } from 'express';
import { attemptInvoicePayment, settlePaidInvoice } from '../billing/collection';
import { opFor } from '../billing/op';
import { portalCancel, portalResume, portalSubscriptions, portalSwitch, portalUpdateCard, switchOptions, type PortalResult } from '../billing/portal';
import { nowSeconds } from '../core/clock';
import type { EmulatorContext } from '../core/context';
import { NO_REQUEST } from '../core/events';
import { StripeApiError } from '../http/errors';
import { readCardForm, type CheckoutForm } from '../payments/checkout-form';
import { authenticatePaymentIntent } from '../payments/pay';
import { testCardByNumber } from '../payments/test-cards';
import { defaultConfiguration } from '../resources/billing-portal';
import { createCardPaymentMethod } from '../resources/payment-methods';
import { refreshBilling } from '../resources/subscriptions';
import { renderInvoiceAuthentication, renderInvoicePage, renderNotFound, renderPortal } from './billing-pages';

const formValue = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const cardValues = (body: unknown): CheckoutForm => {
  const fields = (body ?? {}) as Record<string, unknown>;
  return { cardNumber: formValue(fields.cardNumber), cardExpiry: formValue(fields.cardExpiry), cardCvc: formValue(fields.cardCvc) };
};
const send = (res: Response, status: number, body: string) => res.status(status).set('Cache-Control', 'no-store').type('html').send(body);

/** The invoice's PaymentIntent waiting for 3-D Secure, if any. */
function pendingIntent(ctx: EmulatorContext, invoiceId: string) {
  const id = ctx.store.invoiceStates.get(invoiceId)?.paymentIntent;
  const intent = id ? ctx.store.paymentIntents.get(id) : undefined;
  return intent?.status === 'requires_action' ? intent : undefined;
}

/**
 * The hosted invoice page (`hosted_invoice_url` = `/i/:id`): GET shows the invoice; POST pays
 * an open (or uncollectible) invoice with the typed test card, on session, then redirects (303)
 * back to the page, or to the 3-D Secure step `/i/:id/authenticate` for 3DS cards.
 */
export function invoicePages(ctx: EmulatorContext): express.Router {
  const router = express.Router();
  router.use(express.urlencoded({ extended: false, limit: '16kb' }));

  router.get('/:id', (req, res) => {
    refreshBilling(ctx);
    const invoice = ctx.store.invoices.get(req.params.id);
    if (!invoice || invoice.status === 'draft') return send(res, 404, renderNotFound('invoice', req.params.id));
    send(res, 200, renderInvoicePage({ invoice }));
  });

  router.post('/:id', (req, res) => {
    const invoice = ctx.store.invoices.get(req.params.id);
    if (!invoice || invoice.status === 'draft') return send(res, 404, renderNotFound('invoice', req.params.id));
    if (invoice.status !== 'open' && invoice.status !== 'uncollectible') return res.redirect(303, `/i/${invoice.id}`);
    const values = cardValues(req.body);
    const read = readCardForm(values, false);
    if ('error' in read) return send(res, 400, renderInvoicePage({ invoice, error: { message: read.error.message, field: read.error.field as 'cardNumber' }, values: { ...values, cardCvc: undefined } }));
    if (!testCardByNumber(read.card.number)) return send(res, 400, renderInvoicePage({ invoice, error: { message: 'Your card number is incorrect.', field: 'cardNumber' }, values }));
    const paymentMethod = createCardPaymentMethod(ctx, read.card);
    const op = opFor(ctx, String(invoice.customer));
    let outcome;
    try {
      outcome = attemptInvoicePayment(op, invoice, { paymentMethod: paymentMethod.id, offSession: false, automatic: false });
    } catch (error) {
      if (error instanceof StripeApiError) return send(res, 400, renderInvoicePage({ invoice, error: { message: error.message } }));
      throw error;
    }
    if (outcome.status === 'requires_action') return res.redirect(303, `/i/${invoice.id}/authenticate`);
    if (outcome.status === 'failed') return send(res, 402, renderInvoicePage({ invoice: ctx.store.invoices.get(invoice.id)!, error: { message: outcome.error.message, field: 'cardNumber' } }));
    res.redirect(303, `/i/${invoice.id}`);
  });

  router.get('/:id/authenticate', (req, res) => {
    const invoice = ctx.store.invoices.get(req.params.id);
    if (!invoice) return send(res, 404, renderNotFound('invoice', req.params.id));
    const intent = pendingIntent(ctx, invoice.id);
    if (!intent) return res.redirect(303, `/i/${invoice.id}`);
    send(res, 200, renderInvoiceAuthentication(invoice, intent, ctx.store.paymentMethods.get(String(intent.payment_method))));
  });

  router.post('/:id/authenticate', (req, res) => {
    const invoice = ctx.store.invoices.get(req.params.id);
    if (!invoice) return send(res, 404, renderNotFound('invoice', req.params.id));
    const intent = pendingIntent(ctx, invoice.id);
    if (!intent) return res.redirect(303, `/i/${invoice.id}`);
    const approve = (req.body as Record<string, unknown> | undefined)?.action === 'complete';
    const result = authenticatePaymentIntent(ctx, intent, approve, NO_REQUEST);
    if (result.error) return send(res, 402, renderInvoicePage({ invoice, error: { message: result.error.message } }));
    const current = ctx.store.invoices.get(invoice.id)!;
    if (current.status === 'open' || current.status === 'uncollectible') settlePaidInvoice(opFor(ctx, String(invoice.customer)), current, result.paymentIntent);
    res.redirect(303, `/i/${invoice.id}`);
  });

  return router;
}

/**
 * The Customer Portal (`/p/session/:id`, a portal session's `url`): GET lists the customer's
 * subscriptions with their actions and the card on file; each POST action redirects (303) back
 * with a notice (`?notice=`), or re-renders the page with the problem (status 400/402).
 */
export function portalPages(ctx: EmulatorContext): express.Router {
  const router = express.Router();
  router.use(express.urlencoded({ extended: false, limit: '16kb' }));

  const findSession = (id: string) => {
    const record = ctx.store.billingPortalSessions.get(id);
    return record && record.expiresAt > nowSeconds() ? record : undefined;
  };

  const render = (sessionId: string, extra: { notice?: string | undefined; error?: string | undefined; values?: CheckoutForm | undefined } = {}) => {
    refreshBilling(ctx);
    const { session } = findSession(sessionId)!;
    const configuration = ctx.store.billingPortalConfigurations.get(session.configuration as string) ?? defaultConfiguration(ctx);
    const customer = ctx.store.customers.get(session.customer)!;
    const subscriptions = portalSubscriptions(ctx, customer.id);
    const defaultId = customer.invoice_settings?.default_payment_method;
    const paymentMethod = typeof defaultId === 'string' ? (ctx.store.paymentMethods.get(defaultId) ?? null) : (defaultId ?? null);
    return renderPortal({
      session,
      configuration,
      customer,
      subscriptions,
      switchOptions: new Map(subscriptions.map((subscription) => [subscription.id, switchOptions(ctx, configuration, subscription)])),
      productNames: new Map(ctx.store.products.all().map((product) => [product.id, product.name])),
      paymentMethod,
      openInvoices: ctx.store.invoices.all().filter((invoice) => invoice.customer === customer.id && (invoice.status === 'open' || invoice.status === 'uncollectible')),
      ...extra,
    });
  };

  const respond = (res: Response, sessionId: string, result: PortalResult & { values?: CheckoutForm }) => {
    if (result.ok) return res.redirect(303, `/p/session/${sessionId}?notice=${encodeURIComponent(result.notice)}`);
    send(res, 400, render(sessionId, { error: result.error, values: result.values ? { ...result.values, cardCvc: undefined } : undefined }));
  };

  router.get('/session/:id', (req, res) => {
    if (!findSession(req.params.id) || !ctx.store.customers.get(findSession(req.params.id)!.session.customer)) return send(res, 404, renderNotFound('portal session', req.params.id));
    send(res, 200, render(req.params.id, { notice: formValue(req.query.notice) }));
  });

  router.post('/session/:id/subscriptions/:subscription/:action', (req, res) => {
    const record = findSession(req.params.id);
    if (!record) return send(res, 404, renderNotFound('portal session', req.params.id));
    const customer = record.session.customer;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const configuration = ctx.store.billingPortalConfigurations.get(record.session.configuration as string) ?? defaultConfiguration(ctx);
    switch (req.params.action) {
      case 'cancel':
        if (!configuration.features.subscription_cancel.enabled) return respond(res, req.params.id, { ok: false, error: 'Cancellation is not available.' });
        return respond(res, req.params.id, portalCancel(ctx, customer, req.params.subscription, body.when === 'now' ? 'now' : 'period_end'));
      case 'resume':
        return respond(res, req.params.id, portalResume(ctx, customer, req.params.subscription));
      case 'switch':
        return respond(res, req.params.id, portalSwitch(ctx, configuration, customer, req.params.subscription, formValue(body.price) ?? ''));
      default:
        return send(res, 404, renderNotFound('portal action', req.params.action));
    }
  });

  router.post('/session/:id/payment-method', (req, res) => {
    const record = findSession(req.params.id);
    if (!record) return send(res, 404, renderNotFound('portal session', req.params.id));
    respond(res, req.params.id, portalUpdateCard(ctx, record.session.customer, cardValues(req.body)));
  });

  return router;
}
