import type { ResourceModule } from '../http/route';
import { charges } from './charges';
import { checkoutSessions } from './checkout-sessions';
import { customers } from './customers';
import { events } from './events';
import { paymentIntents } from './payment-intents';
import { paymentMethods } from './payment-methods';
import { paymentPages } from './payment-pages';
import { prices } from './prices';
import { products } from './products';

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
  events,
];
