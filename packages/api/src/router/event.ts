import { createTRPCRouter } from '../trpc';

/** The admin's Stripe event detail and replay (issue 10 item 2): filled in next. */
export const eventRouter = createTRPCRouter({});
