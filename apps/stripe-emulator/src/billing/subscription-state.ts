import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context';
import { emit, idOf, saveUpdate, type BillingOp } from './op';

/** The subscription an invoice bills (`parent.subscription_details.subscription`), if any. */
export function subscriptionOf(ctx: EmulatorContext, invoice: Stripe.Invoice): Stripe.Subscription | undefined {
  const id = idOf(invoice.parent?.subscription_details?.subscription as string | undefined);
  return id ? ctx.store.subscriptions.get(id) : undefined;
}

/** Stores `patch` on a subscription and emits `customer.subscription.updated` with `previous_attributes` if anything changed. */
export function updateSubscription(op: BillingOp, before: Stripe.Subscription, patch: Partial<Stripe.Subscription>): Stripe.Subscription {
  return saveUpdate(op, op.ctx.store.subscriptions, before, { ...before, ...patch }, 'customer.subscription.updated');
}

/**
 * Cancels a subscription now (https://docs.stripe.com/api/subscriptions/cancel): `canceled`,
 * `ended_at` = now, `cancellation_details.reason`; emits `customer.subscription.deleted`.
 * Automatic retries of its open invoices stop (they stay open, as with Stripe's default settings).
 */
export function cancelSubscriptionNow(
  op: BillingOp,
  subscription: Stripe.Subscription,
  details: { reason: Stripe.Subscription.CancellationDetails.Reason; comment?: string | null; feedback?: Stripe.Subscription.CancellationDetails.Feedback | null },
): Stripe.Subscription {
  const { ctx } = op;
  const canceled = ctx.store.subscriptions.put({
    ...subscription,
    status: 'canceled',
    canceled_at: subscription.canceled_at ?? op.now,
    ended_at: op.now,
    cancellation_details: {
      comment: details.comment ?? subscription.cancellation_details?.comment ?? null,
      feedback: details.feedback ?? subscription.cancellation_details?.feedback ?? null,
      feedback_option: null,
      reason: details.reason,
    },
  });
  for (const invoice of ctx.store.invoices.all()) {
    if (invoice.status === 'open' && invoice.next_payment_attempt !== null && subscriptionOf(ctx, invoice)?.id === subscription.id) {
      ctx.store.invoices.put({ ...invoice, next_payment_attempt: null });
    }
  }
  emit(op, 'customer.subscription.deleted', canceled);
  return canceled;
}
