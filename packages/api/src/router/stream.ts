import { createTRPCRouter } from '../trpc';

/** The live billing stream (issue 10 item 1): filled in next. */
export const streamRouter = createTRPCRouter({});
