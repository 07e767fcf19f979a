/**
 * The billing stream across server processes (issue 10 item 1), on Redis Streams
 * (redis.io/docs/latest/develop/data-types/streams/) through ioredis.
 *
 * Why a stream rather than PUBLISH/SUBSCRIBE: one `XADD` both delivers and keeps history, and
 * Redis assigns ids (`<ms>-<seq>`) ordered across every process, so a reconnecting subscriber
 * resumes with `XRANGE (<lastId> +` and gets exactly what it missed; pub/sub would need a
 * second, separately ordered store for that.
 * - Publish: `XADD <key> MAXLEN ~ <maxLen> * m <json>` on a writer connection, never awaited
 *   by the request. While Redis is unreachable, messages wait in a bounded buffer
 *   (`publishBufferLimit`, oldest dropped first with a warning and a counter) and are written
 *   in order when it is back. A write Redis refuses is dropped and counted. Nothing in the
 *   database depends on any of this.
 * - Deliver: ONE reader connection per process loops on `XREAD BLOCK` from the last id it
 *   read and fans each entry out to this process's subscribers (`LocalFanout`: audience,
 *   order, at-most-once per subscriber, resume, slow-subscriber cut-off).
 * - Redis going away: ioredis reconnects by itself (backoff up to 2 s); the bus is
 *   `reconnecting` until both connections are ready again, then `live`; subscribers see both
 *   changes, and the reader continues from its last id, so nothing still in the stream is missed.
 * The Redis URL is logged only redacted (`redactRedisUrl`).
 */
import { LocalFanout, type BillingChange, type BillingStreamBus, type BillingStreamMessage, type BillingStreamState, type BillingStreamStats, type Logger } from '@tally/api';
import { Redis, type RedisOptions } from 'ioredis';
import { redactRedisUrl, redactSecretsIn } from './redact';

/** The stream key every Tally process shares by default. */
export const DEFAULT_BILLING_STREAM_KEY = 'tally:billing-stream';

export interface RedisBusOptions {
  /** BILLING_EVENTS_REDIS_URL (or REDIS_URL): `redis://[user:password@]host:port[/db]` or `rediss://`. */
  url: string;
  logger: Logger;
  /** The Redis stream key (tests use their own). Default `tally:billing-stream`. */
  streamKey?: string;
  /** Entries kept for resuming (approximate trim, `MAXLEN ~`). Default 10,000. */
  maxLen?: number;
  /** Messages buffered while Redis is unreachable before the oldest are dropped. Default 1,000. */
  publishBufferLimit?: number;
  /** `XREAD BLOCK` milliseconds per round (the reader's longest silence). Default 5,000. */
  blockMs?: number;
  /** Entries per `XREAD`/`XRANGE` page. Default 500. */
  pageSize?: number;
  /** Most items one subscriber may have waiting (default: LocalFanout's). */
  maxQueued?: number;
  /** Extra ioredis options for both connections (tests: a faster retry strategy). */
  redisOptions?: RedisOptions;
}

/** A Redis bus, and how to wait for it to be live (tests, start-up checks). */
export interface RedisBillingStreamBus extends BillingStreamBus {
  readonly kind: 'redis';
  /** Resolves when the bus is next `live` (at once if it is), or rejects after `timeoutMs`. */
  whenLive(timeoutMs?: number): Promise<void>;
}

/** Fields of one stream entry: `[name, value, ...]`; the message JSON is under `m`. */
function messageOf(id: string, fields: string[]): BillingStreamMessage | null {
  const at = fields.indexOf('m');
  if (at < 0 || at + 1 >= fields.length) return null;
  try {
    const parsed: unknown = JSON.parse(fields[at + 1]!);
    if (!parsed || typeof parsed !== 'object') return null;
    const m = parsed as Record<string, unknown>;
    if (typeof m.kind !== 'string' || (typeof m.workspaceId !== 'string' && m.workspaceId !== null) || typeof m.at !== 'string') return null;
    return { ...(m as unknown as Omit<BillingStreamMessage, 'id'>), id } as BillingStreamMessage;
  } catch {
    return null;
  }
}

/**
 * Connect a Redis bus (returns at once; it becomes `live` once Redis answers).
 * Never throws for Redis being unreachable: that is the `reconnecting` state.
 */
export function createRedisBus(options: RedisBusOptions): RedisBillingStreamBus {
  const { url, logger, streamKey = DEFAULT_BILLING_STREAM_KEY, maxLen = 10_000, publishBufferLimit = 1_000, blockMs = 5_000, pageSize = 500 } = options;
  const where = redactRedisUrl(url);
  const clean = (err: unknown) => redactSecretsIn(err instanceof Error ? err.message : String(err), url).slice(0, 300);
  // The reader waits for Redis as long as it takes; the writer fails fast (publishes buffer themselves).
  const reader = new Redis(url, { connectionName: 'tally-billing-stream-reader', maxRetriesPerRequest: null, ...options.redisOptions });
  const writer = new Redis(url, { connectionName: 'tally-billing-stream-writer', maxRetriesPerRequest: 1, enableOfflineQueue: false, ...options.redisOptions });

  const stats: BillingStreamStats = { published: 0, dropped: 0, buffered: 0 };
  const buffer: string[] = [];
  let stopped = false;
  let lastError: string | null = null;
  let everLive = false;
  /** The reader knows where to start (its first XREVRANGE answered): before that, a local publish could land before its start point. */
  let readerPrimed = false;
  let lastDropWarning = 0;
  const liveWaiters = new Set<() => void>();

  const fanout = new LocalFanout({
    initialState: 'reconnecting',
    maxQueued: options.maxQueued,
    async *replay(afterId) {
      let start = `(${afterId}`;
      for (;;) {
        const entries = (await writer.xrange(streamKey, start, '+', 'COUNT', pageSize)) as [string, string[]][];
        const page: BillingStreamMessage[] = [];
        for (const [id, fields] of entries) {
          const message = messageOf(id, fields);
          if (message) page.push(message);
        }
        if (page.length > 0) yield page;
        if (entries.length < pageSize) return;
        start = `(${entries[entries.length - 1]![0]}`;
      }
    },
  });

  const warnDropped = (why: string) => {
    const now = Date.now();
    if (now - lastDropWarning < 30_000) return;
    lastDropWarning = now;
    logger.warn({ redis: where, dropped: stats.dropped, why }, 'Billing stream: messages dropped (the live stream only notifies; the changes themselves are committed)');
  };

  const write = (payload: string) => {
    writer.xadd(streamKey, 'MAXLEN', '~', String(maxLen), '*', 'm', payload).then(
      () => {
        stats.published++;
      },
      (err: unknown) => {
        stats.dropped++;
        lastError = clean(err);
        warnDropped(lastError);
      },
    );
  };

  const flush = () => {
    if (writer.status !== 'ready') return;
    const pending = buffer.splice(0);
    stats.buffered = 0;
    for (const payload of pending) write(payload);
  };

  const refreshState = () => {
    if (stopped) return;
    const state: BillingStreamState = readerPrimed && reader.status === 'ready' && writer.status === 'ready' ? 'live' : 'reconnecting';
    if (state === fanout.state()) return;
    if (state === 'live') {
      flush();
      if (everLive) logger.info({ redis: where }, 'Billing stream: Redis is back; live again');
      everLive = true;
      for (const resolve of [...liveWaiters]) resolve();
    } else if (everLive) {
      logger.warn({ redis: where, err: lastError }, 'Billing stream: lost Redis; subscribers see "reconnecting" until it is back');
    }
    fanout.setState(state);
  };

  for (const [name, connection] of [
    ['reader', reader],
    ['writer', writer],
  ] as const) {
    connection.on('error', (err: unknown) => {
      const message = clean(err);
      if (message !== lastError) logger.warn({ redis: where, connection: name, err: message }, 'Billing stream: Redis connection error');
      lastError = message;
    });
    for (const event of ['ready', 'close', 'end', 'reconnecting']) connection.on(event, refreshState);
  }

  // The reader loop: from the stream's newest id at start, then from the last id read.
  void (async () => {
    let lastId: string | null = null;
    while (!stopped) {
      try {
        if (lastId === null) {
          const newest = (await reader.xrevrange(streamKey, '+', '-', 'COUNT', 1)) as [string, string[]][];
          lastId = newest[0]?.[0] ?? '0-0';
          readerPrimed = true;
          refreshState();
        }
        const result = (await reader.xread('COUNT', pageSize, 'BLOCK', blockMs, 'STREAMS', streamKey, lastId)) as [string, [string, string[]][]][] | null;
        for (const [, entries] of result ?? []) {
          for (const [id, fields] of entries) {
            lastId = id;
            const message = messageOf(id, fields);
            if (message) fanout.deliver(message);
          }
        }
      } catch (err) {
        if (stopped) return;
        lastError = clean(err);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  })();

  return {
    kind: 'redis',
    publish(change: BillingChange) {
      if (stopped) return;
      let payload: string;
      try {
        payload = JSON.stringify({ ...change, at: new Date().toISOString() });
      } catch {
        stats.dropped++;
        return;
      }
      if (writer.status === 'ready' && buffer.length === 0) return write(payload);
      buffer.push(payload);
      if (buffer.length > publishBufferLimit) {
        buffer.shift();
        stats.dropped++;
        warnDropped('Redis is unreachable and the publish buffer is full');
      }
      stats.buffered = buffer.length;
    },
    subscribe: (subscribeOptions) => fanout.subscribe(subscribeOptions),
    state: () => fanout.state(),
    subscriberCount: () => fanout.count(),
    onSubscriberCountChange: (listener) => fanout.onCountChange(listener),
    stats: () => ({ ...stats }),
    whenLive(timeoutMs = 10_000) {
      if (fanout.state() === 'live') return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          liveWaiters.delete(done);
          resolve();
        };
        const timer = setTimeout(() => {
          liveWaiters.delete(done);
          reject(new Error(`Billing stream: Redis at ${where} not reachable within ${timeoutMs} ms${lastError ? ` (${lastError})` : ''}`));
        }, timeoutMs);
        liveWaiters.add(done);
      });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      fanout.endAll();
      reader.disconnect();
      // Written messages are in flight on the writer: let them finish briefly, then close.
      await Promise.race([writer.quit().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
      writer.disconnect();
    },
  };
}
