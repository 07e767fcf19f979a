import type Stripe from 'stripe';
import type { z } from 'zod';
import { nowSeconds } from '../core/clock';
import type { EmulatorContext } from '../core/context';
import { newId } from '../core/ids';
import { resourceMissing } from '../http/errors';
import { paginate } from '../http/lists';
import { listParams, p, parseParams } from '../http/params';
import type { ApiHandler, ResourceModule } from '../http/route';
import { definedEntries, mergeMetadata, noParams } from './shared';

const createParams = p.object({
  name: p.string(),
  description: p.nullableString(40_000).optional(),
  metadata: p.metadata().optional(),
  active: p.boolean().optional(),
});
const listQuery = p.object({ ...listParams, active: p.boolean().optional() });

/** Product fields accepted on create (and in `product_data` of prices and line items). */
export type ProductFields = z.output<typeof createParams>;

/** The product `id`, or a 404 `resource_missing` naming `param`. */
export function requireProduct(ctx: EmulatorContext, id: string, param = 'id'): Stripe.Product {
  const product = ctx.store.products.get(id);
  if (!product) throw resourceMissing('product', id, param);
  return product;
}

/** Stores a new product; publishes `product.created` when `request` is given (API creations, not inline `product_data`). */
export function createProduct(ctx: EmulatorContext, input: ProductFields, request: Stripe.Event.Request | null): Stripe.Product {
  const { metadata, ...rest } = definedEntries(input);
  const created = nowSeconds();
  const product: Stripe.Product = {
    id: newId('prod'),
    object: 'product',
    active: true,
    created,
    default_price: null,
    description: null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: mergeMetadata({}, metadata),
    name: input.name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: null,
    tax_details: null,
    type: 'service',
    unit_label: null,
    updated: created,
    url: null,
    ...rest,
  };
  ctx.store.products.put(product);
  if (request) ctx.events.publish({ type: 'product.created', object: product, request });
  return product;
}

/** POST /v1/products (https://docs.stripe.com/api/products/create). */
const create: ApiHandler = (req, ctx) => createProduct(ctx, parseParams(createParams, req.params), req.request);

/** GET /v1/products/:id */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  return requireProduct(ctx, req.path.id ?? '');
};

/** GET /v1/products — newest first, optionally filtered by `active`. */
const list: ApiHandler = (req, ctx) => {
  const query = parseParams(listQuery, req.params);
  const all = ctx.store.products.newestFirst().filter((product) => query.active === undefined || product.active === query.active);
  return paginate(all, query, '/v1/products');
};

/** Products: the minimum prices need (create, retrieve, list). */
export const products: ResourceModule = {
  routes: [
    { method: 'post', path: '/v1/products', returns: 'product', handler: create },
    { method: 'get', path: '/v1/products', returns: 'product', list: true, handler: list },
    { method: 'get', path: '/v1/products/:id', returns: 'product', handler: retrieve },
  ],
};
