import type { Database } from '@tally/db';
import Stripe from 'stripe';
import type { Logger } from '../logger';
import { STRIPE_EVENT_ID_PATTERN } from '../schemas';
import { stripeEventHandlers } from './handlers/index';
import { isTerminalEventStatus, markEvent, type EventAttemptSource, type TerminalEventStatus } from './mark-event';
import type { StripeAccountExpectation } from './payment-mismatches';
import { recordHandlerFailure, reportOutcome, settleDelivery } from './settle';
import { storeStripeEvent } from './store-event';
import { describeError } from './text';
import type { EventKey, EventReceipt } from './types';
import type { StripeAccounts } from '../stripe/accounts';

export { stripeAccountExpectation, type StripeAccountExpectation } from './payment-mismatches';
export { storeStripeEvent } from './store-event';

/** Result of receiving one webhook delivery; `httpStatus` is what to answer Stripe. */
export type ReceiveResult =
  | { httpStatus: 400; error: string }
  | { httpStatus: 200; eventId: string; status: TerminalEventStatus; duplicate: boolean; type?: string }
  | { httpStatus: 500; eventId: string; status: 'failed' | 'dead'; error: string; type?: string };

/**
 * Stripe's signature tolerance, seconds: older signatures are refused by `constructEvent`
 * (its default), and, since stripe-node checks only age, signatures more than this far in
 * the future are refused here (stripe.com/docs/webhooks#replay-attacks: 5 minutes).
 */
export const SIGNATURE_TOLERANCE_S = 300;

/** Stripe event types: dot-separated lowercase words (`checkout.session.completed`, `v1.billing.meter.no_meter_found`). */
const EVENT_TYPE_PATTERN = /^[a-z0-9_]+(?:\.[a-z0-9_]+){0,9}$/;
const EVENT_TYPE_MAX = 200;

/**
 * Verify, log and process one Stripe webhook delivery.
 * @returns what to answer Stripe (`ReceiveResult`), with the verified event `type` for 200/500.
 *
 * 1. `stripe.webhooks.constructEvent` checks `Stripe-Signature` over the raw bytes
 *    (HMAC-SHA256, any `v1`, signed at most 300 s ago) and parses JSON; a signature
 *    timestamp more than 300 s in the future is refused too. The event id (`evt_` + letters,
 *    digits, `_`, at most 259 characters) and type (dot-separated lowercase words) must have
 *    Stripe's shape. Any failure -> 400, nothing stored.
 * 2. The event is stored in the Stripe event log (unique on the receipt's scope and event id:
 *    one Stripe account may feed two workspaces, each processing it once) before processing: the
 *    raw body as text (any payload, `\u0000` escapes included), shape-checked `api_version`.
 *    A storage failure is logged (event id and error, never the payload) -> 500.
 *    When the handler settles the event with database work alone (`inTransaction`), or there is
 *    no handler, storing, the effect and the status are one transaction (settle.ts,
 *    `settleDelivery`); otherwise the event is stored first, then processed.
 * 3. Already `processed`/`ignored`/`anomaly` -> 200 without work (redelivery). Otherwise the
 *    handler for its type runs (none -> `ignored`) with `expected`, what the Stripe account
 *    must be (livemode). Handlers are idempotent, so two processes receiving one event at
 *    once cannot double an effect.
 * 4. A thrown error is logged with the event id and type, saved as `failed` with the error,
 *    an error row and the sweeper's next retry (`recordEventFailure`; `dead` once the retry
 *    schedule is spent), and answered 500 so Stripe retries too: a redelivery of a `failed`
 *    or `dead` event runs the handler again.
 * Live stream: `event.received` once stored (new rows), then `event.processed|ignored|failed|dead`
 * once marked, each after its commit (`publishBillingChange`).
 * Source: stripe.com/docs/webhooks (at-least-once, unordered delivery; 2xx = delivered).
 */
export async function receiveStripeWebhook({
  db,
  receipt,
  webhookSecret,
  rawBody,
  signature,
  logger,
  expected,
  stripeAccounts,
  graceDays,
  webUrl,
  nowMs = Date.now(),
}: {
  db: Database;
  /** Which endpoint this arrived at (deployment, or a workspace's URL); trusted only once the signature verifies. */
  receipt: EventReceipt;
  /** The `whsec_...` of that endpoint. */
  webhookSecret: string;
  rawBody: Buffer;
  signature: string | undefined;
  logger: Logger;
  expected: StripeAccountExpectation;
  /** Per-workspace Stripe clients handlers may use after their effect (billing records expire their other open sessions). */
  stripeAccounts?: StripeAccounts;
  /** Handed to handlers (see `StripeEventHandlerArgs`). */
  graceDays?: number;
  webUrl?: string;
  /** The receipt time, ms since the epoch (tests pass one). */
  nowMs?: number;
}): Promise<ReceiveResult> {
  if (!signature) return { httpStatus: 400, error: 'Missing Stripe-Signature header' };
  let event: Stripe.Event;
  try {
    event = verifyEvent(rawBody, signature, webhookSecret, nowMs);
  } catch (err) {
    const message = err instanceof Stripe.errors.StripeSignatureVerificationError ? err.message : 'Body is not valid JSON';
    return { httpStatus: 400, error: message };
  }
  // Correctly signed, yet refused: worth an operator's look (clock skew, or a leaked secret).
  const refuse = (error: string, fields: Record<string, unknown> = {}): ReceiveResult => {
    logger.warn({ ...fields, reason: error }, 'Refused a correctly signed Stripe webhook');
    return { httpStatus: 400, error };
  };
  const signedAt = signatureTimestamp(signature);
  if (signedAt === null) return refuse('Signature header has no timestamp');
  if (signedAt - Math.floor(nowMs / 1000) > SIGNATURE_TOLERANCE_S) {
    return refuse(`Signature timestamp is more than ${SIGNATURE_TOLERANCE_S} s in the future`, { signedAt, receivedAt: Math.floor(nowMs / 1000) });
  }
  const shapeError = eventShapeError(event);
  if (shapeError) return refuse(shapeError);

  const now = new Date(nowMs);
  const payload = rawBody.toString('utf8');
  const typed = <R extends ReceiveResult>(result: R): R => ({ ...result, type: event.type });
  const handler = stripeEventHandlers[event.type];
  const args = { db, event, receipt, expected, logger, ...(stripeAccounts ? { stripeAccounts } : {}), ...(graceDays !== undefined ? { graceDays } : {}), ...(webUrl ? { webUrl } : {}) };
  // Settled in the transaction that stores it: events a handler settles with database work
  // alone, and types Tally does not handle (stored straight as ignored). See settle.ts.
  const body = handler?.inTransaction?.(args) ?? null;
  if (body || !handler) {
    const ignored = handler ? undefined : ({ status: 'ignored', outcome: `Event type ${event.type} is not handled` } as const);
    return typed(await settleDelivery({ db, receipt, event, payload, now, logger, body, ...(ignored ? { ignored } : {}) }));
  }
  let duplicate: boolean;
  try {
    const stored = await storeStripeEvent(db, { receipt, event, payload, now });
    duplicate = !stored.inserted;
    if (duplicate && isTerminalEventStatus(stored.status)) return typed({ httpStatus: 200, eventId: event.id, status: stored.status, duplicate: true });
  } catch (err) {
    logger.error({ eventId: event.id, type: event.type, err: describeError(err) }, 'Could not store a Stripe event; answering 500 so Stripe retries');
    return typed({ httpStatus: 500, eventId: event.id, status: 'failed', error: 'Could not store the event' });
  }
  return typed(await processStoredEvent({ db, event, receipt, duplicate, logger, expected, stripeAccounts, graceDays, webUrl }));
}

/**
 * Verify and parse a delivery. v1 snapshot events go through `constructEvent`; v2 "thin"
 * event notifications (`object: 'v2.core.event'`), which `constructEvent` refuses after
 * verifying, go through `parseEventNotification` so they are logged (as ignored) too.
 * @throws StripeSignatureVerificationError, or SyntaxError for a body that is not JSON.
 */
/** The SDK's webhook helpers need no key: one offline instance verifies every endpoint's signatures. */
const verifier = new Stripe('sk_test_signature_verification_only');

function verifyEvent(rawBody: Buffer, signature: string, secret: string, nowMs: number): Stripe.Event {
  const stripe = verifier;
  try {
    return stripe.webhooks.constructEvent(rawBody, signature, secret, SIGNATURE_TOLERANCE_S, undefined, nowMs);
  } catch (err) {
    if (err instanceof Error && !(err instanceof Stripe.errors.StripeError) && err.message.includes('thin event')) {
      return stripe.parseEventNotification(rawBody, signature, secret, SIGNATURE_TOLERANCE_S, undefined, nowMs) as unknown as Stripe.Event;
    }
    throw err;
  }
}

/**
 * The `t=` timestamp (unix seconds) of a `Stripe-Signature` header, read as stripe-node
 * reads it (comma-separated `key=value` pairs; the last `t` wins), or null.
 * Source: stripe.com/docs/webhooks#verify-manually.
 */
export function signatureTimestamp(header: string): number | null {
  let t: number | null = null;
  for (const item of header.split(',')) {
    const [key, value] = item.split('=');
    if (key === 't') t = Number.parseInt(value ?? '', 10);
  }
  return t !== null && Number.isFinite(t) ? t : null;
}

/** Why a verified body is not a Stripe event Tally can log, or null. */
function eventShapeError(event: unknown): string | null {
  if (typeof event !== 'object' || event === null) return 'Body is not a Stripe event';
  const { id, type } = event as { id?: unknown; type?: unknown };
  if (typeof id !== 'string' || typeof type !== 'string') return 'Body is not a Stripe event';
  if (!STRIPE_EVENT_ID_PATTERN.test(id)) return 'Event id does not have the shape evt_[A-Za-z0-9_]';
  if (type.length > EVENT_TYPE_MAX || !EVENT_TYPE_PATTERN.test(type)) return 'Event type does not have the shape of a Stripe event type';
  return null;
}

/**
 * Run the handler for an event already in the log (delivery, the sweeper, replay, backfill),
 * and record what it did:
 * - no handler for the type -> `ignored`; the handler's outcome -> `processed`/`ignored`/`anomaly`
 *   (handlers with a money effect mark the event inside their own transaction);
 * - a thrown error -> logged (event id, type, error; never the payload), recorded by
 *   `recordEventFailure` (error row with `source`, `failed` + `nextAttemptAt`, or `dead`), and
 *   answered `httpStatus: 500`.
 * Then publishes `event.processed|ignored|failed|dead` (anomalies have no stream message).
 * The caller decides whether the event may run (terminal events must not: see `isTerminalEventStatus`).
 * @param source where this attempt comes from (default `webhook`), saved on its error row.
 * @param now the attempt's time (default: the clock), for the retry schedule.
 */
export async function processStoredEvent({
  db,
  event,
  receipt,
  duplicate = false,
  logger,
  expected,
  stripeAccounts,
  graceDays,
  webUrl,
  source = 'webhook',
  now,
}: {
  db: Database;
  event: Stripe.Event;
  receipt: EventReceipt;
  duplicate?: boolean;
  logger: Logger;
  expected: StripeAccountExpectation;
  stripeAccounts?: StripeAccounts | undefined;
  graceDays?: number | undefined;
  webUrl?: string | undefined;
  source?: EventAttemptSource;
  now?: Date | undefined;
}): Promise<ReceiveResult> {
  const handler = stripeEventHandlers[event.type];
  const key: EventKey = { scope: receipt.scope, id: event.id };
  try {
    if (!handler) {
      const ignored = { status: 'ignored', outcome: `Event type ${event.type} is not handled` } as const;
      await markEvent(db, key, ignored);
      reportOutcome(logger, receipt, event, ignored);
      return { httpStatus: 200, eventId: event.id, status: 'ignored', duplicate };
    }
    const result = await handler({ db, event, receipt, expected, logger, ...(stripeAccounts ? { stripeAccounts } : {}), ...(graceDays !== undefined ? { graceDays } : {}), ...(webUrl ? { webUrl } : {}) });
    if (!result.marked) await markEvent(db, key, result);
    reportOutcome(logger, receipt, event, result);
    return { httpStatus: 200, eventId: event.id, status: result.status, duplicate };
  } catch (err) {
    return recordHandlerFailure({ db, receipt, event, logger, err, source, now });
  }
}
