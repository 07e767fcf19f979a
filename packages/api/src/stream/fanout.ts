/**
 * One process's subscribers of the billing stream (issue 10 item 1), shared by the Redis and
 * in-process buses: each bus feeds it messages in bus order (`deliver`) and its transport state
 * (`setState`), and tells it how to read retained history after an id (`replay`).
 *
 * Per subscriber: only its audience's messages (`audienceAccepts`), each id at most once and in
 * order (a message whose id is not after the last one it got is skipped), a resume from
 * `lastEventId` that reads history first while holding live messages, then flushes them; and a
 * bounded queue: a subscriber that does not read (a stalled connection) is ended with
 * `BillingStreamInterrupted` once `maxQueued` items wait, so one slow client never holds a
 * process's memory. It reconnects with its last id and catches up from history.
 */
import { BillingStreamInterrupted, type BillingStreamItem, type BillingStreamState, type BillingStreamSubscribeOptions } from './bus';
import { audienceAccepts, compareStreamIds, isStreamId, type BillingStreamAudience, type BillingStreamMessage } from './messages';

/** Default most items a subscriber may have waiting (live messages, or held while it resumes). */
export const DEFAULT_MAX_QUEUED = 5_000;

export interface LocalFanoutOptions {
  /** Pages of retained messages after `afterId` (exclusive), oldest first, every audience (filtered here). Throws when history cannot be read now. */
  replay: (afterId: string) => AsyncIterable<readonly BillingStreamMessage[]>;
  /** State at start. Default `live`. */
  initialState?: BillingStreamState;
  maxQueued?: number;
}

type Phase = 'live' | 'waiting-replay' | 'replaying';

class Subscriber implements AsyncIterableIterator<BillingStreamItem> {
  private queue: BillingStreamItem[] = [];
  private waiter: { resolve: (r: IteratorResult<BillingStreamItem>) => void; reject: (err: unknown) => void } | null = null;
  private ended: { error: Error | null } | null = null;
  /** Live messages held while the subscriber resumes. */
  held: BillingStreamMessage[] = [];
  phase: Phase = 'live';

  constructor(
    readonly audience: BillingStreamAudience,
    /** The last id this subscriber got (or resumes after). */
    public lastId: string | null,
    private readonly maxQueued: number,
    private readonly onEnd: (sub: Subscriber) => void,
  ) {}

  get isEnded(): boolean {
    return this.ended !== null;
  }

  push(item: BillingStreamItem, { force = false }: { force?: boolean } = {}): void {
    if (this.ended) return;
    if (this.waiter) {
      const { resolve } = this.waiter;
      this.waiter = null;
      resolve({ value: item, done: false });
      return;
    }
    this.queue.push(item);
    if (!force && this.queue.length > this.maxQueued) this.end(new BillingStreamInterrupted(`subscriber fell ${this.maxQueued} messages behind; reconnect with the last id seen`));
  }

  /** A message in bus order: delivered when it is for this audience and after the last id. */
  offer(message: BillingStreamMessage): void {
    if (this.ended || !audienceAccepts(this.audience, message)) return;
    if (this.phase !== 'live') {
      this.held.push(message);
      if (this.held.length > this.maxQueued) this.end(new BillingStreamInterrupted(`subscriber fell ${this.maxQueued} messages behind while resuming; reconnect with the last id seen`));
      return;
    }
    this.deliverIfNew(message);
  }

  deliverIfNew(message: BillingStreamMessage, force = false): void {
    if (this.lastId !== null && compareStreamIds(message.id, this.lastId) <= 0) return;
    this.lastId = message.id;
    this.push({ type: 'message', message }, { force });
  }

  end(error: Error | null = null): void {
    if (this.ended) return;
    this.ended = { error };
    this.queue = [];
    this.held = [];
    if (this.waiter) {
      const { resolve, reject } = this.waiter;
      this.waiter = null;
      if (error) reject(error);
      else resolve({ value: undefined, done: true });
      this.ended.error = null;
    }
    this.onEnd(this);
  }

  next(): Promise<IteratorResult<BillingStreamItem>> {
    const item = this.queue.shift();
    if (item) return Promise.resolve({ value: item, done: false });
    if (this.ended) {
      const error = this.ended.error;
      this.ended.error = null; // thrown once; done afterwards
      return error ? Promise.reject(error) : Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<BillingStreamItem>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<BillingStreamItem> {
    return this;
  }
}

/** The subscribers of one bus in one process. */
export class LocalFanout {
  private readonly subscribers = new Set<Subscriber>();
  private readonly countListeners = new Set<(count: number) => void>();
  private current: BillingStreamState;
  private readonly maxQueued: number;

  constructor(private readonly options: LocalFanoutOptions) {
    this.current = options.initialState ?? 'live';
    this.maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
  }

  state(): BillingStreamState {
    return this.current;
  }

  count(): number {
    return this.subscribers.size;
  }

  onCountChange(listener: (count: number) => void): () => void {
    this.countListeners.add(listener);
    return () => this.countListeners.delete(listener);
  }

  /**
   * A new subscription (see `BillingStreamBus.subscribe`).
   * @throws RangeError when `lastEventId` is not a bus id (callers validate input first).
   */
  subscribe({ audience, lastEventId, signal }: BillingStreamSubscribeOptions): AsyncIterableIterator<BillingStreamItem> {
    if (lastEventId && !isStreamId(lastEventId)) throw new RangeError(`not a billing stream id: ${lastEventId.slice(0, 40)}`);
    const onAbort = () => sub.end();
    const sub: Subscriber = new Subscriber({ ...audience }, lastEventId ?? null, this.maxQueued, (ended) => {
      signal?.removeEventListener('abort', onAbort);
      if (this.subscribers.delete(ended)) this.emitCount();
    });
    if (signal?.aborted) {
      sub.end();
      return sub;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    this.subscribers.add(sub);
    this.emitCount();
    sub.push({ type: 'state', state: this.current });
    if (lastEventId) {
      sub.phase = 'waiting-replay';
      if (this.current === 'live') void this.resume(sub);
    }
    return sub;
  }

  /** Fan one message (in bus order) out to the subscribers whose audience accepts it. */
  deliver(message: BillingStreamMessage): void {
    for (const sub of this.subscribers) sub.offer(message);
  }

  /** The transport's state; subscribers see each change, and those waiting to resume start when it is `live`. */
  setState(state: BillingStreamState): void {
    if (state === this.current) return;
    this.current = state;
    for (const sub of [...this.subscribers]) {
      sub.push({ type: 'state', state }, { force: true });
      if (state === 'live' && sub.phase === 'waiting-replay') void this.resume(sub);
    }
  }

  /** End every subscription (normally: iterators return). */
  endAll(): void {
    for (const sub of [...this.subscribers]) sub.end();
  }

  private async resume(sub: Subscriber): Promise<void> {
    sub.phase = 'replaying';
    try {
      for await (const page of this.options.replay(sub.lastId!)) {
        if (sub.isEnded) return;
        for (const message of page) if (audienceAccepts(sub.audience, message)) sub.deliverIfNew(message, true);
      }
      const held = sub.held;
      sub.held = [];
      for (const message of held) sub.deliverIfNew(message, true);
      sub.phase = 'live';
    } catch (err) {
      sub.end(new BillingStreamInterrupted('could not read the messages missed since the last id; reconnect to retry', { cause: err }));
    }
  }

  private emitCount(): void {
    const n = this.subscribers.size;
    for (const listener of this.countListeners) {
      try {
        listener(n);
      } catch {
        // A metrics callback must not break subscribing.
      }
    }
  }
}
