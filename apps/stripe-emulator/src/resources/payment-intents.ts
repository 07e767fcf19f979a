import type Stripe from 'stripe';
import type { z } from 'zod';
import { nowSeconds } from '../core/clock';
import type { EmulatorContext } from '../core/context';
import { previousAttributes } from '../core/events';
import { newId, randomToken } from '../core/ids';
import { StripeApiError, invalidRequest, resourceMissing } from '../http/errors';
import { paginate } from '../http/lists';
import { listParams, p, parseParams } from '../http/params';
import { reference, type ApiHandler, type ResourceModule } from '../http/route';
import { checkPaymentMethodOwner, confirmPaymentIntent, threeDSecureAction } from '../payments/pay';
import { requireCustomer } from './customers';
import { resolvePaymentMethod } from './payment-methods';
import { addressParam, definedEntries, mergeMetadata, noParams } from './shared';

const PAYMENT_METHOD_TYPES = ['card', 'sepa_debit'] as const;

const shippingParam = p.object({
  name: p.string(),
  address: addressParam,
  carrier: p.string().optional(),
  phone: p.string().optional(),
  tracking_number: p.string().optional(),
});

const editable = {
  amount: p.integer({ min: 1, max: 99_999_999 }).optional(),
  currency: p.currency().optional(),
  customer: p.string().optional(),
  description: p.nullableString(1000).optional(),
  metadata: p.metadata().optional(),
  payment_method: p.string().optional(),
  payment_method_types: p.array(p.oneOf(PAYMENT_METHOD_TYPES)).optional(),
  receipt_email: p.email({ emptyable: true }).optional(),
  setup_future_usage: p.oneOf(['on_session', 'off_session']).optional(),
  shipping: shippingParam.optional(),
};
const createParams = p.object({
  ...editable,
  amount: p.integer({ min: 1, max: 99_999_999 }),
  currency: p.currency(),
  confirm: p.boolean().optional(),
  capture_method: p.oneOf(['automatic', 'automatic_async']).optional(),
  off_session: p.boolean().optional(),
  return_url: p.url().optional(),
});
const updateParams = p.object(editable);
const confirmParams = p.object({
  payment_method: p.string().optional(),
  off_session: p.boolean().optional(),
  return_url: p.url().optional(),
  setup_future_usage: p.oneOf(['on_session', 'off_session']).optional(),
});
const cancelParams = p.object({ cancellation_reason: p.oneOf(['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned']).optional() });
const listQuery = p.object({ ...listParams, customer: p.string().optional() });

/**
 * Minimum charge amounts in the minor unit (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts),
 * for the currencies Tally uses; others only need 1.
 */
const MINIMUM_AMOUNTS: Record<string, number> = { usd: 50, eur: 50, gbp: 30 };

/** What a new PaymentIntent is made of. */
export interface PaymentIntentInput {
  /** In the currency's minor unit (cents). */
  amount: number;
  currency: string;
  customer: string | null;
  description: string | null;
  metadata: Stripe.Metadata;
  shipping: Stripe.PaymentIntent.Shipping | null;
  /** Default `['card']`. */
  paymentMethodTypes?: string[];
  setupFutureUsage?: Stripe.PaymentIntent.SetupFutureUsage | null;
  /** Default none. */
  paymentMethod?: string | null;
  receiptEmail?: string | null;
  captureMethod?: Stripe.PaymentIntent.CaptureMethod;
  /** `requires_confirmation` when the PaymentMethod is known, otherwise (default) `requires_payment_method`. */
  status?: 'requires_payment_method' | 'requires_confirmation';
}

/** Stores a new PaymentIntent (https://docs.stripe.com/api/payment_intents/object) and publishes `payment_intent.created`. */
export function createPaymentIntent(ctx: EmulatorContext, input: PaymentIntentInput, request: Stripe.Event.Request): Stripe.PaymentIntent {
  const id = newId('pi');
  const types = input.paymentMethodTypes ?? ['card'];
  const paymentIntent: Stripe.PaymentIntent = {
    id,
    object: 'payment_intent',
    allowed_payment_method_types: null,
    amount: input.amount,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: input.captureMethod ?? 'automatic_async',
    client_secret: `${id}_secret_${randomToken(25)}`,
    confirmation_method: 'automatic',
    created: nowSeconds(),
    currency: input.currency,
    customer: input.customer,
    customer_account: null,
    description: input.description,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    managed_payments: null,
    metadata: input.metadata,
    next_action: null,
    on_behalf_of: null,
    payment_method: input.paymentMethod ?? null,
    payment_method_configuration_details: null,
    payment_method_options: {
      ...(types.includes('card') ? { card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' as const } } : {}),
      ...(types.includes('sepa_debit') ? { sepa_debit: {} } : {}),
    },
    payment_method_types: types,
    payment_record: null,
    processing: null,
    receipt_email: input.receiptEmail ?? null,
    review: null,
    setup_future_usage: input.setupFutureUsage ?? null,
    shipping: input.shipping,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: input.status ?? 'requires_payment_method',
    transfer_data: null,
    transfer_group: null,
  };
  ctx.store.paymentIntents.put(paymentIntent);
  ctx.events.publish({ type: 'payment_intent.created', object: paymentIntent, request });
  return paymentIntent;
}

/** The PaymentIntent `id`, or a 404 (400 when given as a parameter) `resource_missing`. */
export function requirePaymentIntent(ctx: EmulatorContext, id: string, param = 'id'): Stripe.PaymentIntent {
  const paymentIntent = ctx.store.paymentIntents.get(id);
  if (!paymentIntent) throw resourceMissing('payment_intent', id, param);
  return paymentIntent;
}

const unexpectedState = (message: string) => invalidRequest(message, { code: 'payment_intent_unexpected_state' });

function toShipping(shipping: z.output<typeof shippingParam>): Stripe.PaymentIntent.Shipping {
  return {
    name: shipping.name,
    address: shipping.address ?? undefined,
    carrier: shipping.carrier ?? null,
    phone: shipping.phone ?? null,
    tracking_number: shipping.tracking_number ?? null,
  } as Stripe.PaymentIntent.Shipping;
}

/** Checks the amount against the currency's minimum (400 `amount_too_small`). */
function checkAmount(amount: number, currency: string): void {
  const minimum = MINIMUM_AMOUNTS[currency] ?? 1;
  if (amount < minimum) {
    throw invalidRequest(`Amount must be at least ${(minimum / 100).toFixed(2)} ${currency}`, { param: 'amount', code: 'amount_too_small' });
  }
}

/**
 * The PaymentMethod `id` (or test alias) for a PaymentIntent: it must be of one of the
 * PaymentIntent's `payment_method_types` and may belong to no other customer. Checks stored
 * PaymentMethods without changing state; an alias makes its fresh PaymentMethod only once valid.
 */
function usablePaymentMethod(ctx: EmulatorContext, id: string, types: readonly string[], customer: string | null): Stripe.PaymentMethod {
  const stored = ctx.store.paymentMethods.get(id);
  if (stored) {
    checkPaymentMethodOwner(stored, customer);
    if (!types.includes(stored.type)) {
      throw invalidRequest(
        `The PaymentMethod provided (${stored.type}) is not allowed for this PaymentIntent. Please attach a PaymentMethod of one of the following types: ${types.join(', ')}. Alternatively update the allowed payment_method_types for this PaymentIntent to include "${stored.type}".`,
        { param: 'payment_method', code: 'payment_intent_incompatible_payment_method' },
      );
    }
    return stored;
  }
  if (!types.includes('card')) throw resourceMissing('PaymentMethod', id, 'payment_method');
  return resolvePaymentMethod(ctx, id, 'payment_method');
}

/** Confirms and answers as the API does: the PaymentIntent, or the 402 of a decline (the PaymentIntent is saved either way). */
function confirmForApi(ctx: EmulatorContext, intent: Stripe.PaymentIntent, paymentMethod: Stripe.PaymentMethod, options: { offSession: boolean; returnUrl: string | null; request: Stripe.Event.Request }): Stripe.PaymentIntent {
  const result = confirmPaymentIntent(ctx, intent, {
    paymentMethod,
    offSession: options.offSession,
    request: options.request,
    nextAction: threeDSecureAction(ctx, intent.id, options.returnUrl),
  });
  if (result.error) throw new StripeApiError(402, result.error);
  return result.paymentIntent;
}

/**
 * POST /v1/payment_intents (https://docs.stripe.com/api/payment_intents/create). With
 * `confirm=true` it is confirmed at once (a decline answers 402 `card_error`, with the stored
 * PaymentIntent in the error). Only automatic capture.
 */
const create: ApiHandler = (req, ctx) => {
  const params = parseParams(createParams, req.params);
  checkAmount(params.amount, params.currency);
  if (params.customer !== undefined) requireCustomer(ctx, params.customer, 'customer');
  if (params.off_session !== undefined && params.confirm !== true) {
    throw invalidRequest('You can only pass `off_session` when `confirm` is true.', { param: 'off_session' });
  }
  if (params.return_url !== undefined && params.confirm !== true) {
    throw invalidRequest('You can only pass `return_url` when `confirm` is true.', { param: 'return_url' });
  }
  if (params.confirm === true && params.payment_method === undefined) {
    throw unexpectedState("You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent, pass a payment_method when creating or confirming it.");
  }
  const types = params.payment_method_types ?? ['card'];
  const customer = params.customer ?? null;
  const paymentMethod = params.payment_method === undefined ? null : usablePaymentMethod(ctx, params.payment_method, types, customer);
  const intent = createPaymentIntent(
    ctx,
    {
      amount: params.amount,
      currency: params.currency,
      customer,
      description: params.description ?? null,
      metadata: mergeMetadata({}, params.metadata),
      shipping: params.shipping ? toShipping(params.shipping) : null,
      paymentMethodTypes: types,
      setupFutureUsage: params.setup_future_usage ?? null,
      paymentMethod: paymentMethod?.id ?? null,
      receiptEmail: params.receipt_email ?? null,
      captureMethod: params.capture_method ?? 'automatic_async',
      status: paymentMethod ? 'requires_confirmation' : 'requires_payment_method',
    },
    req.request,
  );
  if (params.confirm !== true || !paymentMethod) return intent;
  return confirmForApi(ctx, intent, paymentMethod, { offSession: params.off_session ?? false, returnUrl: params.return_url ?? null, request: req.request });
};

/** GET /v1/payment_intents/:id */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  return requirePaymentIntent(ctx, req.path.id ?? '');
};

/** Statuses in which a PaymentIntent can be updated or confirmed (https://docs.stripe.com/payments/paymentintents/lifecycle). */
const OPEN_STATUSES: readonly string[] = ['requires_payment_method', 'requires_confirmation', 'requires_action'];

/**
 * POST /v1/payment_intents/:id (https://docs.stripe.com/api/payment_intents/update): only while
 * the PaymentIntent awaits a payment method, confirmation or action. A new `payment_method`
 * makes it `requires_confirmation`. Publishes no event, as Stripe.
 */
const update: ApiHandler = (req, ctx) => {
  const params = parseParams(updateParams, req.params);
  const before = requirePaymentIntent(ctx, req.path.id ?? '');
  if (!OPEN_STATUSES.includes(before.status)) {
    throw unexpectedState(`You cannot update this PaymentIntent because it has a status of ${before.status}. Updates are only allowed when the PaymentIntent has one of the following statuses: ${OPEN_STATUSES.join(', ')}.`);
  }
  const customer = params.customer ?? (before.customer as string | null);
  if (params.customer !== undefined) requireCustomer(ctx, params.customer, 'customer');
  const types = params.payment_method_types ?? before.payment_method_types;
  const amount = params.amount ?? before.amount;
  const currency = params.currency ?? before.currency;
  checkAmount(amount, currency);
  const paymentMethod = params.payment_method === undefined ? null : usablePaymentMethod(ctx, params.payment_method, types, customer);
  const { metadata, shipping, receipt_email, setup_future_usage, payment_method_types, description } = params;
  const after: Stripe.PaymentIntent = {
    ...before,
    ...definedEntries({ amount: params.amount, currency: params.currency, description, receipt_email, setup_future_usage, payment_method_types }),
    customer,
    metadata: mergeMetadata(before.metadata, metadata),
    shipping: shipping ? toShipping(shipping) : before.shipping,
    ...(paymentMethod ? { payment_method: paymentMethod.id, status: 'requires_confirmation' as const, next_action: null } : {}),
  };
  if (Object.keys(previousAttributes(before, after)).length === 0) return before;
  return ctx.store.paymentIntents.put(after);
};

/**
 * POST /v1/payment_intents/:id/confirm (https://docs.stripe.com/api/payment_intents/confirm):
 * with the given `payment_method` or the one already set. Only from `requires_payment_method`,
 * `requires_confirmation` or `requires_action`.
 */
const confirm: ApiHandler = (req, ctx) => {
  const params = parseParams(confirmParams, req.params);
  const intent = requirePaymentIntent(ctx, req.path.id ?? '');
  if (!OPEN_STATUSES.includes(intent.status)) {
    throw unexpectedState(
      intent.status === 'succeeded'
        ? 'You cannot confirm this PaymentIntent because it has already succeeded after being previously confirmed.'
        : `You cannot confirm this PaymentIntent because it has a status of ${intent.status}. Only a PaymentIntent with one of the following statuses may be confirmed: ${OPEN_STATUSES.join(', ')}.`,
    );
  }
  const paymentMethodId = params.payment_method ?? (intent.payment_method as string | null);
  if (paymentMethodId === null) {
    throw unexpectedState("You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent, pass a payment_method when creating or confirming it.");
  }
  const paymentMethod = usablePaymentMethod(ctx, paymentMethodId, intent.payment_method_types, intent.customer as string | null);
  const prepared = params.setup_future_usage === undefined ? intent : { ...intent, setup_future_usage: params.setup_future_usage };
  return confirmForApi(ctx, prepared, paymentMethod, { offSession: params.off_session ?? false, returnUrl: params.return_url ?? null, request: req.request });
};

/** Statuses from which a PaymentIntent can be canceled (https://docs.stripe.com/api/payment_intents/cancel). */
const CANCELABLE_STATUSES: readonly string[] = ['requires_payment_method', 'requires_capture', 'requires_confirmation', 'requires_action'];

/** POST /v1/payment_intents/:id/cancel — publishes `payment_intent.canceled`. */
const cancel: ApiHandler = (req, ctx) => {
  const params = parseParams(cancelParams, req.params);
  const intent = requirePaymentIntent(ctx, req.path.id ?? '');
  if (!CANCELABLE_STATUSES.includes(intent.status)) {
    throw unexpectedState(
      `You cannot cancel this PaymentIntent because it has a status of ${intent.status}. Only a PaymentIntent with one of the following statuses may be canceled: ${CANCELABLE_STATUSES.join(', ')}.`,
    );
  }
  const canceled = ctx.store.paymentIntents.put({
    ...intent,
    status: 'canceled',
    canceled_at: nowSeconds(),
    cancellation_reason: params.cancellation_reason ?? null,
    next_action: null,
  });
  ctx.events.publish({ type: 'payment_intent.canceled', object: canceled, request: req.request });
  return canceled;
};

/** GET /v1/payment_intents — newest first, optionally filtered by `customer`. */
const list: ApiHandler = (req, ctx) => {
  const query = parseParams(listQuery, req.params);
  const all = ctx.store.paymentIntents.newestFirst().filter((intent) => query.customer === undefined || intent.customer === query.customer);
  return paginate(all, query, '/v1/payment_intents');
};

/** PaymentIntents: create (optionally confirming), retrieve, list, update, confirm, cancel. */
export const paymentIntents: ResourceModule = {
  routes: [
    { method: 'post', path: '/v1/payment_intents', returns: 'payment_intent', handler: create },
    { method: 'get', path: '/v1/payment_intents', returns: 'payment_intent', list: true, handler: list },
    { method: 'get', path: '/v1/payment_intents/:id', returns: 'payment_intent', handler: retrieve },
    { method: 'post', path: '/v1/payment_intents/:id', returns: 'payment_intent', handler: update },
    { method: 'post', path: '/v1/payment_intents/:id/confirm', returns: 'payment_intent', handler: confirm },
    { method: 'post', path: '/v1/payment_intents/:id/cancel', returns: 'payment_intent', handler: cancel },
  ],
  expandable: {
    payment_intent: {
      customer: reference('customer', (store) => store.customers),
      latest_charge: reference('charge', (store) => store.charges),
      payment_method: reference('payment_method', (store) => store.paymentMethods),
    },
  },
};
