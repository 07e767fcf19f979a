import type Stripe from 'stripe';
import { nowSeconds } from '../core/clock';
import type { EmulatorContext } from '../core/context';
import { previousAttributes } from '../core/events';
import { newId } from '../core/ids';
import { invalidRequest, resourceMissing } from '../http/errors';
import { paginate } from '../http/lists';
import { listParams, p, parseParams } from '../http/params';
import { reference, type ApiHandler, type ResourceModule } from '../http/route';
import type { DisputeKind } from '../payments/test-cards';
import { noParams } from './shared';

const listQuery = p.object({ ...listParams, charge: p.string().optional(), payment_intent: p.string().optional() });

/** Days the merchant has to respond to a dispute (`evidence_details.due_by`). */
const RESPONSE_WINDOW_DAYS = 7;

const EMPTY_EVIDENCE: Stripe.Dispute.Evidence = {
  access_activity_log: null,
  billing_address: null,
  cancellation_policy: null,
  cancellation_policy_disclosure: null,
  cancellation_rebuttal: null,
  customer_communication: null,
  customer_email_address: null,
  customer_name: null,
  customer_purchase_ip: null,
  customer_signature: null,
  duplicate_charge_documentation: null,
  duplicate_charge_explanation: null,
  duplicate_charge_id: null,
  enhanced_evidence: {},
  product_description: null,
  receipt: null,
  refund_policy: null,
  refund_policy_disclosure: null,
  refund_refusal_explanation: null,
  service_date: null,
  service_documentation: null,
  shipping_address: null,
  shipping_carrier: null,
  shipping_date: null,
  shipping_documentation: null,
  shipping_tracking_number: null,
  uncategorized_file: null,
  uncategorized_text: null,
};

/**
 * What the dispute test cards open (https://docs.stripe.com/testing#disputes): an inquiry
 * (`warning_needs_response`, reason `general`, Visa reason code 10.4, as in Stripe's example
 * object) or a fraudulent chargeback (`needs_response`, reason `fraudulent`).
 */
const DISPUTES: Record<DisputeKind, { status: Stripe.Dispute.Status; reason: string; caseType: Stripe.Dispute.PaymentMethodDetails.Card.CaseType }> = {
  inquiry: { status: 'warning_needs_response', reason: 'general', caseType: 'inquiry' },
  fraudulent: { status: 'needs_response', reason: 'fraudulent', caseType: 'chargeback' },
};

/**
 * Opens the dispute of a dispute test card's charge (https://docs.stripe.com/api/disputes/object):
 * marks the charge `disputed` and publishes `charge.dispute.created`; a chargeback (not an
 * inquiry) also withdraws the funds (`charge.dispute.funds_withdrawn`).
 */
export function openTestDispute(ctx: EmulatorContext, charge: Stripe.Charge, kind: DisputeKind, request: Stripe.Event.Request): Stripe.Dispute {
  const { status, reason, caseType } = DISPUTES[kind];
  const created = nowSeconds();
  const dispute: Stripe.Dispute = {
    id: newId('dp'),
    object: 'dispute',
    amount: charge.amount,
    balance_transactions: [],
    charge: charge.id,
    created,
    currency: charge.currency,
    enhanced_eligibility_types: [],
    evidence: EMPTY_EVIDENCE,
    evidence_details: {
      due_by: created + RESPONSE_WINDOW_DAYS * 24 * 60 * 60,
      enhanced_eligibility: {},
      has_evidence: false,
      past_due: false,
      submission_count: 0,
      submission_method: 'not_submitted',
    },
    intended_submission_method: null,
    is_charge_refundable: kind === 'inquiry',
    livemode: false,
    metadata: {},
    payment_intent: typeof charge.payment_intent === 'string' ? charge.payment_intent : null,
    payment_method_details: { card: { brand: 'visa', case_type: caseType, network: 'visa', network_reason_code: '10.4' }, type: 'card' },
    reason,
    status,
  };
  ctx.store.disputes.put(dispute);
  ctx.store.charges.put({ ...charge, disputed: true });
  ctx.events.publish({ type: 'charge.dispute.created', object: dispute, request });
  if (kind !== 'inquiry') ctx.events.publish({ type: 'charge.dispute.funds_withdrawn', object: dispute, request });
  return dispute;
}

function requireDispute(ctx: EmulatorContext, id: string): Stripe.Dispute {
  const dispute = ctx.store.disputes.get(id);
  if (!dispute) throw resourceMissing('dispute', id);
  return dispute;
}

/** GET /v1/disputes/:id */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  return requireDispute(ctx, req.path.id ?? '');
};

/** GET /v1/disputes — newest first, optionally filtered by `charge` and `payment_intent`. */
const list: ApiHandler = (req, ctx) => {
  const query = parseParams(listQuery, req.params);
  const all = ctx.store.disputes
    .newestFirst()
    .filter(
      (dispute) =>
        (query.charge === undefined || dispute.charge === query.charge) && (query.payment_intent === undefined || dispute.payment_intent === query.payment_intent),
    );
  return paginate(all, query, '/v1/disputes');
};

/**
 * POST /v1/disputes/:id/close — concedes the dispute (https://docs.stripe.com/api/disputes/close):
 * a chargeback becomes `lost`, an inquiry `warning_closed`; publishes `charge.dispute.closed`.
 * Only disputes still awaiting a response can be closed.
 */
const close: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  const before = requireDispute(ctx, req.path.id ?? '');
  if (before.status !== 'needs_response' && before.status !== 'warning_needs_response') {
    throw invalidRequest(`This dispute is already closed or under review (status: ${before.status}).`, { code: 'charge_disputed' });
  }
  const after = ctx.store.disputes.put({ ...before, status: before.status === 'needs_response' ? 'lost' : 'warning_closed', is_charge_refundable: false });
  ctx.events.publish({ type: 'charge.dispute.closed', object: after, previousAttributes: previousAttributes(before, after), request: req.request });
  return after;
};

/** Disputes: opened by the dispute test cards; retrieve, list, close. */
export const disputes: ResourceModule = {
  routes: [
    { method: 'get', path: '/v1/disputes', returns: 'dispute', list: true, handler: list },
    { method: 'get', path: '/v1/disputes/:id', returns: 'dispute', handler: retrieve },
    { method: 'post', path: '/v1/disputes/:id/close', returns: 'dispute', handler: close },
  ],
  expandable: {
    dispute: {
      charge: reference('charge', (store) => store.charges),
      payment_intent: reference('payment_intent', (store) => store.paymentIntents),
    },
  },
};
