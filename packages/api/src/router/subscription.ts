import { createTRPCRouter } from '../trpc';

export const subscriptionRouter = createTRPCRouter({});
