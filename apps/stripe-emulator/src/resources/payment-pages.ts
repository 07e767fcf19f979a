import { StripeApiError, invalidRequest } from '../http/errors';
import { p, parseParams } from '../http/params';
import type { ApiHandler, ResourceModule } from '../http/route';
import { payCheckoutSession } from '../payments/checkout-payment';
import { requireSession } from './checkout-sessions';
import { resolvePaymentMethod } from './payment-methods';
import { noParams } from './shared';

const confirmParams = p.object({
  payment_method: p.string(),
  expected_amount: p.integer({ min: 0 }).optional(),
  email: p.email().optional(),
});

/** GET /v1/payment_pages/:id — Stripe's private "payment page" of a session; answered with the session itself. */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  return requireSession(ctx, req.path.id ?? '', 'payment_page');
};

/**
 * POST /v1/payment_pages/:id/confirm — what the Stripe CLI (`stripe trigger checkout.session.completed`)
 * calls to pay a session with `payment_method` (an id or a `pm_card_*` alias). `expected_amount`
 * must match `amount_total`. A decline answers 402 `card_error` like the real confirm; 3-D Secure
 * cards leave the session open with its PaymentIntent in `requires_action`.
 */
const confirm: ApiHandler = (req, ctx) => {
  const params = parseParams(confirmParams, req.params);
  const session = requireSession(ctx, req.path.id ?? '', 'payment_page');
  if (session.status !== 'open') {
    throw invalidRequest(`This Checkout Session is no longer active (status: \`${session.status}\`).`, { code: 'checkout_session_not_open' });
  }
  if (params.expected_amount !== undefined && params.expected_amount !== session.amount_total) {
    throw invalidRequest(`The expected amount (${params.expected_amount}) does not match the amount of this Checkout Session (${session.amount_total}).`, {
      param: 'expected_amount',
    });
  }
  const paymentMethod = resolvePaymentMethod(ctx, params.payment_method, 'payment_method');
  const outcome = payCheckoutSession(ctx, session, { paymentMethod, email: params.email ?? null, request: req.request });
  if (outcome.status === 'failed') throw new StripeApiError(402, outcome.error);
  return outcome.session;
};

/** The two private endpoints the official Stripe CLI uses to complete Checkout Sessions. */
export const paymentPages: ResourceModule = {
  routes: [
    { method: 'get', path: '/v1/payment_pages/:id', returns: 'checkout.session', handler: retrieve },
    { method: 'post', path: '/v1/payment_pages/:id/confirm', returns: 'checkout.session', handler: confirm },
  ],
};
