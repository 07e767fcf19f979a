import Stripe from 'stripe';
import type { ServerConfig } from './config';

/**
 * The real `stripe` SDK, pointed at real Stripe or at the emulator (`STRIPE_API_BASE`).
 * Constructing it makes no network call.
 */
export function createStripeClient(config: ServerConfig['stripe']): Stripe {
  const base = config.apiBase;
  return new Stripe(config.secretKey, {
    maxNetworkRetries: 2,
    appInfo: { name: 'Tally' },
    ...(base
      ? {
          host: base.hostname,
          port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
          protocol: base.protocol === 'https:' ? ('https' as const) : ('http' as const),
        }
      : {}),
  });
}
