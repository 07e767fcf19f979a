import { createTRPCRouter } from '../trpc';

export const invoiceRouter = createTRPCRouter({});
