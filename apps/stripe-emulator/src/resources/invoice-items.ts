import type Stripe from 'stripe';
import { billingId } from '../billing/ids';
import { addItemsToInvoice, removeItemFromInvoice, wireDecimal } from '../billing/invoices';
import { idOf, opFor } from '../billing/op';
import { priceAmount } from '../billing/usage';
import type { EmulatorContext } from '../core/context';
import { invalidRequest, resourceMissing } from '../http/errors';
import { paginate } from '../http/lists';
import { listParams, p, parseParams } from '../http/params';
import { reference, type ApiHandler, type ResourceModule } from '../http/route';
import { requireCustomer } from './customers';
import { requireInvoice } from './invoices';
import { requireSubscription } from './subscriptions';
import { mergeMetadata, noParams } from './shared';

/**
 * Invoice items (https://docs.stripe.com/api/invoiceitems): amounts added to a draft invoice
 * (`invoice`) or left pending for the customer's next invoice. Amounts in minor units.
 */

const createParams = p.object({
  customer: p.string(),
  amount: p.integer().optional(),
  currency: p.currency().optional(),
  price: p.string().optional(),
  pricing: p.object({ price: p.string() }).optional(),
  quantity: p.integer({ min: 0 }).optional(),
  description: p.string(5000).optional(),
  invoice: p.string().optional(),
  subscription: p.string().optional(),
  metadata: p.metadata().optional(),
  period: p.object({ start: p.integer({ min: 0 }), end: p.integer({ min: 0 }) }).optional(),
  discountable: p.boolean().optional(),
});

const listQuery = p.object({
  ...listParams,
  customer: p.string().optional(),
  invoice: p.string().optional(),
  pending: p.boolean().optional(),
});

/** The invoice item `id`, or a 404 `resource_missing`. */
function requireInvoiceItem(ctx: EmulatorContext, id: string): Stripe.InvoiceItem {
  const item = ctx.store.invoiceItems.get(id);
  if (!item) throw resourceMissing('invoiceitem', id);
  return item;
}

/**
 * POST /v1/invoiceitems (https://docs.stripe.com/api/invoiceitems/create): `amount` +
 * `currency`, or a one-time or recurring `price` (`pricing[price]`) × `quantity`. With
 * `invoice`, it is added to that draft; otherwise it is pending. Publishes `invoiceitem.created`.
 */
const create: ApiHandler = (req, ctx) => {
  const params = parseParams(createParams, req.params);
  const customer = requireCustomer(ctx, params.customer, 'customer');
  const priceId = params.price ?? params.pricing?.price;
  if (params.price !== undefined && params.pricing !== undefined) throw invalidRequest('You may only specify one of these parameters: price, pricing.', { param: 'price' });
  if (priceId !== undefined && params.amount !== undefined) throw invalidRequest('You may only specify one of these parameters: amount, price.', { param: 'amount' });
  const price = priceId === undefined ? null : ctx.store.prices.get(priceId);
  if (price === undefined) throw resourceMissing('price', String(priceId), params.price !== undefined ? 'price' : 'pricing[price]');
  if (!price && params.amount === undefined) throw invalidRequest('Missing required param: amount.', { param: 'amount', code: 'parameter_missing' });
  if (!price && params.currency === undefined) throw invalidRequest('Missing required param: currency.', { param: 'currency', code: 'parameter_missing' });
  const currency = price?.currency ?? params.currency!;
  if (price && params.currency !== undefined && params.currency !== price.currency) {
    throw invalidRequest(`The currency (${params.currency}) does not match the price's currency (${price.currency}).`, { param: 'currency' });
  }
  const invoice = params.invoice === undefined ? null : requireInvoice(ctx, params.invoice, 'invoice');
  if (invoice && invoice.status !== 'draft') {
    throw invalidRequest(`You can only add invoice items to draft invoices; invoice ${invoice.id} is \`${invoice.status}\`.`, { param: 'invoice', code: 'invoice_not_editable' });
  }
  if (invoice && idOf(invoice.customer as string) !== customer.id) throw invalidRequest(`The invoice ${invoice.id} does not belong to the customer ${customer.id}.`, { param: 'invoice' });
  if (invoice && invoice.currency !== currency) throw invalidRequest(`The invoice's currency (${invoice.currency}) does not match this item's currency (${currency}).`, { param: 'currency' });
  const subscription = params.subscription === undefined ? null : requireSubscription(ctx, params.subscription, 'subscription');
  if (subscription && subscription.customer !== customer.id) throw invalidRequest(`The subscription ${subscription.id} does not belong to the customer ${customer.id}.`, { param: 'subscription' });

  const op = opFor(ctx, customer.id, req.request);
  const quantity = params.quantity ?? 1;
  const amount = price ? priceAmount(price, quantity) : params.amount!;
  const item: Stripe.InvoiceItem = {
    id: billingId('ii'),
    object: 'invoiceitem',
    amount,
    currency,
    customer: customer.id,
    customer_account: null,
    date: op.now,
    description: params.description ?? (price ? (ctx.store.products.get(String(idOf(price.product as string)))?.name ?? null) : null),
    discountable: params.discountable ?? true,
    discounts: [],
    invoice: null,
    livemode: false,
    metadata: mergeMetadata({}, params.metadata),
    net_amount: amount,
    parent: subscription ? { type: 'subscription_details', subscription_details: { subscription: subscription.id } } : null,
    period: params.period ?? { start: op.now, end: op.now },
    pricing: price
      ? { type: 'price_details', price_details: { price: price.id, product: String(idOf(price.product as string)) }, unit_amount_decimal: wireDecimal(price.unit_amount ?? 0) }
      : { type: 'price_details', unit_amount_decimal: wireDecimal(amount) },
    proration: false,
    proration_details: { credited_items: null, discount_amounts: [] },
    quantity,
    quantity_decimal: wireDecimal(quantity),
    tax_rates: [],
    test_clock: customer.test_clock ?? null,
  };
  ctx.store.invoiceItems.put(item);
  ctx.events.publish({ type: 'invoiceitem.created', object: item, request: req.request });
  if (invoice) addItemsToInvoice(op, invoice, [item]);
  return ctx.store.invoiceItems.get(item.id) ?? item;
};

/** GET /v1/invoiceitems/:id */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  return requireInvoiceItem(ctx, req.path.id ?? '');
};

/** GET /v1/invoiceitems — newest first; filters `customer`, `invoice`, `pending` (not yet on an invoice). */
const list: ApiHandler = (req, ctx) => {
  const query = parseParams(listQuery, req.params);
  const all = ctx.store.invoiceItems
    .newestFirst()
    .filter(
      (item) =>
        (query.customer === undefined || item.customer === query.customer) &&
        (query.invoice === undefined || item.invoice === query.invoice) &&
        (query.pending === undefined || (item.invoice === null) === query.pending),
    );
  return paginate(all, query, '/v1/invoiceitems');
};

/** DELETE /v1/invoiceitems/:id — pending items or items of a draft; publishes `invoiceitem.deleted`. */
const remove: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  const item = requireInvoiceItem(ctx, req.path.id ?? '');
  const invoice = item.invoice === null ? null : ctx.store.invoices.get(String(idOf(item.invoice as string)));
  if (invoice && invoice.status !== 'draft') {
    throw invalidRequest(`This invoice item is on invoice ${invoice.id}, which is no longer a draft, and cannot be deleted.`, { code: 'invoice_not_editable' });
  }
  if (invoice) removeItemFromInvoice(ctx, invoice, item.id);
  ctx.store.invoiceItems.delete(item.id);
  ctx.events.publish({ type: 'invoiceitem.deleted', object: item, request: req.request });
  return { id: item.id, object: 'invoiceitem', deleted: true } satisfies Stripe.DeletedInvoiceItem;
};

/** Invoice items: create, retrieve, list, delete. */
export const invoiceItems: ResourceModule = {
  routes: [
    { method: 'post', path: '/v1/invoiceitems', returns: 'invoiceitem', handler: create },
    { method: 'get', path: '/v1/invoiceitems', returns: 'invoiceitem', list: true, handler: list },
    { method: 'get', path: '/v1/invoiceitems/:id', returns: 'invoiceitem', handler: retrieve },
    { method: 'delete', path: '/v1/invoiceitems/:id', returns: 'invoiceitem', handler: remove },
  ],
  expandable: {
    invoiceitem: {
      customer: reference('customer', (store) => store.customers),
      invoice: reference('invoice', (store) => store.invoices),
    },
  },
};
