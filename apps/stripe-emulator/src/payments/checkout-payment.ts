import type Stripe from 'stripe';
import { authenticateSubscriptionCheckout, paySubscriptionCheckout, pendingSubscriptionAuthentication } from '../billing/checkout';
import type { EmulatorContext } from '../core/context';
import { invalidRequest, type StripeErrorBody } from '../http/errors';
import { completeSession, sessionDetails } from '../resources/checkout-sessions';
import { createCustomer } from '../resources/customers';
import { createPaymentIntent } from '../resources/payment-intents';
import { authenticatePaymentIntent, confirmPaymentIntent, type ConfirmResult } from './pay';
import { testCardByFingerprint } from './test-cards';

/** How a payment attempt on a Checkout Session ended. */
export type PaymentOutcome =
  /** Paid, or (SEPA Direct Debit) complete and `unpaid` while the debit is processing. */
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
    {
      amount: session.amount_total ?? 0,
      currency: session.currency ?? 'usd',
      customer: idOf(session.customer),
      paymentMethodTypes: session.payment_method_types,
      ...sessionDetails(ctx, session.id).paymentIntentData,
    },
    request,
  );
  return { session: ctx.store.checkoutSessions.put({ ...session, payment_intent: intent.id }), intent };
}

/** The email to record for the payer: typed, preset on the session or its customer, or from the PaymentMethod. */
function payerEmail(ctx: EmulatorContext, session: Stripe.Checkout.Session, attempt: PaymentAttempt): string | null {
  const existing = idOf(session.customer);
  return attempt.email ?? session.customer_email ?? (existing ? ctx.store.customers.get(existing)?.email : null) ?? attempt.paymentMethod.billing_details.email;
}

/**
 * The customer the payment is for: the session's, or with `customer_creation=always` one made
 * (once, kept on the PaymentIntent) when the customer first confirms, as Stripe does.
 */
function ensureCustomer(ctx: EmulatorContext, session: Stripe.Checkout.Session, intent: Stripe.PaymentIntent, attempt: PaymentAttempt): Stripe.PaymentIntent {
  if (intent.customer !== null || session.customer_creation !== 'always') return intent;
  const customer = createCustomer(ctx, { email: payerEmail(ctx, session, attempt), name: attempt.paymentMethod.billing_details.name }, attempt.request);
  return ctx.store.paymentIntents.put({ ...intent, customer: customer.id });
}

/** Maps a confirmation to the session's outcome, completing the session when the payment succeeded or is processing. */
function outcomeOf(ctx: EmulatorContext, session: Stripe.Checkout.Session, result: ConfirmResult, attempt: PaymentAttempt): PaymentOutcome {
  const { paymentIntent, error } = result;
  if (error) return { status: 'failed', session, error };
  if (paymentIntent.status === 'requires_action') return { status: 'requires_action', session, paymentIntent };
  const completed = completeSession(
    ctx,
    session,
    {
      paymentIntent: paymentIntent.id,
      customer: idOf(paymentIntent.customer as string | null),
      email: payerEmail(ctx, session, attempt),
      name: attempt.paymentMethod.billing_details.name,
      paymentStatus: paymentIntent.status === 'succeeded' ? 'paid' : 'unpaid',
    },
    attempt.request,
  );
  return { status: 'succeeded', session: completed };
}

/** URL of the emulator's 3-D Secure challenge page for a session. */
export function authenticationUrl(ctx: EmulatorContext, sessionId: string): string {
  return `${ctx.baseUrl()}/c/pay/${sessionId}/authenticate`;
}

/**
 * Pays an `open` Checkout Session with a test card or test IBAN PaymentMethod, as Stripe
 * Checkout does: creates the PaymentIntent on the first attempt and confirms it on-session
 * (see `confirmPaymentIntent`). Succeeded: `checkout.session.completed` (`paid`); SEPA:
 * `checkout.session.completed` (`unpaid`), the result of the debit comes later
 * (`async-payments.ts`); declined: the session stays open; 3-D Secure: `requires_action`.
 * A PaymentMethod of a type the session does not accept is a 400 (nothing changed).
 */
export function payCheckoutSession(ctx: EmulatorContext, openSession: Stripe.Checkout.Session, attempt: PaymentAttempt): PaymentOutcome {
  const { paymentMethod } = attempt;
  // `subscription` mode: the billing module makes the subscription and charges its first invoice.
  if (openSession.mode === 'subscription') return paySubscriptionCheckout(ctx, openSession, attempt);
  if (!openSession.payment_method_types.includes(paymentMethod.type)) {
    throw invalidRequest(`This Checkout Session does not accept PaymentMethods of type \`${paymentMethod.type}\`.`, { param: 'payment_method' });
  }
  if (paymentMethod.type === 'card' && !testCardByFingerprint(paymentMethod.card?.fingerprint)) throw new Error(`PaymentMethod ${paymentMethod.id} is not a test card`);
  const { session, intent } = ensurePaymentIntent(ctx, openSession, attempt.request);
  const withCustomer = ensureCustomer(ctx, session, intent, attempt);
  const nextAction: Stripe.PaymentIntent.NextAction = {
    type: 'redirect_to_url',
    redirect_to_url: { url: authenticationUrl(ctx, session.id), return_url: `${ctx.baseUrl()}/c/pay/${session.id}` },
  };
  const result = confirmPaymentIntent(ctx, withCustomer, { paymentMethod, offSession: false, request: attempt.request, nextAction });
  return outcomeOf(ctx, session, result, attempt);
}

/** The PaymentIntent of a session waiting for 3-D Secure, if any. */
export function pendingAuthentication(ctx: EmulatorContext, session: Stripe.Checkout.Session): Stripe.PaymentIntent | undefined {
  if (session.mode === 'subscription') return pendingSubscriptionAuthentication(ctx, session);
  const id = idOf(session.payment_intent);
  const intent = id === null ? undefined : ctx.store.paymentIntents.get(id);
  return intent?.status === 'requires_action' ? intent : undefined;
}

/**
 * Finishes the 3-D Secure step of a session's payment (which must be pending, see
 * {@link pendingAuthentication}): approved, the card is charged and the session completes;
 * refused, the PaymentIntent returns to `requires_payment_method` (see `authenticatePaymentIntent`).
 */
export function authenticateCheckoutPayment(
  ctx: EmulatorContext,
  session: Stripe.Checkout.Session,
  intent: Stripe.PaymentIntent,
  outcome: { approve: boolean; request: Stripe.Event.Request },
): PaymentOutcome {
  if (session.mode === 'subscription') return authenticateSubscriptionCheckout(ctx, session, intent, outcome);
  const paymentMethod = ctx.store.paymentMethods.get(idOf(intent.payment_method as string | null) ?? '');
  if (!paymentMethod) throw new Error(`PaymentIntent ${intent.id} has no PaymentMethod`);
  const result = authenticatePaymentIntent(ctx, intent, outcome.approve, outcome.request);
  // The email typed with the card was saved on the PaymentMethod's billing details.
  return outcomeOf(ctx, session, result, { paymentMethod, email: null, request: outcome.request });
}
