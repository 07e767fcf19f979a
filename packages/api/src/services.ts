import type { Database } from '@tally/db';
import type Stripe from 'stripe';
import type { TopupBounds } from './schemas';

/** Settings the domain needs, resolved from validated env by the server. */
export interface ApiConfig {
  /** Top-up bounds in minor units; currency is the default for new workspaces. */
  topup: TopupBounds;
  /** Exact origins (scheme://host[:port]) allowed as Checkout redirect targets. */
  allowedFrontendOrigins: readonly string[];
  /** `whsec_...` used to verify `Stripe-Signature`. */
  stripeWebhookSecret: string;
  /** Which Stripe this deployment talks to. */
  stripeMode: 'emulator' | 'test' | 'live';
  /** Emails that become workspace admins when they sign up (bootstrap). */
  adminEmails: readonly string[];
}

/** Long-lived dependencies shared by every request. */
export interface Services {
  db: Database;
  stripe: Stripe;
  config: ApiConfig;
}
