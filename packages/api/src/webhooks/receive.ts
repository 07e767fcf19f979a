import { eq, sql, type Database } from '@tally/db';
import Stripe from 'stripe';
import { stripeEventHandlers } from './handlers/index';
import { markEvent, markEventFailed } from './mark-event';

/** Result of receiving one webhook delivery; `httpStatus` is what to answer Stripe. */
export type ReceiveResult =
  | { httpStatus: 400; error: string }
  | { httpStatus: 200; eventId: string; status: 'processed' | 'ignored'; duplicate: boolean }
  | { httpStatus: 500; eventId: string; status: 'failed'; error: string };

/**
 * Verify, log, then process one Stripe webhook delivery.
 *
 * 1. `stripe.webhooks.constructEvent` checks `Stripe-Signature` over the raw bytes
 *    (HMAC-SHA256, any `v1`, 300 s tolerance) and parses JSON: failure -> 400, nothing stored.
 * 2. The event is stored in the Stripe event log (unique on event id) before processing.
 * 3. Already `processed`/`ignored` -> 200 without work (redelivery). Otherwise the handler
 *    for its type runs (none -> `ignored`). Handlers are idempotent, so two processes
 *    receiving one event at once cannot double an effect.
 * 4. A thrown error -> `failed` with the error saved, 500 so Stripe retries.
 * Source: stripe.com/docs/webhooks (at-least-once, unordered delivery; 2xx = delivered).
 */
export async function receiveStripeWebhook({
  db,
  stripe,
  webhookSecret,
  rawBody,
  signature,
}: {
  db: Database;
  stripe: Stripe;
  webhookSecret: string;
  rawBody: Buffer;
  signature: string | undefined;
}): Promise<ReceiveResult> {
  if (!signature) return { httpStatus: 400, error: 'Missing Stripe-Signature header' };
  let event: Stripe.Event;
  try {
    event = verifyEvent(stripe, rawBody, signature, webhookSecret);
  } catch (err) {
    const message = err instanceof Stripe.errors.StripeSignatureVerificationError ? err.message : 'Body is not valid JSON';
    return { httpStatus: 400, error: message };
  }
  if (typeof event !== 'object' || event === null || typeof event.id !== 'string' || typeof event.type !== 'string') {
    return { httpStatus: 400, error: 'Body is not a Stripe event' };
  }

  const { stripeEvents } = db.t;
  const now = new Date();
  const inserted = await db.q
    .insert(stripeEvents)
    .values({
      id: event.id,
      type: event.type,
      apiVersion: typeof event.api_version === 'string' ? event.api_version : null,
      livemode: event.livemode === true,
      stripeCreatedAt: stripeCreatedAt(event, now),
      payload: rawBody.toString('utf8'),
      status: 'received',
      attempts: 1,
      receivedAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing({ target: stripeEvents.id })
    .returning({ id: stripeEvents.id });
  if (inserted.length === 0) {
    const [existing] = await db.q
      .update(stripeEvents)
      .set({ attempts: sql`${stripeEvents.attempts} + 1`, updatedAt: now })
      .where(eq(stripeEvents.id, event.id))
      .returning({ status: stripeEvents.status });
    if (existing && (existing.status === 'processed' || existing.status === 'ignored')) {
      return { httpStatus: 200, eventId: event.id, status: existing.status, duplicate: true };
    }
  }
  return processStoredEvent({ db, event, duplicate: inserted.length === 0 });
}

/**
 * Verify and parse a delivery. v1 snapshot events go through `constructEvent`; v2 "thin"
 * event notifications (`object: 'v2.core.event'`), which `constructEvent` refuses after
 * verifying, go through `parseEventNotification` so they are logged (as ignored) too.
 * @throws StripeSignatureVerificationError, or SyntaxError for a body that is not JSON.
 */
function verifyEvent(stripe: Stripe, rawBody: Buffer, signature: string, secret: string): Stripe.Event {
  try {
    return stripe.webhooks.constructEvent(rawBody, signature, secret);
  } catch (err) {
    if (err instanceof Error && !(err instanceof Stripe.errors.StripeError) && err.message.includes('thin event')) {
      return stripe.parseEventNotification(rawBody, signature, secret) as unknown as Stripe.Event;
    }
    throw err;
  }
}

/**
 * When Stripe created the event: `created` is unix seconds on v1 events and an ISO 8601
 * string on v2 ("thin") events; anything else falls back to the receipt time.
 */
function stripeCreatedAt(event: { created?: unknown }, receivedAt: Date): Date {
  const created = event.created;
  if (typeof created === 'number' && Number.isFinite(created)) return new Date(created * 1000);
  if (typeof created === 'string' && !Number.isNaN(Date.parse(created))) return new Date(created);
  return receivedAt;
}

/** Run the handler for an event already in the log (also used by replay). */
export async function processStoredEvent({ db, event, duplicate = false }: { db: Database; event: Stripe.Event; duplicate?: boolean }): Promise<ReceiveResult> {
  const handler = stripeEventHandlers[event.type];
  try {
    if (!handler) {
      await markEvent(db, event.id, { status: 'ignored', outcome: `Event type ${event.type} is not handled` });
      return { httpStatus: 200, eventId: event.id, status: 'ignored', duplicate };
    }
    const result = await handler({ db, event });
    if (!result.marked) await markEvent(db, event.id, result);
    return { httpStatus: 200, eventId: event.id, status: result.status, duplicate };
  } catch (err) {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    await markEventFailed(db, event.id, message).catch(() => undefined);
    return { httpStatus: 500, eventId: event.id, status: 'failed', error: message };
  }
}
