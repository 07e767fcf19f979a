import type { Database } from '@tally/db';
import type Stripe from 'stripe';
import type { Logger } from './logger';
import type { TopupBounds } from './schemas';

/** Settings the domain needs, resolved from validated env by the server. */
export interface ApiConfig {
  /** development | production | test: production never shows secrets (e.g. email bodies) to anyone. */
  environment: 'development' | 'production' | 'test';
  /** Top-up bounds in minor units; currency is the default for new workspaces. */
  topup: TopupBounds;
  /** Most pending top-ups (open Checkout Sessions) a customer may have at once (TOPUP_MAX_OPEN). */
  maxOpenTopups: number;
  /** Exact origins (scheme://host[:port]) allowed as Checkout redirect targets and mutation origins. */
  allowedFrontendOrigins: readonly string[];
  /** `whsec_...` used to verify `Stripe-Signature`. */
  stripeWebhookSecret: string;
  /** Which Stripe this deployment talks to. */
  stripeMode: 'emulator' | 'test' | 'live';
  /** Emails that become workspace admins once verified (bootstrap). */
  adminEmails: readonly string[];
  /** `open`: anyone may sign up; `invite`: only invited emails (and bootstrap admins). */
  signUp: 'open' | 'invite';
  /** Public URL of the server (links in emails), no trailing slash. */
  publicUrl: string;
}

/** Long-lived dependencies shared by every request. */
export interface Services {
  db: Database;
  stripe: Stripe;
  config: ApiConfig;
  logger: Logger;
}
