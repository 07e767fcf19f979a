import { createTRPCRouter } from '../trpc';

export const licenseRouter = createTRPCRouter({});
