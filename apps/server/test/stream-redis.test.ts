/**
 * The Redis bus of the live billing stream (issue 10 item 1) against a real Redis: the shared
 * one at 127.0.0.1:6379 (a unique stream key per test) and, for outages, a redis-server of the
 * test's own that is killed and restarted on the same port.
 */
import { randomUUID } from 'node:crypto';
import { recordingLogger, type BillingChange } from '@tally/api';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisBus, type RedisBillingStreamBus } from '../src/stream/redis-bus';
import { redactRedisUrl, redactSecretsIn } from '../src/stream/redact';
import { collect, ownRedis, uniqueStreamKey, waitFor } from './stream-helpers';

const SHARED_REDIS = 'redis://127.0.0.1:6379';
const fastRetry = { retryStrategy: () => 100 };

const W = randomUUID();
const OTHER_W = randomUUID();
const ALICE = randomUUID();
const BOB = randomUUID();
const credited = (customerId: string, amountMinor: number, workspaceId = W): BillingChange => ({ kind: 'topup.credited', workspaceId, customerId, topupId: randomUUID(), amountMinor, currency: 'usd' });

const buses: RedisBillingStreamBus[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
function bus(opts: Partial<Parameters<typeof createRedisBus>[0]> & { streamKey: string }) {
  const b = createRedisBus({ url: SHARED_REDIS, logger: recordingLogger(), redisOptions: fastRetry, ...opts });
  buses.push(b);
  return b;
}
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.stop()));
  for (const c of cleanups.splice(0)) await c();
});

describe('Redis bus: across processes', () => {
  it('a change published on bus A reaches bus B subscribers by audience: the admin sees all, a customer only their own', async () => {
    const streamKey = uniqueStreamKey();
    const a = bus({ streamKey });
    const b = bus({ streamKey });
    await Promise.all([a.whenLive(), b.whenLive()]);
    const admin = collect(b.subscribe({ audience: { workspaceId: W } }));
    const bob = collect(b.subscribe({ audience: { workspaceId: W, customerId: BOB } }));
    const otherAdmin = collect(b.subscribe({ audience: { workspaceId: OTHER_W } }));
    expect(b.subscriberCount()).toBe(3);

    a.publish(credited(ALICE, 500));
    a.publish(credited(BOB, 700));
    a.publish(credited(ALICE, 900, OTHER_W));

    const got = await waitFor('three messages for the admin', () => (admin.messages().length >= 2 && otherAdmin.messages().length >= 1 ? admin.messages() : undefined));
    expect(got.map((m) => [m.kind, m.customerId, 'amountMinor' in m ? m.amountMinor : null])).toEqual([
      ['topup.credited', ALICE, 500],
      ['topup.credited', BOB, 700],
    ]);
    expect(got[0]!.id).toMatch(/^\d+-\d+$/);
    expect(got[0]!.at).toMatch(/^\d{4}-\d\d-\d\dT/);
    // Bob's first message is his own: Alice's (published before it) never reached him.
    await waitFor("Bob's message", () => (bob.messages().length > 0 ? true : undefined));
    expect(bob.messages().map((m) => m.customerId)).toEqual([BOB]);
    expect(otherAdmin.messages().map((m) => [m.workspaceId, m.customerId])).toEqual([[OTHER_W, ALICE]]);
    expect(admin.states()).toEqual(['live']);

    await admin.stop();
    expect(b.subscriberCount()).toBe(2);
  });

  it('a subscriber resuming after its last id gets exactly the messages it missed, then live ones', async () => {
    const streamKey = uniqueStreamKey();
    const a = bus({ streamKey });
    const b = bus({ streamKey, pageSize: 2 });
    await Promise.all([a.whenLive(), b.whenLive()]);
    const first = collect(b.subscribe({ audience: { workspaceId: W } }));
    a.publish(credited(ALICE, 1));
    const [seen] = await waitFor('the first message', () => (first.messages().length === 1 ? first.messages() : undefined));
    await first.stop();

    // Missed while away: five messages (several XRANGE pages of 2), one of another workspace.
    for (const amount of [2, 3, 4, 5]) a.publish(credited(ALICE, amount));
    a.publish(credited(ALICE, 99, OTHER_W));
    const counter = collect(b.subscribe({ audience: { workspaceId: W } }));
    a.publish(credited(ALICE, 6));
    await waitFor('the live message', () => (counter.messages().some((m) => 'amountMinor' in m && m.amountMinor === 6) ? true : undefined));

    const resumed = collect(b.subscribe({ audience: { workspaceId: W }, lastEventId: seen!.id }));
    const replayed = await waitFor('the missed messages', () => (resumed.messages().length >= 5 ? resumed.messages() : undefined));
    expect(replayed.map((m) => ('amountMinor' in m ? m.amountMinor : null))).toEqual([2, 3, 4, 5, 6]);
    a.publish(credited(ALICE, 7));
    await waitFor('the next live message, once', () => (resumed.messages().length === 6 ? true : undefined));
    expect(resumed.messages().map((m) => ('amountMinor' in m ? m.amountMinor : null))).toEqual([2, 3, 4, 5, 6, 7]);
  });

  it('refuses a malformed resume id', () => {
    const b = bus({ streamKey: uniqueStreamKey() });
    expect(() => b.subscribe({ audience: { workspaceId: W }, lastEventId: "0-0'; FLUSHALL" })).toThrow(RangeError);
  });
});

describe('Redis bus: Redis going away and coming back', () => {
  it('subscribers see reconnecting, publishing neither throws nor waits, and buffered messages arrive once Redis is back', async () => {
    const redis = await ownRedis();
    cleanups.push(redis.stop);
    const logger = recordingLogger();
    const b = createRedisBus({ url: redis.url, logger, streamKey: uniqueStreamKey(), redisOptions: fastRetry });
    buses.push(b);
    await b.whenLive();
    const admin = collect(b.subscribe({ audience: { workspaceId: W } }));
    b.publish(credited(ALICE, 10));
    await waitFor('the first message', () => (admin.messages().length === 1 ? true : undefined));

    await redis.stop();
    await waitFor('reconnecting', () => (admin.states().includes('reconnecting') ? true : undefined));
    expect(b.state()).toBe('reconnecting');
    b.publish(credited(ALICE, 20));
    b.publish(credited(BOB, 30));
    expect(b.stats().buffered).toBe(2);

    await redis.start();
    await waitFor('live again', () => (admin.states().at(-1) === 'live' ? true : undefined), 15_000);
    const got = await waitFor('the buffered messages', () => (admin.messages().length === 3 ? admin.messages() : undefined));
    expect(got.map((m) => ('amountMinor' in m ? m.amountMinor : null))).toEqual([10, 20, 30]);
    expect(admin.states()).toEqual(['live', 'reconnecting', 'live']);
    expect(admin.state.error).toBeNull();
    expect(b.stats()).toMatchObject({ dropped: 0, buffered: 0 });
    expect(logger.records.map((r) => r.message)).toEqual(expect.arrayContaining(['Billing stream: lost Redis; subscribers see "reconnecting" until it is back', 'Billing stream: Redis is back; live again']));
  });

  it('drops the oldest buffered messages beyond the limit, counts them and warns once', async () => {
    const redis = await ownRedis();
    cleanups.push(redis.stop);
    const logger = recordingLogger();
    const b = createRedisBus({ url: redis.url, logger, streamKey: uniqueStreamKey(), publishBufferLimit: 2, redisOptions: fastRetry });
    buses.push(b);
    await b.whenLive();
    const admin = collect(b.subscribe({ audience: { workspaceId: W } }));
    await redis.stop();
    await waitFor('reconnecting', () => (b.state() === 'reconnecting' ? true : undefined));
    for (const amount of [1, 2, 3]) b.publish(credited(ALICE, amount));
    expect(b.stats()).toMatchObject({ dropped: 1, buffered: 2 });
    expect(logger.records.filter((r) => r.message.startsWith('Billing stream: messages dropped'))).toHaveLength(1);
    await redis.start();
    const got = await waitFor('the two kept messages', () => (admin.messages().length === 2 ? admin.messages() : undefined), 15_000);
    expect(got.map((m) => ('amountMinor' in m ? m.amountMinor : null))).toEqual([2, 3]);
  });

  it('starts while Redis is down (reconnecting), and goes live when it appears', async () => {
    const redis = await ownRedis();
    cleanups.push(redis.stop);
    await redis.stop();
    const b = createRedisBus({ url: redis.url, logger: recordingLogger(), streamKey: uniqueStreamKey(), redisOptions: fastRetry });
    buses.push(b);
    const sub = collect(b.subscribe({ audience: { workspaceId: W } }));
    expect(b.state()).toBe('reconnecting');
    await redis.start();
    await b.whenLive(15_000);
    await waitFor('live', () => (sub.states().at(-1) === 'live' ? true : undefined));
    expect(sub.states()).toEqual(['reconnecting', 'live']);
  });
});

describe('Redis URLs in logs', () => {
  it('redacts the password (and a password-only user info), keeping host and port', () => {
    expect(redactRedisUrl('redis://default:s3cret@cache.internal:6380/2')).toBe('redis://default:***@cache.internal:6380/2');
    expect(redactRedisUrl('rediss://:p%40ss@cache:6379')).toBe('rediss://:***@cache:6379');
    expect(redactRedisUrl('redis://tokenonly@cache:6379')).toBe('redis://***@cache:6379');
    expect(redactRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactRedisUrl('not a url with s3cret')).toBe('redis://[unparseable URL]');
    expect(redactSecretsIn('WRONGPASS for redis://u:s3cret@h:1 (s3cret)', 'redis://u:s3cret@h:1')).toBe('WRONGPASS for redis://u:***@h:1 (***)');
  });

  it('never logs the password of a Redis that refuses it', async () => {
    const logger = recordingLogger();
    const redis = await ownRedis(['--requirepass', 'the-right-password']);
    cleanups.push(redis.stop);
    // A wrong password: WRONGPASS on every connection attempt.
    const b = createRedisBus({ url: `redis://default:s3cret-redis-pw@127.0.0.1:${redis.port}`, logger, streamKey: uniqueStreamKey(), redisOptions: { ...fastRetry, maxRetriesPerRequest: 0 } });
    buses.push(b);
    await waitFor('a logged connection error', () => (logger.records.some((r) => r.message === 'Billing stream: Redis connection error') ? true : undefined));
    const text = JSON.stringify(logger.records);
    expect(text).not.toContain('s3cret-redis-pw');
    expect(text).toContain(`redis://default:***@127.0.0.1:${redis.port}`);
  });
});
