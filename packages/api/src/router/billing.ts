import { openBillingPortal } from '../billing-portal/open-portal';
import { AdminSubscriptionScopeInput, SubscriptionScopeInput } from '../schemas/subscriptions';
import { adminScope, customerScope } from '../subscriptions/find-for-customer';
import { adminProcedure, createTRPCRouter, customerProcedure } from '../trpc';

/** Stripe's customer portal (issue 8): `{ url }` to open at once. */
export const billingRouter = createTRPCRouter({
  /** The caller's own customer; returns to `<origin>/subscription`. */
  openPortal: customerProcedure.input(SubscriptionScopeInput).mutation(async ({ ctx, input }) =>
    openBillingPortal({ ctx, scope: await customerScope(ctx.db, ctx.actor, input?.customerId) }),
  ),
  /** A customer of the admin's workspace (audited); returns to the admin's customer page. */
  openPortalForCustomer: adminProcedure.input(AdminSubscriptionScopeInput).mutation(async ({ ctx, input }) =>
    openBillingPortal({ ctx, scope: await adminScope(ctx.db, ctx.actor, ctx.workspaceId, input.customerId) }),
  ),
});
