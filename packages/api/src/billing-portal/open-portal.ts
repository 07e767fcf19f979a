import { recordAudit } from '../audit/record';
import { ensureStripeCustomer } from '../customers/ensure-stripe-customer';
import { SUBSCRIPTION_PAGE_PATH } from '../schemas/subscriptions';
import { requireStripeFor } from '../stripe/require-configured';
import { redirectOrigin } from '../subscriptions/create-checkout';
import { stripeCall, type SubscriptionCtx, type SubscriptionScope } from '../subscriptions/find-for-customer';

/**
 * A Stripe customer portal session for the customer (stripe.com/docs/api/customer_portal/sessions/create):
 * cards, invoices, cancel or switch plan at Stripe, returning to `<origin>/subscription` (a
 * customer) or the admin's customer page `<origin>/admin/customers/<id>`, the origin being an
 * allowed one (`redirectOrigin`). The Stripe customer is created on first need. Opening one
 * for a customer as an admin is audited.
 * Returns `{ url }` (valid for a short time; open it at once).
 * @throws AppError FORBIDDEN (origin not allowed), CONFLICT (the workspace has no Stripe),
 * BAD_GATEWAY (Stripe refused or is unreachable).
 */
export async function openBillingPortal({ ctx, scope }: { ctx: SubscriptionCtx; scope: SubscriptionScope }): Promise<{ url: string }> {
  const { db } = ctx;
  const { customer } = scope;
  const origin = redirectOrigin(ctx);
  const { client: stripe } = await requireStripeFor(ctx, customer.workspaceId);
  const ids = { customerId: customer.id };
  const stripeCustomerId = await stripeCall(ctx, 'customers.create', ids, () => ensureStripeCustomer({ db, stripe, customer }));
  const returnUrl = scope.audience === 'admin' ? `${origin}/admin/customers/${customer.id}` : `${origin}${SUBSCRIPTION_PAGE_PATH}`;
  const session = await stripeCall(ctx, 'billingPortal.sessions.create', ids, () => stripe.billingPortal.sessions.create({ customer: stripeCustomerId, return_url: returnUrl }));
  if (scope.audience === 'admin') {
    await recordAudit(db, {
      workspaceId: customer.workspaceId,
      actor: { userId: scope.actor.userId, email: scope.actor.email },
      action: 'billing.open_portal',
      targetType: 'customer',
      targetId: customer.id,
      after: { portalSessionId: session.id },
      requestId: ctx.requestId,
    });
  }
  return { url: session.url };
}
