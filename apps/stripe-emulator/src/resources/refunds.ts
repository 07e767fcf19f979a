import { randomInt } from 'node:crypto';
import type Stripe from 'stripe';
import { nowSeconds } from '../core/clock';
import type { EmulatorContext } from '../core/context';
import { previousAttributes } from '../core/events';
import { newId } from '../core/ids';
import { invalidRequest, resourceMissing } from '../http/errors';
import { paginate } from '../http/lists';
import { listParams, p, parseParams } from '../http/params';
import { reference, type ApiHandler, type ResourceModule } from '../http/route';
import { requireCharge } from './charges';
import { requirePaymentIntent } from './payment-intents';
import { definedEntries, mergeMetadata, noParams } from './shared';

const createParams = p.object({
  charge: p.string().optional(),
  payment_intent: p.string().optional(),
  amount: p.integer({ min: 1 }).optional(),
  reason: p.oneOf(['duplicate', 'fraudulent', 'requested_by_customer']).optional(),
  metadata: p.metadata().optional(),
});
const updateParams = p.object({ metadata: p.metadata().optional() });
const listQuery = p.object({ ...listParams, charge: p.string().optional(), payment_intent: p.string().optional() });

/** `$12.34` style amount in Stripe's refund error messages (two-decimal currencies). */
const money = (amount: number) => `$${(amount / 100).toFixed(2)}`;

/** The charge a refund request is for (from `charge` or the PaymentIntent's latest successful charge), validated as refundable. */
function refundableCharge(ctx: EmulatorContext, params: { charge?: string | undefined; payment_intent?: string | undefined }): Stripe.Charge {
  if (params.charge !== undefined && params.payment_intent !== undefined) {
    throw invalidRequest('You may only specify one of these parameters: charge, payment_intent.', { param: 'payment_intent' });
  }
  let charge: Stripe.Charge;
  if (params.charge !== undefined) {
    charge = requireCharge(ctx, params.charge, 'charge');
  } else if (params.payment_intent !== undefined) {
    const intent = requirePaymentIntent(ctx, params.payment_intent, 'payment_intent');
    const latest = intent.latest_charge === null ? undefined : ctx.store.charges.get(String(intent.latest_charge));
    if (intent.status !== 'succeeded' || !latest) {
      throw invalidRequest(`This PaymentIntent (${intent.id}) does not have a successful charge to refund.`, { param: 'payment_intent', code: 'charge_not_refundable' });
    }
    charge = latest;
  } else {
    throw invalidRequest('One of the following params should be provided for this request: charge or payment_intent.', { code: 'parameter_missing' });
  }
  checkRefundable(ctx, charge);
  return charge;
}

/** Refuses (400) a charge that cannot be refunded: not succeeded, fully refunded, or charged back. */
export function checkRefundable(ctx: EmulatorContext, charge: Stripe.Charge): void {
  if (charge.status !== 'succeeded') throw invalidRequest(`Charge ${charge.id} has not succeeded and cannot be refunded.`, { code: 'charge_not_refundable' });
  if (charge.refunded) throw invalidRequest(`Charge ${charge.id} has already been refunded.`, { code: 'charge_already_refunded' });
  const dispute = ctx.store.disputes.all().find((candidate) => candidate.charge === charge.id);
  if (dispute && !dispute.is_charge_refundable) throw invalidRequest(`Charge ${charge.id} has been charged back; cannot issue a refund.`, { code: 'charge_disputed' });
}

/** What {@link refundCharge} refunds. */
export interface RefundInput {
  /** At most what remains unrefunded (checked by the caller). */
  amount: number;
  reason: Stripe.Refund.Reason | null;
  metadata: Stripe.Metadata;
}

/**
 * POST /v1/refunds (https://docs.stripe.com/api/refunds/create): refunds `amount` (default: all
 * that remains) of a successful charge, given as `charge` or `payment_intent`. More than remains
 * is a 400. Card refunds succeed at once, as in test mode. Publishes `charge.refunded` (the
 * charge with `amount_refunded`/`refunded` and `previous_attributes`) and `refund.created`; then
 * the acquirer reference number arrives (`refund.updated`, `charge.refund.updated`)
 * (https://docs.stripe.com/refunds#tracing-refunds).
 */
const create: ApiHandler = (req, ctx) => {
  const params = parseParams(createParams, req.params);
  const charge = refundableCharge(ctx, params);
  const remaining = charge.amount - charge.amount_refunded;
  const amount = params.amount ?? remaining;
  if (amount > remaining) {
    const what = charge.amount_refunded === 0 ? `charge amount (${money(charge.amount)})` : `unrefunded amount on charge (${money(remaining)})`;
    throw invalidRequest(`Refund amount (${money(amount)}) is greater than ${what}`, { param: 'amount' });
  }
  return refundCharge(ctx, charge, { amount, reason: params.reason ?? null, metadata: mergeMetadata({}, params.metadata) }, req.request);
};

/**
 * Refunds `input.amount` of a refundable charge (see {@link checkRefundable}) and publishes
 * `charge.refunded`, `refund.created`, then `refund.updated` and `charge.refund.updated` (card
 * refunds). What `POST /v1/refunds` and credit notes with `refund_amount` do.
 */
export function refundCharge(ctx: EmulatorContext, charge: Stripe.Charge, input: RefundInput, request: Stripe.Event.Request): Stripe.Refund {
  const { amount } = input;
  const isCard = charge.payment_method_details?.type === 'card';
  const refund: Stripe.Refund = {
    id: newId('re'),
    object: 'refund',
    amount,
    balance_transaction: null,
    charge: charge.id,
    created: nowSeconds(),
    currency: charge.currency,
    customer: typeof charge.customer === 'string' ? charge.customer : null,
    customer_account: null,
    destination_details: isCard
      ? { type: 'card', card: { reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' } }
      : ({ type: 'sepa_debit', sepa_debit: {} } as Stripe.Refund.DestinationDetails),
    metadata: input.metadata,
    payment_intent: charge.payment_intent,
    payment_method: charge.payment_method,
    reason: input.reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: 'succeeded',
    transfer_reversal: null,
  };
  ctx.store.refunds.put(refund);
  const refundedCharge: Stripe.Charge = { ...charge, amount_refunded: charge.amount_refunded + amount, refunded: charge.amount_refunded + amount === charge.amount };
  ctx.store.charges.put(refundedCharge);
  ctx.events.publish({ type: 'charge.refunded', object: refundedCharge, previousAttributes: previousAttributes(charge, refundedCharge), request });
  ctx.events.publish({ type: 'refund.created', object: refund, request });
  if (isCard) {
    const card = { reference: String(randomInt(10 ** 9, 10 ** 10)).padEnd(23, '0'), reference_status: 'available', reference_type: 'acquirer_reference_number', type: 'refund' as const };
    publishRefundUpdate(ctx, refund, { ...refund, destination_details: { type: 'card', card } }, request);
  }
  return refund;
}

/** Stores an updated refund and publishes `refund.updated` and `charge.refund.updated` with `previous_attributes`. */
function publishRefundUpdate(ctx: EmulatorContext, before: Stripe.Refund, after: Stripe.Refund, request: Stripe.Event.Request): Stripe.Refund {
  ctx.store.refunds.put(after);
  const changed = previousAttributes(before, after);
  ctx.events.publish({ type: 'refund.updated', object: after, previousAttributes: changed, request });
  ctx.events.publish({ type: 'charge.refund.updated', object: after, previousAttributes: changed, request });
  return after;
}

function requireRefund(ctx: EmulatorContext, id: string): Stripe.Refund {
  const refund = ctx.store.refunds.get(id);
  if (!refund) throw resourceMissing('refund', id);
  return refund;
}

/** GET /v1/refunds/:id */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  return requireRefund(ctx, req.path.id ?? '');
};

/** POST /v1/refunds/:id — `metadata` only (https://docs.stripe.com/api/refunds/update). */
const update: ApiHandler = (req, ctx) => {
  const { metadata } = definedEntries(parseParams(updateParams, req.params));
  const before = requireRefund(ctx, req.path.id ?? '');
  const after = { ...before, metadata: mergeMetadata(before.metadata ?? {}, metadata) };
  if (Object.keys(previousAttributes(before, after)).length === 0) return before;
  return publishRefundUpdate(ctx, before, after, req.request);
};

/** GET /v1/refunds — newest first, filters `charge` and `payment_intent`. */
const list: ApiHandler = (req, ctx) => {
  const query = parseParams(listQuery, req.params);
  const all = ctx.store.refunds
    .newestFirst()
    .filter((refund) => (query.charge === undefined || refund.charge === query.charge) && (query.payment_intent === undefined || refund.payment_intent === query.payment_intent));
  return paginate(all, query, '/v1/refunds');
};

/** Refunds of successful charges: create, retrieve, update, list. */
export const refunds: ResourceModule = {
  routes: [
    { method: 'post', path: '/v1/refunds', returns: 'refund', handler: create },
    { method: 'get', path: '/v1/refunds', returns: 'refund', list: true, handler: list },
    { method: 'get', path: '/v1/refunds/:id', returns: 'refund', handler: retrieve },
    { method: 'post', path: '/v1/refunds/:id', returns: 'refund', handler: update },
  ],
  expandable: {
    refund: {
      charge: reference('charge', (store) => store.charges),
      payment_intent: reference('payment_intent', (store) => store.paymentIntents),
    },
  },
};
