import { recordAudit } from '../audit/record';
import { AppError } from '../errors';
import { newId } from '../ids';
import { requireStripeFor } from '../stripe/require-configured';
import { isLive, requireCurrentSubscription, stripeCall, type SubscriptionCtx, type SubscriptionScope } from './find-for-customer';
import { subscriptionViewFromStripe, type SubscriptionView } from './view';

/**
 * Cancel the customer's subscription: `atPeriodEnd` sets `cancel_at_period_end` (access lasts
 * until the period ends and `subscription.resume` can undo it; stripe.com/docs/billing/subscriptions/cancel#cancel-at-end-of-cycle),
 * otherwise `subscriptions.cancel` ends it now. Whether it is already scheduled is read from
 * Stripe (the mirror may lag a moment behind). Admin cancellations are audited. Returns the
 * view of Stripe's answer (the webhook updates the mirror).
 * @throws AppError NOT_FOUND "No subscription to cancel" (nothing called at Stripe), CONFLICT
 * (already scheduled to cancel at period end; ended at Stripe; the workspace has no Stripe),
 * BAD_GATEWAY (Stripe refused or is unreachable).
 */
export async function cancelSubscription({
  ctx,
  scope,
  input,
}: {
  ctx: SubscriptionCtx;
  scope: SubscriptionScope;
  input: { atPeriodEnd: boolean };
}): Promise<SubscriptionView> {
  const { db, config } = ctx;
  const { customer } = scope;
  const subscription = await requireCurrentSubscription(db, customer, config.dunningGraceDays, 'cancel');
  const { client: stripe } = await requireStripeFor(ctx, customer.workspaceId);
  const ids = { customerId: customer.id, subscriptionId: subscription.id };
  const current = await stripeCall(ctx, 'subscriptions.retrieve', ids, () => stripe.subscriptions.retrieve(subscription.stripeSubscriptionId));
  if (!isLive(current.status)) throw new AppError('CONFLICT', `The subscription has already ended (${current.status})`);
  if (input.atPeriodEnd && current.cancel_at_period_end) {
    const at = current.cancel_at ? ` on ${new Date(current.cancel_at * 1000).toISOString().slice(0, 10)}` : '';
    throw new AppError('CONFLICT', `The subscription is already scheduled to cancel${at}: resume it to keep it`);
  }
  const key = `tally-subscription-cancel-${subscription.id}-${newId()}`;
  const updated = input.atPeriodEnd
    ? await stripeCall(ctx, 'subscriptions.update', ids, () => stripe.subscriptions.update(subscription.stripeSubscriptionId, { cancel_at_period_end: true }, { idempotencyKey: key }))
    : await stripeCall(ctx, 'subscriptions.cancel', ids, () => stripe.subscriptions.cancel(subscription.stripeSubscriptionId, {}, { idempotencyKey: key }));
  if (scope.audience === 'admin') {
    await recordAudit(db, {
      workspaceId: customer.workspaceId,
      actor: { userId: scope.actor.userId, email: scope.actor.email },
      action: input.atPeriodEnd ? 'subscription.cancel_at_period_end' : 'subscription.cancel_now',
      targetType: 'subscription',
      targetId: subscription.id,
      before: { status: current.status, cancelAtPeriodEnd: current.cancel_at_period_end },
      after: { status: updated.status, cancelAtPeriodEnd: updated.cancel_at_period_end, cancelAt: updated.cancel_at },
      requestId: ctx.requestId,
    });
  }
  return subscriptionViewFromStripe(db, subscription, updated);
}
