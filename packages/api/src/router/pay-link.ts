import { createTRPCRouter } from '../trpc';

export const payLinkRouter = createTRPCRouter({});
