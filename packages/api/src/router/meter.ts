import { createTRPCRouter } from '../trpc';

/** Meters (issue 9 item 1). OWNED BY THE METERS HELPER: list, save, archive. */
export const meterRouter = createTRPCRouter({});
