/**
 * The billing stream's bus, as procedures and routes see it (issue 10 item 1). Two
 * implementations: the Redis bus (apps/server/src/stream/redis-bus.ts: Redis Streams, across
 * processes) and the in-process bus (./in-process-bus.ts: development, one process). Both fan
 * out to their process's subscribers through `LocalFanout` (./fanout.ts), so audience rules,
 * resume and slow-subscriber handling are one code.
 */
import type { BillingChange, BillingStreamAudience, BillingStreamMessage } from './messages';

/**
 * `live`: messages flow. `reconnecting`: the bus lost its transport (Redis) and is
 * reconnecting; messages committed meanwhile reach subscribers once it is back (those a
 * process published while Redis was away are buffered, up to a limit).
 */
export type BillingStreamState = 'live' | 'reconnecting';

/** What a subscription yields: a message for this audience, or a change of the bus's state (the first item is always the state at subscribe time). */
export type BillingStreamItem = { type: 'message'; message: BillingStreamMessage } | { type: 'state'; state: BillingStreamState };

export interface BillingStreamSubscribeOptions {
  audience: BillingStreamAudience;
  /** Resume after this bus id (`Last-Event-ID`): the subscriber first gets what it missed, then live messages. Must be `isStreamId`. */
  lastEventId?: string | null;
  /** Ends the subscription (the iterator returns). */
  signal?: AbortSignal;
}

/** Counters of one bus since it started. */
export interface BillingStreamStats {
  /** Messages handed to the transport. */
  published: number;
  /** Messages lost: the publish buffer was full while Redis was away, or Redis refused the write. */
  dropped: number;
  /** Messages waiting for Redis to come back. */
  buffered: number;
}

/** A running bus. */
export interface BillingStreamBus {
  readonly kind: 'redis' | 'in-process';
  /** Publish one committed change: returns at once, never throws (failures are counted in `stats().dropped` and logged). */
  publish(change: BillingChange): void;
  /**
   * Subscribe one audience. The iterator yields `{ type: 'state' }` first, then the missed
   * messages after `lastEventId` (when given), then live ones, in bus order, each at most once.
   * It throws `BillingStreamInterrupted` when this subscriber fell too far behind or its
   * resume could not be read (reconnect with the last id seen); it returns when `signal`
   * aborts, `return()` is called or the bus stops.
   */
  subscribe(options: BillingStreamSubscribeOptions): AsyncIterableIterator<BillingStreamItem>;
  state(): BillingStreamState;
  /** Subscribers in this process now (the `tally_billing_stream_subscribers` gauge). */
  subscriberCount(): number;
  /** Call `listener` with the new count whenever it changes; returns the unsubscribe. */
  onSubscriberCountChange(listener: (count: number) => void): () => void;
  stats(): BillingStreamStats;
  /** End every subscription and close the transport. */
  stop(): Promise<void>;
}

/**
 * The stream as the server configured it: a running bus, or why there is none. `unavailable`:
 * ENABLE_BILLING_STREAM is on without a Redis URL outside development (endpoints answer 503
 * with `message`); `off`: ENABLE_BILLING_STREAM=false.
 */
export type BillingStream = BillingStreamBus | { kind: 'unavailable' | 'off'; message: string };

/** The message of a deployment with the stream enabled but no Redis URL (config.ts `bus: 'unavailable'`). */
export const BILLING_STREAM_UNAVAILABLE_MESSAGE =
  'The live billing stream needs Redis: ENABLE_BILLING_STREAM is on, but neither BILLING_EVENTS_REDIS_URL nor REDIS_URL is set (the in-process bus is for development only, one process).';

/** The message of a deployment with ENABLE_BILLING_STREAM=false. */
export const BILLING_STREAM_OFF_MESSAGE = 'The live billing stream is turned off (ENABLE_BILLING_STREAM=false).';

/** The stream of a process that started none (tests, the CLI). */
export const BILLING_STREAM_NOT_RUNNING_MESSAGE = 'The live billing stream is not running in this process.';

/** The stream when none can run: `unavailable` or `off`, with its message. */
export function billingStreamWithout(kind: 'unavailable' | 'off'): BillingStream {
  return { kind, message: kind === 'unavailable' ? BILLING_STREAM_UNAVAILABLE_MESSAGE : BILLING_STREAM_OFF_MESSAGE };
}

/** Narrow a configured stream to a running bus, or the message saying why there is none (`undefined`: not running in this process). */
export function runningBus(stream: BillingStream | null | undefined): { bus: BillingStreamBus } | { message: string } {
  if (!stream) return { message: BILLING_STREAM_NOT_RUNNING_MESSAGE };
  if ('message' in stream) return { message: stream.message };
  return { bus: stream };
}

/** A subscription ended by the bus: the subscriber should reconnect with the last id it saw. */
export class BillingStreamInterrupted extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'BillingStreamInterrupted';
  }
}
