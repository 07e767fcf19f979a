/**
 * The in-process billing stream bus (issue 10 item 1): for development with one server
 * process (config.ts `bus: 'in-process'`), and for tests. Messages never leave the process: a
 * second process would see none of them, which is why production needs Redis.
 *
 * Ids copy Redis stream ids (`<ms>-<seq>`, strictly increasing even if the clock steps back),
 * and the last `historyLimit` messages are kept for resuming (`Last-Event-ID`). Delivery is on
 * a microtask, never inside the caller's stack.
 */
import type { BillingStreamBus, BillingStreamStats } from './bus';
import { LocalFanout } from './fanout';
import { compareStreamIds, type BillingChange, type BillingStreamMessage } from './messages';

export interface InProcessBusOptions {
  /** Messages kept for resuming (default 10,000, as the Redis stream's MAXLEN). */
  historyLimit?: number;
  /** Most items one subscriber may have waiting (default: LocalFanout's). */
  maxQueued?: number;
  /** The clock (tests). */
  now?: () => number;
}

/** Start an in-process bus. */
export function createInProcessBus({ historyLimit = 10_000, maxQueued, now = Date.now }: InProcessBusOptions = {}): BillingStreamBus {
  const history: BillingStreamMessage[] = [];
  let lastMs = 0;
  let seq = 0;
  let stopped = false;
  const stats: BillingStreamStats = { published: 0, dropped: 0, buffered: 0 };
  const fanout = new LocalFanout({
    maxQueued,
    async *replay(afterId) {
      // History is in id order: find the first entry after `afterId`.
      let lo = 0;
      let hi = history.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compareStreamIds(history[mid]!.id, afterId) <= 0) lo = mid + 1;
        else hi = mid;
      }
      yield history.slice(lo);
    },
  });

  const nextId = () => {
    const ms = Math.max(now(), lastMs);
    seq = ms === lastMs ? seq + 1 : 0;
    lastMs = ms;
    return `${ms}-${seq}`;
  };

  return {
    kind: 'in-process',
    publish(change: BillingChange) {
      if (stopped) return;
      const message = { ...change, id: nextId(), at: new Date(now()).toISOString() } as BillingStreamMessage;
      history.push(message);
      if (history.length > historyLimit) history.splice(0, history.length - historyLimit);
      stats.published++;
      queueMicrotask(() => fanout.deliver(message));
    },
    subscribe: (options) => fanout.subscribe(options),
    state: () => fanout.state(),
    subscriberCount: () => fanout.count(),
    onSubscriberCountChange: (listener) => fanout.onCountChange(listener),
    stats: () => ({ ...stats }),
    async stop() {
      stopped = true;
      fanout.endAll();
    },
  };
}
