import type { Database } from '@tally/db';
import type Stripe from 'stripe';
import type { StripeAccountExpectation } from './payment-mismatches';

/**
 * What processing an event did, saved on its Stripe event log row. `anomaly`: verified, but
 * it differs from what Tally asked for (amount, currency, mode or livemode), so nothing was
 * done; terminal, shown to admins, answered 2xx (retrying cannot fix it).
 */
export type HandlerOutcome = {
  status: 'processed' | 'ignored' | 'anomaly';
  outcome: string;
  workspaceId?: string | null;
};

/** Everything a handler gets: the database, the verified event, and what the Stripe account must be. */
export interface StripeEventHandlerArgs {
  db: Database;
  event: Stripe.Event;
  expected: StripeAccountExpectation;
}

/**
 * A handler for one Stripe event type. It must be idempotent: it may run more than once for
 * one event (redelivery, concurrent delivery, replay), and any money effect goes through a
 * unique reference. When it has a money effect (or records an anomaly) it marks the event
 * itself, inside that transaction, via `markEventInTx`, and returns `{ ..., marked: true }`.
 */
export type StripeEventHandler = (args: StripeEventHandlerArgs) => Promise<HandlerOutcome & { marked?: boolean }>;
