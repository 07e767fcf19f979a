import { resolveCustomerForActor } from '../customers/resolve-for-actor';
import { getBalance } from '../ledger/get-balance';
import { CustomerScopeInput } from '../schemas';
import { createTRPCRouter, customerProcedure } from '../trpc';

export const balanceRouter = createTRPCRouter({
  /** `{ amountMinor, currency }` for the customer, in the workspace currency. */
  get: customerProcedure.input(CustomerScopeInput).query(async ({ ctx, input }) => {
    const customer = await resolveCustomerForActor({ db: ctx.db, userId: ctx.actor.userId, customerId: input?.customerId });
    return getBalance({ db: ctx.db, customerId: customer.id, currency: customer.currency });
  }),
});
