import type Stripe from 'stripe';
import { nowSeconds } from '../core/clock';
import type { EmulatorContext } from '../core/context';
import { previousAttributes } from '../core/events';
import { newId, randomToken } from '../core/ids';
import { StripeApiError, invalidRequest, resourceMissing } from '../http/errors';
import { paginate } from '../http/lists';
import { listParams, p, parseParams } from '../http/params';
import { reference, type ApiHandler, type ResourceModule } from '../http/route';
import { confirmSetupIntent } from '../payments/setup-intents';
import { requireCustomer } from './customers';
import { resolvePaymentMethod } from './payment-methods';
import { definedEntries, mergeMetadata } from './shared';

/**
 * SetupIntents (https://docs.stripe.com/api/setup_intents): saving a card or a SEPA account
 * for later payments without charging it. Status moves `requires_payment_method` →
 * `requires_confirmation` → (`requires_action`) → `succeeded` | `canceled`
 * (https://docs.stripe.com/payments/intents#intent-statuses). Confirmation is in
 * `payments/setup-intents.ts`.
 */

const PAYMENT_METHOD_TYPES = ['card', 'sepa_debit'] as const;

const createParams = p.object({
  confirm: p.boolean().optional(),
  customer: p.string().optional(),
  description: p.string(1000).optional(),
  metadata: p.metadata().optional(),
  payment_method: p.string().optional(),
  payment_method_types: p.array(p.oneOf(PAYMENT_METHOD_TYPES)).optional(),
  return_url: p.url().optional(),
  usage: p.oneOf(['off_session', 'on_session']).optional(),
});
const updateParams = p.object({
  customer: p.string().optional(),
  description: p.nullableString(1000).optional(),
  metadata: p.metadata().optional(),
  payment_method: p.string().optional(),
  payment_method_types: p.array(p.oneOf(PAYMENT_METHOD_TYPES)).optional(),
});
const retrieveParams = p.object({ client_secret: p.string().optional() });
const confirmParams = p.object({ payment_method: p.string().optional(), return_url: p.url().optional() });
const cancelParams = p.object({ cancellation_reason: p.oneOf(['abandoned', 'duplicate', 'requested_by_customer']).optional() });
const listQuery = p.object({ ...listParams, customer: p.string().optional(), payment_method: p.string().optional() });

/** Statuses in which a SetupIntent can be updated, confirmed or canceled. */
const OPEN_STATUSES: readonly string[] = ['requires_payment_method', 'requires_confirmation', 'requires_action'];

const unexpectedState = (message: string) => invalidRequest(message, { code: 'setup_intent_unexpected_state' });
const missingPaymentMethod = () =>
  unexpectedState("You cannot confirm this SetupIntent because it's missing a payment method. To confirm the SetupIntent, pass a payment_method when creating or confirming it.");

/** The SetupIntent `id`, or a 404 (400 when given as a parameter) `resource_missing`. */
export function requireSetupIntent(ctx: EmulatorContext, id: string, param = 'id'): Stripe.SetupIntent {
  const setupIntent = ctx.store.setupIntents.get(id);
  if (!setupIntent) throw resourceMissing('setupintent', id, param);
  return setupIntent;
}

const idOf = (value: string | { id: string } | null): string | null => (typeof value === 'string' ? value : (value?.id ?? null));

/**
 * The PaymentMethod `id` (or test alias, resolved like PaymentIntents do) for a SetupIntent: of
 * one of its `payment_method_types`, and attached to no other customer. Stored PaymentMethods are
 * only checked; an alias makes its fresh PaymentMethod once everything else is valid.
 */
function usablePaymentMethod(ctx: EmulatorContext, id: string, types: readonly string[], customer: string | null): Stripe.PaymentMethod {
  const stored = ctx.store.paymentMethods.get(id);
  if (!stored) {
    if (!types.includes('card')) throw resourceMissing('PaymentMethod', id, 'payment_method');
    return resolvePaymentMethod(ctx, id, 'payment_method');
  }
  const owner = idOf(stored.customer as string | null);
  if (owner !== null && owner !== customer) {
    throw invalidRequest(
      customer === null
        ? `The provided PaymentMethod ${stored.id} is attached to a Customer. To use this PaymentMethod, please also provide the Customer ID ${owner}.`
        : `The provided PaymentMethod ${stored.id} does not belong to the Customer ${customer}.`,
      { param: 'payment_method', code: 'setup_intent_invalid_parameter' },
    );
  }
  if (!types.includes(stored.type)) {
    throw invalidRequest(
      `The PaymentMethod provided (${stored.type}) is not allowed for this SetupIntent. Please attach a PaymentMethod of one of the following types: ${types.join(', ')}. Alternatively update the allowed payment_method_types for this SetupIntent to include "${stored.type}".`,
      { param: 'payment_method', code: 'setup_intent_invalid_parameter' },
    );
  }
  return stored;
}

function paymentMethodOptions(types: readonly string[]): Stripe.SetupIntent.PaymentMethodOptions {
  return {
    ...(types.includes('card') ? { card: { mandate_options: null, network: null, request_three_d_secure: 'automatic' as const } } : {}),
    ...(types.includes('sepa_debit') ? { sepa_debit: {} } : {}),
  };
}

/** Confirms and answers as the API does: the SetupIntent, or the 402 of a decline (the SetupIntent is saved either way). */
function confirmForApi(ctx: EmulatorContext, intent: Stripe.SetupIntent, paymentMethod: Stripe.PaymentMethod, returnUrl: string | null, request: Stripe.Event.Request): Stripe.SetupIntent {
  const result = confirmSetupIntent(ctx, intent, { paymentMethod, returnUrl, request });
  if (result.error) throw new StripeApiError(402, result.error);
  return result.setupIntent;
}

/**
 * POST /v1/setup_intents (https://docs.stripe.com/api/setup_intents/create): publishes
 * `setup_intent.created`; with `confirm=true` it is confirmed at once (a declined card answers
 * 402 `card_error` with the stored SetupIntent in `error.setup_intent`). `usage` defaults to
 * `off_session`, `payment_method_types` to `['card']`.
 */
const create: ApiHandler = (req, ctx) => {
  const params = parseParams(createParams, req.params);
  const customer = params.customer ?? null;
  if (customer !== null) requireCustomer(ctx, customer, 'customer');
  if (params.return_url !== undefined && params.confirm !== true) {
    throw invalidRequest('You can only pass `return_url` when `confirm` is true.', { param: 'return_url' });
  }
  if (params.confirm === true && params.payment_method === undefined) throw missingPaymentMethod();
  const types = params.payment_method_types ?? ['card'];
  const paymentMethod = params.payment_method === undefined ? null : usablePaymentMethod(ctx, params.payment_method, types, customer);
  const id = newId('seti');
  const setupIntent: Stripe.SetupIntent = {
    id,
    object: 'setup_intent',
    application: null,
    automatic_payment_methods: null,
    cancellation_reason: null,
    client_secret: `${id}_secret_${randomToken(32)}`,
    created: nowSeconds(),
    customer,
    description: params.description ?? null,
    excluded_payment_method_types: null,
    flow_directions: null,
    last_setup_error: null,
    latest_attempt: null,
    livemode: false,
    mandate: null,
    metadata: mergeMetadata({}, params.metadata),
    next_action: null,
    on_behalf_of: null,
    payment_method: paymentMethod?.id ?? null,
    payment_method_configuration_details: null,
    payment_method_options: paymentMethodOptions(types),
    payment_method_types: types,
    single_use_mandate: null,
    status: paymentMethod ? 'requires_confirmation' : 'requires_payment_method',
    usage: params.usage ?? 'off_session',
  } as Stripe.SetupIntent;
  ctx.store.setupIntents.put(setupIntent);
  ctx.events.publish({ type: 'setup_intent.created', object: setupIntent, request: req.request });
  if (params.confirm !== true || !paymentMethod) return setupIntent;
  return confirmForApi(ctx, setupIntent, paymentMethod, params.return_url ?? null, req.request);
};

/** GET /v1/setup_intents/:id — a `client_secret`, if given, must be the SetupIntent's. */
const retrieve: ApiHandler = (req, ctx) => {
  const params = parseParams(retrieveParams, req.params);
  const setupIntent = requireSetupIntent(ctx, req.path.id ?? '');
  if (params.client_secret !== undefined && params.client_secret !== setupIntent.client_secret) {
    throw invalidRequest('The client_secret provided does not match the client_secret associated with the SetupIntent.', { param: 'client_secret' });
  }
  return setupIntent;
};

/**
 * POST /v1/setup_intents/:id (https://docs.stripe.com/api/setup_intents/update): while it awaits
 * a payment method, confirmation or action. A new `payment_method` makes it
 * `requires_confirmation`. Stripe has no `setup_intent.updated` event.
 */
const update: ApiHandler = (req, ctx) => {
  const params = parseParams(updateParams, req.params);
  const before = requireSetupIntent(ctx, req.path.id ?? '');
  if (!OPEN_STATUSES.includes(before.status)) {
    throw unexpectedState(
      `You cannot update this SetupIntent because it has a status of ${before.status}. Updates are only allowed when the SetupIntent has one of the following statuses: ${OPEN_STATUSES.join(', ')}.`,
    );
  }
  if (params.customer !== undefined) requireCustomer(ctx, params.customer, 'customer');
  const customer = params.customer ?? idOf(before.customer as string | null);
  const types = params.payment_method_types ?? before.payment_method_types;
  const paymentMethod = params.payment_method === undefined ? null : usablePaymentMethod(ctx, params.payment_method, types, customer);
  const after: Stripe.SetupIntent = {
    ...before,
    ...definedEntries({ description: params.description, payment_method_types: params.payment_method_types }),
    ...(params.payment_method_types ? { payment_method_options: paymentMethodOptions(params.payment_method_types) } : {}),
    customer,
    metadata: mergeMetadata(before.metadata ?? {}, params.metadata),
    ...(paymentMethod ? { payment_method: paymentMethod.id, status: 'requires_confirmation' as const, next_action: null } : {}),
  };
  if (Object.keys(previousAttributes(before, after)).length === 0) return before;
  return ctx.store.setupIntents.put(after);
};

/**
 * POST /v1/setup_intents/:id/confirm (https://docs.stripe.com/api/setup_intents/confirm): with
 * the given `payment_method` or the one already set.
 */
const confirm: ApiHandler = (req, ctx) => {
  const params = parseParams(confirmParams, req.params);
  const intent = requireSetupIntent(ctx, req.path.id ?? '');
  if (!OPEN_STATUSES.includes(intent.status)) {
    throw unexpectedState(
      intent.status === 'succeeded'
        ? 'You cannot confirm this SetupIntent because it has already succeeded.'
        : `You cannot confirm this SetupIntent because it has a status of ${intent.status}. Only a SetupIntent with one of the following statuses may be confirmed: ${OPEN_STATUSES.join(', ')}.`,
    );
  }
  const paymentMethodId = params.payment_method ?? idOf(intent.payment_method as string | null);
  if (paymentMethodId === null) throw missingPaymentMethod();
  const customer = idOf(intent.customer as string | null);
  const paymentMethod = usablePaymentMethod(ctx, paymentMethodId, intent.payment_method_types, customer);
  return confirmForApi(ctx, intent, paymentMethod, params.return_url ?? null, req.request);
};

/** POST /v1/setup_intents/:id/cancel (https://docs.stripe.com/api/setup_intents/cancel) — publishes `setup_intent.canceled`. */
const cancel: ApiHandler = (req, ctx) => {
  const params = parseParams(cancelParams, req.params);
  const intent = requireSetupIntent(ctx, req.path.id ?? '');
  if (!OPEN_STATUSES.includes(intent.status)) {
    throw unexpectedState(
      `You cannot cancel this SetupIntent because it has a status of ${intent.status}. Only a SetupIntent with one of the following statuses may be canceled: ${OPEN_STATUSES.join(', ')}.`,
    );
  }
  const canceled = ctx.store.setupIntents.put({ ...intent, status: 'canceled', cancellation_reason: params.cancellation_reason ?? null, next_action: null });
  ctx.events.publish({ type: 'setup_intent.canceled', object: canceled, request: req.request });
  return canceled;
};

/** GET /v1/setup_intents — newest first; filters `customer` and `payment_method`. */
const list: ApiHandler = (req, ctx) => {
  const query = parseParams(listQuery, req.params);
  const all = ctx.store.setupIntents
    .newestFirst()
    .filter(
      (intent) =>
        (query.customer === undefined || idOf(intent.customer as string | null) === query.customer) &&
        (query.payment_method === undefined || idOf(intent.payment_method as string | null) === query.payment_method),
    );
  return paginate(all, query, '/v1/setup_intents');
};

/** SetupIntents: create (optionally confirming), retrieve, update, list, confirm, cancel. */
export const setupIntents: ResourceModule = {
  routes: [
    { method: 'post', path: '/v1/setup_intents', returns: 'setup_intent', handler: create },
    { method: 'get', path: '/v1/setup_intents', returns: 'setup_intent', list: true, handler: list },
    { method: 'get', path: '/v1/setup_intents/:id', returns: 'setup_intent', handler: retrieve },
    { method: 'post', path: '/v1/setup_intents/:id', returns: 'setup_intent', handler: update },
    { method: 'post', path: '/v1/setup_intents/:id/confirm', returns: 'setup_intent', handler: confirm },
    { method: 'post', path: '/v1/setup_intents/:id/cancel', returns: 'setup_intent', handler: cancel },
  ],
  expandable: {
    setup_intent: {
      customer: reference('customer', (store) => store.customers),
      payment_method: reference('payment_method', (store) => store.paymentMethods),
    },
  },
};
