import { and, eq, ne, run, type Database, type Tables, type TxBody, type TxBuilder } from '@tally/db';
import type { HandlerOutcome } from './types';

/** Transaction step: record an event's outcome (so it commits with the effect). */
export function* markEventInTx(tx: TxBuilder, t: Tables, eventId: string, result: HandlerOutcome): TxBody<void> {
  const now = new Date();
  yield* run(
    tx
      .update(t.stripeEvents)
      .set({ status: result.status, outcome: result.outcome, lastError: null, workspaceId: result.workspaceId ?? null, processedAt: now, updatedAt: now })
      .where(eq(t.stripeEvents.id, eventId)),
  );
}

/** Record an outcome with no money effect. */
export async function markEvent(db: Database, eventId: string, result: HandlerOutcome): Promise<void> {
  await db.transaction((tx) => markEventInTx(tx, db.t, eventId, result));
}

/** Record a failure, unless another delivery already processed it (state only moves forward). */
export async function markEventFailed(db: Database, eventId: string, error: string): Promise<void> {
  const { stripeEvents } = db.t;
  await db.q
    .update(stripeEvents)
    .set({ status: 'failed', lastError: error.slice(0, 2000), updatedAt: new Date() })
    .where(and(eq(stripeEvents.id, eventId), ne(stripeEvents.status, 'processed'), ne(stripeEvents.status, 'ignored')));
}
