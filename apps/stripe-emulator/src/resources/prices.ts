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
      usage_type: p.oneOf(['licensed', 'metered']).optional(),
      meter: p.string().optional(),
      trial_period_days: p.integer({ min: 0, max: 730 }).optional(),
    })
    .optional(),
  /** Bill `quantity / divide_by`, rounded `up` or `down` (https://docs.stripe.com/api/prices/create#create_price-transform_quantity). */
  transform_quantity: p.object({ divide_by: p.integer({ min: 1 }), round: p.oneOf(['down', 'up']) }).optional(),
  transfer_lookup_key: p.boolean().optional(),
});
const listQuery = p.object({
  ...listParams,
  active: p.boolean().optional(),
  product: p.string().optional(),
  lookup_keys: p.array(p.string(200)).optional(),
  type: p.oneOf(['one_time', 'recurring']).optional(),
  currency: p.currency().optional(),
});

/** Most intervals a recurring price may span: 3 years (https://docs.stripe.com/api/prices/create#create_price-recurring-interval_count). */
const MAX_INTERVAL_COUNT = { day: 1095, week: 156, month: 36, year: 3 } as const;

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
      ? {
          interval: input.recurring.interval,
          interval_count: input.recurring.interval_count ?? 1,
          meter: input.recurring.meter ?? null,
          trial_period_days: input.recurring.trial_period_days ?? null,
          usage_type: input.recurring.usage_type ?? 'licensed',
        }
      : null,
    tax_behavior: 'unspecified',
    tiers_mode: null,
    transform_quantity: input.transform_quantity ? { divide_by: input.transform_quantity.divide_by, round: input.transform_quantity.round } : null,
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
  checkRecurring(ctx, fields.recurring);
  const previousHolder = fields.lookup_key ? ctx.store.prices.all().find((price) => price.lookup_key === fields.lookup_key) : undefined;
  if (previousHolder && !fields.transfer_lookup_key) {
    throw invalidRequest(`A price (\`${previousHolder.id}\`) already uses that lookup key.`, { param: 'lookup_key' });
  }
  const productId = product !== undefined ? requireProduct(ctx, product, 'product').id : createProduct(ctx, product_data!, req.request).id;
  if (previousHolder) {
    // `transfer_lookup_key=true` moves the key to the new price (https://docs.stripe.com/api/prices/create#create_price-transfer_lookup_key).
    const released = ctx.store.prices.put({ ...previousHolder, lookup_key: null });
    ctx.events.publish({ type: 'price.updated', object: released, previousAttributes: { lookup_key: previousHolder.lookup_key }, request: req.request });
  }
  const { transfer_lookup_key: _transfer, ...priceFields } = fields;
  const price = ctx.store.prices.put(buildPrice(priceFields, productId));
  ctx.events.publish({ type: 'price.created', object: price, request: req.request });
  return price;
};

/** GET /v1/prices/:id */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  return requirePrice(ctx, req.path.id ?? '');
};

/**
 * Checks `recurring`: `interval_count` at most 3 years; `usage_type=metered` needs a `meter`
 * (the only metered prices since API 2025-03-31.basil), which must exist; `meter` only with `metered`.
 */
function checkRecurring(ctx: EmulatorContext, recurring: PriceFields['recurring']): void {
  if (!recurring) return;
  const count = recurring.interval_count ?? 1;
  if (count > MAX_INTERVAL_COUNT[recurring.interval]) {
    throw invalidRequest('The maximum billing interval is 3 years (1095 days, 156 weeks, 36 months or 3 years).', { param: 'recurring[interval_count]' });
  }
  if (recurring.usage_type === 'metered' && recurring.meter === undefined) {
    throw invalidRequest('Metered prices must be backed by a meter: pass `recurring[meter]`.', { param: 'recurring[meter]', code: 'parameter_missing' });
  }
  if (recurring.meter !== undefined && recurring.usage_type !== 'metered') {
    throw invalidRequest('`recurring[meter]` can only be set when `recurring[usage_type]` is `metered`.', { param: 'recurring[meter]' });
  }
  if (recurring.meter !== undefined && !ctx.store.billingMeters.get(recurring.meter)) throw resourceMissing('billing.meter', recurring.meter, 'recurring[meter]');
}

/** GET /v1/prices — newest first; filters `active`, `product`, `lookup_keys[]`, `type`, `currency`. */
const list: ApiHandler = (req, ctx) => {
  const query = parseParams(listQuery, req.params);
  const keys = query.lookup_keys === undefined ? null : new Set(query.lookup_keys);
  const all = ctx.store.prices
    .newestFirst()
    .filter(
      (price) =>
        (query.active === undefined || price.active === query.active) &&
        (query.product === undefined || price.product === query.product) &&
        (keys === null || (price.lookup_key !== null && keys.has(price.lookup_key))) &&
        (query.type === undefined || price.type === query.type) &&
        (query.currency === undefined || price.currency === query.currency),
    );
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
