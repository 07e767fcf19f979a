import type { BillingSettings } from '../billing/settings';
import type { EventPublisher } from './events';
import type { Store } from './store';

/** What resource handlers and payment flows work with: the state, the event log, and where the emulator is served. */
export interface EmulatorContext {
  store: Store;
  events: EventPublisher;
  /** Public base URL of the emulator, e.g. `http://127.0.0.1:12111` (used for hosted page URLs). */
  baseUrl(): string;
  /** Overrides of the billing engine's settings (retry schedule, final failure action...; see `billing/settings.ts`). */
  billing?: Partial<BillingSettings> | undefined;
}
