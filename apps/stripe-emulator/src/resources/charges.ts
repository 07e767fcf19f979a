import { randomInt, randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { nowSeconds } from '../core/clock';
import type { EmulatorContext } from '../core/context';
import { newId } from '../core/ids';
import { resourceMissing } from '../http/errors';
import { paginate } from '../http/lists';
import { listParams, p, parseParams } from '../http/params';
import { reference, type ApiHandler, type ResourceModule } from '../http/route';
import { APPROVED_OUTCOME, declineMessage, declineOutcome } from '../payments/declines';
import type { DeclineCode } from '../payments/test-cards';
import { noParams } from './shared';

const listQuery = p.object({ ...listParams, customer: p.string().optional(), payment_intent: p.string().optional() });

/** A charge attempt of a PaymentIntent with a card PaymentMethod. */
export interface ChargeInput {
  paymentIntent: Stripe.PaymentIntent;
  paymentMethod: Stripe.PaymentMethod;
  /** `undefined` for an approved charge. */
  declineCode?: DeclineCode;
  /** Whether the customer went through 3-D Secure for it. */
  authenticated: boolean;
}

function cardDetails(input: ChargeInput, approved: boolean): Stripe.Charge.PaymentMethodDetails.Card {
  const card = input.paymentMethod.card!;
  const amount = input.paymentIntent.amount;
  return {
    amount_authorized: approved ? amount : null,
    authorization_code: approved ? String(randomInt(100_000, 1_000_000)) : null,
    brand: card.brand,
    checks: card.checks,
    country: card.country,
    electronic_commerce_indicator: input.authenticated ? '05' : null,
    exp_month: card.exp_month,
    exp_year: card.exp_year,
    extended_authorization: { status: 'disabled' },
    fingerprint: card.fingerprint ?? null,
    funding: card.funding,
    incremental_authorization: { status: 'unavailable' },
    installments: null,
    last4: card.last4,
    mandate: null,
    multicapture: { status: 'unavailable' },
    network: 'visa',
    network_token: { used: false },
    network_transaction_id: approved ? String(randomInt(100_000_000, 1_000_000_000)) : null,
    overcapture: { maximum_amount_capturable: amount, status: 'unavailable' },
    regulated_status: card.regulated_status,
    three_d_secure: input.authenticated
      ? {
          authentication_flow: 'challenge',
          electronic_commerce_indicator: '05',
          exemption_indicator: null,
          result: 'authenticated',
          result_reason: null,
          transaction_id: randomUUID(),
          version: '2.2.0',
        }
      : null,
    transaction_link_id: null,
    wallet: null,
  };
}

/**
 * Stores the charge of one payment attempt (https://docs.stripe.com/api/charges/object):
 * `succeeded` and captured, or `failed` with Stripe's decline `failure_code`/`outcome`.
 * Publishes `charge.succeeded` or `charge.failed`.
 */
export function createCharge(ctx: EmulatorContext, input: ChargeInput, request: Stripe.Event.Request): Stripe.Charge {
  const { paymentIntent, paymentMethod, declineCode } = input;
  const approved = declineCode === undefined;
  const id = newId('ch');
  const charge: Stripe.Charge = {
    id,
    object: 'charge',
    amount: paymentIntent.amount,
    amount_captured: approved ? paymentIntent.amount : 0,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: null,
    billing_details: paymentMethod.billing_details,
    calculated_statement_descriptor: 'TALLY EMULATOR',
    captured: approved,
    created: nowSeconds(),
    currency: paymentIntent.currency,
    customer: typeof paymentIntent.customer === 'string' ? paymentIntent.customer : null,
    description: paymentIntent.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: approved ? null : 'card_declined',
    failure_message: approved ? null : declineMessage(declineCode),
    fraud_details: {},
    livemode: false,
    metadata: paymentIntent.metadata,
    on_behalf_of: null,
    outcome: approved ? APPROVED_OUTCOME : declineOutcome(declineCode),
    paid: approved,
    payment_intent: paymentIntent.id,
    payment_method: paymentMethod.id,
    payment_method_details: { card: cardDetails(input, approved), type: 'card' },
    radar_options: {},
    receipt_email: null,
    receipt_number: null,
    receipt_url: null,
    refunded: false,
    review: null,
    shipping: paymentIntent.shipping,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: approved ? 'succeeded' : 'failed',
    transfer_data: null,
    transfer_group: null,
  };
  ctx.store.charges.put(charge);
  ctx.events.publish({ type: approved ? 'charge.succeeded' : 'charge.failed', object: charge, request });
  return charge;
}

/** GET /v1/charges/:id */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  const charge = ctx.store.charges.get(req.path.id ?? '');
  if (!charge) throw resourceMissing('charge', req.path.id ?? '');
  return charge;
};

/** GET /v1/charges — newest first, optionally filtered by `customer` and `payment_intent`. */
const list: ApiHandler = (req, ctx) => {
  const query = parseParams(listQuery, req.params);
  const all = ctx.store.charges
    .newestFirst()
    .filter(
      (charge) =>
        (query.customer === undefined || charge.customer === query.customer) &&
        (query.payment_intent === undefined || charge.payment_intent === query.payment_intent),
    );
  return paginate(all, query, '/v1/charges');
};

/** Charges (read-only: made by payment attempts). */
export const charges: ResourceModule = {
  routes: [
    { method: 'get', path: '/v1/charges', returns: 'charge', list: true, handler: list },
    { method: 'get', path: '/v1/charges/:id', returns: 'charge', handler: retrieve },
  ],
  expandable: {
    charge: {
      customer: reference('customer', (store) => store.customers),
      payment_intent: reference('payment_intent', (store) => store.paymentIntents),
    },
  },
};
