import { getPayLink } from '../billing-records/get-pay-link';
import { payByLink } from '../billing-records/pay-by-link';
import { PayLinkInput } from '../schemas/billing-records';
import { createTRPCRouter, publicProcedure } from '../trpc';

/** Pay links `/pay/<token>` (public: the token is the credential, shape-checked before any query). */
export const payLinkRouter = createTRPCRouter({
  get: publicProcedure.input(PayLinkInput).query(({ ctx, input }) => getPayLink({ db: ctx.db, token: input.token })),
  pay: publicProcedure.input(PayLinkInput).mutation(({ ctx, input }) => payByLink({ ctx, token: input.token })),
});
