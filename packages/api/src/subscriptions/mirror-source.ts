/**
 * Shared steps of the Stripe Billing mirrors (subscriptions, invoices): whose object it is, and
 * which version of it to write.
 *
 * Ordering. Stripe delivers events at least once and in any order
 * (stripe.com/docs/webhooks#event-ordering), so a mirror row carries `syncedAtMs`, the source
 * time of the write that produced it, and a write lands only when its source is newer:
 * - When the workspace's Stripe client is available, the handler re-reads the object
 *   (`subscriptions.retrieve`, `invoices.retrieve`) and writes what Stripe says now, with
 *   `syncedAtMs` = the time the read started (strictly increasing within a process). A read that
 *   started later saw a state at least as new, so the guarded UPDATE (`synced_at_ms < new`)
 *   never lets an older read overwrite a newer one, even across processes.
 * - When Stripe says the object is gone (404 `resource_missing`) or there is no client (replays
 *   without Stripe, a workspace whose keys cannot be opened), the event's own snapshot is
 *   written with `syncedAtMs` = `event.created` x 1000; on a tie (same second) a forward-only
 *   status order decides (see the mirrors), so the end state does not depend on delivery order.
 * - Any other Stripe error (unreachable, rate limited, 5xx, a refused key) is thrown: the event
 *   is `failed` (500) and Stripe retries it.
 */
import { eq, type Database } from '@tally/db';
import Stripe from 'stripe';
import { receiptAccepts, type StripeEventHandlerArgs } from '../webhooks/types';

/** The Tally customer a Stripe customer id belongs to, when the receipt may act on its workspace. */
export interface MirrorCustomer {
  id: string;
  workspaceId: string;
}

/**
 * The Tally customer whose `stripeCustomerId` is `stripeCustomerId` (a shape-checked `cus_...`),
 * or null when there is none or its workspace is not one this receipt serves (`receiptAccepts`).
 */
export async function tallyCustomerOf(db: Database, receipt: StripeEventHandlerArgs['receipt'], stripeCustomerId: string): Promise<MirrorCustomer | null> {
  const { customers: c } = db.t;
  const [row] = await db.q.select({ id: c.id, workspaceId: c.workspaceId }).from(c).where(eq(c.stripeCustomerId, stripeCustomerId)).limit(1);
  return row && receiptAccepts(receipt, row.workspaceId) ? row : null;
}

let lastSyncMs = 0;
/** Now in ms, strictly increasing within this process (two reads in one millisecond are still ordered). */
export function syncClockMs(): number {
  const now = Date.now();
  lastSyncMs = now > lastSyncMs ? now : lastSyncMs + 1;
  return lastSyncMs;
}

/** `event.created` (unix seconds) in ms; 0 for a value that is not a plausible time (such a write never wins over another). */
export function eventCreatedMs(event: { created?: unknown }): number {
  const c = event.created;
  return typeof c === 'number' && Number.isSafeInteger(c) && c >= 0 && c < 100_000_000_000 ? c * 1000 : 0;
}

/** Whether `err` is Stripe's 404 `resource_missing` (the object was deleted, or is not this account's). */
export function isResourceMissing(err: unknown): boolean {
  return err instanceof Stripe.errors.StripeError && (err.statusCode === 404 || err.code === 'resource_missing');
}

/** Which version of an object to write, and its ordering time. */
export interface MirrorSource<T> {
  snapshot: T;
  syncedAtMs: number;
  /** `stripe`: re-read now; `payload`: the event's snapshot. */
  via: 'stripe' | 'payload';
}

/**
 * The newest version of an object Tally can get: re-read through the workspace's client when
 * there is one (see the module comment), else the event's snapshot (`payload`); null when there
 * is neither (only an id was delivered and no client is available, or Stripe no longer has it).
 * @param retrieve reads the object with a client (e.g. `(s) => s.subscriptions.retrieve(id)`).
 * @param parse the mirror's parser; a re-read Stripe answers in a shape the parser refuses
 *   falls back to the payload (logged).
 * @param owns whether a re-read object is the one the event is about (same id and customer);
 *   otherwise the payload is used.
 * @throws any Stripe error but a 404, so the event is retried.
 */
export async function newestVersion<T>({
  args,
  workspaceId,
  payload,
  retrieve,
  parse,
  owns,
}: {
  args: StripeEventHandlerArgs;
  workspaceId: string;
  payload: T | null;
  retrieve: (client: Stripe) => Promise<unknown>;
  parse: (value: unknown) => T | null;
  owns: (fresh: T) => boolean;
}): Promise<MirrorSource<T> | null> {
  const fromPayload: MirrorSource<T> | null = payload === null ? null : { snapshot: payload, syncedAtMs: eventCreatedMs(args.event), via: 'payload' };
  if (!args.stripeAccounts) return fromPayload;
  const stripe = await args.stripeAccounts.forWorkspace(args.db, workspaceId);
  if (!stripe.configured) return fromPayload;
  const startedAt = syncClockMs();
  let fresh: unknown;
  try {
    fresh = await retrieve(stripe.client);
  } catch (err) {
    if (isResourceMissing(err)) return fromPayload;
    throw err;
  }
  const snapshot = parse(fresh);
  if (!snapshot || !owns(snapshot)) {
    args.logger?.warn({ eventId: args.event.id, type: args.event.type, workspaceId }, 'A Stripe re-read answered an object Tally cannot use for this event; using the event payload');
    return fromPayload;
  }
  return { snapshot, syncedAtMs: startedAt, via: 'stripe' };
}
