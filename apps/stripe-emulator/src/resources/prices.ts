import type Stripe from 'stripe';
import type { z } from 'zod';
import { nowSeconds } from '../core/clock';
import type { EmulatorContext } from '../core/context';
import { newId } from '../core/ids';
import { invalidRequest, resourceMissing } from '../http/errors';
import { paginate } from '../http/lists';
import { listParams, p, parseParams } from '../http/params';
import { reference, type ApiHandler, type ResourceModule } from '../http/route';
import { createProduct, requireProduct } from './products';
import { mergeMetadata, noParams } from './shared';

/** `product_data` of prices and of Checkout `price_data`. */
export const productDataParam = p.object({
  name: p.string(),
  description: p.string(40_000).optional(),
  metadata: p.metadata().optional(),
});

const createParams = p.object({
  currency: p.currency(),
  unit_amount: p.integer({ min: 0 }),
  product: p.string().optional(),
  product_data: productDataParam.optional(),
  nickname: p.nullableString().optional(),
  lookup_key: p.nullableString(200).optional(),
  metadata: p.metadata().optional(),
  active: p.boolean().optional(),
  recurring: p
    .object({
      interval: p.oneOf(['day', 'week', 'month', 'year']),
      interval_count: p.integer({ min: 1 }).optional(),
    })
    .optional(),
});
const listQuery = p.object({ ...listParams, active: p.boolean().optional(), product: p.string().optional() });

type PriceFields = z.output<typeof createParams>;

/**
 * A decimal as Stripe sends it: a string (`"1500"`). The SDK's types describe the `Decimal`
 * class it parses such strings into on the client side, hence the cast.
 */
const wireDecimal = (value: number) => String(value) as unknown as Stripe.Decimal;

/** The price `id`, or a 404 `resource_missing` naming `param`. */
function requirePrice(ctx: EmulatorContext, id: string, param = 'id'): Stripe.Price {
  const price = ctx.store.prices.get(id);
  if (!price) throw resourceMissing('price', id, param);
  return price;
}

/** Builds a price object for `productId` (not stored). */
function buildPrice(input: Omit<PriceFields, 'product' | 'product_data'>, productId: string): Stripe.Price {
  return {
    id: newId('price'),
    object: 'price',
    active: input.active ?? true,
    billing_scheme: 'per_unit',
    created: nowSeconds(),
    currency: input.currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: input.lookup_key ?? null,
    metadata: mergeMetadata({}, input.metadata),
    nickname: input.nickname ?? null,
    product: productId,
    recurring: input.recurring
      ? { interval: input.recurring.interval, interval_count: input.recurring.interval_count ?? 1, meter: null, trial_period_days: null, usage_type: 'licensed' }
      : null,
    tax_behavior: 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: input.recurring ? 'recurring' : 'one_time',
    unit_amount: input.unit_amount,
    unit_amount_decimal: wireDecimal(input.unit_amount),
  };
}

/**
 * Stores the ad-hoc product and price behind a Checkout `line_items[][price_data]`; like
 * Stripe's, they are inactive and announced by no event.
 */
export function createInlinePrice(
  ctx: EmulatorContext,
  data: { currency: string; unit_amount: number; product?: string | undefined; product_data?: z.output<typeof productDataParam> | undefined },
): Stripe.Price {
  const productId = data.product ?? createProduct(ctx, { ...data.product_data!, active: false }, null).id;
  return ctx.store.prices.put(buildPrice({ currency: data.currency, unit_amount: data.unit_amount, active: false }, productId));
}

/** POST /v1/prices (https://docs.stripe.com/api/prices/create): needs `product` or `product_data`. */
const create: ApiHandler = (req, ctx) => {
  const { product, product_data, ...fields } = parseParams(createParams, req.params);
  if (product !== undefined && product_data !== undefined) {
    throw invalidRequest('You may only specify one of these parameters: product, product_data.', { param: 'product' });
  }
  if (product === undefined && product_data === undefined) {
    throw invalidRequest('Missing required param: product.', { param: 'product', code: 'parameter_missing' });
  }
  const productId = product !== undefined ? requireProduct(ctx, product, 'product').id : createProduct(ctx, product_data!, req.request).id;
  const price = ctx.store.prices.put(buildPrice(fields, productId));
  ctx.events.publish({ type: 'price.created', object: price, request: req.request });
  return price;
};

/** GET /v1/prices/:id */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  return requirePrice(ctx, req.path.id ?? '');
};

/** GET /v1/prices — newest first, optionally filtered by `active` and `product`. */
const list: ApiHandler = (req, ctx) => {
  const query = parseParams(listQuery, req.params);
  const all = ctx.store.prices
    .newestFirst()
    .filter((price) => (query.active === undefined || price.active === query.active) && (query.product === undefined || price.product === query.product));
  return paginate(all, query, '/v1/prices');
};

/** Prices: create (one-time or recurring), retrieve, list; `product` is expandable. */
export const prices: ResourceModule = {
  routes: [
    { method: 'post', path: '/v1/prices', returns: 'price', handler: create },
    { method: 'get', path: '/v1/prices', returns: 'price', list: true, handler: list },
    { method: 'get', path: '/v1/prices/:id', returns: 'price', handler: retrieve },
  ],
  expandable: {
    price: { product: reference('product', (store) => store.products) },
  },
};
