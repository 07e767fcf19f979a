import type Stripe from 'stripe';
import { nowSeconds } from '../core/clock';
import type { EmulatorContext } from '../core/context';
import { NO_REQUEST } from '../core/events';
import { newId } from '../core/ids';
import type { CheckoutSessionDetails } from '../core/store';
import { invalidRequest, resourceMissing } from '../http/errors';
import { paginate } from '../http/lists';
import { listParams, p, parseParams } from '../http/params';
import { reference, type ApiHandler, type ResourceModule } from '../http/route';
import { createLineItems, lineItemParam, planLineItems } from './checkout-line-items';
import { requireCustomer } from './customers';
import { addressParam, mergeMetadata, noParams } from './shared';

const createParams = p.object({
  mode: p.oneOf(['payment', 'setup', 'subscription']),
  line_items: p.array(lineItemParam),
  success_url: p.url().optional(),
  cancel_url: p.url().optional(),
  client_reference_id: p.string(200).optional(),
  metadata: p.metadata().optional(),
  customer: p.string().optional(),
  customer_email: p.email().optional(),
  customer_creation: p.oneOf(['always', 'if_required']).optional(),
  expires_at: p.integer().optional(),
  payment_method_types: p.array(p.oneOf(['card', 'sepa_debit'])).optional(),
  subscription_data: p
    .object({
      trial_period_days: p.integer({ min: 1, max: 730 }).optional(),
      metadata: p.metadata().optional(),
      description: p.string(500).optional(),
    })
    .optional(),
  payment_intent_data: p
    .object({
      description: p.string(1000).optional(),
      metadata: p.metadata().optional(),
      setup_future_usage: p.oneOf(['on_session', 'off_session']).optional(),
      shipping: p
        .object({
          name: p.string(),
          address: addressParam,
          carrier: p.string().optional(),
          phone: p.string().optional(),
          tracking_number: p.string().optional(),
        })
        .optional(),
    })
    .optional(),
});

const listQuery = p.object({
  ...listParams,
  customer: p.string().optional(),
  payment_intent: p.string().optional(),
  status: p.oneOf(['open', 'complete', 'expired']).optional(),
});

/** `expires_at` bounds and default, in seconds from creation (https://docs.stripe.com/api/checkout/sessions/create#create_checkout_session-expires_at). */
const MIN_LIFETIME = 30 * 60;
const MAX_LIFETIME = 24 * 60 * 60;

/** The session `id` (404 `resource_missing` if unknown, worded with `label`), expiring it first if due. */
export function requireSession(ctx: EmulatorContext, id: string, label = 'checkout.session'): Stripe.Checkout.Session {
  expireDueSessions(ctx);
  const session = ctx.store.checkoutSessions.get(id);
  if (!session) throw resourceMissing(label, id);
  return session;
}

/** The line items and `payment_intent_data` of session `id`. */
export function sessionDetails(ctx: EmulatorContext, id: string): CheckoutSessionDetails {
  const details = ctx.store.checkoutSessionDetails.get(id);
  if (!details) throw new Error(`Checkout Session ${id} has no stored details`);
  return details;
}

/** Moves an open session to `expired` (its URL stops working) and publishes `checkout.session.expired`. */
export function expireSession(ctx: EmulatorContext, session: Stripe.Checkout.Session, request: Stripe.Event.Request): Stripe.Checkout.Session {
  const expired = ctx.store.checkoutSessions.put({ ...session, status: 'expired', url: null });
  ctx.events.publish({ type: 'checkout.session.expired', object: expired, request });
  return expired;
}

/** Expires every open session whose `expires_at` has passed (run by a timer and before session reads). */
export function expireDueSessions(ctx: EmulatorContext): void {
  const now = nowSeconds();
  for (const session of ctx.store.checkoutSessions.all()) {
    if (session.status === 'open' && session.expires_at <= now) expireSession(ctx, session, NO_REQUEST);
  }
}

/** What a successful payment sets on its session. */
export interface SessionCompletion {
  paymentIntent: string;
  customer: string | null;
  email: string | null;
  name: string | null;
  paymentStatus: 'paid' | 'unpaid';
}

/**
 * Marks a session `complete` and publishes `checkout.session.completed`: `paid`, or `unpaid`
 * while a delayed payment (SEPA Direct Debit) is `processing` (https://docs.stripe.com/checkout/fulfillment#delayed-notification).
 */
export function completeSession(
  ctx: EmulatorContext,
  session: Stripe.Checkout.Session,
  completion: SessionCompletion,
  request: Stripe.Event.Request,
): Stripe.Checkout.Session {
  const completed = ctx.store.checkoutSessions.put({
    ...session,
    status: 'complete',
    payment_status: completion.paymentStatus,
    payment_intent: completion.paymentIntent,
    customer: completion.customer,
    customer_details: {
      address: null,
      business_name: null,
      email: completion.email,
      individual_name: null,
      name: completion.name,
      phone: null,
      tax_exempt: 'none',
      tax_ids: [],
    },
    collected_information: { business_name: null, individual_name: null, shipping_details: null },
    url: null,
  });
  ctx.events.publish({ type: 'checkout.session.completed', object: completed, request });
  return completed;
}

/**
 * POST /v1/checkout/sessions (https://docs.stripe.com/api/checkout/sessions/create), `payment`
 * mode only. The PaymentIntent is made at the first payment attempt, as Stripe does since
 * 2022-08-01. Without `customer`, `customer_creation` defaults to `always` (see README).
 */
const create: ApiHandler = (req, ctx) => {
  const params = parseParams(createParams, req.params);
  if (params.mode === 'setup') {
    throw invalidRequest(`The Stripe emulator does not support \`mode=${params.mode}\` yet; use \`payment\` or \`subscription\`.`, { param: 'mode' });
  }
  const mode = params.mode;
  if (params.subscription_data !== undefined && mode !== 'subscription') {
    throw invalidRequest('You can only specify `subscription_data` in `subscription` mode.', { param: 'subscription_data' });
  }
  if (params.payment_intent_data !== undefined && mode !== 'payment') {
    throw invalidRequest('You can only specify `payment_intent_data` in `payment` mode.', { param: 'payment_intent_data' });
  }
  if (params.customer !== undefined && params.customer_email !== undefined) {
    throw invalidRequest('You may only specify one of these parameters: customer, customer_email.', { param: 'customer_email' });
  }
  const customer = params.customer === undefined ? null : requireCustomer(ctx, params.customer, 'customer');
  const created = nowSeconds();
  const expiresAt = params.expires_at ?? created + MAX_LIFETIME;
  if (expiresAt < created + MIN_LIFETIME) {
    throw invalidRequest('The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.', { param: 'expires_at' });
  }
  if (expiresAt > created + MAX_LIFETIME) {
    throw invalidRequest('The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.', { param: 'expires_at' });
  }
  const planned = planLineItems(ctx, params.line_items, mode);

  const lineItems = createLineItems(ctx, planned);
  // With a trial nothing is due today (https://docs.stripe.com/payments/checkout/free-trials).
  const trial = mode === 'subscription' && params.subscription_data?.trial_period_days !== undefined;
  const amount = trial ? 0 : lineItems.reduce((sum, item) => sum + item.amount_total, 0);
  const paymentMethodTypes = params.payment_method_types ?? ['card'];
  // SEPA Direct Debit debits euros only (https://docs.stripe.com/payments/sepa-debit).
  if (paymentMethodTypes.includes('sepa_debit') && lineItems.some((item) => item.currency !== 'eur')) {
    throw invalidRequest('The payment method type `sepa_debit` only supports the following currencies: eur.', { param: 'payment_method_types' });
  }
  const id = newId('cs_test');
  const session: Stripe.Checkout.Session = {
    id,
    object: 'checkout.session',
    adaptive_pricing: { enabled: false },
    after_expiration: null,
    allow_promotion_codes: null,
    allowed_payment_method_types: null,
    amount_subtotal: amount,
    amount_total: amount,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: null,
    cancel_url: params.cancel_url ?? null,
    client_reference_id: params.client_reference_id ?? null,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created,
    currency: lineItems[0]?.currency ?? null,
    currency_conversion: null,
    custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: customer?.id ?? null,
    customer_account: null,
    // Subscription mode always makes a customer (https://docs.stripe.com/api/checkout/sessions/create#create_checkout_session-customer_creation).
    customer_creation: customer || mode === 'subscription' ? null : (params.customer_creation ?? 'always'),
    customer_details: null,
    customer_email: params.customer_email ?? null,
    discounts: [],
    expires_at: expiresAt,
    integration_identifier: null,
    invoice: null,
    invoice_creation: null,
    livemode: false,
    locale: null,
    managed_payments: null,
    metadata: mergeMetadata({}, params.metadata),
    mode,
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: mode === 'subscription' ? 'always' : 'if_required',
    payment_method_configuration_details: null,
    payment_method_options: paymentMethodTypes.includes('card') ? { card: { request_three_d_secure: 'automatic' } } : {},
    payment_method_types: paymentMethodTypes,
    payment_status: 'unpaid',
    permissions: null,
    phone_number_collection: { enabled: false },
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: 'open',
    submit_type: null,
    subscription: null,
    success_url: params.success_url ?? null,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: 'hosted_page',
    url: `${ctx.baseUrl()}/c/pay/${id}`,
    wallet_options: null,
  };
  const intentData = params.payment_intent_data;
  const shipping = intentData?.shipping;
  ctx.store.checkoutSessionDetails.put({
    id,
    lineItems,
    paymentIntentData: {
      description: intentData?.description ?? null,
      metadata: mergeMetadata({}, intentData?.metadata),
      setupFutureUsage: intentData?.setup_future_usage ?? null,
      shipping: shipping
        ? { name: shipping.name, address: shipping.address ?? undefined, carrier: shipping.carrier ?? null, phone: shipping.phone ?? null, tracking_number: shipping.tracking_number ?? null }
        : null,
    },
    ...(mode === 'subscription'
      ? {
          subscriptionData: {
            trialPeriodDays: params.subscription_data?.trial_period_days ?? null,
            metadata: mergeMetadata({}, params.subscription_data?.metadata),
            description: params.subscription_data?.description ?? null,
            subscription: null,
          },
        }
      : {}),
  });
  return ctx.store.checkoutSessions.put(session);
};

/** GET /v1/checkout/sessions/:id */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  return requireSession(ctx, req.path.id ?? '');
};

/** GET /v1/checkout/sessions — newest first; filters `customer`, `payment_intent`, `status`. */
const list: ApiHandler = (req, ctx) => {
  const query = parseParams(listQuery, req.params);
  expireDueSessions(ctx);
  const all = ctx.store.checkoutSessions
    .newestFirst()
    .filter(
      (session) =>
        (query.customer === undefined || session.customer === query.customer) &&
        (query.payment_intent === undefined || session.payment_intent === query.payment_intent) &&
        (query.status === undefined || session.status === query.status),
    );
  return paginate(all, query, '/v1/checkout/sessions');
};

/** GET /v1/checkout/sessions/:id/line_items */
const listLineItems: ApiHandler = (req, ctx) => {
  const query = parseParams(p.object(listParams), req.params);
  const session = requireSession(ctx, req.path.id ?? '');
  return paginate(sessionDetails(ctx, session.id).lineItems, query, `/v1/checkout/sessions/${session.id}/line_items`);
};

/** POST /v1/checkout/sessions/:id/expire — only while `open` (https://docs.stripe.com/api/checkout/sessions/expire). */
const expire: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  const session = requireSession(ctx, req.path.id ?? '');
  if (session.status !== 'open') {
    throw invalidRequest(`Only Checkout Sessions with a status of \`open\` can be expired. This session's status is \`${session.status}\`.`, {
      code: 'checkout_session_not_open',
    });
  }
  return expireSession(ctx, session, req.request);
};

/** Checkout Sessions in `payment` mode; `customer`, `payment_intent` and `line_items` are expandable. */
export const checkoutSessions: ResourceModule = {
  routes: [
    { method: 'post', path: '/v1/checkout/sessions', returns: 'checkout.session', handler: create },
    { method: 'get', path: '/v1/checkout/sessions', returns: 'checkout.session', list: true, handler: list },
    { method: 'get', path: '/v1/checkout/sessions/:id', returns: 'checkout.session', handler: retrieve },
    { method: 'get', path: '/v1/checkout/sessions/:id/line_items', returns: 'item', list: true, handler: listLineItems },
    { method: 'post', path: '/v1/checkout/sessions/:id/expire', returns: 'checkout.session', handler: expire },
  ],
  expandable: {
    'checkout.session': {
      customer: reference('customer', (store) => store.customers),
      payment_intent: reference('payment_intent', (store) => store.paymentIntents),
      line_items: {
        object: 'list',
        resolve: (_value, session, ctx) => {
          const id = String(session.id);
          return { object: 'list', data: sessionDetails(ctx, id).lineItems, has_more: false, url: `/v1/checkout/sessions/${id}/line_items` };
        },
      },
    },
    item: { price: { object: 'price', resolve: (price) => price } },
  },
};
