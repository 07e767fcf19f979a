import { randomInt, randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { nowSeconds } from '../core/clock';
import type { EmulatorContext } from '../core/context';
import { newId } from '../core/ids';
import { resourceMissing } from '../http/errors';
import { paginate } from '../http/lists';
import { listParams, p, parseParams } from '../http/params';
import { reference, type ApiHandler, type ResourceModule } from '../http/route';
import { APPROVED_OUTCOME, PENDING_OUTCOME, declineFailureCode, declineMessage, declineOutcome } from '../payments/declines';
import type { DeclineCode } from '../payments/test-cards';
import { noParams } from './shared';

const listQuery = p.object({ ...listParams, customer: p.string().optional(), payment_intent: p.string().optional() });

/** A charge attempt of a PaymentIntent with a card or SEPA Direct Debit PaymentMethod. */
export interface ChargeInput {
  paymentIntent: Stripe.PaymentIntent;
  paymentMethod: Stripe.PaymentMethod;
  /** `succeeded` (approved card), `pending` (a debit until it settles) or a card decline. */
  outcome: 'succeeded' | 'pending' | { declineCode: DeclineCode };
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

function paymentMethodDetails(input: ChargeInput, approved: boolean): Stripe.Charge.PaymentMethodDetails {
  const sepa = input.paymentMethod.sepa_debit;
  if (!sepa) return { card: cardDetails(input, approved), type: 'card' };
  const { bank_code, branch_code, country, fingerprint, last4 } = sepa;
  return { sepa_debit: { bank_code, branch_code, country, fingerprint, last4, mandate: null }, type: 'sepa_debit' };
}

/** `failure_code` and `failure_message` of a SEPA debit that failed after `processing` (https://docs.stripe.com/payments/sepa-debit#failed-payments). */
const DEBIT_FAILURE = { code: 'insufficient_funds', message: "The customer's account has insufficient funds to cover this payment." };

/**
 * Stores the charge of one payment attempt (https://docs.stripe.com/api/charges/object) and
 * publishes its event: `succeeded` and captured (`charge.succeeded`), `pending` for a debit
 * (`charge.pending`), or `failed` with Stripe's decline `failure_code`/`outcome` (`charge.failed`).
 */
export function createCharge(ctx: EmulatorContext, input: ChargeInput, request: Stripe.Event.Request): Stripe.Charge {
  const { paymentIntent, paymentMethod, outcome } = input;
  const declineCode = typeof outcome === 'object' ? outcome.declineCode : undefined;
  const approved = outcome === 'succeeded';
  const captured = declineCode === undefined;
  const charge: Stripe.Charge = {
    id: newId('ch'),
    object: 'charge',
    amount: paymentIntent.amount,
    amount_captured: captured ? paymentIntent.amount : 0,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: null,
    billing_details: paymentMethod.billing_details,
    calculated_statement_descriptor: 'TALLY EMULATOR',
    captured,
    created: nowSeconds(),
    currency: paymentIntent.currency,
    customer: typeof paymentIntent.customer === 'string' ? paymentIntent.customer : null,
    description: paymentIntent.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: declineCode === undefined ? null : declineFailureCode(declineCode),
    failure_message: declineCode === undefined ? null : declineMessage(declineCode),
    fraud_details: {},
    livemode: false,
    metadata: paymentIntent.metadata,
    on_behalf_of: null,
    outcome: declineCode !== undefined ? declineOutcome(declineCode) : approved ? APPROVED_OUTCOME : PENDING_OUTCOME,
    paid: approved,
    payment_intent: paymentIntent.id,
    payment_method: paymentMethod.id,
    payment_method_details: paymentMethodDetails(input, approved),
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
    status: declineCode !== undefined ? 'failed' : outcome === 'pending' ? 'pending' : 'succeeded',
    transfer_data: null,
    transfer_group: null,
  };
  ctx.store.charges.put(charge);
  const type = charge.status === 'succeeded' ? 'charge.succeeded' : charge.status === 'pending' ? 'charge.pending' : 'charge.failed';
  ctx.events.publish({ type, object: charge, request });
  return charge;
}

/** Settles a `pending` debit charge: `charge.succeeded` (paid), or `charge.failed` with the bank's failure. */
export function settleCharge(ctx: EmulatorContext, charge: Stripe.Charge, status: 'succeeded' | 'failed', request: Stripe.Event.Request): Stripe.Charge {
  const settled = ctx.store.charges.put(
    status === 'succeeded'
      ? { ...charge, status, paid: true, outcome: APPROVED_OUTCOME }
      : { ...charge, status, paid: false, failure_code: DEBIT_FAILURE.code, failure_message: DEBIT_FAILURE.message, outcome: { ...PENDING_OUTCOME, network_status: 'declined_by_network', type: 'issuer_declined', seller_message: 'The bank declined the debit.' } },
  );
  ctx.events.publish({ type: status === 'succeeded' ? 'charge.succeeded' : 'charge.failed', object: settled, request });
  return settled;
}

/** The charge `id`, or a 404 (400 when given as a parameter) `resource_missing`. */
export function requireCharge(ctx: EmulatorContext, id: string, param = 'id'): Stripe.Charge {
  const charge = ctx.store.charges.get(id);
  if (!charge) throw resourceMissing('charge', id, param);
  return charge;
}

/** GET /v1/charges/:id */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  return requireCharge(ctx, req.path.id ?? '');
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

/** Charges (read-only: made by payment attempts); `refunds` is expandable. */
export const charges: ResourceModule = {
  routes: [
    { method: 'get', path: '/v1/charges', returns: 'charge', list: true, handler: list },
    { method: 'get', path: '/v1/charges/:id', returns: 'charge', handler: retrieve },
  ],
  expandable: {
    charge: {
      customer: reference('customer', (store) => store.customers),
      payment_intent: reference('payment_intent', (store) => store.paymentIntents),
      // Not included by default since API 2022-11-15 (https://docs.stripe.com/upgrades#2022-11-15).
      refunds: {
        object: 'list',
        resolve: (_value, charge, ctx) => {
          const data = ctx.store.refunds.newestFirst().filter((refund) => refund.charge === charge.id);
          return { object: 'list', data, has_more: false, url: `/v1/charges/${String(charge.id)}/refunds` };
        },
      },
    },
  },
};
