import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context';
import type { StripeErrorBody } from '../http/errors';
import { authenticatePaymentIntent } from '../payments/pay';
import { declineError } from '../payments/declines';
import { testCardByFingerprint } from '../payments/test-cards';
import { sessionDetails } from '../resources/checkout-sessions';
import { createCustomer } from '../resources/customers';
import { attachPaymentMethod } from '../resources/payment-methods';
import { attemptInvoicePayment, settlePaidInvoice } from './collection';
import { emit, idOf, type BillingOp } from './op';
import { createSubscription } from './subscriptions';
import { customerNow } from './time';

/**
 * Checkout Sessions in `subscription` mode (https://docs.stripe.com/payments/checkout/build-subscriptions):
 * at the first payment attempt the customer is made (unless the session has one), the card is
 * attached and the subscription created (`default_incomplete`, the card as its
 * `default_payment_method`); its first invoice is then charged on session. Once paid (or, with
 * a trial, once the card is saved), the session completes with `subscription` and `invoice`
 * set and `checkout.session.completed` is sent. Later attempts reuse the same subscription.
 */

/** How a subscription-mode payment attempt ended (the same shape as payment mode's outcome). */
export type SubscriptionCheckoutOutcome =
  | { status: 'succeeded'; session: Stripe.Checkout.Session }
  | { status: 'requires_action'; session: Stripe.Checkout.Session; paymentIntent: Stripe.PaymentIntent }
  | { status: 'failed'; session: Stripe.Checkout.Session; error: StripeErrorBody };

interface Attempt {
  paymentMethod: Stripe.PaymentMethod;
  email: string | null;
  request: Stripe.Event.Request;
}

function payerEmail(ctx: EmulatorContext, session: Stripe.Checkout.Session, attempt: Attempt): string | null {
  const existing = idOf(session.customer as string | null);
  return attempt.email ?? session.customer_email ?? (existing ? (ctx.store.customers.get(existing)?.email ?? null) : null) ?? attempt.paymentMethod.billing_details.email;
}

/** Completes a subscription-mode session (`checkout.session.completed`, `subscription` and `invoice` set). */
function complete(ctx: EmulatorContext, session: Stripe.Checkout.Session, subscription: Stripe.Subscription, attempt: Attempt): Stripe.Checkout.Session {
  const invoice = ctx.store.invoices.get(String(idOf(subscription.latest_invoice as string | null)));
  const paid = (invoice?.amount_paid ?? 0) > 0;
  const completed = ctx.store.checkoutSessions.put({
    ...session,
    status: 'complete',
    payment_status: paid ? 'paid' : 'no_payment_required',
    customer: String(idOf(subscription.customer as string)),
    customer_details: {
      address: null,
      business_name: null,
      email: payerEmail(ctx, session, attempt),
      individual_name: null,
      name: attempt.paymentMethod.billing_details.name,
      phone: null,
      tax_exempt: 'none',
      tax_ids: [],
    },
    collected_information: { business_name: null, individual_name: null, shipping_details: null },
    subscription: subscription.id,
    invoice: invoice?.id ?? null,
    url: null,
  });
  ctx.events.publish({ type: 'checkout.session.completed', object: completed, request: attempt.request });
  return completed;
}

/** The session's subscription, created (with its customer) at the first attempt. */
function ensureSubscription(ctx: EmulatorContext, session: Stripe.Checkout.Session, attempt: Attempt): Stripe.Subscription {
  const details = sessionDetails(ctx, session.id);
  const data = details.subscriptionData ?? { trialPeriodDays: null, metadata: {}, description: null, subscription: null };
  const existing = data.subscription ? ctx.store.subscriptions.get(data.subscription) : undefined;
  if (existing) return existing;
  const customerId = idOf(session.customer as string | null);
  const customer = customerId
    ? ctx.store.customers.get(customerId)!
    : createCustomer(ctx, { email: payerEmail(ctx, session, attempt), name: attempt.paymentMethod.billing_details.name }, attempt.request);
  if (!customerId) ctx.store.checkoutSessions.put({ ...session, customer: customer.id });
  attachPaymentMethod(ctx, attempt.paymentMethod, customer.id, attempt.request);
  const now = customerNow(ctx, customer.id);
  const op: BillingOp = { ctx, request: attempt.request, now };
  const subscription = createSubscription(op, {
    customer,
    items: details.lineItems.filter((item) => item.price?.type === 'recurring').map((item) => ({ price: item.price!, quantity: item.quantity ?? 1, metadata: {} })),
    trialEnd: data.trialPeriodDays ? now + data.trialPeriodDays * 86_400 : null,
    defaultPaymentMethod: attempt.paymentMethod.id,
    paymentBehavior: 'default_incomplete',
    cancelAtPeriodEnd: false,
    metadata: data.metadata,
    description: data.description,
    collectionMethod: 'charge_automatically',
    daysUntilDue: null,
    missingPaymentMethod: 'create_invoice',
  });
  ctx.store.checkoutSessionDetails.put({ ...details, subscriptionData: { ...data, subscription: subscription.id } });
  return subscription;
}

/** Pays a `subscription`-mode session with a card (see the module comment). */
export function paySubscriptionCheckout(ctx: EmulatorContext, openSession: Stripe.Checkout.Session, attempt: Attempt): SubscriptionCheckoutOutcome {
  const behaviour = testCardByFingerprint(attempt.paymentMethod.card?.fingerprint)?.behaviour;
  let subscription = ctx.store.subscriptions.get(String(sessionDetails(ctx, openSession.id).subscriptionData?.subscription)) ?? null;
  const trialing = (sessionDetails(ctx, openSession.id).subscriptionData?.trialPeriodDays ?? null) !== null;
  if (trialing && behaviour?.kind === 'decline') {
    // Saving a card for a trial runs a SetupIntent; a declining card fails it without a charge.
    return { status: 'failed', session: openSession, error: { ...declineError(behaviour.declineCode, '', attempt.paymentMethod), charge: undefined } as StripeErrorBody };
  }
  subscription ??= ensureSubscription(ctx, openSession, attempt);
  const session = ctx.store.checkoutSessions.get(openSession.id)!;
  const customer = String(idOf(subscription.customer as string));
  if (subscription.status === 'trialing') return { status: 'succeeded', session: complete(ctx, session, subscription, attempt) };

  if (attempt.paymentMethod.customer === null) attachPaymentMethod(ctx, attempt.paymentMethod, customer, attempt.request);
  const op: BillingOp = { ctx, request: attempt.request, now: customerNow(ctx, customer) };
  if (idOf(subscription.default_payment_method as string | null) !== attempt.paymentMethod.id) {
    const before = subscription;
    subscription = ctx.store.subscriptions.put({ ...subscription, default_payment_method: attempt.paymentMethod.id });
    emit(op, 'customer.subscription.updated', subscription, { default_payment_method: before.default_payment_method });
  }
  const invoice = ctx.store.invoices.get(String(idOf(subscription.latest_invoice as string | null)))!;
  const outcome = attemptInvoicePayment(op, invoice, { paymentMethod: attempt.paymentMethod.id, offSession: false, automatic: false });
  if (outcome.status === 'failed') return { status: 'failed', session, error: outcome.error };
  if (outcome.status === 'requires_action') return { status: 'requires_action', session, paymentIntent: outcome.paymentIntent };
  return { status: 'succeeded', session: complete(ctx, session, ctx.store.subscriptions.get(subscription.id)!, attempt) };
}

/** The PaymentIntent of a subscription-mode session waiting for 3-D Secure, if any. */
export function pendingSubscriptionAuthentication(ctx: EmulatorContext, session: Stripe.Checkout.Session): Stripe.PaymentIntent | undefined {
  const subscription = ctx.store.subscriptions.get(String(sessionDetails(ctx, session.id).subscriptionData?.subscription));
  const invoiceId = idOf(subscription?.latest_invoice as string | null | undefined);
  const intentId = invoiceId ? ctx.store.invoiceStates.get(invoiceId)?.paymentIntent : null;
  const intent = intentId ? ctx.store.paymentIntents.get(intentId) : undefined;
  return intent?.status === 'requires_action' ? intent : undefined;
}

/** Ends the 3-D Secure step of a subscription-mode session: approved, the invoice is paid and the session completes. */
export function authenticateSubscriptionCheckout(
  ctx: EmulatorContext,
  session: Stripe.Checkout.Session,
  intent: Stripe.PaymentIntent,
  outcome: { approve: boolean; request: Stripe.Event.Request },
): SubscriptionCheckoutOutcome {
  const paymentMethod = ctx.store.paymentMethods.get(String(idOf(intent.payment_method as string | null)))!;
  const result = authenticatePaymentIntent(ctx, intent, outcome.approve, outcome.request);
  if (result.error) return { status: 'failed', session, error: result.error };
  const subscription = ctx.store.subscriptions.get(String(sessionDetails(ctx, session.id).subscriptionData?.subscription))!;
  const invoice = ctx.store.invoices.get(String(idOf(subscription.latest_invoice as string | null)))!;
  const op: BillingOp = { ctx, request: outcome.request, now: customerNow(ctx, String(idOf(subscription.customer as string))) };
  if (invoice.status === 'open') settlePaidInvoice(op, invoice, result.paymentIntent);
  return { status: 'succeeded', session: complete(ctx, session, ctx.store.subscriptions.get(subscription.id)!, { paymentMethod, email: null, request: outcome.request }) };
}
