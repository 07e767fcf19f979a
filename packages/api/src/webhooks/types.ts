import type { Database, TxBody, TxBuilder } from '@tally/db';
import type Stripe from 'stripe';
import type { Logger } from '../logger';
import type { StripeAccounts } from '../stripe/accounts';
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

/** The Stripe event log scope of the deployment-wide endpoint (`POST /api/stripe/webhook`, the env secret). */
export const DEPLOYMENT_SCOPE = 'deployment';

/**
 * Which endpoint received an event: the deployment's (`workspaceId: null`, scope
 * `deployment`) or a workspace's own URL (scope = `workspaceId`), verified with that
 * workspace's secret. The log is unique per (scope, event id).
 */
export interface EventReceipt {
  scope: string;
  workspaceId: string | null;
}

/** The key of a row in the Stripe event log. */
export interface EventKey {
  scope: string;
  id: string;
}

/**
 * Whether an event received through `receipt` may act on a row of `workspaceId`: an event
 * arriving at a workspace's URL only ever touches that workspace; the deployment endpoint
 * (the operator's env secret) serves every workspace that uses the env keys.
 */
export function receiptAccepts(receipt: EventReceipt, workspaceId: string): boolean {
  return receipt.workspaceId === null || receipt.workspaceId === workspaceId;
}

/** Everything a handler gets: the database, the verified event, where it arrived, and what the Stripe account must be. */
export interface StripeEventHandlerArgs {
  db: Database;
  event: Stripe.Event;
  receipt: EventReceipt;
  expected: StripeAccountExpectation;
  /** Per-workspace Stripe clients, for follow-up calls after the effect (e.g. expiring a paid record's other sessions); absent in replays that must not call Stripe. */
  stripeAccounts?: StripeAccounts;
  logger?: Logger;
  /** TALLY_DUNNING_GRACE_DAYS (ApiConfig.dunningGraceDays); handlers default to 7 without it. */
  graceDays?: number;
  /** The SPA's URL (ApiConfig.webUrl), for links in notices; absent in replays without config. */
  webUrl?: string;
}

/**
 * A handler for one Stripe event type. It must be idempotent: it may run more than once for
 * one event (redelivery, concurrent delivery, replay), and any money effect goes through a
 * unique reference. When it has a money effect (or records an anomaly) it marks the event
 * itself, inside that transaction, via `markEventInTx`, and returns `{ ..., marked: true }`.
 */
export type StripeEventHandler = ((args: StripeEventHandlerArgs) => Promise<HandlerOutcome & { marked?: boolean }>) & {
  /**
   * Optional: the whole of this event's processing as one transaction body, when it can be
   * decided from the payload alone that the handler needs nothing outside the database
   * (no Stripe call, no await). A delivery then stores the event, runs the body and commits
   * its status in one transaction (receive.ts, `settleDelivery`). Returns null when this
   * event needs the async handler. Same effect as the handler itself, which runs the same body.
   */
  inTransaction?: (args: StripeEventHandlerArgs) => SettlingBody | null;
};

/** What a settling body returns: its outcome, already marked on the event (`markEventInTx`), and what to publish once committed. */
export interface Settled {
  outcome: HandlerOutcome;
  /** Runs after the commit (live stream messages); never inside the transaction. */
  afterCommit?: () => void;
}

/** A transaction body that settles one stored event: its effect and its status (`markEventInTx`), nothing awaited. */
export type SettlingBody = (tx: TxBuilder) => TxBody<Settled>;
