/**
 * Starting the live billing stream from config (issue 10 item 1): the bus config.ts chose
 * (`ServerConfig.billingStream.bus`), the publish sink pointed at it, and the line the start
 * banner prints about it.
 */
import { billingStreamWithout, createInProcessBus, setBillingChangeSink, type BillingStream, type Logger } from '@tally/api';
import type { ServerConfig } from '../config';
import { createRedisBus, type RedisBusOptions } from './redis-bus';
import { redactRedisUrl } from './redact';

export interface StartedBillingStream {
  /** For `Services.billingStream` (tRPC `stream.billing`) and `billingStreamRoutes`. */
  stream: BillingStream;
  /** The start banner's line about the stream (two leading spaces, as the others). */
  announce: string;
  /** Stop publishing into it, end every subscription, close Redis. */
  stop(): Promise<void>;
}

/**
 * Start the stream `config` describes and make `publishBillingChange` publish into it:
 * `redis` (across processes; returns at once and connects in the background: Redis being
 * down at start is the `reconnecting` state, never a failed start), `in-process`
 * (development, one process), or none (`unavailable`: the endpoints answer 503 naming the
 * variables; `off`).
 */
export function startBillingStream({
  config,
  logger,
  redis,
}: {
  config: ServerConfig['billingStream'];
  logger: Logger;
  /** Extra Redis bus options (tests: stream key, retry strategy). */
  redis?: Omit<RedisBusOptions, 'url' | 'logger'>;
}): StartedBillingStream {
  if (config.bus === 'redis' && config.redisUrl) {
    const bus = createRedisBus({ url: config.redisUrl, logger, ...redis });
    const restore = setBillingChangeSink((change) => bus.publish(change));
    return {
      stream: bus,
      announce: `  Billing stream: Redis at ${redactRedisUrl(config.redisUrl)} (across processes)`,
      async stop() {
        restore();
        await bus.stop();
      },
    };
  }
  if (config.bus === 'in-process') {
    const bus = createInProcessBus();
    const restore = setBillingChangeSink((change) => bus.publish(change));
    return {
      stream: bus,
      announce: '  Billing stream: in-process bus (development, one process)',
      async stop() {
        restore();
        await bus.stop();
      },
    };
  }
  const none = billingStreamWithout(config.bus === 'unavailable' ? 'unavailable' : 'off');
  return {
    stream: none,
    announce:
      config.bus === 'unavailable'
        ? '  WARNING: ENABLE_BILLING_STREAM is on but neither BILLING_EVENTS_REDIS_URL nor REDIS_URL is set: the live billing stream answers 503 (set one to a Redis URL).'
        : '  Billing stream: off (ENABLE_BILLING_STREAM=false)',
    async stop() {},
  };
}
