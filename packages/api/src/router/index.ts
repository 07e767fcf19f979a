import { createTRPCRouter } from '../trpc';
import { adminRouter } from './admin';
import { auditRouter } from './audit';
import { balanceRouter } from './balance';
import { billingRecordRouter } from './billing-record';
import { customersRouter } from './customers';
import { ledgerRouter } from './ledger';
import { meRouter } from './me';
import { payLinkRouter } from './pay-link';
import { planRouter } from './plan';
import { settingsRouter } from './settings';
import { topupRouter } from './topup';
import { subscriptionRouter } from './subscription';
import { billingRouter } from './billing';
import { licenseRouter } from './license';
import { invoiceRouter } from './invoice';
import { apiKeyRouter } from './api-key';
import { meterRouter } from './meter';
import { usageRouter } from './usage';
import { streamRouter } from './stream';
import { eventRouter } from './event';

export const appRouter = createTRPCRouter({
  me: meRouter,
  balance: balanceRouter,
  ledger: ledgerRouter,
  topup: topupRouter,
  admin: adminRouter,
  customers: customersRouter,
  billingRecord: billingRecordRouter,
  payLink: payLinkRouter,
  settings: settingsRouter,
  audit: auditRouter,
  plan: planRouter,
  subscription: subscriptionRouter,
  billing: billingRouter,
  license: licenseRouter,
  invoice: invoiceRouter,
  apiKey: apiKeyRouter,
  meter: meterRouter,
  usage: usageRouter,
  stream: streamRouter,
  event: eventRouter,
});

export type AppRouter = typeof appRouter;
