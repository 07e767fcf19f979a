import type { BillingSettings } from '../billing/settings';
import type { EventPublisher } from './events';
import type { Store } from './store';

/** Who an account is, as `GET /v1/account` shows it (see `core/accounts.ts`). */
export interface AccountInfo {
  /** `acct_1…`: derived from the account's first key, or given in the `accounts` option. */
  id: string;
  /** Unix seconds. */
  created: number;
  /** `settings.dashboard.display_name` and `business_profile.name`. */
  displayName: string;
  email: string;
}

/**
 * What resource handlers and payment flows work with: one account's state and event log, and
 * where the emulator is served. Each account has its own context (`core/accounts.ts`).
 */
export interface EmulatorContext {
  store: Store;
  events: EventPublisher;
  /** Public base URL of the emulator, e.g. `http://127.0.0.1:12111` (used for hosted page URLs). */
  baseUrl(): string;
  /** Overrides of the billing engine's settings (retry schedule, final failure action...; see `billing/settings.ts`). */
  billing?: Partial<BillingSettings> | undefined;
  /** The account this context is the state of; absent in contexts made by hand (unit tests). */
  account?: AccountInfo | undefined;
}
