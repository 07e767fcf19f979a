import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context';
import type { StripeErrorBody } from '../http/errors';
import { attachPaymentMethod } from '../resources/payment-methods';
import { setupAuthenticationFailure, setupDeclineError } from './declines';
import { authenticationPageUrl } from './pay';
import { testCardByFingerprint } from './test-cards';

/**
 * Confirming SetupIntents (https://docs.stripe.com/payments/setup-intents): saving a
 * PaymentMethod for later payments, by what the test card does
 * (https://docs.stripe.com/testing#authentication-and-setup). No charge is made.
 */

/** How a SetupIntent confirmation ended: the SetupIntent as stored, and the 402 body when the card was declined. */
export interface SetupConfirmResult {
  setupIntent: Stripe.SetupIntent;
  /** Stripe's `card_error` (with `setup_intent` filled in); `null` otherwise. */
  error: StripeErrorBody | null;
}

const idOf = (value: string | { id: string } | null): string | null => (typeof value === 'string' ? value : (value?.id ?? null));

/**
 * `next_action` of a SetupIntent needing 3-D Secure: `redirect_to_url` with a `return_url`,
 * otherwise `use_stripe_sdk`; both lead to the emulator's challenge page `/3ds/{seti_...}`.
 */
export function setupThreeDSecureAction(ctx: EmulatorContext, setupIntentId: string, returnUrl: string | null): Stripe.SetupIntent.NextAction {
  const url = authenticationPageUrl(ctx, setupIntentId);
  if (returnUrl !== null) return { type: 'redirect_to_url', redirect_to_url: { url, return_url: returnUrl } };
  return { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: url } as Stripe.SetupIntent.NextAction.UseStripeSdk };
}

/** Marks the SetupIntent `succeeded`, attaching the PaymentMethod to its customer first (`payment_method.attached`), then `setup_intent.succeeded`. */
function succeed(ctx: EmulatorContext, intent: Stripe.SetupIntent, paymentMethod: Stripe.PaymentMethod, request: Stripe.Event.Request): SetupConfirmResult {
  const customer = idOf(intent.customer as string | null);
  if (customer !== null && paymentMethod.customer === null) attachPaymentMethod(ctx, paymentMethod, customer, request);
  const succeeded = ctx.store.setupIntents.put({ ...intent, status: 'succeeded', payment_method: paymentMethod.id, last_setup_error: null, next_action: null });
  ctx.events.publish({ type: 'setup_intent.succeeded', object: succeeded, request });
  return { setupIntent: succeeded, error: null };
}

/** Returns the SetupIntent to `requires_payment_method` with `error` and publishes `setup_intent.setup_failed`. */
function fail(ctx: EmulatorContext, intent: Stripe.SetupIntent, error: StripeErrorBody, request: Stripe.Event.Request): SetupConfirmResult {
  const failed = ctx.store.setupIntents.put({
    ...intent,
    status: 'requires_payment_method',
    payment_method: null,
    last_setup_error: error as Stripe.SetupIntent.LastSetupError,
    next_action: null,
  });
  ctx.events.publish({ type: 'setup_intent.setup_failed', object: failed, request });
  return { setupIntent: failed, error: { ...error, setup_intent: failed } };
}

/**
 * Confirms a SetupIntent (in `requires_payment_method`, `requires_confirmation` or
 * `requires_action`) with `paymentMethod`, as Stripe's confirm does:
 * - a card that needs no authentication, or a test IBAN: `succeeded` (the PaymentMethod is
 *   attached to the SetupIntent's customer, if any), `setup_intent.succeeded`;
 * - a 3-D Secure card: `requires_action` with `next_action`, `setup_intent.requires_action`
 *   (finish with {@link authenticateSetupIntent});
 * - a declining card (all but `pm_card_chargeCustomerFail`, which attaches):
 *   `requires_payment_method` with `last_setup_error`, `setup_intent.setup_failed`, and the 402 body in `error`.
 */
export function confirmSetupIntent(
  ctx: EmulatorContext,
  intent: Stripe.SetupIntent,
  options: { paymentMethod: Stripe.PaymentMethod; returnUrl: string | null; request: Stripe.Event.Request },
): SetupConfirmResult {
  const { paymentMethod, request } = options;
  const attempt: Stripe.SetupIntent = { ...intent, payment_method: paymentMethod.id, last_setup_error: null, next_action: null };
  const behaviour = paymentMethod.type === 'card' ? testCardByFingerprint(paymentMethod.card?.fingerprint)?.behaviour : undefined;
  if (behaviour?.kind === 'decline' && !behaviour.attaches) return fail(ctx, attempt, setupDeclineError(behaviour.declineCode, paymentMethod), request);
  if (behaviour?.kind === 'authenticate') {
    const pending = ctx.store.setupIntents.put({ ...attempt, status: 'requires_action', next_action: setupThreeDSecureAction(ctx, intent.id, options.returnUrl) });
    ctx.events.publish({ type: 'setup_intent.requires_action', object: pending, request });
    return { setupIntent: pending, error: null };
  }
  return succeed(ctx, attempt, paymentMethod, request);
}

/**
 * Ends the 3-D Secure challenge of a SetupIntent in `requires_action`: approved, it succeeds
 * (as above); refused, it returns to `requires_payment_method` with
 * `setup_intent_authentication_failure` and `setup_intent.setup_failed`.
 */
export function authenticateSetupIntent(ctx: EmulatorContext, intent: Stripe.SetupIntent, approve: boolean, request: Stripe.Event.Request): SetupConfirmResult {
  const paymentMethod = ctx.store.paymentMethods.get(idOf(intent.payment_method as string | null) ?? '');
  if (intent.status !== 'requires_action' || !paymentMethod) throw new Error(`SetupIntent ${intent.id} is not waiting for authentication`);
  const attempt: Stripe.SetupIntent = { ...intent, next_action: null };
  if (approve) return succeed(ctx, attempt, paymentMethod, request);
  return fail(ctx, attempt, setupAuthenticationFailure(paymentMethod), request);
}
