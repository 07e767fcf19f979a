import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context';
import type { StripeErrorBody } from '../http/errors';
import { createCharge } from '../resources/charges';
import { completeSession, sessionDetails } from '../resources/checkout-sessions';
import { createCustomer } from '../resources/customers';
import { createPaymentIntent } from '../resources/payment-intents';
import { authenticationFailure, declineError } from './declines';
import { testCardByFingerprint, type DeclineCode } from './test-cards';

/** How a payment attempt on a Checkout Session ended. */
export type PaymentOutcome =
  | { status: 'succeeded'; session: Stripe.Checkout.Session }
  /** 3-D Secure needed: the customer must authenticate (see {@link authenticateCheckoutPayment}). */
  | { status: 'requires_action'; session: Stripe.Checkout.Session; paymentIntent: Stripe.PaymentIntent }
  /** Declined or not authenticated; `error` is the 402 body, with `payment_intent` and `payment_method`. */
  | { status: 'failed'; session: Stripe.Checkout.Session; error: StripeErrorBody };

/** One attempt to pay with `paymentMethod`. */
export interface PaymentAttempt {
  paymentMethod: Stripe.PaymentMethod;
  /** The email the customer gave, if any. */
  email: string | null;
  request: Stripe.Event.Request;
}

const idOf = (value: string | { id: string } | null): string | null => (typeof value === 'string' ? value : (value?.id ?? null));

/** The session's PaymentIntent, created (with `payment_intent.created`) at the first attempt. */
function ensurePaymentIntent(ctx: EmulatorContext, session: Stripe.Checkout.Session, request: Stripe.Event.Request) {
  const existing = idOf(session.payment_intent);
  if (existing !== null) return { session, intent: ctx.store.paymentIntents.get(existing)! };
  const intent = createPaymentIntent(
    ctx,
    { amount: session.amount_total ?? 0, currency: session.currency ?? 'usd', customer: idOf(session.customer), ...sessionDetails(ctx, session.id).paymentIntentData },
    request,
  );
  return { session: ctx.store.checkoutSessions.put({ ...session, payment_intent: intent.id }), intent };
}

function succeed(
  ctx: EmulatorContext,
  session: Stripe.Checkout.Session,
  intent: Stripe.PaymentIntent,
  attempt: PaymentAttempt,
  authenticated: boolean,
): PaymentOutcome {
  const { paymentMethod, request } = attempt;
  const existing = idOf(session.customer);
  const email = attempt.email ?? session.customer_email ?? (existing ? ctx.store.customers.get(existing)?.email : null) ?? paymentMethod.billing_details.email;
  const name = paymentMethod.billing_details.name;
  const customer =
    existing ?? (session.customer_creation === 'always' ? createCustomer(ctx, { email, name }, request).id : null);

  const charged = { ...intent, customer, payment_method: paymentMethod.id };
  const charge = createCharge(ctx, { paymentIntent: charged, paymentMethod, authenticated }, request);
  const succeeded = ctx.store.paymentIntents.put({
    ...charged,
    status: 'succeeded',
    amount_received: charged.amount,
    latest_charge: charge.id,
    last_payment_error: null,
    next_action: null,
  });
  ctx.events.publish({ type: 'payment_intent.succeeded', object: succeeded, request });
  const completed = completeSession(ctx, session, { paymentIntent: succeeded.id, customer, email, name }, request);
  return { status: 'succeeded', session: completed };
}

function decline(
  ctx: EmulatorContext,
  session: Stripe.Checkout.Session,
  intent: Stripe.PaymentIntent,
  attempt: PaymentAttempt,
  declineCode: DeclineCode,
): PaymentOutcome {
  const { paymentMethod, request } = attempt;
  const charge = createCharge(ctx, { paymentIntent: intent, paymentMethod, declineCode, authenticated: false }, request);
  const error = declineError(declineCode, charge.id, paymentMethod);
  const failed = ctx.store.paymentIntents.put({
    ...intent,
    status: 'requires_payment_method',
    latest_charge: charge.id,
    last_payment_error: error,
    payment_method: null,
    next_action: null,
  });
  ctx.events.publish({ type: 'payment_intent.payment_failed', object: failed, request });
  return { status: 'failed', session, error: { ...error, payment_intent: failed } };
}

/** URL of the emulator's 3-D Secure challenge page for a session. */
export function authenticationUrl(ctx: EmulatorContext, sessionId: string): string {
  return `${ctx.baseUrl()}/c/pay/${sessionId}/authenticate`;
}

/**
 * Pays an `open` Checkout Session with a test card PaymentMethod, as Stripe Checkout does:
 * creates the PaymentIntent on the first attempt, then, depending on the test card,
 * succeeds (`charge.succeeded`, `payment_intent.succeeded`, `checkout.session.completed`; a
 * customer is created first when `customer_creation` is `always`), declines (`charge.failed`,
 * `payment_intent.payment_failed`; the session stays open) or asks for 3-D Secure
 * (`payment_intent.requires_action`).
 */
export function payCheckoutSession(ctx: EmulatorContext, openSession: Stripe.Checkout.Session, attempt: PaymentAttempt): PaymentOutcome {
  const testCard = testCardByFingerprint(attempt.paymentMethod.card?.fingerprint);
  if (!testCard) throw new Error(`PaymentMethod ${attempt.paymentMethod.id} is not a test card`);
  const { session, intent } = ensurePaymentIntent(ctx, openSession, attempt.request);
  const behaviour = testCard.behaviour;
  switch (behaviour.kind) {
    case 'succeed':
      return succeed(ctx, session, intent, attempt, false);
    case 'decline':
      return decline(ctx, session, intent, attempt, behaviour.declineCode);
    case 'authenticate': {
      const pending = ctx.store.paymentIntents.put({
        ...intent,
        status: 'requires_action',
        payment_method: attempt.paymentMethod.id,
        last_payment_error: null,
        next_action: { type: 'redirect_to_url', redirect_to_url: { url: authenticationUrl(ctx, session.id), return_url: `${ctx.baseUrl()}/c/pay/${session.id}` } },
      });
      ctx.events.publish({ type: 'payment_intent.requires_action', object: pending, request: attempt.request });
      return { status: 'requires_action', session, paymentIntent: pending };
    }
  }
}

/** The PaymentIntent of a session waiting for 3-D Secure, if any. */
export function pendingAuthentication(ctx: EmulatorContext, session: Stripe.Checkout.Session): Stripe.PaymentIntent | undefined {
  const id = idOf(session.payment_intent);
  const intent = id === null ? undefined : ctx.store.paymentIntents.get(id);
  return intent?.status === 'requires_action' ? intent : undefined;
}

/**
 * Finishes the 3-D Secure step of a session's payment (which must be pending, see
 * {@link pendingAuthentication}): approved, the card is charged as on success; refused, the
 * PaymentIntent returns to `requires_payment_method` with Stripe's
 * `payment_intent_authentication_failure` error and `payment_intent.payment_failed` (no charge).
 */
export function authenticateCheckoutPayment(
  ctx: EmulatorContext,
  session: Stripe.Checkout.Session,
  intent: Stripe.PaymentIntent,
  outcome: { approve: boolean; request: Stripe.Event.Request },
): PaymentOutcome {
  const paymentMethod = ctx.store.paymentMethods.get(idOf(intent.payment_method) ?? '');
  if (!paymentMethod) throw new Error(`PaymentIntent ${intent.id} has no PaymentMethod`);
  // The email typed with the card was saved on the PaymentMethod's billing details.
  if (outcome.approve) return succeed(ctx, session, intent, { paymentMethod, email: null, request: outcome.request }, true);
  const error = authenticationFailure(paymentMethod);
  const failed = ctx.store.paymentIntents.put({ ...intent, status: 'requires_payment_method', payment_method: null, next_action: null, last_payment_error: error });
  ctx.events.publish({ type: 'payment_intent.payment_failed', object: failed, request: outcome.request });
  return { status: 'failed', session, error: { ...error, payment_intent: failed } };
}
