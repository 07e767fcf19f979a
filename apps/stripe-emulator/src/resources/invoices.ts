import type Stripe from 'stripe';
import { attemptInvoicePayment, paymentMethodForInvoice, settlePaidInvoice } from '../billing/collection';
import {
  createDraftInvoice,
  finalizeInvoice,
  invoicePaymentsOf,
  markUncollectible,
  pendingInvoiceItems,
  voidInvoice,
} from '../billing/invoices';
import { idOf, opFor, saveUpdate } from '../billing/op';
import { previewSubscriptionInvoice } from '../billing/preview';
import type { ProrationBehavior } from '../billing/subscriptions';
import { customerNow } from '../billing/time';
import { subscriptionOf } from '../billing/subscription-state';
import type { EmulatorContext } from '../core/context';
import { StripeApiError, invalidRequest, resourceMissing } from '../http/errors';
import { paginate } from '../http/lists';
import { listParams, p, parseParams } from '../http/params';
import { reference, type ApiHandler, type ResourceModule } from '../http/route';
import { requireCustomer } from './customers';
import { checkProrationDate, itemChangesOf, requireSubscription, refreshBilling, updateItem } from './subscriptions';
import { mergeMetadata, noParams } from './shared';

/**
 * Invoices (https://docs.stripe.com/api/invoices): create, retrieve, update, list, finalize,
 * pay, void, mark uncollectible, delete drafts, lines; and invoice payments. Status moves
 * `draft` → `open` → `paid` | `uncollectible` | `void`
 * (https://docs.stripe.com/invoicing/overview#invoice-lifecycle). Amounts in minor units.
 */

const createParams = p.object({
  customer: p.string(),
  auto_advance: p.boolean().optional(),
  collection_method: p.oneOf(['charge_automatically', 'send_invoice']).optional(),
  days_until_due: p.integer({ min: 0 }).optional(),
  due_date: p.integer({ min: 0 }).optional(),
  description: p.string(1500).optional(),
  metadata: p.metadata().optional(),
  pending_invoice_items_behavior: p.oneOf(['exclude', 'include']).optional(),
  default_payment_method: p.string().optional(),
  currency: p.currency().optional(),
  subscription: p.string().optional(),
});

const updateParams = p.object({
  auto_advance: p.boolean().optional(),
  collection_method: p.oneOf(['charge_automatically', 'send_invoice']).optional(),
  days_until_due: p.integer({ min: 0 }).optional(),
  description: p.nullableString(1500).optional(),
  metadata: p.metadata().optional(),
  default_payment_method: p.nullableString().optional(),
});

const previewParams = p.object({
  customer: p.string().optional(),
  subscription: p.string().optional(),
  subscription_details: p
    .object({
      items: p.array(updateItem).optional(),
      proration_behavior: p.oneOf(['always_invoice', 'create_prorations', 'none']).optional(),
      proration_date: p.integer({ min: 0 }).optional(),
      cancel_at_period_end: p.boolean().optional(),
    })
    .optional(),
});

const finalizeParams = p.object({ auto_advance: p.boolean().optional() });
const payParams = p.object({
  payment_method: p.string().optional(),
  paid_out_of_band: p.boolean().optional(),
  off_session: p.boolean().optional(),
  forgive: p.boolean().optional(),
});

const listQuery = p.object({
  ...listParams,
  customer: p.string().optional(),
  subscription: p.string().optional(),
  status: p.oneOf(['draft', 'open', 'paid', 'uncollectible', 'void']).optional(),
  collection_method: p.oneOf(['charge_automatically', 'send_invoice']).optional(),
});

const paymentsQuery = p.object({ ...listParams, invoice: p.string().optional(), status: p.oneOf(['canceled', 'open', 'paid']).optional() });

/** Stripe finalizes an `auto_advance` draft about an hour after its creation (https://docs.stripe.com/invoicing/integration/automatic-advancement-collection). */
const AUTO_FINALIZE_DELAY = 3600;

/** The invoice `id`, or a 404 `resource_missing` naming `param`. */
export function requireInvoice(ctx: EmulatorContext, id: string, param = 'id'): Stripe.Invoice {
  const invoice = ctx.store.invoices.get(id);
  if (!invoice) throw resourceMissing('invoice', id, param);
  return invoice;
}

const customerOf = (invoice: Stripe.Invoice) => String(idOf(invoice.customer as string));

/**
 * POST /v1/invoices (https://docs.stripe.com/api/invoices/create): a `draft` for `customer`
 * with, for `pending_invoice_items_behavior=include`, the customer's pending invoice items
 * (default `exclude`, as since API 2022-08-01). `auto_advance` defaults to `false`; when
 * `true`, the draft is finalized an hour later and then collected. Publishes `invoice.created`.
 */
const create: ApiHandler = (req, ctx) => {
  const params = parseParams(createParams, req.params);
  const customer = requireCustomer(ctx, params.customer, 'customer');
  const subscription = params.subscription === undefined ? null : requireSubscription(ctx, params.subscription, 'subscription');
  if (subscription && subscription.customer !== customer.id) {
    throw invalidRequest(`The subscription ${subscription.id} does not belong to the customer ${customer.id}.`, { param: 'subscription' });
  }
  const collectionMethod = params.collection_method ?? 'charge_automatically';
  if (collectionMethod === 'charge_automatically' && (params.days_until_due !== undefined || params.due_date !== undefined)) {
    throw invalidRequest('Invoices with `collection_method=charge_automatically` cannot have `days_until_due` or `due_date`.', {
      param: params.days_until_due !== undefined ? 'days_until_due' : 'due_date',
    });
  }
  if (params.days_until_due !== undefined && params.due_date !== undefined) {
    throw invalidRequest('You may only specify one of these parameters: days_until_due, due_date.', { param: 'days_until_due' });
  }
  if (params.default_payment_method !== undefined) {
    const paymentMethod = ctx.store.paymentMethods.get(params.default_payment_method);
    if (!paymentMethod) throw resourceMissing('PaymentMethod', params.default_payment_method, 'default_payment_method');
  }
  const op = opFor(ctx, customer.id, req.request);
  const include = params.pending_invoice_items_behavior === 'include' || subscription !== null;
  const pending = include ? pendingInvoiceItems(ctx, customer.id, subscription?.id ?? null, params.currency) : [];
  const currency = params.currency ?? pending[0]?.currency ?? subscription?.currency ?? customer.currency ?? 'usd';
  const items = pending.filter((item) => item.currency === currency);
  const autoAdvance = params.auto_advance ?? false;
  const daysUntilDue =
    params.due_date !== undefined ? Math.max(0, Math.ceil((params.due_date - op.now) / 86_400)) : (params.days_until_due ?? (collectionMethod === 'send_invoice' ? 30 : null));
  const withItems = createDraftInvoice(op, {
    customer,
    subscription,
    billingReason: subscription ? 'manual' : 'manual',
    collectionMethod,
    autoAdvance,
    daysUntilDue,
    description: params.description ?? null,
    metadata: mergeMetadata({}, params.metadata),
    currency,
    periodStart: op.now,
    periodEnd: op.now,
    defaultPaymentMethod: params.default_payment_method ?? null,
    automaticallyFinalizesAt: autoAdvance ? op.now + AUTO_FINALIZE_DELAY : null,
  }, [], items);
  if (params.due_date !== undefined && collectionMethod === 'send_invoice') return ctx.store.invoices.put({ ...withItems, due_date: params.due_date });
  return withItems;
};

/**
 * POST /v1/invoices/create_preview (https://docs.stripe.com/api/invoices/create_preview): the
 * next invoice of `subscription` (its `customer` may be given too and must match) if
 * `subscription_details` were applied by an update now — `items[]` (`id`, `price`, `quantity`,
 * `deleted`, `metadata`), `proration_behavior` (default `create_prorations`), `proration_date`
 * (within the current period; the time the prorations are computed for, as the update's
 * `proration_date`), `cancel_at_period_end`. See `previewSubscriptionInvoice` for what is
 * billed; nothing is stored and no event is sent. Since API 2025-03-31.basil Stripe previews
 * nothing for a bare `customer`; previews of new subscriptions (`subscription_details[items]`
 * without `subscription`) are not emulated. Errors: 400 `resource_missing` (`customer`,
 * `subscription`, `subscription_details[items][n][id|price]`), 400 naming `subscription` when it
 * is another customer's, 400 naming `subscription_details[proration_date]`, 404
 * `invoice_upcoming_none` when the subscription has ended or cancels at the period end.
 */
const createPreview: ApiHandler = (req, ctx) => {
  const params = parseParams(previewParams, req.params);
  const details = params.subscription_details ?? {};
  const customer = params.customer === undefined ? null : requireCustomer(ctx, params.customer, 'customer');
  if (params.subscription === undefined) {
    if (customer !== null && details.items !== undefined) {
      throw invalidRequest('The Stripe emulator previews invoices of existing subscriptions only: pass `subscription`.', { param: 'subscription' });
    }
    throw invalidRequest('Missing required param: subscription.', { param: 'subscription', code: 'parameter_missing' });
  }
  const subscription = requireSubscription(ctx, params.subscription, 'subscription');
  const customerId = String(idOf(subscription.customer as string));
  if (customer && customer.id !== customerId) {
    throw invalidRequest(`The subscription ${subscription.id} does not belong to the customer ${customer.id}.`, { param: 'subscription' });
  }
  const changes = itemChangesOf(ctx, subscription, details.items ?? [], 'subscription_details[items]');
  const prorationBehavior: ProrationBehavior = details.proration_behavior ?? 'create_prorations';
  if (details.proration_date !== undefined) {
    if (changes.length === 0) {
      throw invalidRequest('Missing required param: subscription_details[items]. It is required with `subscription_details[proration_date]`.', {
        param: 'subscription_details[items]',
        code: 'parameter_missing',
      });
    }
    if (prorationBehavior === 'none') {
      throw invalidRequest('`subscription_details[proration_date]` cannot be used with `subscription_details[proration_behavior]=none`.', {
        param: 'subscription_details[proration_date]',
      });
    }
    checkProrationDate(subscription, details.proration_date, 'subscription_details[proration_date]');
  }
  const now = customerNow(ctx, customerId);
  return previewSubscriptionInvoice(ctx, subscription, {
    changes,
    prorationBehavior,
    prorationAt: details.proration_date ?? now,
    now,
    cancelAtPeriodEnd: details.cancel_at_period_end,
  });
};

/** GET /v1/invoices/:id */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  refreshBilling(ctx);
  return requireInvoice(ctx, req.path.id ?? '');
};

/**
 * POST /v1/invoices/:id (https://docs.stripe.com/api/invoices/update): drafts are fully
 * editable; finalized invoices only their `metadata`, `description`, `auto_advance` and
 * `default_payment_method`. Publishes `invoice.updated` with `previous_attributes`.
 */
const update: ApiHandler = (req, ctx) => {
  const params = parseParams(updateParams, req.params);
  const invoice = requireInvoice(ctx, req.path.id ?? '');
  if (invoice.status !== 'draft' && (params.collection_method !== undefined || params.days_until_due !== undefined)) {
    throw invalidRequest(`Finalized invoices can't be updated in this way.`, { code: 'invoice_not_editable' });
  }
  if ((invoice.status === 'paid' || invoice.status === 'void') && (params.auto_advance !== undefined || params.default_payment_method !== undefined)) {
    throw invalidRequest(`You can only update the metadata and description of a ${invoice.status} invoice.`, { code: 'invoice_not_editable' });
  }
  const op = opFor(ctx, customerOf(invoice), req.request);
  const collectionMethod = params.collection_method ?? invoice.collection_method;
  const after: Stripe.Invoice = {
    ...invoice,
    metadata: mergeMetadata(invoice.metadata ?? {}, params.metadata),
    ...(params.description !== undefined ? { description: params.description } : {}),
    ...(params.auto_advance !== undefined ? { auto_advance: params.auto_advance } : {}),
    ...(params.default_payment_method !== undefined ? { default_payment_method: params.default_payment_method } : {}),
    collection_method: collectionMethod,
    ...(invoice.status === 'draft' && params.auto_advance !== undefined
      ? { automatically_finalizes_at: params.auto_advance ? (invoice.automatically_finalizes_at ?? op.now + AUTO_FINALIZE_DELAY) : null }
      : {}),
    ...(collectionMethod === 'send_invoice' && (params.days_until_due !== undefined || invoice.due_date === null)
      ? { due_date: invoice.created + (params.days_until_due ?? 30) * 86_400 }
      : collectionMethod === 'charge_automatically'
        ? { due_date: null }
        : {}),
  };
  return saveUpdate(op, ctx.store.invoices, invoice, after, 'invoice.updated');
};

/**
 * POST /v1/invoices/:id/finalize (https://docs.stripe.com/api/invoices/finalize): drafts only.
 * With `auto_advance`, a `charge_automatically` invoice is collected an hour later (Stripe
 * attempts payment about an hour after finalization).
 */
const finalize: ApiHandler = (req, ctx) => {
  const params = parseParams(finalizeParams, req.params);
  const invoice = requireInvoice(ctx, req.path.id ?? '');
  if (invoice.status !== 'draft') {
    throw invalidRequest("This invoice is already finalized, you can't re-finalize a non-draft invoice.", { code: 'invoice_not_editable' });
  }
  const op = opFor(ctx, customerOf(invoice), req.request);
  const finalized = finalizeInvoice(op, invoice, { autoAdvance: params.auto_advance });
  if (finalized.status === 'open' && finalized.auto_advance && finalized.collection_method === 'charge_automatically') {
    return ctx.store.invoices.put({ ...finalized, next_payment_attempt: op.now + AUTO_FINALIZE_DELAY });
  }
  return finalized;
};

/**
 * POST /v1/invoices/:id/pay (https://docs.stripe.com/api/invoices/pay): finalizes a draft
 * first, then charges `payment_method` (or the default one; `off_session` defaults to `true`
 * as in Stripe), or records it `paid_out_of_band`. A decline answers 402 `card_error` (the
 * invoice stays open, `invoice.payment_failed`); 3-D Secure answers 402
 * `invoice_payment_intent_requires_action` (`invoice.payment_action_required`).
 */
const pay: ApiHandler = (req, ctx) => {
  const params = parseParams(payParams, req.params);
  let invoice = requireInvoice(ctx, req.path.id ?? '');
  if (invoice.status === 'paid') throw invalidRequest('Invoice is already paid', { code: 'invoice_already_paid' });
  if (invoice.status === 'void') throw invalidRequest('Voided invoices cannot be paid.', { code: 'invoice_not_editable' });
  if (params.paid_out_of_band && params.payment_method !== undefined) {
    throw invalidRequest('You may only specify one of these parameters: paid_out_of_band, payment_method.', { param: 'paid_out_of_band' });
  }
  if (params.payment_method !== undefined) paymentMethodForInvoice(ctx, invoice, params.payment_method);
  const op = opFor(ctx, customerOf(invoice), req.request);
  if (invoice.status === 'draft') {
    invoice = finalizeInvoice(op, invoice);
    if (invoice.status === 'paid') return invoice;
  }
  if (params.paid_out_of_band) return settlePaidInvoice(op, invoice, null, true);
  const outcome = attemptInvoicePayment(op, invoice, { paymentMethod: params.payment_method, offSession: params.off_session ?? true, automatic: false });
  if (outcome.status === 'failed') throw new StripeApiError(outcome.error.type === 'card_error' ? 402 : 400, outcome.error);
  if (outcome.status === 'requires_action') throw new StripeApiError(402, outcome.error);
  return ctx.store.invoices.get(invoice.id) ?? outcome.invoice;
};

/** POST /v1/invoices/:id/void — open or uncollectible invoices only (https://docs.stripe.com/api/invoices/void). */
const voidHandler: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  const invoice = requireInvoice(ctx, req.path.id ?? '');
  if (invoice.status !== 'open' && invoice.status !== 'uncollectible') {
    throw invalidRequest(`You can only void invoices with a status of \`open\` or \`uncollectible\`; this invoice is \`${invoice.status}\`.`, {
      code: 'invoice_not_editable',
    });
  }
  return voidInvoice(opFor(ctx, customerOf(invoice), req.request), invoice);
};

/** POST /v1/invoices/:id/mark_uncollectible — open invoices only (https://docs.stripe.com/api/invoices/mark_uncollectible). */
const markUncollectibleHandler: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  const invoice = requireInvoice(ctx, req.path.id ?? '');
  if (invoice.status !== 'open') {
    throw invalidRequest(`You can only mark open invoices as uncollectible; this invoice is \`${invoice.status}\`.`, { code: 'invoice_not_editable' });
  }
  return markUncollectible(opFor(ctx, customerOf(invoice), req.request), invoice);
};

/** DELETE /v1/invoices/:id — drafts only; their invoice items become pending again. Publishes `invoice.deleted`. */
const remove: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  const invoice = requireInvoice(ctx, req.path.id ?? '');
  if (invoice.status !== 'draft') {
    throw invalidRequest('You can only delete draft invoices. Use void for finalized invoices.', { code: 'invoice_not_editable' });
  }
  const subscription = subscriptionOf(ctx, invoice);
  if (subscription && subscription.latest_invoice === invoice.id && subscription.status !== 'canceled') {
    throw invalidRequest('You cannot delete the latest draft invoice of an active subscription.', { code: 'invoice_not_editable' });
  }
  for (const item of ctx.store.invoiceItems.all()) if (item.invoice === invoice.id) ctx.store.invoiceItems.put({ ...item, invoice: null });
  ctx.store.invoices.delete(invoice.id);
  ctx.store.invoiceStates.delete(invoice.id);
  ctx.events.publish({ type: 'invoice.deleted', object: invoice, request: req.request });
  return { id: invoice.id, object: 'invoice', deleted: true } satisfies Stripe.DeletedInvoice;
};

/** GET /v1/invoices — newest first; filters `customer`, `subscription`, `status`, `collection_method`. */
const list: ApiHandler = (req, ctx) => {
  const query = parseParams(listQuery, req.params);
  refreshBilling(ctx);
  const all = ctx.store.invoices
    .newestFirst()
    .filter(
      (invoice) =>
        (query.customer === undefined || invoice.customer === query.customer) &&
        (query.subscription === undefined || invoice.parent?.subscription_details?.subscription === query.subscription) &&
        (query.status === undefined || invoice.status === query.status) &&
        (query.collection_method === undefined || invoice.collection_method === query.collection_method),
    );
  return paginate(all, query, '/v1/invoices');
};

/** GET /v1/invoices/:id/lines */
const lines: ApiHandler = (req, ctx) => {
  const query = parseParams(p.object(listParams), req.params);
  const invoice = requireInvoice(ctx, req.path.id ?? '');
  return paginate(invoice.lines.data, query, `/v1/invoices/${invoice.id}/lines`);
};

/** GET /v1/invoice_payments — filters `invoice`, `status`. */
const listPayments: ApiHandler = (req, ctx) => {
  const query = parseParams(paymentsQuery, req.params);
  refreshBilling(ctx);
  const all = ctx.store.invoicePayments
    .newestFirst()
    .filter((payment) => (query.invoice === undefined || payment.invoice === query.invoice) && (query.status === undefined || payment.status === query.status));
  return paginate(all, query, '/v1/invoice_payments');
};

/** GET /v1/invoice_payments/:id */
const retrievePayment: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  const payment = ctx.store.invoicePayments.get(req.path.id ?? '');
  if (!payment) throw resourceMissing('invoice_payment', req.path.id ?? '');
  return payment;
};

/** Invoices and invoice payments; `payments` and `confirmation_secret` are includable with `expand[]`, as in Stripe. */
export const invoices: ResourceModule = {
  routes: [
    { method: 'post', path: '/v1/invoices', returns: 'invoice', handler: create },
    { method: 'get', path: '/v1/invoices', returns: 'invoice', list: true, handler: list },
    // Before `/v1/invoices/:id`, which would take `create_preview` for an invoice id.
    { method: 'post', path: '/v1/invoices/create_preview', returns: 'invoice', handler: createPreview },
    { method: 'get', path: '/v1/invoices/:id', returns: 'invoice', handler: retrieve },
    { method: 'post', path: '/v1/invoices/:id', returns: 'invoice', handler: update },
    { method: 'delete', path: '/v1/invoices/:id', returns: 'invoice', handler: remove },
    { method: 'get', path: '/v1/invoices/:id/lines', returns: 'line_item', list: true, handler: lines },
    { method: 'post', path: '/v1/invoices/:id/finalize', returns: 'invoice', handler: finalize },
    { method: 'post', path: '/v1/invoices/:id/pay', returns: 'invoice', handler: pay },
    { method: 'post', path: '/v1/invoices/:id/void', returns: 'invoice', handler: voidHandler },
    { method: 'post', path: '/v1/invoices/:id/mark_uncollectible', returns: 'invoice', handler: markUncollectibleHandler },
    { method: 'get', path: '/v1/invoice_payments', returns: 'invoice_payment', list: true, handler: listPayments },
    { method: 'get', path: '/v1/invoice_payments/:id', returns: 'invoice_payment', handler: retrievePayment },
  ],
  expandable: {
    invoice: {
      customer: reference('customer', (store) => store.customers),
      default_payment_method: reference('payment_method', (store) => store.paymentMethods),
      test_clock: reference('test_helpers.test_clock', (store) => store.testClocks),
      payments: {
        object: 'list',
        resolve: (_value, invoice, ctx) => ({
          object: 'list',
          data: invoicePaymentsOf(ctx, String(invoice.id)).reverse(),
          has_more: false,
          url: `/v1/invoice_payments?invoice=${String(invoice.id)}`,
        }),
      },
      confirmation_secret: {
        object: 'confirmation_secret',
        resolve: (_value, invoice, ctx) => {
          const state = ctx.store.invoiceStates.get(String(invoice.id));
          const intent = state?.paymentIntent ? ctx.store.paymentIntents.get(state.paymentIntent) : undefined;
          return intent?.client_secret ? { client_secret: intent.client_secret, type: 'payment_intent' } : null;
        },
      },
    },
    invoice_payment: {
      invoice: reference('invoice', (store) => store.invoices),
    },
  },
};
