import { createStripeAccounts, type StripeAccounts } from '@tally/api';
import Stripe from 'stripe';
import type { ServerConfig } from './config';

/**
 * The real `stripe` SDK for one secret key, pointed at real Stripe or at the emulator
 * (`STRIPE_API_BASE`). Constructing it makes no network call.
 */
export function createStripeClient(secretKey: string, apiBase: URL | null): Stripe {
  return new Stripe(secretKey, {
    maxNetworkRetries: 2,
    appInfo: { name: 'Tally' },
    ...(apiBase
      ? {
          host: apiBase.hostname,
          port: Number(apiBase.port || (apiBase.protocol === 'https:' ? 443 : 80)),
          protocol: apiBase.protocol === 'https:' ? ('https' as const) : ('http' as const),
        }
      : {}),
  });
}

/**
 * Per-workspace Stripe for this server: workspaces' own keys (sealed under
 * TALLY_SECRET_ENCRYPTION_KEY) and the deployment's env keys (or the emulator) as fallback.
 */
export function createServerStripeAccounts(config: ServerConfig): StripeAccounts {
  const { apiBase, secretKey, webhookSecret } = config.stripe;
  const mode = config.api.stripeMode;
  return createStripeAccounts({
    deployment: {
      mode,
      client: mode === 'none' || !secretKey ? null : createStripeClient(secretKey, apiBase),
      webhookSecret: mode === 'none' ? null : webhookSecret,
    },
    keyring: config.secretKeyring,
    createClient: (key) => createStripeClient(key, apiBase),
  });
}
