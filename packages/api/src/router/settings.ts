import { createTRPCRouter } from '../trpc';

export const settingsRouter = createTRPCRouter({});
