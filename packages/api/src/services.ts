import type { Database } from '@tally/db';
import type { BillingStream } from './stream/bus';
import type { Logger } from './logger';
import type { DeploymentStripeMode, StripeAccounts } from './stripe/accounts';
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
  /** Which Stripe the deployment's own keys reach (`none`: only workspaces' own keys take payments). Secrets live in `Services.stripeAccounts`. */
  stripeMode: DeploymentStripeMode;
  /** Emails that become workspace admins once verified (bootstrap). */
  adminEmails: readonly string[];
  /** `open`: anyone may sign up; `invite`: only invited emails (and bootstrap admins). */
  signUp: 'open' | 'invite';
  /** Public URL of the server (links in emails, webhook URLs), no trailing slash. */
  publicUrl: string;
  /** Where users open the SPA (pay links `/pay/<token>`), no trailing slash; the public URL in production. */
  webUrl: string;
  /** Days a `past_due` subscription keeps access after its first failed payment (TALLY_DUNNING_GRACE_DAYS, default 7). */
  dunningGraceDays: number;
}

/** Long-lived dependencies shared by every request. */
export interface Services {
  db: Database;
  /** The Stripe client and webhook secret of each workspace (`stripeAccounts.forWorkspace`); never a process-global key. */
  stripeAccounts: StripeAccounts;
  config: ApiConfig;
  logger: Logger;
  /** The live billing stream's bus (issue 10), or why there is none; absent: not running in this process (tests, the CLI). `stream.billing` reads it. */
  billingStream?: BillingStream;
}
