import { resolveCustomerForActor } from '../customers/resolve-for-actor';
import { listLedgerEntries } from '../ledger/list';
import { LedgerListInput } from '../schemas';
import { createTRPCRouter, customerProcedure } from '../trpc';

export const ledgerRouter = createTRPCRouter({
  /** Ledger entries, newest first, cursor-paginated. */
  list: customerProcedure.input(LedgerListInput).query(async ({ ctx, input }) => {
    const customer = await resolveCustomerForActor({ db: ctx.db, userId: ctx.actor.userId, customerId: input.customerId });
    return listLedgerEntries({ db: ctx.db, customerId: customer.id, limit: input.limit, cursor: input.cursor });
  }),
});
