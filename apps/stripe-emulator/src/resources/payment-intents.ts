import type Stripe from 'stripe';
import { nowSeconds } from '../core/clock';
import type { EmulatorContext } from '../core/context';
import { newId, randomToken } from '../core/ids';
import { resourceMissing } from '../http/errors';
import { paginate } from '../http/lists';
import { listParams, p, parseParams } from '../http/params';
import { reference, type ApiHandler, type ResourceModule } from '../http/route';
import { noParams } from './shared';

const listQuery = p.object({ ...listParams, customer: p.string().optional() });

/** What a new PaymentIntent is made of. */
export interface PaymentIntentInput {
  /** In the currency's minor unit (cents). */
  amount: number;
  currency: string;
  customer: string | null;
  description: string | null;
  metadata: Stripe.Metadata;
  shipping: Stripe.PaymentIntent.Shipping | null;
}

/** Stores a new card PaymentIntent in `requires_payment_method` and publishes `payment_intent.created`. */
export function createPaymentIntent(ctx: EmulatorContext, input: PaymentIntentInput, request: Stripe.Event.Request): Stripe.PaymentIntent {
  const id = newId('pi');
  const paymentIntent: Stripe.PaymentIntent = {
    id,
    object: 'payment_intent',
    allowed_payment_method_types: null,
    amount: input.amount,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: 'automatic_async',
    client_secret: `${id}_secret_${randomToken(25)}`,
    confirmation_method: 'automatic',
    created: nowSeconds(),
    currency: input.currency,
    customer: input.customer,
    customer_account: null,
    description: input.description,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    managed_payments: null,
    metadata: input.metadata,
    next_action: null,
    on_behalf_of: null,
    payment_method: null,
    payment_method_configuration_details: null,
    payment_method_options: { card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' } },
    payment_method_types: ['card'],
    payment_record: null,
    processing: null,
    receipt_email: null,
    review: null,
    setup_future_usage: null,
    shipping: input.shipping,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: 'requires_payment_method',
    transfer_data: null,
    transfer_group: null,
  };
  ctx.store.paymentIntents.put(paymentIntent);
  ctx.events.publish({ type: 'payment_intent.created', object: paymentIntent, request });
  return paymentIntent;
}

/** The PaymentIntent `id`, or a 404 `resource_missing`. */
function requirePaymentIntent(ctx: EmulatorContext, id: string): Stripe.PaymentIntent {
  const paymentIntent = ctx.store.paymentIntents.get(id);
  if (!paymentIntent) throw resourceMissing('payment_intent', id);
  return paymentIntent;
}

/** GET /v1/payment_intents/:id */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  return requirePaymentIntent(ctx, req.path.id ?? '');
};

/** GET /v1/payment_intents — newest first, optionally filtered by `customer`. */
const list: ApiHandler = (req, ctx) => {
  const query = parseParams(listQuery, req.params);
  const all = ctx.store.paymentIntents.newestFirst().filter((intent) => query.customer === undefined || intent.customer === query.customer);
  return paginate(all, query, '/v1/payment_intents');
};

/** PaymentIntents (read-only here: Checkout creates them when a session is paid). */
export const paymentIntents: ResourceModule = {
  routes: [
    { method: 'get', path: '/v1/payment_intents', returns: 'payment_intent', list: true, handler: list },
    { method: 'get', path: '/v1/payment_intents/:id', returns: 'payment_intent', handler: retrieve },
  ],
  expandable: {
    payment_intent: {
      customer: reference('customer', (store) => store.customers),
      latest_charge: reference('charge', (store) => store.charges),
      payment_method: reference('payment_method', (store) => store.paymentMethods),
    },
  },
};
