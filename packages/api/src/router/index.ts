import { createTRPCRouter } from '../trpc';
import { adminRouter } from './admin';
import { balanceRouter } from './balance';
import { ledgerRouter } from './ledger';
import { meRouter } from './me';
import { topupRouter } from './topup';

export const appRouter = createTRPCRouter({
  me: meRouter,
  balance: balanceRouter,
  ledger: ledgerRouter,
  topup: topupRouter,
  admin: adminRouter,
});

export type AppRouter = typeof appRouter;
