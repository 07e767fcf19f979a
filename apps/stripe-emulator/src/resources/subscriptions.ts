import type Stripe from 'stripe';
import { z } from 'zod';
import { noPaymentMethodError, reconcileInvoicePayments } from '../billing/collection';
import { idOf, opFor, type BillingOp } from '../billing/op';
import { cancelSubscriptionNow, updateSubscription } from '../billing/subscription-state';
import {
  changeItems,
  checkItemsCompatible,
  createSubscription,
  currentPeriod,
  endTrialNow,
  type ItemChange,
  type PaymentBehavior,
  type ProrationBehavior,
} from '../billing/subscriptions';
import { customerNow } from '../billing/time';
import { priceAmount } from '../billing/usage';
import type { EmulatorContext } from '../core/context';
import { StripeApiError, invalidRequest, resourceMissing } from '../http/errors';
import { paginate } from '../http/lists';
import { listParams, p, parseParams } from '../http/params';
import { reference, type ApiHandler, type ResourceModule } from '../http/route';
import { requireCustomer } from './customers';
import { mergeMetadata, noParams } from './shared';

/**
 * Subscriptions (https://docs.stripe.com/api/subscriptions) and subscription items, over the
 * billing engine in `billing/`. Periods are on the items (`items.data[].current_period_*`), as
 * since API `2025-03-31.basil`. Timestamps in unix seconds, amounts in minor units.
 */

const timestampOrNow = z.union([z.literal('now'), p.integer({ min: 0 })], { error: 'Invalid timestamp: must be an integer Unix timestamp in the future, or `now`.' });

const createItem = p.object({
  price: p.string(),
  quantity: p.integer({ min: 0 }).optional(),
  metadata: p.metadata().optional(),
});

const createParams = p.object({
  customer: p.string(),
  items: p.array(createItem),
  trial_period_days: p.integer({ min: 0, max: 730 }).optional(),
  trial_end: timestampOrNow.optional(),
  default_payment_method: p.string().optional(),
  payment_behavior: p.oneOf(['allow_incomplete', 'default_incomplete', 'error_if_incomplete', 'pending_if_incomplete']).optional(),
  proration_behavior: p.oneOf(['always_invoice', 'create_prorations', 'none']).optional(),
  cancel_at_period_end: p.boolean().optional(),
  metadata: p.metadata().optional(),
  description: p.string(500).optional(),
  collection_method: p.oneOf(['charge_automatically', 'send_invoice']).optional(),
  days_until_due: p.integer({ min: 0 }).optional(),
  off_session: p.boolean().optional(),
  trial_settings: p.object({ end_behavior: p.object({ missing_payment_method: p.oneOf(['cancel', 'create_invoice', 'pause']) }) }).optional(),
  payment_settings: p.object({ save_default_payment_method: p.oneOf(['off', 'on_subscription']).optional() }).optional(),
});

/** One entry of `items` on update (and of `subscription_details[items]` on an invoice preview). */
export const updateItem = p.object({
  id: p.string().optional(),
  price: p.string().optional(),
  quantity: p.integer({ min: 0 }).optional(),
  deleted: p.boolean().optional(),
  metadata: p.metadata().optional(),
});

const cancellationDetails = p.object({
  comment: p.nullableString(5000).optional(),
  feedback: p.oneOf(['customer_service', 'low_quality', 'missing_features', 'other', 'switched_service', 'too_complex', 'too_expensive', 'unused']).optional(),
});

const updateParams = p.object({
  items: p.array(updateItem).optional(),
  proration_behavior: p.oneOf(['always_invoice', 'create_prorations', 'none']).optional(),
  payment_behavior: p.oneOf(['allow_incomplete', 'default_incomplete', 'error_if_incomplete', 'pending_if_incomplete']).optional(),
  cancel_at_period_end: p.boolean().optional(),
  cancel_at: z.union([z.literal(''), p.integer({ min: 0 })], { error: 'Invalid integer' }).optional(),
  metadata: p.metadata().optional(),
  description: p.nullableString(500).optional(),
  default_payment_method: p.nullableString().optional(),
  trial_end: timestampOrNow.optional(),
  cancellation_details: cancellationDetails.optional(),
  off_session: p.boolean().optional(),
  proration_date: p.integer({ min: 0 }).optional(),
});

const cancelParams = p.object({
  cancellation_details: cancellationDetails.optional(),
  invoice_now: p.boolean().optional(),
  prorate: p.boolean().optional(),
});

const listQuery = p.object({
  ...listParams,
  customer: p.string().optional(),
  price: p.string().optional(),
  status: p.oneOf(['active', 'all', 'canceled', 'ended', 'incomplete', 'incomplete_expired', 'past_due', 'paused', 'trialing', 'unpaid']).optional(),
  test_clock: p.string().optional(),
  collection_method: p.oneOf(['charge_automatically', 'send_invoice']).optional(),
});

const itemsListQuery = p.object({ ...listParams, subscription: p.string() });

/** Brings billing up to date before a read: invoices whose PaymentIntent succeeded elsewhere are paid. */
export function refreshBilling(ctx: EmulatorContext): void {
  reconcileInvoicePayments(ctx, (customer) => opFor(ctx, customer));
}

/** The subscription `id`, or a 404 `resource_missing` naming `param`. */
export function requireSubscription(ctx: EmulatorContext, id: string, param = 'id'): Stripe.Subscription {
  const subscription = ctx.store.subscriptions.get(id);
  if (!subscription) throw resourceMissing('subscription', id, param);
  return subscription;
}

/** The recurring price `id` (400 `resource_missing` or Stripe's `type=one_time` refusal, naming `param`). */
export function requireRecurringPrice(ctx: EmulatorContext, id: string, param: string): Stripe.Price {
  const price = ctx.store.prices.get(id);
  if (!price) throw resourceMissing('price', id, param);
  if (price.type !== 'recurring' || !price.recurring) {
    throw invalidRequest('The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.', { param });
  }
  return price;
}

/** `items[]` of an update (or `subscription_details[items]` of a preview), as parsed by {@link updateItem}. */
export type ItemParams = ReadonlyArray<{ id?: string | undefined; price?: string | undefined; quantity?: number | undefined; deleted?: boolean | undefined; metadata?: Record<string, string> | null | undefined }>;

/**
 * Checks item changes against the subscription and the prices (`param`: `items`, or
 * `subscription_details[items]`): existing item ids, a price for new items, recurring prices,
 * at least one item left, one currency and interval. Stripe's 400s, nothing changed.
 */
export function itemChangesOf(ctx: EmulatorContext, subscription: Stripe.Subscription, items: ItemParams, param: string): ItemChange[] {
  const changes: ItemChange[] = items.map((item, index) => {
    const at = `${param}[${index}]`;
    if (item.id !== undefined && !subscription.items.data.some((existing) => existing.id === item.id)) {
      throw invalidRequest(`No such subscription item: '${item.id}'`, { param: `${at}[id]`, code: 'resource_missing' });
    }
    if (item.id === undefined && item.price === undefined) {
      throw invalidRequest(`Missing required param: ${at}[price].`, { param: `${at}[price]`, code: 'parameter_missing' });
    }
    const price = item.price === undefined ? undefined : requireRecurringPrice(ctx, item.price, `${at}[price]`);
    return { id: item.id, price, quantity: item.quantity, deleted: item.deleted, metadata: item.metadata === undefined ? undefined : mergeMetadata({}, item.metadata) };
  });
  if (changes.length > 0) {
    const remaining = subscription.items.data
      .filter((item) => !changes.some((change) => change.id === item.id && change.deleted))
      .map((item) => changes.find((change) => change.id === item.id)?.price ?? item.price);
    const added = changes.filter((change) => change.id === undefined).map((change) => change.price!);
    if (remaining.length + added.length === 0) throw invalidRequest('A subscription must have at least one active plan.', { param });
    checkItemsCompatible([...remaining, ...added], param);
  }
  return changes;
}

/**
 * A `proration_date` (unix seconds) must lie within the subscription's current period
 * `[current_period_start, current_period_end]`, as Stripe requires
 * (https://docs.stripe.com/api/subscriptions/update#update_subscription-proration_date): a 400 naming `param` otherwise.
 */
export function checkProrationDate(subscription: Stripe.Subscription, prorationDate: number, param: string): void {
  const period = currentPeriod(subscription);
  if (prorationDate < period.start || prorationDate > period.end) {
    throw invalidRequest(
      `The proration date ${prorationDate} must be within the current billing period of subscription ${subscription.id} (from ${period.start} to ${period.end}).`,
      { param },
    );
  }
}

/** A PaymentMethod that must be attached to `customer` (Stripe's 400 otherwise). */
function requireCustomerPaymentMethod(ctx: EmulatorContext, customer: string, id: string, param: string): Stripe.PaymentMethod {
  const paymentMethod = ctx.store.paymentMethods.get(id);
  if (!paymentMethod) throw resourceMissing('PaymentMethod', id, param);
  if (idOf(paymentMethod.customer as string | null) !== customer) {
    throw invalidRequest(`The customer does not have a payment method with the ID ${id}. The payment method must be attached to the customer.`, { param });
  }
  return paymentMethod;
}

/**
 * POST /v1/subscriptions (https://docs.stripe.com/api/subscriptions/create). See
 * `createSubscription` for what happens; everything is validated first (no state changes on a 400).
 */
const create: ApiHandler = (req, ctx) => {
  const params = parseParams(createParams, req.params);
  const customer = requireCustomer(ctx, params.customer, 'customer');
  if (params.items.length === 0) throw invalidRequest('Missing required param: items.', { param: 'items', code: 'parameter_missing' });
  const prices = params.items.map((item, index) => requireRecurringPrice(ctx, item.price, `items[${index}][price]`));
  checkItemsCompatible(prices);
  const now = customerNow(ctx, customer.id);
  if (params.trial_end !== undefined && params.trial_period_days !== undefined) {
    throw invalidRequest('You may only specify one of these parameters: trial_end, trial_period_days.', { param: 'trial_end' });
  }
  if (typeof params.trial_end === 'number' && params.trial_end <= now) {
    throw invalidRequest('Invalid timestamp: must be an integer Unix timestamp in the future.', { param: 'trial_end' });
  }
  const trialEnd =
    params.trial_period_days !== undefined && params.trial_period_days > 0
      ? now + params.trial_period_days * 86_400
      : typeof params.trial_end === 'number'
        ? params.trial_end
        : null;
  if (params.default_payment_method !== undefined) requireCustomerPaymentMethod(ctx, customer.id, params.default_payment_method, 'default_payment_method');
  const collectionMethod = params.collection_method ?? 'charge_automatically';
  if (collectionMethod === 'charge_automatically' && params.days_until_due !== undefined) {
    throw invalidRequest('You may only specify `days_until_due` when `collection_method` is `send_invoice`.', { param: 'days_until_due' });
  }
  const paymentBehavior: PaymentBehavior = params.payment_behavior ?? 'allow_incomplete';
  const firstAmount = trialEnd === null ? params.items.reduce((sum, item, index) => sum + (prices[index]!.recurring!.usage_type === 'metered' ? 0 : priceAmount(prices[index]!, item.quantity ?? 1)), 0) : 0;
  const paymentMethod = params.default_payment_method ?? idOf(customer.invoice_settings?.default_payment_method as string | null | undefined);
  if (collectionMethod === 'charge_automatically' && paymentBehavior !== 'default_incomplete' && firstAmount > 0 && paymentMethod === null) {
    throw new StripeApiError(400, { ...noPaymentMethodError() });
  }
  const op: BillingOp = { ctx, request: req.request, now };
  return createSubscription(op, {
    customer,
    items: params.items.map((item, index) => ({ price: prices[index]!, quantity: item.quantity ?? 1, metadata: mergeMetadata({}, item.metadata) })),
    trialEnd,
    defaultPaymentMethod: params.default_payment_method ?? null,
    paymentBehavior,
    cancelAtPeriodEnd: params.cancel_at_period_end ?? false,
    metadata: mergeMetadata({}, params.metadata),
    description: params.description ?? null,
    collectionMethod,
    daysUntilDue: params.days_until_due ?? null,
    missingPaymentMethod: params.trial_settings?.end_behavior.missing_payment_method ?? 'create_invoice',
    offSession: params.off_session ?? false,
  });
};

/** GET /v1/subscriptions/:id */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  refreshBilling(ctx);
  return requireSubscription(ctx, req.path.id ?? '');
};

/**
 * POST /v1/subscriptions/:id (https://docs.stripe.com/api/subscriptions/update): items (new
 * price or quantity, added or deleted items; prorated per `proration_behavior`),
 * `cancel_at_period_end` (sets `cancel_at` and `canceled_at`; `false` resumes), `cancel_at`,
 * `metadata`, `description`, `default_payment_method`, `trial_end` (`now` ends the trial and
 * invoices at once; a later time extends it), `cancellation_details`, `proration_date` (unix
 * seconds within the current period, else a 400 naming it: the prorations are computed as if
 * the update were made then, to bill what `POST /v1/invoices/create_preview` showed). One
 * `customer.subscription.updated` with `previous_attributes` when something changed.
 */
const update: ApiHandler = (req, ctx) => {
  const params = parseParams(updateParams, req.params);
  const subscription = requireSubscription(ctx, req.path.id ?? '');
  const customer = String(idOf(subscription.customer as string));
  const op: BillingOp = { ctx, request: req.request, now: customerNow(ctx, customer) };
  if (subscription.status === 'canceled' || subscription.status === 'incomplete_expired') {
    const allowed = new Set(['metadata', 'cancellation_details']);
    if (Object.keys(req.params).some((key) => !allowed.has(key))) {
      throw invalidRequest('A canceled subscription can only update its cancellation_details and metadata.');
    }
  }
  // Validate everything before changing anything.
  const changes = itemChangesOf(ctx, subscription, params.items ?? [], 'items');
  if (params.proration_date !== undefined) checkProrationDate(subscription, params.proration_date, 'proration_date');
  if (params.default_payment_method) requireCustomerPaymentMethod(ctx, customer, params.default_payment_method, 'default_payment_method');
  const trialEnd = params.trial_end;
  if (typeof trialEnd === 'number' && trialEnd <= op.now) {
    throw invalidRequest('Invalid timestamp: must be an integer Unix timestamp in the future.', { param: 'trial_end' });
  }
  if (typeof trialEnd === 'number' && subscription.status !== 'trialing') {
    throw invalidRequest('The Stripe emulator can only change `trial_end` of a trialing subscription.', { param: 'trial_end' });
  }

  const patch: Partial<Stripe.Subscription> = {};
  if (params.metadata !== undefined) patch.metadata = mergeMetadata(subscription.metadata, params.metadata);
  if (params.description !== undefined) patch.description = params.description;
  if (params.default_payment_method !== undefined) patch.default_payment_method = params.default_payment_method;
  const period = currentPeriod(subscription);
  if (params.cancel_at_period_end === true) {
    Object.assign(patch, { cancel_at_period_end: true, cancel_at: period.end, canceled_at: op.now });
  } else if (params.cancel_at_period_end === false) {
    Object.assign(patch, { cancel_at_period_end: false, cancel_at: null, canceled_at: null });
  }
  if (params.cancel_at !== undefined) {
    const at = params.cancel_at === '' ? null : params.cancel_at;
    Object.assign(patch, { cancel_at: at, canceled_at: at === null ? null : op.now, cancel_at_period_end: at !== null && at === period.end });
  }
  const cancelling = patch.cancel_at !== undefined && patch.cancel_at !== null;
  if (patch.cancel_at !== undefined || params.cancellation_details !== undefined) {
    const details = subscription.cancellation_details ?? { comment: null, feedback: null, feedback_option: null, reason: null };
    patch.cancellation_details = {
      ...details,
      ...(params.cancellation_details?.comment !== undefined ? { comment: params.cancellation_details.comment } : {}),
      ...(params.cancellation_details?.feedback !== undefined ? { feedback: params.cancellation_details.feedback } : {}),
      ...(patch.cancel_at !== undefined ? { reason: cancelling ? 'cancellation_requested' : null } : {}),
    };
  }
  if (typeof trialEnd === 'number') {
    Object.assign(patch, {
      trial_end: trialEnd,
      billing_cycle_anchor: trialEnd,
      items: { ...subscription.items, data: subscription.items.data.map((item) => ({ ...item, current_period_end: trialEnd })) },
    });
  }

  let current =
    changes.length > 0
      ? changeItems(op, subscription, changes, (params.proration_behavior ?? 'create_prorations') as ProrationBehavior, patch, params.proration_date ?? op.now)
      : updateSubscription(op, subscription, patch);
  if (trialEnd === 'now' && current.status === 'trialing') current = endTrialNow(op, current);
  return ctx.store.subscriptions.get(current.id) ?? current;
};

/**
 * DELETE /v1/subscriptions/:id (https://docs.stripe.com/api/subscriptions/cancel): cancels now
 * (`customer.subscription.deleted`). `invoice_now` and `prorate` are accepted; the emulator
 * makes no final invoice and no proration credit for them.
 */
const cancel: ApiHandler = (req, ctx) => {
  const params = parseParams(cancelParams, req.params);
  const subscription = requireSubscription(ctx, req.path.id ?? '');
  if (subscription.status === 'canceled' || subscription.status === 'incomplete_expired') {
    throw invalidRequest(`This subscription is already canceled (status \`${subscription.status}\`).`, { code: 'resource_missing' });
  }
  const op = opFor(ctx, String(idOf(subscription.customer as string)), req.request);
  return cancelSubscriptionNow(op, subscription, {
    reason: 'cancellation_requested',
    comment: params.cancellation_details?.comment ?? null,
    feedback: params.cancellation_details?.feedback ?? null,
  });
};

/**
 * GET /v1/subscriptions — newest first; filters `customer`, `price`, `status` (`all`, `ended`
 * = canceled or incomplete_expired; by default every status but `canceled`, as Stripe),
 * `test_clock`, `collection_method`.
 */
const list: ApiHandler = (req, ctx) => {
  const query = parseParams(listQuery, req.params);
  refreshBilling(ctx);
  const statusMatches = (status: string) => {
    if (query.status === undefined) return status !== 'canceled';
    if (query.status === 'all') return true;
    if (query.status === 'ended') return status === 'canceled' || status === 'incomplete_expired';
    return status === query.status;
  };
  const all = ctx.store.subscriptions
    .newestFirst()
    .filter(
      (subscription) =>
        statusMatches(subscription.status) &&
        (query.customer === undefined || subscription.customer === query.customer) &&
        (query.price === undefined || subscription.items.data.some((item) => item.price.id === query.price)) &&
        (query.test_clock === undefined || subscription.test_clock === query.test_clock) &&
        (query.collection_method === undefined || subscription.collection_method === query.collection_method),
    );
  return paginate(all, query, '/v1/subscriptions');
};

/** GET /v1/subscription_items?subscription=... */
const listItems: ApiHandler = (req, ctx) => {
  const query = parseParams(itemsListQuery, req.params);
  const subscription = requireSubscription(ctx, query.subscription, 'subscription');
  return paginate(subscription.items.data, query, '/v1/subscription_items');
};

/** GET /v1/subscription_items/:id */
const retrieveItem: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  const id = req.path.id ?? '';
  for (const subscription of ctx.store.subscriptions.all()) {
    const item = subscription.items.data.find((candidate) => candidate.id === id);
    if (item) return item;
  }
  throw resourceMissing('subscription_item', id);
};

/** Subscriptions and (read-only) subscription items. */
export const subscriptions: ResourceModule = {
  routes: [
    { method: 'post', path: '/v1/subscriptions', returns: 'subscription', handler: create },
    { method: 'get', path: '/v1/subscriptions', returns: 'subscription', list: true, handler: list },
    { method: 'get', path: '/v1/subscriptions/:id', returns: 'subscription', handler: retrieve },
    { method: 'post', path: '/v1/subscriptions/:id', returns: 'subscription', handler: update },
    { method: 'delete', path: '/v1/subscriptions/:id', returns: 'subscription', handler: cancel },
    { method: 'get', path: '/v1/subscription_items', returns: 'subscription_item', list: true, handler: listItems },
    { method: 'get', path: '/v1/subscription_items/:id', returns: 'subscription_item', handler: retrieveItem },
  ],
  expandable: {
    subscription: {
      customer: reference('customer', (store) => store.customers),
      latest_invoice: reference('invoice', (store) => store.invoices),
      default_payment_method: reference('payment_method', (store) => store.paymentMethods),
      test_clock: reference('test_helpers.test_clock', (store) => store.testClocks),
    },
  },
};
