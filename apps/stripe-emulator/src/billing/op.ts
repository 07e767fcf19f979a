import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context';
import { NO_REQUEST, previousAttributes } from '../core/events';
import { customerNow } from './time';

/** An event waiting in an {@link BillingOp.outbox}: a snapshot taken when it was emitted. */
export interface PendingEvent {
  type: Stripe.Event.Type;
  object: { object: string };
  previousAttributes?: Record<string, unknown>;
}

/**
 * One billing operation: what caused it (`request`, `NO_REQUEST` for timers, test clocks and
 * hosted pages) and the time it happens at (`now`, unix seconds: the customer's test clock
 * time or real time). With an `outbox`, billing events are held back until {@link flushOutbox}
 * (used by `payment_behavior=error_if_incomplete`, whose failure must leave no trace).
 */
export interface BillingOp {
  ctx: EmulatorContext;
  request: Stripe.Event.Request;
  now: number;
  outbox?: PendingEvent[];
}

/** A billing operation for `customer` at that customer's current time. */
export function opFor(ctx: EmulatorContext, customer: string | null, request: Stripe.Event.Request = NO_REQUEST): BillingOp {
  return { ctx, request, now: customerNow(ctx, customer) };
}

/** Publishes (or holds in the outbox) an event about `object` as it is now. */
export function emit(op: BillingOp, type: Stripe.Event.Type, object: { object: string }, previous?: Record<string, unknown>): void {
  if (op.outbox) {
    op.outbox.push({ type, object: structuredClone(object), ...(previous ? { previousAttributes: structuredClone(previous) } : {}) });
    return;
  }
  op.ctx.events.publish({ type, object, ...(previous ? { previousAttributes: previous } : {}), request: op.request });
}

/** Publishes the events held in `op.outbox`, in order. */
export function flushOutbox(op: BillingOp): void {
  const pending = op.outbox ?? [];
  delete op.outbox;
  for (const event of pending) op.ctx.events.publish({ ...event, request: op.request });
}

/** `value.id` for an expandable field that is an id or an object. */
export const idOf = (value: string | { id: string } | null | undefined): string | null => (typeof value === 'string' ? value : (value?.id ?? null));

/**
 * Stores `after` in place of `before` and, when something changed, emits `<type>` (an
 * `*.updated` event) with `previous_attributes`. Returns what is stored.
 */
export function saveUpdate<T extends { id: string; object: string }>(
  op: BillingOp,
  table: { put(item: T): T },
  before: T,
  after: T,
  type: Stripe.Event.Type,
): T {
  const changed = previousAttributes(before, after);
  if (Object.keys(changed).length === 0) return before;
  table.put(after);
  emit(op, type, after, changed);
  return after;
}
