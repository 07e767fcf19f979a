import { recordAudit } from '../audit/record';
import { AppError } from '../errors';
import { newId } from '../ids';
import { requireStripeFor } from '../stripe/require-configured';
import { isLive, requireCurrentSubscription, stripeCall, type SubscriptionCtx, type SubscriptionScope } from './find-for-customer';
import { subscriptionViewFromStripe, type SubscriptionView } from './view';

/**
 * Undo a scheduled cancellation: `cancel_at_period_end: false` (or clearing another `cancel_at`)
 * on a subscription that has not ended (stripe.com/docs/billing/subscriptions/cancel#reactivating-canceled-subscriptions).
 * Whether it is scheduled is read from Stripe. Admin resumes are audited. Returns the view of
 * Stripe's answer.
 * @throws AppError NOT_FOUND "No subscription to resume" (nothing called at Stripe), CONFLICT
 * (not scheduled to cancel; ended; the workspace has no Stripe), BAD_GATEWAY (Stripe refused or is unreachable).
 */
export async function resumeSubscription({ ctx, scope }: { ctx: SubscriptionCtx; scope: SubscriptionScope }): Promise<SubscriptionView> {
  const { db, config } = ctx;
  const { customer } = scope;
  const subscription = await requireCurrentSubscription(db, customer, config.dunningGraceDays, 'resume');
  const { client: stripe } = await requireStripeFor(ctx, customer.workspaceId);
  const ids = { customerId: customer.id, subscriptionId: subscription.id };
  const current = await stripeCall(ctx, 'subscriptions.retrieve', ids, () => stripe.subscriptions.retrieve(subscription.stripeSubscriptionId));
  if (!isLive(current.status)) throw new AppError('CONFLICT', `The subscription has already ended (${current.status}): subscribe to a plan instead`);
  if (!current.cancel_at_period_end && !current.cancel_at) throw new AppError('CONFLICT', 'The subscription is not scheduled to cancel: nothing to resume');
  const key = `tally-subscription-resume-${subscription.id}-${newId()}`;
  const updated = await stripeCall(ctx, 'subscriptions.update', ids, () =>
    stripe.subscriptions.update(subscription.stripeSubscriptionId, current.cancel_at_period_end ? { cancel_at_period_end: false } : { cancel_at: '' }, { idempotencyKey: key }),
  );
  if (scope.audience === 'admin') {
    await recordAudit(db, {
      workspaceId: customer.workspaceId,
      actor: { userId: scope.actor.userId, email: scope.actor.email },
      action: 'subscription.resume',
      targetType: 'subscription',
      targetId: subscription.id,
      before: { cancelAtPeriodEnd: current.cancel_at_period_end, cancelAt: current.cancel_at },
      after: { cancelAtPeriodEnd: updated.cancel_at_period_end, cancelAt: updated.cancel_at },
      requestId: ctx.requestId,
    });
  }
  return subscriptionViewFromStripe(db, subscription, updated);
}
