import { and, eq, inArray, run, type Database, type Tables, type TxBody, type TxBuilder } from '@tally/db';
import { storableText } from './text';
import { DEPLOYMENT_SCOPE, type EventKey, type HandlerOutcome } from './types';

/** Statuses an event never leaves: redelivery answers 200 without work (the others are `received` and `failed`). */
export const TERMINAL_EVENT_STATUSES = ['processed', 'ignored', 'anomaly'] as const;
export type TerminalEventStatus = (typeof TERMINAL_EVENT_STATUSES)[number];
export const isTerminalEventStatus = (status: string | undefined): status is TerminalEventStatus =>
  (TERMINAL_EVENT_STATUSES as readonly (string | undefined)[]).includes(status);

/** Transaction step: record an event's outcome (so it commits with the effect). Outcome text is made storable (no NUL, at most 2000 characters). */
export function* markEventInTx(tx: TxBuilder, t: Tables, key: EventKey, result: HandlerOutcome): TxBody<void> {
  const now = new Date();
  yield* run(
    tx
      .update(t.stripeEvents)
      .set({
        status: result.status,
        outcome: storableText(result.outcome),
        lastError: null,
        // An event at a workspace's URL stays that workspace's, whatever the handler says.
        ...(key.scope === DEPLOYMENT_SCOPE ? { workspaceId: result.workspaceId ?? null } : {}),
        processedAt: now,
        updatedAt: now,
      })
      .where(and(eq(t.stripeEvents.scope, key.scope), eq(t.stripeEvents.id, key.id))),
  );
}

/** Record an outcome with no money effect. */
export async function markEvent(db: Database, key: EventKey, result: HandlerOutcome): Promise<void> {
  await db.transaction((tx) => markEventInTx(tx, db.t, key, result));
}

/**
 * Record a failure (`error` made storable: no NUL, at most 2000 characters), unless another
 * delivery already settled the event (state only moves forward).
 * @throws the database's error; the caller logs it.
 */
export async function markEventFailed(db: Database, key: EventKey, error: string): Promise<void> {
  const { stripeEvents } = db.t;
  await db.q
    .update(stripeEvents)
    .set({ status: 'failed', lastError: storableText(error), updatedAt: new Date() })
    .where(and(eq(stripeEvents.scope, key.scope), eq(stripeEvents.id, key.id), inArray(stripeEvents.status, ['received', 'failed'])));
}
