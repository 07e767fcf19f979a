import type Stripe from 'stripe';
import { recordAudit } from '../audit/record';
import { AppError } from '../errors';
import { newId } from '../ids';
import type { SubscriptionChangePlanInput } from '../schemas/subscriptions';
import { stripeCall, type SubscriptionCtx, type SubscriptionScope } from './find-for-customer';
import { resolvePlanChange } from './preview-change';
import { subscriptionView, subscriptionViewFromStripe, type SubscriptionView } from './view';

/** Stripe refused the proration date (outside the current period): the preview is out of date. */
const staleProrationDate = (err: Stripe.errors.StripeError) =>
  err.type === 'StripeInvalidRequestError' && err.param === 'proration_date'
    ? new AppError('BAD_REQUEST', 'The preview is out of date (the billing period has moved on): preview the change again')
    : null;

/**
 * Change the plan or seats of the customer's subscription (`resolvePlanChange` checks it):
 * `subscriptions.update` of its first item to the plan's price for the interval (monthly or
 * yearly; default the current one) and quantity with
 * `proration_behavior: create_prorations` (credit for the unused time, charge for the remaining
 * time, both on the next invoice; stripe.com/docs/billing/subscriptions/upgrade-downgrade) at
 * `prorationDate` (the preview's, so the customer is charged what was shown; default now), with
 * an idempotency key. Admin changes are audited. The mirror is updated by the webhook; this
 * returns the view of Stripe's answer.
 * @throws as `resolvePlanChange`; BAD_REQUEST (the preview's proration date is no longer in the
 * period); BAD_GATEWAY (Stripe refused or is unreachable).
 */
export async function changeSubscriptionPlan({
  ctx,
  scope,
  input,
}: {
  ctx: SubscriptionCtx;
  scope: SubscriptionScope;
  input: Omit<SubscriptionChangePlanInput, 'customerId'>;
}): Promise<SubscriptionView> {
  const { subscription, plan, quantity, interval, priceId, stripe, item } = await resolvePlanChange(ctx, scope, input);
  const ids = { customerId: scope.customer.id, subscriptionId: subscription.id, planId: plan.id };
  const params: Stripe.SubscriptionUpdateParams = {
    items: [{ id: item.id, price: priceId, quantity }],
    proration_behavior: 'create_prorations',
  };
  const updated = await stripeCall(
    ctx,
    'subscriptions.update',
    ids,
    () =>
      stripe.subscriptions.update(subscription.stripeSubscriptionId, input.prorationDate === undefined ? params : { ...params, proration_date: input.prorationDate }, {
        idempotencyKey: `tally-subscription-change-${subscription.id}-${newId()}`,
      }),
    staleProrationDate,
  );
  if (scope.audience === 'admin') {
    const before = await subscriptionView(ctx.db, subscription);
    await recordAudit(ctx.db, {
      workspaceId: scope.customer.workspaceId,
      actor: { userId: scope.actor.userId, email: scope.actor.email },
      action: 'subscription.change_plan',
      targetType: 'subscription',
      targetId: subscription.id,
      before: { plan: before.plan?.code ?? null, interval: before.interval, seats: subscription.seats },
      after: { plan: plan.code, interval, seats: quantity, prorationDate: input.prorationDate ?? null },
      requestId: ctx.requestId,
    });
  }
  return subscriptionViewFromStripe(ctx.db, subscription, updated);
}
