import type Stripe from 'stripe';
import { EMULATOR_API_VERSION } from '../defaults';
import { nowSeconds } from './clock';
import { newId } from './ids';
import type { Store } from './store';

/** `request` of events not caused by an API request (hosted pages, timers), as Stripe sends them. */
export const NO_REQUEST: Stripe.Event.Request = { id: null, idempotency_key: null };

/** What to publish: an event `type` about `object` (a Stripe object, copied as it is now). */
export interface EventInput {
  type: Stripe.Event.Type;
  object: { object: string };
  /** For `*.updated` events: the changed fields' previous values (see {@link previousAttributes}). */
  previousAttributes?: Record<string, unknown>;
  request: Stripe.Event.Request;
}

/** What the webhook dispatcher delivers: a v1 `event` or a v2 thin event notification, sent as its JSON. */
export interface DeliverableEvent {
  id: string;
  type: string;
}

/** Where published events go besides the store: the webhook dispatcher. */
export interface EventSink {
  /** Number of endpoints an event of `type` will be sent to (the event's `pending_webhooks`). */
  endpointCountFor(type: string): number;
  enqueue(event: DeliverableEvent): void;
}

/**
 * A v2 event (`object: 'v2.core.event'`, https://docs.stripe.com/api/v2/core/events/object) as
 * `GET /v2/core/events/{id}` shows it: the thin notification delivered to endpoints plus `data`.
 * Times are RFC 3339 strings, as everywhere in API v2.
 */
export interface V2EventRecord {
  id: string;
  object: 'v2.core.event';
  type: string;
  created: string;
  livemode: false;
  /** The object the event is about (`{ id, type, url }`); absent when there is none (e.g. `v1.billing.meter.no_meter_found`). */
  related_object?: { id: string; type: string; url: string };
  data?: Record<string, unknown>;
}

/**
 * Creates events in Stripe's envelope (https://docs.stripe.com/api/events/object), stores them
 * and hands them to the webhook dispatcher. `data.object` is a snapshot: later changes to the
 * object do not alter the event, as with Stripe.
 */
export class EventPublisher {
  constructor(
    private readonly store: Store,
    private readonly sink: EventSink,
  ) {}

  publish(input: EventInput): Stripe.Event {
    const data: Stripe.Event.Data = { object: structuredClone(input.object) as Stripe.Event.Data.Object };
    if (input.previousAttributes) data.previous_attributes = structuredClone(input.previousAttributes);
    const event = {
      id: newId('evt'),
      object: 'event',
      api_version: EMULATOR_API_VERSION,
      created: nowSeconds(),
      data,
      livemode: false,
      pending_webhooks: this.sink.endpointCountFor(input.type),
      request: input.request,
      type: input.type,
    } as Stripe.Event; // `Stripe.Event` is a union discriminated by `type`; `input` pairs them by convention.
    this.store.events.put(event);
    this.sink.enqueue(event);
    return event;
  }

  /**
   * Stores a v2 thin event and delivers its notification (the event without `data`, as Stripe
   * sends thin events: https://docs.stripe.com/event-destinations#thin-events) to the endpoints
   * the dispatcher selects for its `type`.
   */
  publishThin(event: V2EventRecord): V2EventRecord {
    this.store.v2Events.put(structuredClone(event));
    const { data: _data, ...notification } = event;
    this.sink.enqueue(notification);
    return event;
  }

  /** Records that one endpoint received `eventId` (decrements its `pending_webhooks`). */
  markDelivered(eventId: string): void {
    const event = this.store.events.get(eventId);
    if (event && event.pending_webhooks > 0) this.store.events.put({ ...event, pending_webhooks: event.pending_webhooks - 1 });
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * `data.previous_attributes` for an update from `before` to `after`: the previous value of every
 * top-level field that changed; for hashes (e.g. `metadata`) only the changed keys, with `null`
 * for keys that did not exist. Empty when nothing changed.
 */
export function previousAttributes(before: object, after: object): Record<string, unknown> {
  const diff = (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> => {
    const changes: Record<string, unknown> = {};
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const previous = a[key];
      const next = b[key];
      if (JSON.stringify(previous) === JSON.stringify(next)) continue;
      changes[key] = isPlainObject(previous) && isPlainObject(next) ? diff(previous, next) : (previous ?? null);
    }
    return changes;
  };
  return diff(before as Record<string, unknown>, after as Record<string, unknown>);
}
