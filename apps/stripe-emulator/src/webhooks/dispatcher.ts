import Stripe from 'stripe';
import type { DeliverableEvent, EventSink } from '../core/events';

/** A webhook endpoint: events are POSTed to `url`, signed with `secret` (`whsec_...`). */
export interface WebhookEndpoint {
  url: string;
  secret: string;
}

/** One delivery attempt of one event to one endpoint. */
export interface DeliveryAttempt {
  /** The account whose event it is (`acct_…`). */
  account: string;
  eventId: string;
  eventType: string;
  endpointUrl: string;
  /** `we_...` for endpoints created through `/v1/webhook_endpoints`, `null` for configured ones (options/env). */
  endpointId: string | null;
  /** Whether the attempt was a manual resend (`POST /_emulator/events/{id}/resend`), which is never retried. */
  manual: boolean;
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
  /** Configured endpoints (options/env) of the default account: they receive every event of that account. */
  endpoints: readonly WebhookEndpoint[];
  /** Id of the default account (`acct_…`): the account of `endpoints` and of calls that name none. Default `acct_default`. */
  defaultAccount?: string;
  /**
   * An account's endpoints created through `/v1/webhook_endpoints` (read at every use, so updates,
   * disabling and deletion apply to deliveries already scheduled): they receive the account's
   * events matching their `enabled_events` (`*` for all) while their `status` is `enabled`, signed
   * with their own `secret`.
   */
  apiEndpoints?: (account: string) => readonly Stripe.WebhookEndpoint[];
  /** Delays between attempts in ms; an event is tried at most `retryScheduleMs.length + 1` times. */
  retryScheduleMs: readonly number[];
  /** Per-attempt timeout in ms (Stripe waits up to about 10 s for an answer). */
  timeoutMs?: number;
  log: (line: string) => void;
  /** Called once per endpoint that acknowledged an event of `account`. */
  onDelivered: (eventId: string, account: string) => void;
}

/** Where a delivery goes: a configured endpoint (`id: null`), or the id of an API-created one. */
type Target = { id: null; endpoint: WebhookEndpoint } | { id: string };

interface Delivery {
  account: string;
  eventId: string;
  eventType: string;
  payload: string;
  target: Target;
  manual: boolean;
}

/** Whether an endpoint's `enabled_events` select events of `type` (https://docs.stripe.com/api/webhook_endpoints/object). */
export function endpointWants(endpoint: Stripe.WebhookEndpoint, type: string): boolean {
  return endpoint.status === 'enabled' && (endpoint.enabled_events.includes('*') || endpoint.enabled_events.includes(type));
}

const MAX_LOGGED_ATTEMPTS = 5000;

/** Identifies an endpoint in the attempt log: the `we_...` id, or the URL of a configured endpoint. */
const targetKey = (attempt: Pick<DeliveryAttempt, 'endpointId' | 'endpointUrl'>) => attempt.endpointId ?? attempt.endpointUrl;
const keyOf = (target: Target) => (target.id === null ? target.endpoint.url : target.id);

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
 * Each account's events go to that account's endpoints only (configured ones, then API-created
 * ones); calls that name no account are about the default account.
 */
export class WebhookDispatcher implements EventSink {
  /** Configured endpoints per account id. */
  readonly #configured = new Map<string, WebhookEndpoint[]>();
  readonly #defaultAccount: string;
  readonly #attempts: DeliveryAttempt[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #closing = new AbortController();
  #pending = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(private readonly options: DispatcherOptions) {
    this.#defaultAccount = options.defaultAccount ?? 'acct_default';
    this.#configured.set(this.#defaultAccount, options.endpoints.map((endpoint) => ({ ...endpoint })));
  }

  /** Number of endpoints events of `type` go to: every configured one of the account and its enabled API endpoints that want it. */
  endpointCountFor(type: string, account = this.#defaultAccount): number {
    return this.#targetsFor(type, account).length;
  }

  /** URLs of the default account's configured endpoints. */
  get endpointUrls(): string[] {
    return this.configuredUrls(this.#defaultAccount);
  }

  /** URLs of an account's configured endpoints. */
  configuredUrls(account: string): string[] {
    return (this.#configured.get(account) ?? []).map((endpoint) => endpoint.url);
  }

  /** What an account's {@link EventPublisher} hands its events to. */
  sinkFor(account: string): EventSink {
    return { endpointCountFor: (type) => this.endpointCountFor(type, account), enqueue: (event) => this.enqueue(event, account) };
  }

  #apiEndpoints(account: string): readonly Stripe.WebhookEndpoint[] {
    return this.options.apiEndpoints?.(account) ?? [];
  }

  #targetsFor(type: string, account: string): Target[] {
    return [
      ...(this.#configured.get(account) ?? []).map((endpoint): Target => ({ id: null, endpoint })),
      ...this.#apiEndpoints(account)
        .filter((endpoint) => endpointWants(endpoint, type))
        .map((endpoint): Target => ({ id: endpoint.id })),
    ];
  }

  /** The URL and secret a target has now; `null` for an API endpoint deleted or disabled since. */
  #resolve(target: Target, account: string): WebhookEndpoint | null {
    if (target.id === null) return target.endpoint;
    const endpoint = this.#apiEndpoints(account).find((candidate) => candidate.id === target.id);
    if (!endpoint || endpoint.status !== 'enabled' || !endpoint.secret) return null;
    return { url: endpoint.url, secret: endpoint.secret };
  }

  /** Adds a configured endpoint of `account` (default: the default account) for events published from now on. */
  addEndpoint(endpoint: WebhookEndpoint, account = this.#defaultAccount): void {
    const list = this.#configured.get(account) ?? [];
    list.push({ ...endpoint });
    this.#configured.set(account, list);
  }

  /**
   * Schedules delivery of `event` (a v1 event, or a v2 thin event notification) of `account` to
   * every endpoint of that account that wants its `type` (first attempt right away, asynchronously).
   */
  enqueue(event: DeliverableEvent, account = this.#defaultAccount): void {
    if (this.#closing.signal.aborted) return;
    const payload = JSON.stringify(event, null, 2);
    for (const target of this.#targetsFor(event.type, account)) {
      this.#schedule({ account, eventId: event.id, eventType: event.type, payload, target, manual: false }, 1, 0);
    }
  }

  /**
   * Delivers `event` again, as the Dashboard's "Resend" does: once (no automatic retries) to
   * `endpoint` (a configured endpoint's URL or an API endpoint's `we_...` id), or else to every
   * endpoint that would receive it now. Returns the number of deliveries scheduled.
   */
  resend(event: DeliverableEvent, endpoint?: string, account = this.#defaultAccount): number {
    if (this.#closing.signal.aborted) return 0;
    const payload = JSON.stringify(event, null, 2);
    let targets = this.#targetsFor(event.type, account);
    if (endpoint !== undefined) {
      const api = this.#apiEndpoints(account).find((candidate) => candidate.id === endpoint && candidate.status === 'enabled');
      targets = [
        ...(this.#configured.get(account) ?? []).filter((configured) => configured.url === endpoint).map((configured): Target => ({ id: null, endpoint: configured })),
        ...(api ? [{ id: api.id } satisfies Target] : []),
      ];
    }
    for (const target of targets) {
      const previous = this.#attempts.filter((attempt) => attempt.eventId === event.id && targetKey(attempt) === keyOf(target)).length;
      this.#schedule({ account, eventId: event.id, eventType: event.type, payload, target, manual: true }, previous + 1, 0);
    }
    return targets.length;
  }

  /** Every attempt so far, of every account, oldest first (the most recent 5000). */
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
    const endpoint = this.#resolve(delivery.target, delivery.account);
    if (!endpoint) return; // API endpoint disabled or deleted since: Stripe stops delivering.
    const started = Date.now();
    let status: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(endpoint.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json; charset=utf-8',
          'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'Cache-Control': 'no-cache',
          'Stripe-Signature': Stripe.webhooks.generateTestHeaderString({
            payload: delivery.payload,
            secret: endpoint.secret,
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
    const key = keyOf(delivery.target);
    const deliveredBefore = this.#attempts.some((logged) => logged.ok && logged.eventId === delivery.eventId && targetKey(logged) === key);
    const retryDelay = ok || delivery.manual ? undefined : this.options.retryScheduleMs[attempt - 1];
    this.#record({
      account: delivery.account,
      eventId: delivery.eventId,
      eventType: delivery.eventType,
      endpointUrl: endpoint.url,
      endpointId: delivery.target.id,
      manual: delivery.manual,
      attempt,
      status,
      error,
      ok,
      durationMs: Date.now() - started,
      timestamp: new Date(started).toISOString(),
      nextRetryInMs: retryDelay ?? null,
    });
    if (ok && !deliveredBefore) this.options.onDelivered(delivery.eventId, delivery.account);
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
