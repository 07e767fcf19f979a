import {
  AdminSubscriptionCancelInput,
  AdminSubscriptionChangePlanInput,
  AdminSubscriptionCheckoutInput,
  AdminSubscriptionPreviewChangeInput,
  AdminSubscriptionScopeInput,
  SubscriptionCancelInput,
  SubscriptionChangePlanInput,
  SubscriptionCheckoutInput,
  SubscriptionPreviewChangeInput,
  SubscriptionScopeInput,
} from '../schemas/subscriptions';
import { cancelSubscription } from '../subscriptions/cancel';
import { changeSubscriptionPlan } from '../subscriptions/change-plan';
import { createSubscriptionCheckout } from '../subscriptions/create-checkout';
import { adminScope, customerScope } from '../subscriptions/find-for-customer';
import { getSubscription } from '../subscriptions/get';
import { previewPlanChange } from '../subscriptions/preview-change';
import { resumeSubscription } from '../subscriptions/resume';
import { adminProcedure, createTRPCRouter, customerProcedure } from '../trpc';

/**
 * Subscriptions (issue 8). Customer procedures act on the caller's own customer (`customerId`
 * optional, a customer they are not a member of is NOT_FOUND); the `...ForCustomer` admin
 * procedures on any customer of the admin's workspace (another workspace's is NOT_FOUND),
 * audited. Errors: see the domain functions in `subscriptions/`.
 */
export const subscriptionRouter = createTRPCRouter({
  /** `{ subscription: SubscriptionView | null, access, pastDue, trialEligible }` from the mirror; no Stripe call. */
  get: customerProcedure.input(SubscriptionScopeInput).query(async ({ ctx, input }) =>
    getSubscription({ db: ctx.db, graceDays: ctx.config.dunningGraceDays, scope: await customerScope(ctx.db, ctx.actor, input?.customerId) }),
  ),
  /**
   * `{ url, checkoutSessionId }` of a Checkout Session in subscription mode at `interval`
   * (`month` default, `year` needs the plan's yearly price: else BAD_REQUEST); no trial after an
   * earlier one; CONFLICT when already subscribed.
   */
  createCheckout: customerProcedure.input(SubscriptionCheckoutInput).mutation(async ({ ctx, input }) =>
    createSubscriptionCheckout({ ctx, scope: await customerScope(ctx.db, ctx.actor, input.customerId), input }),
  ),
  /** The next invoice if the plan, seats or `interval` (default the current one) changed now (`PlanChangePreview`); nothing changes. */
  previewChange: customerProcedure.input(SubscriptionPreviewChangeInput).query(async ({ ctx, input }) =>
    previewPlanChange({ ctx, scope: await customerScope(ctx.db, ctx.actor, input.customerId), input }),
  ),
  /** Change plan or seats with proration (at the preview's `prorationDate`); the updated `SubscriptionView`. */
  changePlan: customerProcedure.input(SubscriptionChangePlanInput).mutation(async ({ ctx, input }) =>
    changeSubscriptionPlan({ ctx, scope: await customerScope(ctx.db, ctx.actor, input.customerId), input }),
  ),
  /** Cancel at the period end (resumable) or now; the updated `SubscriptionView`. */
  cancel: customerProcedure.input(SubscriptionCancelInput).mutation(async ({ ctx, input }) =>
    cancelSubscription({ ctx, scope: await customerScope(ctx.db, ctx.actor, input.customerId), input }),
  ),
  /** Undo a scheduled cancellation; the updated `SubscriptionView`. */
  resume: customerProcedure.input(SubscriptionScopeInput).mutation(async ({ ctx, input }) =>
    resumeSubscription({ ctx, scope: await customerScope(ctx.db, ctx.actor, input?.customerId) }),
  ),

  // ---- admins, for a customer of their workspace ----
  getForCustomer: adminProcedure.input(AdminSubscriptionScopeInput).query(async ({ ctx, input }) =>
    getSubscription({ db: ctx.db, graceDays: ctx.config.dunningGraceDays, scope: await adminScope(ctx.db, ctx.actor, ctx.workspaceId, input.customerId) }),
  ),
  /** Admins may set any trial of 0 to 730 days, also for a customer who has had one (omitted: none for such a customer). */
  createCheckoutForCustomer: adminProcedure.input(AdminSubscriptionCheckoutInput).mutation(async ({ ctx, input }) =>
    createSubscriptionCheckout({ ctx, scope: await adminScope(ctx.db, ctx.actor, ctx.workspaceId, input.customerId), input }),
  ),
  previewChangeForCustomer: adminProcedure.input(AdminSubscriptionPreviewChangeInput).query(async ({ ctx, input }) =>
    previewPlanChange({ ctx, scope: await adminScope(ctx.db, ctx.actor, ctx.workspaceId, input.customerId), input }),
  ),
  changePlanForCustomer: adminProcedure.input(AdminSubscriptionChangePlanInput).mutation(async ({ ctx, input }) =>
    changeSubscriptionPlan({ ctx, scope: await adminScope(ctx.db, ctx.actor, ctx.workspaceId, input.customerId), input }),
  ),
  cancelForCustomer: adminProcedure.input(AdminSubscriptionCancelInput).mutation(async ({ ctx, input }) =>
    cancelSubscription({ ctx, scope: await adminScope(ctx.db, ctx.actor, ctx.workspaceId, input.customerId), input }),
  ),
  resumeForCustomer: adminProcedure.input(AdminSubscriptionScopeInput).mutation(async ({ ctx, input }) =>
    resumeSubscription({ ctx, scope: await adminScope(ctx.db, ctx.actor, ctx.workspaceId, input.customerId) }),
  ),
});
