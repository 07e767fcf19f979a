import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context';
import { NO_REQUEST } from '../core/events';
import { invalidRequest, type StripeErrorBody } from '../http/errors';
import { createCharge, settleCharge } from '../resources/charges';
import { openTestDispute } from '../resources/disputes';
import { createPaymentIntent } from '../resources/payment-intents';
import { attachPaymentMethod, resolvePaymentMethod } from '../resources/payment-methods';
import { asyncPaymentFailure, authenticationFailure, declineError } from './declines';
import { testCardByFingerprint } from './test-cards';
import { testIbanOutcome } from './test-ibans';

/** What {@link createAndConfirmPaymentIntent} charges. */
export interface PaymentRequest {
  /** In the currency's minor unit (cents), at least 1. */
  amount: number;
  /** Lowercase ISO 4217 code, e.g. `usd`. */
  currency: string;
  /** Customer the payment belongs to; a PaymentMethod attached to another customer is refused. */
  customer: string | null;
  /** A stored PaymentMethod id, or a test alias such as `pm_card_visa` (a fresh PaymentMethod is made, as Stripe does). */
  paymentMethod: string;
  description?: string | null;
  metadata?: Stripe.Metadata;
  /**
   * `off_session=true`: the customer is not present (renewals). 3-D Secure cards are then
   * declined with `authentication_required` instead of asking for authentication
   * (https://docs.stripe.com/payments/save-and-reuse#charge-saved-payment-method).
   */
  offSession?: boolean;
  /** Saves the PaymentMethod to `customer` once the payment succeeds (https://docs.stripe.com/api/payment_intents/create#create_payment_intent-setup_future_usage). */
  setupFutureUsage?: Stripe.PaymentIntent.SetupFutureUsage | null;
  /** `request` of the events published; default {@link NO_REQUEST} (timers, test clocks). */
  request?: Stripe.Event.Request;
}

/** How a confirmation ended: the PaymentIntent as stored, and the 402 error body when it was declined. */
export interface ConfirmResult {
  paymentIntent: Stripe.PaymentIntent;
  /** Stripe's `card_error` for a decline (with `payment_intent` filled in); `null` otherwise. */
  error: StripeErrorBody | null;
}

/** How a confirmation is made. */
export interface ConfirmOptions {
  paymentMethod: Stripe.PaymentMethod;
  offSession: boolean;
  request: Stripe.Event.Request;
  /** Where the customer authenticates when 3-D Secure is needed (see {@link threeDSecureAction}). */
  nextAction: Stripe.PaymentIntent.NextAction;
}

const idOf = (value: string | { id: string } | null): string | null => (typeof value === 'string' ? value : (value?.id ?? null));

/** URL of the emulator's 3-D Secure challenge page for a PaymentIntent (see `pages/authentication-routes.ts`). */
export function authenticationPageUrl(ctx: EmulatorContext, paymentIntentId: string): string {
  return `${ctx.baseUrl()}/3ds/${paymentIntentId}`;
}

/**
 * `next_action` of a PaymentIntent needing 3-D Secure, as Stripe gives it: `redirect_to_url`
 * when the confirmation had a `return_url`, otherwise `use_stripe_sdk` (handled by Stripe.js;
 * here its `stripe_js` URL is the emulator's challenge page)
 * (https://docs.stripe.com/api/payment_intents/object#payment_intent_object-next_action).
 */
export function threeDSecureAction(ctx: EmulatorContext, paymentIntentId: string, returnUrl: string | null): Stripe.PaymentIntent.NextAction {
  const url = authenticationPageUrl(ctx, paymentIntentId);
  if (returnUrl !== null) return { type: 'redirect_to_url', redirect_to_url: { url, return_url: returnUrl } };
  return { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: url } };
}

/**
 * Refuses (400, no state changed) a PaymentMethod that cannot pay for `customer`'s
 * PaymentIntent: one attached to another customer, or attached to a customer while the
 * PaymentIntent has none (Stripe's wording for both).
 */
export function checkPaymentMethodOwner(paymentMethod: Stripe.PaymentMethod, customer: string | null): void {
  const owner = idOf(paymentMethod.customer);
  if (owner === null || owner === customer) return;
  if (customer === null) {
    throw invalidRequest(
      `The provided PaymentMethod ${paymentMethod.id} is attached to a Customer. To use this PaymentMethod, please also provide the Customer ID ${owner}.`,
      { param: 'payment_method', code: 'payment_intent_invalid_parameter' },
    );
  }
  throw invalidRequest(`The provided PaymentMethod ${paymentMethod.id} does not belong to the Customer ${customer}.`, {
    param: 'payment_method',
    code: 'payment_intent_invalid_parameter',
  });
}

/**
 * Whether a card was set up for off-session use (https://docs.stripe.com/testing#authentication-and-setup):
 * an earlier authenticated payment saved it (`setup_future_usage`), or a SetupIntent with
 * `usage=off_session` succeeded with it (see `payments/setup-intents.ts`). Billing uses it too.
 */
export function setUpForOffSession(ctx: EmulatorContext, paymentMethod: Stripe.PaymentMethod): boolean {
  const setUp = ctx.store.setupIntents
    .all()
    .some((intent) => intent.status === 'succeeded' && intent.usage === 'off_session' && idOf(intent.payment_method as string | null) === paymentMethod.id);
  if (setUp) return true;
  return ctx.store.charges.all().some((charge) => {
    if (charge.payment_method !== paymentMethod.id || charge.status !== 'succeeded' || !charge.payment_method_details?.card?.three_d_secure) return false;
    return ctx.store.paymentIntents.get(String(charge.payment_intent))?.setup_future_usage != null;
  });
}

/** Saves the PaymentMethod to the PaymentIntent's customer after a successful payment with `setup_future_usage`. */
function saveForFutureUsage(ctx: EmulatorContext, intent: Stripe.PaymentIntent, paymentMethod: Stripe.PaymentMethod, request: Stripe.Event.Request): void {
  const customer = idOf(intent.customer as string | null);
  if (intent.setup_future_usage === null || customer === null || paymentMethod.customer !== null) return;
  attachPaymentMethod(ctx, paymentMethod, customer, request);
}

/** Marks the PaymentIntent `succeeded` after its charge `chargeId` succeeded, and publishes `payment_intent.succeeded`. */
function succeed(ctx: EmulatorContext, intent: Stripe.PaymentIntent, paymentMethod: Stripe.PaymentMethod, chargeId: string, request: Stripe.Event.Request): Stripe.PaymentIntent {
  saveForFutureUsage(ctx, intent, paymentMethod, request);
  const succeeded = ctx.store.paymentIntents.put({
    ...intent,
    status: 'succeeded',
    amount_received: intent.amount,
    latest_charge: chargeId,
    payment_method: paymentMethod.id,
    last_payment_error: null,
    next_action: null,
    processing: null,
  });
  ctx.events.publish({ type: 'payment_intent.succeeded', object: succeeded, request });
  return succeeded;
}

/** Returns the PaymentIntent to `requires_payment_method` with `error` and publishes `payment_intent.payment_failed`. */
function fail(ctx: EmulatorContext, intent: Stripe.PaymentIntent, error: StripeErrorBody, chargeId: string | null, request: Stripe.Event.Request): ConfirmResult {
  const failed = ctx.store.paymentIntents.put({
    ...intent,
    status: 'requires_payment_method',
    latest_charge: chargeId ?? intent.latest_charge,
    last_payment_error: error as Stripe.PaymentIntent.LastPaymentError,
    payment_method: null,
    next_action: null,
    processing: null,
  });
  ctx.events.publish({ type: 'payment_intent.payment_failed', object: failed, request });
  return { paymentIntent: failed, error: { ...error, payment_intent: failed } };
}

/** Charges a card that needs no (more) authentication, then opens the test card's dispute if any. */
function chargeCard(ctx: EmulatorContext, intent: Stripe.PaymentIntent, paymentMethod: Stripe.PaymentMethod, authenticated: boolean, request: Stripe.Event.Request): ConfirmResult {
  const behaviour = testCardByFingerprint(paymentMethod.card?.fingerprint)?.behaviour;
  if (behaviour?.kind === 'decline') {
    const charge = createCharge(ctx, { paymentIntent: intent, paymentMethod, outcome: { declineCode: behaviour.declineCode }, authenticated }, request);
    return fail(ctx, intent, declineError(behaviour.declineCode, charge.id, paymentMethod), charge.id, request);
  }
  const charge = createCharge(ctx, { paymentIntent: intent, paymentMethod, outcome: 'succeeded', authenticated }, request);
  const succeeded = succeed(ctx, intent, paymentMethod, charge.id, request);
  if (behaviour?.kind === 'succeed' && behaviour.dispute) openTestDispute(ctx, charge, behaviour.dispute, request);
  return { paymentIntent: succeeded, error: null };
}

/**
 * Confirms a PaymentIntent (in `requires_payment_method`, `requires_confirmation` or
 * `requires_action`) with `paymentMethod`, as Stripe's confirm does
 * (https://docs.stripe.com/payments/paymentintents/lifecycle), by what the test card or test
 * IBAN does (https://docs.stripe.com/testing):
 * - approved card: `charge.succeeded`, `payment_intent.succeeded` (and for dispute cards `charge.dispute.created`);
 * - declined card: `charge.failed`, `payment_intent.payment_failed`, status `requires_payment_method`
 *   with `last_payment_error`, and the 402 body in `error`;
 * - 3-D Secure card on-session: `payment_intent.requires_action` with `next_action`
 *   (finish with {@link authenticatePaymentIntent}); off-session (unless set up, for
 *   `authenticationRequiredOnSetup`): declined with `authentication_required`;
 * - SEPA Direct Debit: `charge.pending`, `payment_intent.processing`; the debit settles later
 *   ({@link settleProcessingPayment}).
 */
export function confirmPaymentIntent(ctx: EmulatorContext, intent: Stripe.PaymentIntent, options: ConfirmOptions): ConfirmResult {
  const { paymentMethod, offSession, request } = options;
  const attempt: Stripe.PaymentIntent = { ...intent, payment_method: paymentMethod.id, last_payment_error: null, next_action: null };
  if (paymentMethod.type === 'sepa_debit') {
    const charge = createCharge(ctx, { paymentIntent: attempt, paymentMethod, outcome: 'pending', authenticated: false }, request);
    saveForFutureUsage(ctx, attempt, paymentMethod, request);
    const processing = ctx.store.paymentIntents.put({ ...attempt, status: 'processing', latest_charge: charge.id });
    ctx.events.publish({ type: 'payment_intent.processing', object: processing, request });
    return { paymentIntent: processing, error: null };
  }
  const behaviour = testCardByFingerprint(paymentMethod.card?.fingerprint)?.behaviour;
  if (behaviour?.kind === 'authenticate') {
    if (offSession && !(behaviour.offSession === 'unless_set_up' && setUpForOffSession(ctx, paymentMethod))) {
      const charge = createCharge(ctx, { paymentIntent: attempt, paymentMethod, outcome: { declineCode: 'authentication_required' }, authenticated: false }, request);
      return fail(ctx, attempt, declineError('authentication_required', charge.id, paymentMethod), charge.id, request);
    }
    if (!offSession) {
      const pending = ctx.store.paymentIntents.put({ ...attempt, status: 'requires_action', next_action: options.nextAction });
      ctx.events.publish({ type: 'payment_intent.requires_action', object: pending, request });
      return { paymentIntent: pending, error: null };
    }
  }
  return chargeCard(ctx, attempt, paymentMethod, false, request);
}

/**
 * Ends the 3-D Secure challenge of a PaymentIntent in `requires_action`: approved, the card is
 * charged (as on success); refused, it returns to `requires_payment_method` with Stripe's
 * `payment_intent_authentication_failure` and `payment_intent.payment_failed`, without a charge.
 */
export function authenticatePaymentIntent(ctx: EmulatorContext, intent: Stripe.PaymentIntent, approve: boolean, request: Stripe.Event.Request): ConfirmResult {
  const paymentMethod = ctx.store.paymentMethods.get(idOf(intent.payment_method as string | null) ?? '');
  if (intent.status !== 'requires_action' || !paymentMethod) throw new Error(`PaymentIntent ${intent.id} is not waiting for authentication`);
  if (approve) return chargeCard(ctx, intent, paymentMethod, true, request);
  return fail(ctx, intent, authenticationFailure(paymentMethod), null, request);
}

/**
 * Settles a `processing` SEPA debit as its test IBAN says (https://docs.stripe.com/testing#sepa-direct-debit):
 * the charge and PaymentIntent succeed (`charge.succeeded`, `payment_intent.succeeded`) or fail
 * (`charge.failed`, `payment_intent.payment_failed`, back to `requires_payment_method`).
 */
export function settleProcessingPayment(ctx: EmulatorContext, intent: Stripe.PaymentIntent, request: Stripe.Event.Request = NO_REQUEST): Stripe.PaymentIntent {
  const paymentMethod = ctx.store.paymentMethods.get(idOf(intent.payment_method as string | null) ?? '');
  const charge = ctx.store.charges.get(idOf(intent.latest_charge as string | null) ?? '');
  if (intent.status !== 'processing' || !paymentMethod?.sepa_debit || !charge) throw new Error(`PaymentIntent ${intent.id} is not a processing debit`);
  if (testIbanOutcome(paymentMethod) === 'succeed') {
    const settled = settleCharge(ctx, charge, 'succeeded', request);
    return succeed(ctx, intent, paymentMethod, settled.id, request);
  }
  const failedCharge = settleCharge(ctx, charge, 'failed', request);
  return fail(ctx, intent, asyncPaymentFailure(paymentMethod), failedCharge.id, request).paymentIntent;
}

/**
 * Creates a PaymentIntent for `input` (`payment_intent.created`) and confirms it at once with
 * its PaymentMethod, as `POST /v1/payment_intents` with `confirm=true` does: what billing uses to
 * charge invoices. Returns the PaymentIntent as stored: `succeeded`; `requires_payment_method`
 * with `last_payment_error` after a decline (including `authentication_required` off-session);
 * `requires_action` for a 3-D Secure card on-session; `processing` for SEPA Direct Debit.
 * Throws a 400 `StripeApiError` (nothing stored) for an unknown PaymentMethod or one that
 * belongs to another customer.
 */
export function createAndConfirmPaymentIntent(ctx: EmulatorContext, input: PaymentRequest): Stripe.PaymentIntent {
  const request = input.request ?? NO_REQUEST;
  const known = ctx.store.paymentMethods.get(input.paymentMethod);
  if (known) checkPaymentMethodOwner(known, input.customer);
  const paymentMethod = known ?? resolvePaymentMethod(ctx, input.paymentMethod, 'payment_method');
  const intent = createPaymentIntent(
    ctx,
    {
      amount: input.amount,
      currency: input.currency,
      customer: input.customer,
      description: input.description ?? null,
      metadata: input.metadata ?? {},
      shipping: null,
      paymentMethodTypes: [paymentMethod.type],
      setupFutureUsage: input.setupFutureUsage ?? null,
      paymentMethod: paymentMethod.id,
      status: 'requires_confirmation',
    },
    request,
  );
  const offSession = input.offSession ?? false;
  return confirmPaymentIntent(ctx, intent, { paymentMethod, offSession, request, nextAction: threeDSecureAction(ctx, intent.id, null) }).paymentIntent;
}
