import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context';
import { NO_REQUEST, previousAttributes } from '../core/events';
import { readCardForm, type CheckoutForm } from '../payments/checkout-form';
import { testCardByNumber } from '../payments/test-cards';
import { attachPaymentMethod, createCardPaymentMethod } from '../resources/payment-methods';
import { attemptInvoicePayment, paymentMethodForInvoice } from './collection';
import { productName } from './invoices';
import { idOf, opFor, type BillingOp } from './op';
import { cancelSubscriptionNow, subscriptionOf, updateSubscription } from './subscription-state';
import { changeItems, currentPeriod, type ProrationBehavior } from './subscriptions';

/**
 * What a customer can do in the emulator's Customer Portal
 * (https://docs.stripe.com/customer-management): cancel (now or at period end), resume, switch
 * to another recurring price of the same product, and replace the card. Each produces Stripe's
 * ordinary events (`customer.subscription.updated`/`deleted`, `payment_method.attached`,
 * `customer.updated`, `invoice.paid`...), with no API request (`request.id` null).
 */

/** The outcome of a portal action: a notice to show, or a problem. */
export type PortalResult = { ok: true; notice: string } | { ok: false; error: string };

/** The subscriptions a portal shows: the customer's that have not ended. */
export function portalSubscriptions(ctx: EmulatorContext, customer: string): Stripe.Subscription[] {
  return ctx.store.subscriptions
    .all()
    .filter((subscription) => subscription.customer === customer && !['canceled', 'incomplete_expired'].includes(subscription.status));
}

/**
 * The prices a subscription can switch to: the other active recurring prices of its product in
 * its currency (or, when the configuration lists products, those prices).
 */
export function switchOptions(ctx: EmulatorContext, configuration: Stripe.BillingPortal.Configuration, subscription: Stripe.Subscription): { price: Stripe.Price; label: string }[] {
  const current = subscription.items.data[0]?.price;
  if (!current || subscription.items.data.length !== 1) return [];
  const listed = (configuration.features.subscription_update.products ?? []).find((entry) => entry.product === current.product);
  return ctx.store.prices
    .all()
    .filter(
      (price) =>
        price.id !== current.id &&
        price.active &&
        price.type === 'recurring' &&
        price.recurring?.usage_type === 'licensed' &&
        price.currency === current.currency &&
        price.product === current.product &&
        (listed === undefined || listed.prices.includes(price.id)),
    )
    .map((price) => ({ price, label: `${productName(ctx, price)} – ${(price.unit_amount ?? 0) / 100} ${price.currency.toUpperCase()} / ${price.recurring!.interval}${price.nickname ? ` (${price.nickname})` : ''}` }));
}

function ownSubscription(ctx: EmulatorContext, customer: string, subscriptionId: string): Stripe.Subscription | null {
  const subscription = ctx.store.subscriptions.get(subscriptionId);
  return subscription && subscription.customer === customer && !['canceled', 'incomplete_expired'].includes(subscription.status) ? subscription : null;
}

/** Cancels a subscription now (`customer.subscription.deleted`) or at the end of its period (`customer.subscription.updated`). */
export function portalCancel(ctx: EmulatorContext, customer: string, subscriptionId: string, when: 'now' | 'period_end'): PortalResult {
  const subscription = ownSubscription(ctx, customer, subscriptionId);
  if (!subscription) return { ok: false, error: 'This subscription cannot be changed.' };
  const op = opFor(ctx, customer);
  if (when === 'now') {
    cancelSubscriptionNow(op, subscription, { reason: 'cancellation_requested' });
    return { ok: true, notice: 'Your subscription has been canceled.' };
  }
  const end = currentPeriod(subscription).end;
  updateSubscription(op, subscription, {
    cancel_at_period_end: true,
    cancel_at: end,
    canceled_at: op.now,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, ...subscription.cancellation_details, reason: 'cancellation_requested' },
  });
  return { ok: true, notice: `Your subscription will be canceled on ${new Date(end * 1000).toISOString().slice(0, 10)}.` };
}

/** Undoes a cancellation at period end. */
export function portalResume(ctx: EmulatorContext, customer: string, subscriptionId: string): PortalResult {
  const subscription = ownSubscription(ctx, customer, subscriptionId);
  if (!subscription?.cancel_at_period_end) return { ok: false, error: 'This subscription is not scheduled to cancel.' };
  updateSubscription(opFor(ctx, customer), subscription, {
    cancel_at_period_end: false,
    cancel_at: null,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: null },
  });
  return { ok: true, notice: 'Your subscription has been resumed.' };
}

/** Switches a one-item subscription to another price of its product, prorated as the configuration says. */
export function portalSwitch(ctx: EmulatorContext, configuration: Stripe.BillingPortal.Configuration, customer: string, subscriptionId: string, priceId: string): PortalResult {
  const subscription = ownSubscription(ctx, customer, subscriptionId);
  if (!subscription) return { ok: false, error: 'This subscription cannot be changed.' };
  const option = switchOptions(ctx, configuration, subscription).find((entry) => entry.price.id === priceId);
  if (!option) return { ok: false, error: 'That plan is not available.' };
  const behaviour = configuration.features.subscription_update.proration_behavior as ProrationBehavior;
  changeItems(opFor(ctx, customer), subscription, [{ id: subscription.items.data[0]!.id, price: option.price }], behaviour);
  return { ok: true, notice: `Your plan is now ${option.label}.` };
}

/**
 * Replaces the customer's card: a new PaymentMethod from the typed test card is attached
 * (`payment_method.attached`) and made the customer's default (`customer.updated`) and that of
 * subscriptions that had their own; then open invoices of `past_due`/`unpaid` subscriptions
 * are retried with it (on session), which makes those subscriptions `active` when paid.
 */
export function portalUpdateCard(ctx: EmulatorContext, customerId: string, form: CheckoutForm): PortalResult & { values?: CheckoutForm } {
  const read = readCardForm(form, false);
  if ('error' in read) return { ok: false, error: read.error.message, values: form };
  if (!testCardByNumber(read.card.number)) return { ok: false, error: 'Your card number is incorrect.', values: form };
  const customer = ctx.store.customers.get(customerId);
  if (!customer) return { ok: false, error: 'Unknown customer.' };
  const paymentMethod = attachPaymentMethod(ctx, createCardPaymentMethod(ctx, read.card), customerId, NO_REQUEST);
  const updated: Stripe.Customer = { ...customer, invoice_settings: { ...customer.invoice_settings, default_payment_method: paymentMethod.id } };
  ctx.store.customers.put(updated);
  ctx.events.publish({ type: 'customer.updated', object: updated, previousAttributes: previousAttributes(customer, updated), request: NO_REQUEST });
  const op: BillingOp = opFor(ctx, customerId);
  for (const subscription of portalSubscriptions(ctx, customerId)) {
    if (idOf(subscription.default_payment_method as string | null) !== null) updateSubscription(op, subscription, { default_payment_method: paymentMethod.id });
  }
  let paid = 0;
  let problem: string | null = null;
  for (const invoice of ctx.store.invoices.all()) {
    const subscription = subscriptionOf(ctx, invoice);
    if (invoice.customer !== customerId || invoice.status !== 'open' || invoice.collection_method !== 'charge_automatically') continue;
    if (!subscription || !['past_due', 'unpaid', 'incomplete'].includes(subscription.status)) continue;
    paymentMethodForInvoice(ctx, invoice, paymentMethod.id);
    const outcome = attemptInvoicePayment(op, invoice, { paymentMethod: paymentMethod.id, offSession: false, automatic: false });
    if (outcome.status === 'paid') paid += 1;
    else if (outcome.status === 'requires_action') problem = `Invoice ${invoice.number ?? invoice.id} needs authentication: pay it on its invoice page.`;
    else if (outcome.status === 'failed') problem = `Invoice ${invoice.number ?? invoice.id} could not be paid: ${outcome.error.message}`;
  }
  if (problem) return { ok: false, error: `Your payment method was updated. ${problem}` };
  return { ok: true, notice: paid > 0 ? `Your payment method was updated and ${paid} outstanding invoice${paid > 1 ? 's were' : ' was'} paid.` : 'Your payment method was updated.' };
}
