import type Stripe from 'stripe';
import type { z } from 'zod';
import { priceAmount } from '../billing/usage';
import type { EmulatorContext } from '../core/context';
import { newId } from '../core/ids';
import { invalidRequest, resourceMissing } from '../http/errors';
import { p } from '../http/params';
import { createInlinePrice, productDataParam } from './prices';

/** One `line_items[]` entry of a Checkout Session: a `price` id or inline `price_data`, and a `quantity`. */
export const lineItemParam = p.object({
  price: p.string().optional(),
  price_data: p
    .object({
      currency: p.currency(),
      unit_amount: p.integer({ min: 0 }),
      product: p.string().optional(),
      product_data: productDataParam.optional(),
    })
    .optional(),
  quantity: p.integer({ min: 1 }),
});

type LineItemParam = z.output<typeof lineItemParam>;

/** A validated line item, before its inline price (if any) is created. */
type PlannedItem = { quantity: number } & (
  | { price: Stripe.Price }
  | { priceData: NonNullable<LineItemParam['price_data']> }
);

/**
 * Checks every line item (prices exist, share a currency; one-time in `payment` mode, and at
 * least one recurring in `subscription` mode) without changing state.
 */
export function planLineItems(ctx: EmulatorContext, items: readonly LineItemParam[], mode: 'payment' | 'subscription' = 'payment'): PlannedItem[] {
  if (items.length === 0) throw invalidRequest('`line_items` must contain at least one item.', { param: 'line_items' });
  const planned = items.map((item, index): PlannedItem => {
    const param = `line_items[${index}]`;
    if (item.price !== undefined && item.price_data !== undefined) {
      throw invalidRequest('You may only specify one of these parameters: price, price_data.', { param });
    }
    if (item.price !== undefined) {
      const price = ctx.store.prices.get(item.price);
      if (!price) throw resourceMissing('price', item.price, `${param}[price]`);
      if (price.type === 'recurring' && mode === 'payment') {
        throw invalidRequest(
          'You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.',
          { param: `${param}[price]` },
        );
      }
      return { quantity: item.quantity, price };
    }
    if (item.price_data === undefined) {
      throw invalidRequest(`You must specify either \`price\` or \`price_data\` in \`${param}\`.`, { param });
    }
    const { product, product_data } = item.price_data;
    if ((product === undefined) === (product_data === undefined)) {
      throw invalidRequest(`You must specify exactly one of \`product\` or \`product_data\` in \`${param}[price_data]\`.`, { param: `${param}[price_data]` });
    }
    if (product !== undefined && !ctx.store.products.get(product)) throw resourceMissing('product', product, `${param}[price_data][product]`);
    return { quantity: item.quantity, priceData: item.price_data };
  });
  if (mode === 'subscription' && !planned.some((item) => 'price' in item && item.price.type === 'recurring')) {
    throw invalidRequest('You must provide at least one recurring price in `subscription` mode when using prices.', { param: 'line_items' });
  }
  const currencies = new Set(planned.map((item) => ('price' in item ? item.price.currency : item.priceData.currency)));
  if (currencies.size > 1) throw invalidRequest('All line items must have the same currency.', { param: 'line_items' });
  return planned;
}

/** Creates the inline prices of `price_data` items and returns Stripe line item objects. */
export function createLineItems(ctx: EmulatorContext, planned: readonly PlannedItem[]): Stripe.LineItem[] {
  return planned.map((item) => {
    const price = 'price' in item ? item.price : createInlinePrice(ctx, item.priceData);
    const amount = priceAmount(price, item.quantity);
    return {
      id: newId('li'),
      object: 'item',
      adjustable_quantity: null,
      amount_discount: 0,
      amount_subtotal: amount,
      amount_tax: 0,
      amount_total: amount,
      currency: price.currency,
      description: ctx.store.products.get(String(price.product))?.name ?? null,
      metadata: {},
      price,
      quantity: item.quantity,
    };
  });
}

