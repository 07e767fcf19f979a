/**
 * One transaction per delivery, from storing the event to its effect and status (issue 11).
 *
 * A handler that can settle an event with database work alone offers it as a transaction body
 * (`StripeEventHandler.inTransaction`, built with `settlingHandler`). A delivery of such an
 * event, and of any event type Tally does not handle, is then one transaction: store the
 * event (or count a redelivery), run the body unless the event is already settled, commit.
 * Before, the same delivery was three commits (store, read, effect) of seven statements.
 *
 * What this keeps: an event is never lost. If the transaction fails, nothing of it stayed,
 * and the event is then stored on its own and its failure recorded (`failed`, the sweeper's
 * retry, 500 so Stripe retries too): the same rows the store-then-process path leaves. If
 * the process dies mid-transaction, nothing is stored and Stripe, which got no 2xx,
 * redelivers. Exactly-once still rests on unique references; on Postgres the stored row's
 * lock also makes a concurrent delivery of the same event wait and then answer duplicate.
 */
import type { Database, Tables, TxBody, TxBuilder } from '@tally/db';
import type Stripe from 'stripe';
import type { Logger } from '../logger';
import { publishBillingChange } from '../stream/publish';
import { isTerminalEventStatus, markEventInTx, recordEventFailure, type EventAttemptSource, type TerminalEventStatus } from './mark-event';
import { storeEventInTx, storeStripeEvent } from './store-event';
import { describeError } from './text';
import type { EventKey, EventReceipt, HandlerOutcome, Settled, SettlingBody, StripeEventHandler, StripeEventHandlerArgs } from './types';

/**
 * A handler whose whole processing is one transaction body. Run by itself (sweeper, replay,
 * backfill, a redelivery of a failed event) it is one transaction; a delivery folds the same
 * body into the transaction that stores the event (`settleDelivery`).
 * @param makeBody builds the body for one event; it must mark the event (`markEventInTx`).
 */
export function settlingHandler(makeBody: (args: StripeEventHandlerArgs) => SettlingBody): StripeEventHandler {
  const handler = async (args: StripeEventHandlerArgs) => {
    const settled = await args.db.transaction(makeBody(args));
    settled.afterCommit?.();
    return { ...settled.outcome, marked: true };
  };
  return Object.assign(handler, { inTransaction: makeBody });
}

/** What a delivery answers (see `ReceiveResult` in receive.ts). */
export type DeliveryResult =
  | { httpStatus: 200; eventId: string; status: TerminalEventStatus; duplicate: boolean }
  | { httpStatus: 500; eventId: string; status: 'failed' | 'dead'; error: string };

/**
 * Settle one verified delivery in one transaction: store it (`storeEventInTx`), and unless the
 * log already has it settled, run `body` (or, with `ignored`, store it straight as ignored:
 * one statement). After the commit: `event.received` for a new row, then the body's
 * `afterCommit`, then `event.processed|ignored` (anomalies have no stream message).
 * A failure rolls everything back; the event is then stored alone and the failure recorded
 * (`recordEventFailure`, source `webhook`) -> 500. If even storing fails -> 500 "Could not store the event".
 */
export async function settleDelivery({
  db,
  receipt,
  event,
  payload,
  now,
  logger,
  body,
  ignored,
}: {
  db: Database;
  receipt: EventReceipt;
  event: Stripe.Event;
  payload: string;
  now: Date;
  logger: Logger;
  /** The handler's body (`inTransaction`), or null with `ignored` for a type Tally does not handle. */
  body: SettlingBody | null;
  ignored?: HandlerOutcome;
}): Promise<DeliveryResult> {
  const toStore = { receipt, event, payload, now };
  let result: { inserted: boolean; status: string; settled: Settled | null };
  try {
    result = await db.transaction(function* (tx) {
      const stored = yield* storeEventInTx(toStore, ignored);
      if (stored.inserted && ignored) return { inserted: true, status: ignored.status, settled: { outcome: ignored } };
      if (isTerminalEventStatus(stored.status)) return { inserted: stored.inserted, status: stored.status, settled: null };
      // A stored event not settled yet (received, failed or dead): settle it now.
      const settled = body ? yield* body(tx) : yield* settleEvent(tx, db.t, { scope: receipt.scope, id: event.id }, ignored!);
      return { inserted: stored.inserted, status: settled.outcome.status, settled };
    });
  } catch (err) {
    return recordFailedSettle({ db, toStore, logger, err });
  }
  const { inserted, settled } = result;
  if (inserted) publishBillingChange({ kind: 'event.received', workspaceId: receipt.workspaceId, eventId: event.id, type: event.type });
  if (!settled) return { httpStatus: 200, eventId: event.id, status: result.status as TerminalEventStatus, duplicate: true };
  settled.afterCommit?.();
  reportOutcome(logger, receipt, event, settled.outcome);
  return { httpStatus: 200, eventId: event.id, status: settled.outcome.status, duplicate: !inserted };
}

/**
 * Transaction step ending a settling body: mark the event with `outcome` (`markEventInTx`, in
 * the body's transaction) and return it as what was settled, with what to publish once committed.
 */
export function* settleEvent(tx: TxBuilder, t: Tables, key: EventKey, outcome: HandlerOutcome, afterCommit?: () => void): TxBody<Settled> {
  yield* markEventInTx(tx, t, key, outcome);
  return afterCommit ? { outcome, afterCommit } : { outcome };
}

/**
 * After a handler's outcome is committed: an anomaly is logged (warn; it has no stream
 * message), any other outcome publishes `event.processed|ignored`.
 */
export function reportOutcome(logger: Logger, receipt: EventReceipt, event: Stripe.Event, outcome: HandlerOutcome): void {
  if (outcome.status === 'anomaly') {
    logger.warn({ eventId: event.id, type: event.type, workspaceId: outcome.workspaceId ?? null }, 'Stripe event differs from what Tally asked for: recorded as an anomaly, nothing done');
    return;
  }
  publishBillingChange({ kind: outcome.status === 'processed' ? 'event.processed' : 'event.ignored', workspaceId: receipt.workspaceId ?? outcome.workspaceId ?? null, eventId: event.id, type: event.type });
}

/** The settle rolled back: store the event alone, then record the failure (500: Stripe and the sweeper retry). */
async function recordFailedSettle({ db, toStore, logger, err }: { db: Database; toStore: Parameters<typeof storeStripeEvent>[1]; logger: Logger; err: unknown }): Promise<DeliveryResult> {
  const { event, receipt } = toStore;
  try {
    await storeStripeEvent(db, toStore);
  } catch (storeErr) {
    logger.error({ eventId: event.id, type: event.type, err: describeError(storeErr) }, 'Could not store a Stripe event; answering 500 so Stripe retries');
    return { httpStatus: 500, eventId: event.id, status: 'failed', error: 'Could not store the event' };
  }
  return recordHandlerFailure({ db, receipt, event, logger, err, source: 'webhook' });
}

/**
 * A handler threw for a stored event: log it (event id, type, error; never the payload),
 * record it (`recordEventFailure`: error row with `source`, `failed` + the sweeper's next
 * attempt, or `dead`), publish `event.failed|dead`, and answer 500.
 */
export async function recordHandlerFailure({
  db,
  receipt,
  event,
  logger,
  err,
  source,
  now,
}: {
  db: Database;
  receipt: EventReceipt;
  event: Stripe.Event;
  logger: Logger;
  err: unknown;
  source: EventAttemptSource;
  now?: Date | undefined;
}): Promise<DeliveryResult & { httpStatus: 500 }> {
  const message = describeError(err);
  const key: EventKey = { scope: receipt.scope, id: event.id };
  logger.error(
    { eventId: event.id, type: event.type, err: message, ...(source === 'webhook' ? {} : { source }) },
    source === 'webhook' ? 'Stripe event handler failed; answering 500 so Stripe retries' : 'Stripe event handler failed; recorded for the next retry',
  );
  let status: 'failed' | 'dead' = 'failed';
  try {
    const recorded = await recordEventFailure(db, key, { error: message, source, ...(now ? { now } : {}) });
    if (recorded?.status === 'failed' || recorded?.status === 'dead') {
      status = recorded.status;
      publishBillingChange({ kind: recorded.status === 'dead' ? 'event.dead' : 'event.failed', workspaceId: receipt.workspaceId ?? recorded.workspaceId ?? null, eventId: event.id, type: event.type });
    }
  } catch (markErr) {
    logger.error({ eventId: event.id, type: event.type, err: describeError(markErr) }, 'Could not record the failure of a Stripe event');
  }
  return { httpStatus: 500, eventId: event.id, status, error: message };
}
