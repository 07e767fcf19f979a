import type { ResourceModule } from '../http/route';
import { account } from './account';
import { billingMeters } from './billing-meters';
import { meterEventStream } from './meter-event-stream';
import { v2Events } from './v2-events';
import { charges } from './charges';
import { checkoutSessions } from './checkout-sessions';
import { customers } from './customers';
import { disputes } from './disputes';
import { events } from './events';
import { paymentIntents } from './payment-intents';
import { paymentMethods } from './payment-methods';
import { paymentPages } from './payment-pages';
import { prices } from './prices';
import { products } from './products';
import { refunds } from './refunds';
import { webhookEndpoints } from './webhook-endpoints';
import { invoiceItems } from './invoice-items';
import { invoices } from './invoices';
import { billingPortal } from './billing-portal';
import { subscriptions } from './subscriptions';
import { testClocks } from './test-clocks';
import { setupIntents } from './setup-intents';
import { creditNotes } from './credit-notes';
import { customerBalanceTransactions } from './customer-balance-transactions';

/** Every emulated API resource; add a module here to serve it. */
export const RESOURCES: readonly ResourceModule[] = [
  customers,
  products,
  prices,
  paymentMethods,
  checkoutSessions,
  paymentPages,
  paymentIntents,
  charges,
  refunds,
  disputes,
  events,
  billingMeters,
  meterEventStream,
  v2Events,
  webhookEndpoints,
  testClocks,
  subscriptions,
  invoices,
  invoiceItems,
  billingPortal,
  setupIntents,
  creditNotes,
  customerBalanceTransactions,
  account,
];
