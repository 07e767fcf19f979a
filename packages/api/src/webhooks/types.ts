import type { Database } from '@tally/db';
import type Stripe from 'stripe';

/** What processing an event did, saved on its Stripe event log row. */
export type HandlerOutcome =
  | { status: 'processed'; outcome: string; workspaceId?: string | null }
  | { status: 'ignored'; outcome: string; workspaceId?: string | null };

/**
 * A handler for one Stripe event type. It must be idempotent: it may run more than once for
 * one event (redelivery, concurrent delivery, replay), and any money effect goes through a
 * unique reference. When it has a money effect it marks the event itself, inside the
 * effect's transaction, via `markEventInTx`, and returns `{ ..., marked: true }`.
 */
export type StripeEventHandler = (args: { db: Database; event: Stripe.Event }) => Promise<HandlerOutcome & { marked?: boolean }>;
