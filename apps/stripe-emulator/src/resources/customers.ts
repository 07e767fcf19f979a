import { randomBytes } from 'node:crypto';
import type Stripe from 'stripe';
import type { z } from 'zod';
import { nowSeconds } from '../core/clock';
import type { EmulatorContext } from '../core/context';
import { previousAttributes } from '../core/events';
import { newId } from '../core/ids';
import { resourceMissing } from '../http/errors';
import { paginate } from '../http/lists';
import { listParams, p, parseParams } from '../http/params';
import type { ApiHandler, ResourceModule } from '../http/route';
import { addressParam, definedEntries, mergeMetadata, noParams } from './shared';

const fields = {
  address: addressParam.optional(),
  description: p.nullableString().optional(),
  email: p.email({ emptyable: true }).optional(),
  metadata: p.metadata().optional(),
  name: p.nullableString(256).optional(),
  phone: p.nullableString(20).optional(),
  preferred_locales: p.array(p.string(20)).optional(),
};
const createParams = p.object(fields);
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
export function createCustomer(ctx: EmulatorContext, input: CustomerFields, request: Stripe.Event.Request): Stripe.Customer {
  const { metadata, ...rest } = definedEntries(input);
  const customer: Stripe.Customer = {
    id: newId('cus'),
    object: 'customer',
    address: null,
    balance: 0,
    created: nowSeconds(),
    currency: null,
    default_source: null,
    delinquent: false,
    description: null,
    discount: null,
    email: null,
    invoice_prefix: randomBytes(4).toString('hex').toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
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

/** POST /v1/customers (https://docs.stripe.com/api/customers/create). */
const create: ApiHandler = (req, ctx) => createCustomer(ctx, parseParams(createParams, req.params), req.request);

/** GET /v1/customers/:id */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  return requireCustomer(ctx, req.path.id ?? '');
};

/** POST /v1/customers/:id — publishes `customer.updated` with `previous_attributes` when something changed. */
const update: ApiHandler = (req, ctx) => {
  const before = requireCustomer(ctx, req.path.id ?? '');
  const { metadata, ...rest } = definedEntries(parseParams(updateParams, req.params));
  const after: Stripe.Customer = { ...before, ...rest, metadata: mergeMetadata(before.metadata, metadata) };
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
