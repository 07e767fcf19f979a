import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context';
import { docUrl, type StripeErrorBody } from '../http/errors';
import { checkPaymentMethodOwner, confirmPaymentIntent, createAndConfirmPaymentIntent, setUpForOffSession, threeDSecureAction } from '../payments/pay';
import { testCardByFingerprint } from '../payments/test-cards';
import { resolvePaymentMethod } from '../resources/payment-methods';
import { markInvoicePaid, recordInvoicePayment } from './invoices';
import { emit, idOf, type BillingOp } from './op';
import { billingSettings } from './settings';
import { cancelSubscriptionNow, subscriptionOf, updateSubscription } from './subscription-state';

/**
 * Collecting invoices (https://docs.stripe.com/invoicing/automatic-collection): charging the
 * invoice's PaymentMethod through the payments module, the invoice events of each outcome,
 * the retry schedule, and what each outcome does to the invoice's subscription.
 */

/** How a payment attempt on an invoice ended. */
export type AttemptOutcome =
  | { status: 'paid'; invoice: Stripe.Invoice }
  /** Declined, or nothing to charge; `error` is what `POST /v1/invoices/{id}/pay` answers (402 `card_error`, or 400). */
  | { status: 'failed'; invoice: Stripe.Invoice; error: StripeErrorBody }
  /** 3-D Secure needed: the customer must authenticate the PaymentIntent (hosted invoice page). */
  | { status: 'requires_action'; invoice: Stripe.Invoice; paymentIntent: Stripe.PaymentIntent; error: StripeErrorBody }
  /** A delayed method (SEPA) is processing; the invoice is paid when it settles. */
  | { status: 'processing'; invoice: Stripe.Invoice };

/** Options of {@link attemptInvoicePayment}. */
export interface AttemptOptions {
  /** A PaymentMethod id to charge instead of the default one. */
  paymentMethod?: string | undefined;
  /** Whether the customer is absent (renewals and retries), as Stripe charges them. */
  offSession: boolean;
  /** Whether the attempt is automatic collection (then failures follow the retry schedule). */
  automatic: boolean;
}

/**
 * The PaymentMethod an invoice is charged with, in Stripe's order of precedence: the invoice's
 * `default_payment_method`, its subscription's, then the customer's
 * `invoice_settings.default_payment_method`
 * (https://docs.stripe.com/billing/subscriptions/payment-methods-setting#payment-method-priority).
 */
export function defaultPaymentMethodFor(ctx: EmulatorContext, invoice: Stripe.Invoice): string | null {
  const subscription = subscriptionOf(ctx, invoice);
  const customer = ctx.store.customers.get(String(idOf(invoice.customer as string)));
  return (
    idOf(invoice.default_payment_method as string | null) ??
    idOf(subscription?.default_payment_method as string | null | undefined) ??
    idOf(customer?.invoice_settings?.default_payment_method as string | null | undefined) ??
    null
  );
}

/** Stripe's answer when an invoice has no PaymentMethod to charge. */
export function noPaymentMethodError(): StripeErrorBody {
  return {
    type: 'invalid_request_error',
    code: 'resource_missing',
    doc_url: docUrl('resource_missing'),
    message:
      'This customer has no attached payment source or default payment method. Please consider adding a default payment method. For more information, visit https://stripe.com/docs/billing/subscriptions/payment-methods-setting#payment-method-priority.',
  };
}

/** The 402 of `POST /v1/invoices/{id}/pay` when the payment needs 3-D Secure. */
export function requiresActionError(intent: Stripe.PaymentIntent): StripeErrorBody {
  return {
    type: 'card_error',
    code: 'invoice_payment_intent_requires_action',
    doc_url: docUrl('invoice_payment_intent_requires_action'),
    message:
      'This payment requires additional user action before it can be completed successfully. Payment can be completed using the PaymentIntent associated with the invoice. For more details see: https://stripe.com/docs/billing/subscriptions/overview#requires-action',
    payment_intent: intent,
  };
}

/** What a PaymentIntent for an invoice is described as, as Stripe writes it. */
function intentDescription(invoice: Stripe.Invoice): string {
  if (invoice.billing_reason === 'subscription_create') return 'Subscription creation';
  if (invoice.billing_reason === 'subscription_update') return 'Subscription update';
  if (invoice.billing_reason === 'subscription_cycle') return 'Subscription update';
  return `Payment for Invoice`;
}

/** Resolves and checks (owner) the PaymentMethod to charge; throws a 400 `StripeApiError` before any change. */
export function paymentMethodForInvoice(ctx: EmulatorContext, invoice: Stripe.Invoice, id: string, param = 'payment_method'): Stripe.PaymentMethod {
  const paymentMethod = ctx.store.paymentMethods.get(id) ?? resolvePaymentMethod(ctx, id, param);
  checkPaymentMethodOwner(paymentMethod, String(idOf(invoice.customer as string)));
  return paymentMethod;
}

/**
 * Whether charging `paymentMethod` needs the customer to authenticate. Stripe Billing then
 * leaves the invoice's PaymentIntent in `requires_action` even off session (the customer
 * confirms on the hosted invoice page) rather than declining it
 * (https://docs.stripe.com/billing/subscriptions/overview#requires-action).
 */
function needsAuthentication(ctx: EmulatorContext, paymentMethod: Stripe.PaymentMethod, offSession: boolean): boolean {
  const behaviour = testCardByFingerprint(paymentMethod.card?.fingerprint)?.behaviour;
  if (behaviour?.kind !== 'authenticate') return false;
  return !offSession || behaviour.offSession === 'always' || !setUpForOffSession(ctx, paymentMethod);
}

/**
 * Charges an invoice's PaymentIntent: the existing one (retries reuse it, as Stripe does) or a
 * new one. Subscription invoices save the card for off-session renewals (`setup_future_usage`).
 */
function charge(op: BillingOp, invoice: Stripe.Invoice, paymentMethod: Stripe.PaymentMethod, requestedOffSession: boolean): Stripe.PaymentIntent {
  const { ctx } = op;
  const offSession = requestedOffSession && !needsAuthentication(ctx, paymentMethod, requestedOffSession);
  const state = ctx.store.invoiceStates.get(invoice.id) ?? { id: invoice.id, paymentIntent: null, firstFailureAt: null };
  const existing = state.paymentIntent ? ctx.store.paymentIntents.get(state.paymentIntent) : undefined;
  let intent: Stripe.PaymentIntent;
  if (existing && ['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(existing.status)) {
    intent = confirmPaymentIntent(ctx, existing, { paymentMethod, offSession, request: op.request, nextAction: threeDSecureAction(ctx, existing.id, null) }).paymentIntent;
  } else {
    intent = createAndConfirmPaymentIntent(ctx, {
      amount: invoice.amount_remaining,
      currency: invoice.currency,
      customer: String(idOf(invoice.customer as string)),
      paymentMethod: paymentMethod.id,
      description: intentDescription(invoice),
      offSession,
      setupFutureUsage: invoice.parent?.subscription_details ? 'off_session' : null,
      request: op.request,
    });
  }
  ctx.store.invoiceStates.put({ ...state, paymentIntent: intent.id });
  recordInvoicePayment(ctx, invoice, intent, op.now);
  return intent;
}

/**
 * Attempts to collect an open invoice (https://docs.stripe.com/api/invoices/pay), as Stripe's
 * automatic collection and `POST /v1/invoices/{id}/pay` do:
 * - paid: `invoice.paid` + `invoice.payment_succeeded`; a subscription that was `incomplete`,
 *   `past_due` or `unpaid` becomes `active`;
 * - declined or no PaymentMethod: `attempt_count` + 1, `invoice.payment_failed`, the next
 *   automatic retry in `next_payment_attempt` (see `BillingSettings.retryScheduleDays`); a
 *   renewal's subscription becomes `past_due`; after the last retry, the final-failure action;
 * - 3-D Secure: `invoice.payment_action_required` (the subscription as for a failure).
 * The PaymentMethod must be the customer's (400, nothing changed, otherwise).
 */
export function attemptInvoicePayment(op: BillingOp, invoice: Stripe.Invoice, options: AttemptOptions): AttemptOutcome {
  const { ctx } = op;
  const paymentMethodId = options.paymentMethod ?? defaultPaymentMethodFor(ctx, invoice);
  if (paymentMethodId === null) return recordFailure(op, invoice, options, noPaymentMethodError());
  const paymentMethod = paymentMethodForInvoice(ctx, invoice, paymentMethodId);
  const intent = charge(op, invoice, paymentMethod, options.offSession);
  const attempted = ctx.store.invoices.put({ ...invoice, attempted: true, attempt_count: invoice.attempt_count + 1 });
  switch (intent.status) {
    case 'succeeded':
      return { status: 'paid', invoice: settlePaidInvoice(op, attempted, intent) };
    case 'requires_action': {
      const error = requiresActionError(intent);
      emit(op, 'invoice.payment_action_required', attempted);
      afterUnsuccessfulAttempt(op, attempted, false);
      return { status: 'requires_action', invoice: ctx.store.invoices.get(invoice.id) ?? attempted, paymentIntent: intent, error };
    }
    case 'processing':
      return { status: 'processing', invoice: attempted };
    default: {
      const error = (intent.last_payment_error as StripeErrorBody | null) ?? noPaymentMethodError();
      return recordFailure(op, attempted, { ...options, counted: true }, { ...error, payment_intent: intent });
    }
  }
}

/** Marks an invoice paid by `intent` and brings its subscription back to `active` (see {@link attemptInvoicePayment}). */
export function settlePaidInvoice(op: BillingOp, invoice: Stripe.Invoice, intent: Stripe.PaymentIntent | null, outOfBand = false): Stripe.Invoice {
  if (intent) recordInvoicePayment(op.ctx, invoice, intent, op.now);
  const paid = markInvoicePaid(op, invoice, { paymentIntent: intent, outOfBand });
  const subscription = subscriptionOf(op.ctx, paid);
  if (subscription && ['incomplete', 'past_due', 'unpaid'].includes(subscription.status)) {
    const stillOwing = op.ctx.store.invoices
      .all()
      .some((other) => other.id !== paid.id && other.status === 'open' && other.attempted && subscriptionOf(op.ctx, other)?.id === subscription.id);
    if (!stillOwing) updateSubscription(op, subscription, { status: 'active' });
  }
  return paid;
}

function recordFailure(op: BillingOp, invoice: Stripe.Invoice, options: AttemptOptions & { counted?: boolean }, error: StripeErrorBody): AttemptOutcome {
  const { ctx } = op;
  const attempted = options.counted ? invoice : ctx.store.invoices.put({ ...invoice, attempted: true, attempt_count: invoice.attempt_count + 1 });
  const state = ctx.store.invoiceStates.get(invoice.id) ?? { id: invoice.id, paymentIntent: null, firstFailureAt: null };
  const subscription = subscriptionOf(ctx, attempted);
  const firstInvoice = attempted.billing_reason === 'subscription_create' && subscription?.status === 'incomplete';
  const retries = attempted.collection_method === 'charge_automatically' && attempted.auto_advance === true && !firstInvoice;
  const firstFailureAt = state.firstFailureAt ?? op.now;
  ctx.store.invoiceStates.put({ ...state, firstFailureAt });
  const schedule = billingSettings(ctx).retryScheduleDays;
  // attempt_count 1 → first retry (schedule[0]) ... a count past the schedule means no retry is left.
  const retryDays = retries ? schedule[attempted.attempt_count - 1] : undefined;
  const nextAttempt = retryDays === undefined ? null : Math.max(op.now + 1, firstFailureAt + retryDays * 86_400);
  const failed = ctx.store.invoices.put({ ...attempted, next_payment_attempt: nextAttempt });
  emit(op, 'invoice.payment_failed', failed);
  afterUnsuccessfulAttempt(op, failed, options.automatic && retries && nextAttempt === null);
  return { status: 'failed', invoice: ctx.store.invoices.get(invoice.id) ?? failed, error };
}

/**
 * A failed (or 3-D Secure-blocked) payment of a subscription invoice: a renewal makes an
 * `active` subscription `past_due`; after the last automatic retry, the configured final action
 * (`cancel` → `customer.subscription.deleted`, `unpaid`, or leave it `past_due`). The first
 * invoice of an `incomplete` subscription changes nothing: it expires after 23 hours instead.
 */
function afterUnsuccessfulAttempt(op: BillingOp, invoice: Stripe.Invoice, finalFailure: boolean): void {
  const subscription = subscriptionOf(op.ctx, invoice);
  if (!subscription || ['incomplete', 'incomplete_expired', 'canceled'].includes(subscription.status)) return;
  let current = subscription;
  if (current.status === 'active' || current.status === 'trialing') current = updateSubscription(op, current, { status: 'past_due' });
  if (!finalFailure) return;
  const action = billingSettings(op.ctx).afterFinalFailure;
  if (action === 'cancel') cancelSubscriptionNow(op, current, { reason: 'payment_failed' });
  else if (action === 'unpaid') updateSubscription(op, current, { status: 'unpaid' });
}

/**
 * Pays the open invoices whose PaymentIntent succeeded outside the billing engine (3-D Secure
 * completed on the authentication page, a SEPA debit settled): Stripe pays an invoice as soon as
 * its PaymentIntent succeeds. Run by the emulator's sweep and before billing reads.
 */
export function reconcileInvoicePayments(ctx: EmulatorContext, opAt: (customer: string | null) => BillingOp): void {
  for (const state of ctx.store.invoiceStates.all()) {
    if (!state.paymentIntent) continue;
    const invoice = ctx.store.invoices.get(state.id);
    if (!invoice || (invoice.status !== 'open' && invoice.status !== 'uncollectible')) continue;
    const intent = ctx.store.paymentIntents.get(state.paymentIntent);
    if (intent?.status !== 'succeeded') continue;
    settlePaidInvoice(opAt(idOf(invoice.customer as string)), invoice, intent);
  }
}
