import { createTRPCRouter } from '../trpc';

export const billingRecordRouter = createTRPCRouter({});
