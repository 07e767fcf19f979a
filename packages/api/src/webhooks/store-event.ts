/**
 * Storing a verified Stripe event in the event log (`stripe_events`), as one statement:
 * insert it, or, when the log already holds it (same scope and event id), count one more
 * delivery. Shared by webhook delivery (inside its settling transaction, `storeEventInTx`),
 * the fallback after a failed settle, and backfill from Stripe's Events API
 * (`storeStripeEvent`), so every path stores alike.
 */
import { allPrepared, param, placeholder, preparedStatement, sql, type Database, type TxBody } from '@tally/db';
import type Stripe from 'stripe';
import { publishBillingChange } from '../stream/publish';
import { storableText } from './text';
import type { EventReceipt, HandlerOutcome } from './types';

/** Stripe API versions: `2024-06-20`, or with a release name, `2026-10-28.endive`. */
const API_VERSION_PATTERN = /^\d{4}-\d{2}-\d{2}(?:\.[a-z0-9_]{1,40})?$/;

/** One event to store: where it arrived, the verified event, its JSON text exactly as signed, and the receipt time. */
export interface EventToStore {
  receipt: EventReceipt;
  event: Stripe.Event;
  /** The delivery's raw body (or, for backfill, the event's JSON). */
  payload: string;
  now: Date;
}

/** What storing found: a new row (`inserted`), or the stored row's status and its delivery count. */
export interface StoredEvent {
  inserted: boolean;
  status: string;
  attempts: number;
}

/**
 * Transaction step: insert the event as `received` (attempts 1), or, when `settled` is given
 * (an outcome known before any effect, e.g. an event type Tally does not handle), already in
 * that final status; when the log holds it, `attempts + 1` and `updatedAt` instead, leaving
 * everything else as it was. One statement, `INSERT ... ON CONFLICT (scope, id) DO UPDATE
 * ... RETURNING status, attempts`: a new row is the one whose attempts is 1. On Postgres the
 * conflicting row is locked until commit, so a concurrent delivery of the same event waits
 * here and then sees the first one's outcome.
 */
export function* storeEventInTx({ receipt, event, payload, now }: EventToStore, settled?: HandlerOutcome): TxBody<StoredEvent> {
  const [row] = yield* allPrepared(storeEvent, {
    scope: receipt.scope,
    id: event.id,
    type: event.type,
    apiVersion: typeof event.api_version === 'string' && API_VERSION_PATTERN.test(event.api_version) ? event.api_version : null,
    livemode: event.livemode === true,
    stripeCreatedAt: stripeCreatedAt(event, now),
    payload,
    status: settled?.status ?? 'received',
    outcome: settled ? storableText(settled.outcome) : null,
    processedAt: settled ? now : null,
    workspaceId: receipt.workspaceId ?? settled?.workspaceId ?? null,
    now,
  });
  if (!row) throw new Error(`Storing Stripe event ${event.id} returned no row`);
  return { inserted: row.attempts === 1, status: row.status, attempts: row.attempts };
}

/** The statement behind `storeEventInTx` (prepared once per database: the webhook hot path). */
const storeEvent = preparedStatement<
  {
    scope: string;
    id: string;
    type: string;
    apiVersion: string | null;
    livemode: boolean;
    stripeCreatedAt: Date;
    payload: string;
    status: string;
    outcome: string | null;
    processedAt: Date | null;
    workspaceId: string | null;
    now: Date;
  },
  { status: string; attempts: number }
>('tally_store_stripe_event', (q, t) => {
  const e = t.stripeEvents;
  return q
    .insert(e)
    .values({
      scope: placeholder('scope'),
      id: placeholder('id'),
      type: placeholder('type'),
      apiVersion: placeholder('apiVersion'),
      livemode: param('livemode', e.livemode),
      stripeCreatedAt: param('stripeCreatedAt', e.stripeCreatedAt),
      payload: placeholder('payload'),
      status: placeholder('status'),
      outcome: placeholder('outcome'),
      processedAt: param('processedAt', e.processedAt),
      workspaceId: placeholder('workspaceId'),
      attempts: 1,
      receivedAt: param('now', e.receivedAt),
      updatedAt: param('now', e.updatedAt),
    })
    .onConflictDoUpdate({ target: [e.scope, e.id], set: { attempts: sql`${e.attempts} + 1`, updatedAt: param('now', e.updatedAt) } })
    .returning({ status: e.status, attempts: e.attempts });
});

/**
 * Store a verified event as `received` in its own transaction (see `storeEventInTx`), and
 * publish `event.received` for a new row once committed.
 * @returns `{ inserted: true, status: 'received' }` for a new row, else `{ inserted: false, status }`
 *   with the stored row's status (`processed`, `failed`, ...).
 * @throws the database's error (nothing stored).
 */
export async function storeStripeEvent(db: Database, toStore: EventToStore): Promise<{ inserted: boolean; status: string }> {
  const stored = await db.transaction(() => storeEventInTx(toStore));
  if (stored.inserted) publishBillingChange({ kind: 'event.received', workspaceId: toStore.receipt.workspaceId, eventId: toStore.event.id, type: toStore.event.type });
  return { inserted: stored.inserted, status: stored.status };
}

/**
 * When Stripe created the event: `created` is unix seconds on v1 events and an ISO 8601
 * string on v2 ("thin") events; anything else, or a time no Date can hold, falls back to
 * the receipt time.
 */
function stripeCreatedAt(event: { created?: unknown }, receivedAt: Date): Date {
  const created = event.created;
  let at: Date | null = null;
  if (typeof created === 'number' && Number.isSafeInteger(created)) at = new Date(created * 1000);
  else if (typeof created === 'string' && created.length <= 40) at = new Date(created);
  return at && !Number.isNaN(at.getTime()) ? at : receivedAt;
}
