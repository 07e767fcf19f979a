import { resolveCustomerForActor } from '../customers/resolve-for-actor';
import { listPlansForAdmin, listPlansForWorkspace } from '../plans/list-for-customer';
import { savePlan } from '../plans/save';
import { CustomerScopeInput } from '../schemas';
import { PlanSaveInput } from '../schemas/plans';
import { adminProcedure, createTRPCRouter, customerProcedure } from '../trpc';

export const planRouter = createTRPCRouter({
  /** The plans of the customer's workspace (`PlanView[]`, prices from Stripe in minor units). NOT_FOUND for a customer the caller is not a member of. */
  list: customerProcedure.input(CustomerScopeInput).query(async ({ ctx, input }) => {
    const customer = await resolveCustomerForActor({ db: ctx.db, userId: ctx.actor.userId, customerId: input?.customerId });
    return listPlansForWorkspace({ db: ctx.db, stripeAccounts: ctx.stripeAccounts, logger: ctx.logger, workspaceId: customer.workspaceId });
  }),
  /** Admin: every plan of the selected workspace, inactive ones too (`AdminPlanView[]`). */
  adminList: adminProcedure.query(({ ctx }) => listPlansForAdmin({ db: ctx.db, stripeAccounts: ctx.stripeAccounts, logger: ctx.logger, workspaceId: ctx.workspaceId })),
  /** Admin: create or update a plan; its Stripe Prices are checked first (see `savePlan`). */
  save: adminProcedure.input(PlanSaveInput).mutation(async ({ ctx, input }) => {
    const plan = await savePlan({ ctx, input });
    return { id: plan.id, code: plan.code };
  }),
});
