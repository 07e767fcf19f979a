import { resolveCustomerForActor } from '../customers/resolve-for-actor';
import { CreateTopupCheckoutInput, TOPUP_PRESETS_MINOR, TopupBySessionInput, CustomerScopeInput } from '../schemas';
import { createTopupCheckout } from '../topups/create-checkout';
import { getTopupBySession } from '../topups/get-by-session';
import { createTRPCRouter, customerProcedure } from '../trpc';

export const topupRouter = createTRPCRouter({
  /** Preset amounts and bounds (minor units) in the customer's currency. */
  presets: customerProcedure.input(CustomerScopeInput).query(async ({ ctx, input }) => {
    const customer = await resolveCustomerForActor({ db: ctx.db, userId: ctx.actor.userId, customerId: input?.customerId });
    return {
      currency: customer.currency,
      presetsMinor: [...TOPUP_PRESETS_MINOR],
      minMinor: ctx.config.topup.minMinor,
      maxMinor: ctx.config.topup.maxMinor,
    };
  }),
  createCheckout: customerProcedure.input(CreateTopupCheckoutInput).mutation(({ ctx, input }) => createTopupCheckout({ ctx, input })),
  bySession: customerProcedure.input(TopupBySessionInput.extend(CustomerScopeInput.unwrap().shape)).query(async ({ ctx, input }) => {
    const customer = await resolveCustomerForActor({ db: ctx.db, userId: ctx.actor.userId, customerId: input.customerId });
    return getTopupBySession({ db: ctx.db, customerId: customer.id, sessionId: input.sessionId });
  }),
});
