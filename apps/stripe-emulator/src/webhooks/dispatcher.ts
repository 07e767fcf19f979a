import Stripe from 'stripe';
import type { EventSink } from '../core/events';

/** A webhook endpoint: events are POSTed to `url`, signed with `secret` (`whsec_...`). */
export interface WebhookEndpoint {
  url: string;
  secret: string;
}

/** One delivery attempt of one event to one endpoint. */
export interface DeliveryAttempt {
  eventId: string;
  eventType: string;
  endpointUrl: string;
  /** 1 for the first delivery, 2 for the first retry, ... */
  attempt: number;
  /** HTTP status of the endpoint's answer, `null` if none arrived. */
  status: number | null;
  /** Network error or timeout, `null` if the endpoint answered. */
  error: string | null;
  /** Whether the endpoint answered 2xx (the only answer Stripe counts as delivered). */
  ok: boolean;
  durationMs: number;
  /** When the attempt started (ISO 8601). */
  timestamp: string;
  /** Delay before the next attempt, `null` when delivered or out of attempts. */
  nextRetryInMs: number | null;
}

export interface DispatcherOptions {
  endpoints: readonly WebhookEndpoint[];
  /** Delays between attempts in ms; an event is tried at most `retryScheduleMs.length + 1` times. */
  retryScheduleMs: readonly number[];
  /** Per-attempt timeout in ms (Stripe waits up to about 10 s for an answer). */
  timeoutMs?: number;
  log: (line: string) => void;
  /** Called once per endpoint that acknowledged an event. */
  onDelivered: (eventId: string) => void;
}

interface Delivery {
  eventId: string;
  eventType: string;
  payload: string;
  endpoint: WebhookEndpoint;
}

const MAX_LOGGED_ATTEMPTS = 5000;

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? error.message;
}

/**
 * Delivers events to webhook endpoints the way Stripe does (https://docs.stripe.com/webhooks):
 * JSON body, `Stripe-Signature: t=...,v1=...` (made by the SDK's own
 * `generateTestHeaderString`, so exactly Stripe's scheme), at least once, retried with backoff
 * on anything but a 2xx. Deliveries run in the background and never block API responses.
 */
export class WebhookDispatcher implements EventSink {
  readonly #endpoints: WebhookEndpoint[];
  readonly #attempts: DeliveryAttempt[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #closing = new AbortController();
  #pending = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(private readonly options: DispatcherOptions) {
    this.#endpoints = [...options.endpoints];
  }

  get endpointCount(): number {
    return this.#endpoints.length;
  }

  /** URLs of the configured endpoints. */
  get endpointUrls(): string[] {
    return this.#endpoints.map((endpoint) => endpoint.url);
  }

  /** Adds an endpoint for events published from now on. */
  addEndpoint(endpoint: WebhookEndpoint): void {
    this.#endpoints.push({ ...endpoint });
  }

  /** Schedules delivery of `event` to every endpoint (first attempt right away, asynchronously). */
  enqueue(event: Stripe.Event): void {
    if (this.#closing.signal.aborted) return;
    const payload = JSON.stringify(event, null, 2);
    for (const endpoint of this.#endpoints) {
      this.#schedule({ eventId: event.id, eventType: event.type, payload, endpoint }, 1, 0);
    }
  }

  /** Every attempt so far, oldest first (the most recent 5000). */
  attempts(): DeliveryAttempt[] {
    return [...this.#attempts];
  }

  /** Resolves when no delivery is scheduled or in flight. */
  waitForIdle(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Cancels scheduled retries and aborts deliveries in flight. */
  close(): void {
    this.#closing.abort();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#pending = 0;
    this.#notifyIfIdle();
  }

  #schedule(delivery: Delivery, attempt: number, delayMs: number): void {
    this.#pending += 1;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.#attempt(delivery, attempt).finally(() => {
        this.#pending = Math.max(0, this.#pending - 1);
        this.#notifyIfIdle();
      });
    }, delayMs);
    this.#timers.add(timer);
  }

  async #attempt(delivery: Delivery, attempt: number): Promise<void> {
    const started = Date.now();
    let status: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(delivery.endpoint.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json; charset=utf-8',
          'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'Cache-Control': 'no-cache',
          'Stripe-Signature': Stripe.webhooks.generateTestHeaderString({
            payload: delivery.payload,
            secret: delivery.endpoint.secret,
            timestamp: Math.floor(started / 1000),
          }),
        },
        body: delivery.payload,
        signal: AbortSignal.any([this.#closing.signal, AbortSignal.timeout(this.options.timeoutMs ?? 10_000)]),
      });
      status = response.status;
      await response.arrayBuffer();
    } catch (caught) {
      error = describe(caught);
    }
    if (this.#closing.signal.aborted) return;

    const ok = status !== null && status >= 200 && status < 300;
    const retryDelay = ok ? undefined : this.options.retryScheduleMs[attempt - 1];
    this.#record({
      eventId: delivery.eventId,
      eventType: delivery.eventType,
      endpointUrl: delivery.endpoint.url,
      attempt,
      status,
      error,
      ok,
      durationMs: Date.now() - started,
      timestamp: new Date(started).toISOString(),
      nextRetryInMs: retryDelay ?? null,
    });
    if (ok) this.options.onDelivered(delivery.eventId);
    else if (retryDelay !== undefined) this.#schedule(delivery, attempt + 1, retryDelay);
  }

  #record(entry: DeliveryAttempt): void {
    this.#attempts.push(entry);
    if (this.#attempts.length > MAX_LOGGED_ATTEMPTS) this.#attempts.shift();
    const outcome = entry.status !== null ? String(entry.status) : `error ${entry.error}`;
    const retry = entry.nextRetryInMs !== null ? `, retry in ${entry.nextRetryInMs} ms` : '';
    this.options.log(`webhook ${entry.eventType} ${entry.eventId} → ${entry.endpointUrl} #${entry.attempt}: ${outcome} (${entry.durationMs} ms${retry})`);
  }

  #notifyIfIdle(): void {
    if (this.#pending > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
