/**
 * The SPA side of the live billing stream (issue 10 item 1), without React: which cached
 * queries a message makes stale (`billingStreamTargets`), and the connection's life
 * (`BillingStreamStore`: connect, reconnect with backoff, resume from the last id, stop for
 * good on a final error). `billing-stream-provider.tsx` wires it to tRPC and TanStack Query.
 *
 * The server's contract (packages/api/src/router/stream.ts): `stream.billing` yields
 * `tracked(message.id, BillingStreamMessage)`; a reconnect resumes after `lastEventId`.
 * Errors the server means as final (the deployment has no stream, signed out, not an admin)
 * end the subscription; SERVICE_UNAVAILABLE while Redis is away is retried by
 * httpSubscriptionLink itself (its state goes back to `connecting`).
 */
import type { BillingStreamMessage } from '@tally/api';

/**
 * What the viewer sees of the stream:
 * - `connecting`: the first connection is being opened;
 * - `live`: connected, changes arrive as they happen (pages stop polling);
 * - `reconnecting`: the connection dropped (or Redis is away on the server) and is being
 *   reopened; pages poll meanwhile, and refetch once it is back;
 * - `off`: the deployment has no live stream (ENABLE_BILLING_STREAM off, no Redis), or it
 *   refused this viewer: pages poll as they always did.
 */
export type BillingStreamState = 'connecting' | 'live' | 'reconnecting' | 'off';

/** The indicator's words for each state (visible text, also read by screen readers). */
export const BILLING_STREAM_LABELS: Record<BillingStreamState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  off: 'Live updates off',
};

/** The indicator's longer explanation of each state (its `title`). */
export const BILLING_STREAM_DESCRIPTIONS: Record<BillingStreamState, string> = {
  connecting: 'Connecting to live billing updates; refreshing every few seconds meanwhile',
  live: 'Billing changes appear here as they happen',
  reconnecting: 'The live connection dropped; reconnecting, and refreshing every few seconds meanwhile',
  off: 'Live billing updates are not available here; refreshing every few seconds instead',
};

/**
 * A page's polling interval given the stream's state: `pollMs` while it is not live, so a
 * deployment without Redis (or a dropped connection) still refreshes; `whileLive` while it is
 * (default none: the stream invalidates what changed; a long interval is a safety net for a
 * message lost in transit). Both in milliseconds, `false` for no polling.
 */
export function refetchIntervalWhileNotLive(state: BillingStreamState, pollMs: number | false, whileLive: number | false = false): number | false {
  return state === 'live' ? whileLive : pollMs;
}

/**
 * One group of cached queries to mark stale: a tRPC procedure path (`['admin', 'topups']`,
 * or a router prefix such as `['event']` for all its procedures) and optionally part of the
 * input the query was made with (`{ customerId }`: only that customer's queries).
 */
export interface QueryTarget {
  path: readonly string[];
  input?: Readonly<Record<string, string>>;
}

/**
 * The TanStack Query key filter of a target. @trpc/react-query v11 keys queries as
 * `[path, { input?, type }]`, and `invalidateQueries` matches keys by prefix and objects by
 * their given fields, so `[path]` matches every input and `[path, { input: { customerId } }]`
 * matches every query whose input has that `customerId` (whatever its `limit` or `cursor`).
 */
export function queryKeyOf(target: QueryTarget): readonly unknown[] {
  return target.input ? [target.path, { input: target.input }] : [target.path];
}

/** Who is watching: an admin of the message's workspace, and which customers they are a member of. */
export interface BillingStreamViewer {
  /** The subscription is an admin's (every message of the selected workspace). */
  admin: boolean;
  /** The customers the viewer is a member of (their own balance, ledger, subscription ...). */
  ownCustomerIds: ReadonlySet<string>;
}

const p = (...path: string[]): QueryTarget => ({ path });
const forCustomer = (customerId: string, ...path: string[]): QueryTarget => ({ path, input: { customerId } });

/** What an admin page shows of each change (their workspace's lists and one customer's cards). */
function adminTargets(m: BillingStreamMessage): QueryTarget[] {
  switch (m.kind) {
    case 'topup.created':
      return [p('admin', 'topups')];
    case 'topup.credited':
      // A credit moves the balance too (a `balance.changed` normally follows; this does not rely on it).
      return [p('admin', 'topups'), p('customers', 'list'), forCustomer(m.customerId, 'customers', 'get'), forCustomer(m.customerId, 'customers', 'ledger')];
    case 'balance.changed':
      // Balances are listed and on the customer's page; usage charges (the usual cause) feed the usage pages.
      return [
        p('customers', 'list'),
        forCustomer(m.customerId, 'customers', 'get'),
        forCustomer(m.customerId, 'customers', 'ledger'),
        forCustomer(m.customerId, 'usage', 'dashboardForCustomer'),
        p('usage', 'overview'),
      ];
    case 'usage.threshold_crossed':
      return [forCustomer(m.customerId, 'usage', 'dashboardForCustomer'), p('usage', 'overview')];
    case 'billing_record.paid':
      // Billing records are listed with and without a customer filter, counted on customers, and shown among invoices.
      return [
        p('billingRecord', 'list'),
        { path: ['billingRecord', 'get'], input: { recordId: m.billingRecordId } },
        p('customers', 'list'),
        forCustomer(m.customerId, 'customers', 'get'),
        forCustomer(m.customerId, 'invoice', 'listForCustomer'),
      ];
    case 'subscription.changed':
      return [forCustomer(m.customerId, 'subscription', 'getForCustomer'), forCustomer(m.customerId, 'license', 'listForCustomer')];
    case 'invoice.changed':
      // An unpaid invoice makes the subscription past due; usage invoices close a usage period.
      return [
        forCustomer(m.customerId, 'invoice', 'listForCustomer'),
        forCustomer(m.customerId, 'subscription', 'getForCustomer'),
        forCustomer(m.customerId, 'usage', 'dashboardForCustomer'),
        p('usage', 'overview'),
      ];
    case 'event.received':
    case 'event.processed':
    case 'event.failed':
    case 'event.ignored':
    case 'event.dead':
      // The Activity page's events table, and the event detail page (the `event` router).
      return [p('admin', 'events'), p('event')];
  }
}

/** What the customer's own pages show of each change (their queries carry no customer id: the session picks it). */
function ownTargets(m: BillingStreamMessage): QueryTarget[] {
  switch (m.kind) {
    case 'topup.created':
      return [p('topup', 'bySession')];
    case 'topup.credited':
      return [p('topup', 'bySession'), p('balance', 'get'), p('ledger', 'list')];
    case 'balance.changed':
      return [p('balance', 'get'), p('ledger', 'list'), p('usage', 'dashboard')];
    case 'usage.threshold_crossed':
      return [p('usage', 'dashboard')];
    case 'billing_record.paid':
      return [p('billingRecord', 'list'), { path: ['billingRecord', 'get'], input: { recordId: m.billingRecordId } }, p('invoice', 'list')];
    case 'subscription.changed':
      return [p('subscription', 'get'), p('subscription', 'previewChange'), p('license', 'list')];
    case 'invoice.changed':
      return [p('invoice', 'list'), p('subscription', 'get'), p('usage', 'dashboard')];
    default:
      return [];
  }
}

/**
 * The cached queries one stream message makes stale, for this viewer: an admin's workspace
 * views of the change, plus the viewer's own customer views when the change is to a customer
 * they are a member of. Every other query is left alone (no refetch storm on a busy workspace).
 * Unknown kinds (a newer server) invalidate nothing. Duplicates are removed.
 */
export function billingStreamTargets(message: BillingStreamMessage, viewer: BillingStreamViewer): QueryTarget[] {
  const targets: QueryTarget[] = [];
  if (viewer.admin) targets.push(...(adminTargets(message) ?? []));
  if (message.customerId !== undefined && viewer.ownCustomerIds.has(message.customerId)) targets.push(...ownTargets(message));
  return uniqueTargets(targets);
}

/**
 * Everything the stream keeps fresh for this viewer, for one refetch after a gap (a reconnect
 * that could not resume, the stream coming back): the same procedures as `billingStreamTargets`,
 * for every customer.
 */
export function allBillingStreamTargets(viewer: BillingStreamViewer): QueryTarget[] {
  const targets: QueryTarget[] = [];
  if (viewer.admin) {
    targets.push(
      ...['admin.topups', 'admin.events', 'event', 'customers.list', 'customers.get', 'customers.ledger', 'billingRecord.list', 'billingRecord.get', 'invoice.listForCustomer']
        .concat(['subscription.getForCustomer', 'license.listForCustomer', 'usage.dashboardForCustomer', 'usage.overview'])
        .map((path) => ({ path: path.split('.') })),
    );
  }
  if (viewer.ownCustomerIds.size > 0) {
    targets.push(
      ...['topup.bySession', 'balance.get', 'ledger.list', 'usage.dashboard', 'billingRecord.list', 'billingRecord.get', 'invoice.list', 'subscription.get', 'subscription.previewChange', 'license.list'].map(
        (path) => ({ path: path.split('.') }),
      ),
    );
  }
  return uniqueTargets(targets);
}

/** Targets without repeats (same path and input), first occurrence kept. */
export function uniqueTargets(targets: readonly QueryTarget[]): QueryTarget[] {
  const seen = new Set<string>();
  return targets.filter((t) => {
    const key = JSON.stringify(queryKeyOf(t));
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * tRPC error codes after which reconnecting cannot help: the deployment has no stream
 * (PRECONDITION_FAILED, naming ENABLE_BILLING_STREAM / REDIS_URL), or the server refuses this
 * viewer or input. The stream stays `off` (pages poll) until the viewer or workspace changes.
 */
const FINAL_CODES = new Set(['PRECONDITION_FAILED', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_REQUEST', 'METHOD_NOT_SUPPORTED', 'NOT_IMPLEMENTED']);

/** Whether a subscription error with this tRPC code (undefined: a network or EventSource failure) is final. */
export function isFinalStreamError(code: string | undefined): boolean {
  return code !== undefined && FINAL_CODES.has(code);
}

/** Delays before reopening a subscription that ended with a transient error, in milliseconds (then the last, repeated). */
export const RECONNECT_DELAYS_MS = [1_000, 2_000, 5_000, 10_000, 30_000] as const;

/** The delay before reconnect attempt `attempt` (0-based), in milliseconds. */
export function reconnectDelayMs(attempt: number): number {
  return RECONNECT_DELAYS_MS[Math.min(Math.max(0, attempt), RECONNECT_DELAYS_MS.length - 1)]!;
}

/** The input of `stream.billing` (packages/api/src/router/stream.ts `BillingStreamInput`). */
export interface BillingStreamInput {
  workspaceId?: string | null;
  lastEventId?: string | null;
}

/** What the store needs of a subscription: a `tracked` message, connection states, a final error. */
export interface BillingStreamHandlers {
  /** A message; `id` is the bus id (the resume point). */
  onData: (item: { id: string; data: BillingStreamMessage }) => void;
  /**
   * httpSubscriptionLink's connection state: `pending` is connected; `connecting` is (re)opening,
   * with the error that caused it when there was one (a dropped connection, Redis away).
   */
  onConnectionStateChange: (state: { state: 'idle' | 'connecting' | 'pending'; error: unknown }) => void;
  /** The subscription ended with an error; `code` is the tRPC error code when the server sent one. */
  onError: (error: { code: string | undefined }) => void;
  /** The server ended the stream (it does not normally). */
  onComplete: () => void;
}

/** Opens one subscription; returns its unsubscribe. */
export type BillingStreamSubscribe = (input: BillingStreamInput, handlers: BillingStreamHandlers) => { unsubscribe: () => void };

export interface BillingStreamStoreOptions {
  subscribe: BillingStreamSubscribe;
  /** Each message, in order. */
  onMessage: (message: BillingStreamMessage) => void;
  /** The stream is live again after a gap it may not have resumed across: refetch what it covers. */
  onResumed: () => void;
  /** Timers (tests pass fakes). */
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
}

/**
 * One live billing subscription's state, as an external store for `useSyncExternalStore`:
 * `start(input)` opens it (closing any previous one), `stop()` closes it. It tracks the last
 * message id and resumes from it when it has to reopen the subscription itself (after an error
 * httpSubscriptionLink does not retry); transient errors reopen after `reconnectDelayMs`,
 * final ones (`isFinalStreamError`) leave it `off`. Becoming live again after having been
 * live calls `onResumed`.
 */
export class BillingStreamStore {
  private state: BillingStreamState = 'off';
  private readonly listeners = new Set<() => void>();
  private current: { unsubscribe: () => void } | null = null;
  private timer: unknown = null;
  private generation = 0;
  private attempt = 0;
  private lastEventId: string | null = null;
  private wasLive = false;
  private input: BillingStreamInput | null = null;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(private readonly options: BillingStreamStoreOptions) {
    this.setTimer = options.setTimeout ?? ((fn, ms) => globalThis.setTimeout(fn, ms));
    this.clearTimer = options.clearTimeout ?? ((handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>));
  }

  /** The current state (stable between changes, as `useSyncExternalStore` requires). */
  getState = (): BillingStreamState => this.state;

  /** Listen to state changes; returns the unsubscribe. */
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** The last message id seen (the resume point), or null. */
  get resumeFrom(): string | null {
    return this.lastEventId;
  }

  /** Open the subscription for `input` (a new viewer or workspace: no resume point is carried over). */
  start(input: BillingStreamInput): void {
    this.stop();
    this.input = { workspaceId: input.workspaceId ?? null };
    this.lastEventId = null;
    this.wasLive = false;
    this.attempt = 0;
    this.open();
  }

  /** Close the subscription and any pending reconnect; the state becomes `off`. */
  stop(): void {
    this.generation += 1;
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
    this.current?.unsubscribe();
    this.current = null;
    this.input = null;
    this.setState('off');
  }

  private open(): void {
    if (!this.input) return;
    const generation = ++this.generation;
    const stale = () => generation !== this.generation;
    this.setState(this.wasLive || this.attempt > 0 ? 'reconnecting' : 'connecting');
    this.current = this.options.subscribe(
      { ...this.input, lastEventId: this.lastEventId },
      {
        onData: (item) => {
          if (stale()) return;
          this.lastEventId = item.id;
          this.options.onMessage(item.data);
        },
        onConnectionStateChange: ({ state, error }) => {
          if (stale()) return;
          if (state === 'pending') {
            this.attempt = 0;
            const resumed = this.wasLive;
            this.wasLive = true;
            this.setState('live');
            if (resumed) this.options.onResumed();
          } else if (state === 'connecting') {
            this.setState(this.wasLive || error ? 'reconnecting' : 'connecting');
          }
        },
        onError: ({ code }) => {
          if (stale()) return;
          this.current = null;
          if (isFinalStreamError(code)) {
            this.generation += 1;
            this.setState('off');
            return;
          }
          this.retryLater();
        },
        onComplete: () => {
          if (stale()) return;
          this.current = null;
          this.retryLater();
        },
      },
    );
  }

  private retryLater(): void {
    // Treat the gap as a drop: when it is live again, refetch what it covers.
    this.wasLive = this.wasLive || this.state === 'live';
    this.setState('reconnecting');
    const delay = reconnectDelayMs(this.attempt);
    this.attempt += 1;
    const generation = ++this.generation;
    this.timer = this.setTimer(() => {
      if (generation !== this.generation) return;
      this.timer = null;
      this.open();
    }, delay);
  }

  private setState(next: BillingStreamState): void {
    if (next === this.state) return;
    this.state = next;
    for (const listener of [...this.listeners]) listener();
  }
}
