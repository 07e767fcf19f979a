import { randomBytes } from 'node:crypto';
import type Stripe from 'stripe';
import type { z } from 'zod';
import { nowSeconds } from '../core/clock';
import type { EmulatorContext } from '../core/context';
import { previousAttributes } from '../core/events';
import { newId } from '../core/ids';
import { invalidRequest, resourceMissing } from '../http/errors';
import { paginate } from '../http/lists';
import { listParams, p, parseParams } from '../http/params';
import type { ApiHandler, ResourceModule } from '../http/route';
import { testCardByAlias } from '../payments/test-cards';
import { attachPaymentMethod, resolvePaymentMethod } from './payment-methods';
import { addressParam, definedEntries, mergeMetadata, noParams } from './shared';

const fields = {
  address: addressParam.optional(),
  description: p.nullableString().optional(),
  email: p.email({ emptyable: true }).optional(),
  metadata: p.metadata().optional(),
  name: p.nullableString(256).optional(),
  phone: p.nullableString(20).optional(),
  preferred_locales: p.array(p.string(20)).optional(),
  invoice_settings: p.object({ default_payment_method: p.nullableString().optional() }).optional(),
};
// `test_clock`: the customer lives in that test clock's time (billing helper; see billing/time.ts).
const createParams = p.object({ ...fields, payment_method: p.string().optional(), test_clock: p.string().optional() });
const updateParams = p.object(fields);
const listQuery = p.object({ ...listParams, email: p.string(512).optional() });

/** Customer fields that can be set on create and update (`metadata` as a parsed parameter). */
export type CustomerFields = Partial<z.output<typeof createParams>>;

/** The customer `id`, or a 404 `resource_missing` naming `param`. */
export function requireCustomer(ctx: EmulatorContext, id: string, param = 'id'): Stripe.Customer {
  const customer = ctx.store.customers.get(id);
  if (!customer) throw resourceMissing('customer', id, param);
  return customer;
}

/** Creates a customer shaped like Stripe's and publishes `customer.created`. */
export function createCustomer(ctx: EmulatorContext, input: Omit<CustomerFields, 'payment_method'>, request: Stripe.Event.Request): Stripe.Customer {
  const { metadata, invoice_settings, ...rest } = definedEntries(input);
  const customer: Stripe.Customer = {
    id: newId('cus'),
    object: 'customer',
    address: null,
    balance: 0,
    created: (typeof input.test_clock === 'string' ? ctx.store.testClocks.get(input.test_clock)?.frozen_time : undefined) ?? nowSeconds(),
    currency: null,
    default_source: null,
    delinquent: false,
    description: null,
    discount: null,
    email: null,
    invoice_prefix: randomBytes(4).toString('hex').toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: invoice_settings?.default_payment_method ?? null, footer: null, rendering_options: null },
    livemode: false,
    metadata: mergeMetadata({}, metadata),
    name: null,
    next_invoice_sequence: 1,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
    ...rest,
  };
  ctx.store.customers.put(customer);
  ctx.events.publish({ type: 'customer.created', object: customer, request });
  return customer;
}

/**
 * A new `invoice_settings[default_payment_method]` must be attached to the customer
 * (https://docs.stripe.com/api/customers/update#update_customer-invoice_settings-default_payment_method);
 * `attaching` is the PaymentMethod a create attaches first. 400, nothing changed, otherwise.
 */
function checkDefaultPaymentMethod(ctx: EmulatorContext, customerId: string | null, id: string | null | undefined, attaching?: string): void {
  if (id === null || id === undefined || id === attaching) return;
  const paymentMethod = ctx.store.paymentMethods.get(id);
  const param = 'invoice_settings[default_payment_method]';
  if (!paymentMethod) throw resourceMissing('PaymentMethod', id, param);
  if (customerId === null || paymentMethod.customer !== customerId) {
    throw invalidRequest(`The customer does not have a payment method with the ID ${id}. The payment method must be attached to the customer.`, { param });
  }
}

/**
 * POST /v1/customers (https://docs.stripe.com/api/customers/create). `payment_method` (an id or
 * a test alias) is attached to the new customer (`payment_method.attached` after `customer.created`).
 */
const create: ApiHandler = (req, ctx) => {
  const { payment_method, ...fields } = parseParams(createParams, req.params);
  if (fields.test_clock !== undefined && !ctx.store.testClocks.get(fields.test_clock)) throw resourceMissing('test_helpers.test_clock', fields.test_clock, 'test_clock');
  const known = payment_method === undefined ? undefined : ctx.store.paymentMethods.get(payment_method);
  if (payment_method !== undefined && !known && !testCardByAlias(payment_method)) throw resourceMissing('PaymentMethod', payment_method, 'payment_method');
  if (known && known.customer !== null) throw invalidRequest('The payment method you provided has already been attached to a customer.', { param: 'payment_method' });
  const paymentMethod = payment_method === undefined ? undefined : (known ?? resolvePaymentMethod(ctx, payment_method, 'payment_method'));
  checkDefaultPaymentMethod(ctx, null, fields.invoice_settings?.default_payment_method, payment_method);
  const defaultPaymentMethod = fields.invoice_settings?.default_payment_method === payment_method ? paymentMethod?.id : fields.invoice_settings?.default_payment_method;
  const customer = createCustomer(ctx, { ...fields, invoice_settings: { default_payment_method: defaultPaymentMethod ?? null } }, req.request);
  if (paymentMethod) attachPaymentMethod(ctx, paymentMethod, customer.id, req.request);
  return customer;
};

/** GET /v1/customers/:id */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  return requireCustomer(ctx, req.path.id ?? '');
};

/** POST /v1/customers/:id — publishes `customer.updated` with `previous_attributes` when something changed. */
const update: ApiHandler = (req, ctx) => {
  const before = requireCustomer(ctx, req.path.id ?? '');
  const { metadata, invoice_settings, ...rest } = definedEntries(parseParams(updateParams, req.params));
  checkDefaultPaymentMethod(ctx, before.id, invoice_settings?.default_payment_method);
  const after: Stripe.Customer = {
    ...before,
    ...rest,
    metadata: mergeMetadata(before.metadata, metadata),
    invoice_settings:
      invoice_settings?.default_payment_method === undefined
        ? before.invoice_settings
        : { ...before.invoice_settings, default_payment_method: invoice_settings.default_payment_method },
  };
  const changed = previousAttributes(before, after);
  if (Object.keys(changed).length === 0) return before;
  ctx.store.customers.put(after);
  ctx.events.publish({ type: 'customer.updated', object: after, previousAttributes: changed, request: req.request });
  return after;
};

/** DELETE /v1/customers/:id — publishes `customer.deleted`. */
const remove: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  const customer = requireCustomer(ctx, req.path.id ?? '');
  ctx.store.customers.delete(customer.id);
  ctx.events.publish({ type: 'customer.deleted', object: customer, request: req.request });
  return { id: customer.id, object: 'customer', deleted: true } satisfies Stripe.DeletedCustomer;
};

/** GET /v1/customers — newest first, optionally filtered by exact `email` (case-sensitive, as Stripe). */
const list: ApiHandler = (req, ctx) => {
  const query = parseParams(listQuery, req.params);
  const all = ctx.store.customers.newestFirst().filter((customer) => query.email === undefined || customer.email === query.email);
  return paginate(all, query, '/v1/customers');
};

/** Customers: create, retrieve, update, delete, list. */
export const customers: ResourceModule = {
  routes: [
    { method: 'post', path: '/v1/customers', returns: 'customer', handler: create },
    { method: 'get', path: '/v1/customers', returns: 'customer', list: true, handler: list },
    { method: 'get', path: '/v1/customers/:id', returns: 'customer', handler: retrieve },
    { method: 'post', path: '/v1/customers/:id', returns: 'customer', handler: update },
    { method: 'delete', path: '/v1/customers/:id', returns: 'customer', handler: remove },
  ],
};
