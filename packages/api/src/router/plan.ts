import { resolveCustomerForActor } from '../customers/resolve-for-actor';
import { listPlansForWorkspace } from '../plans/list-for-customer';
import { CustomerScopeInput } from '../schemas';
import { createTRPCRouter, customerProcedure } from '../trpc';

export const planRouter = createTRPCRouter({
  /** The plans of the customer's workspace (`PlanView[]`, prices from Stripe in minor units). NOT_FOUND for a customer the caller is not a member of. */
  list: customerProcedure.input(CustomerScopeInput).query(async ({ ctx, input }) => {
    const customer = await resolveCustomerForActor({ db: ctx.db, userId: ctx.actor.userId, customerId: input?.customerId });
    return listPlansForWorkspace({ db: ctx.db, stripeAccounts: ctx.stripeAccounts, logger: ctx.logger, workspaceId: customer.workspaceId });
  }),
});
