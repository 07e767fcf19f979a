/**
 * The live billing stream across real server processes (issue 10 item 1, "Tests"): two
 * processes (test/stream-server-main.ts: the server with the stream wired) on one database
 * (SQLite file and Postgres) and one Redis (127.0.0.1:6379, a stream key per run).
 * - A webhook credited through process A reaches an admin SSE subscriber on process B; a
 *   customer subscriber of another customer sees nothing of it.
 * - A subscriber that reconnects with its last id (`Last-Event-ID`) gets what it missed.
 * - `stream.billing` over tRPC's SSE transport authorizes per subscriber.
 * - ENABLE_BILLING_STREAM=true without Redis (production): 503 naming the variables.
 * - A Redis of the test's own killed mid-stream: the SSE subscriber gets `event: status`
 *   `reconnecting` (the connection stays open), the webhook is still processed (the database
 *   does not depend on Redis), and once Redis is back: `live`, then the message.
 */
import { randomUUID } from 'node:crypto';
import { createApiKey } from '@tally/api';
import { createDatabase, eq, type Database } from '@tally/db';
import { createTestDatabaseUrl, testDialects } from '@tally/db/testing';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkoutSession, deliver, ORIGIN, sign, signUpVerified, stripeEvent } from './harness';
import { freePort, productionEnv } from './server-process';
import { openSse, ownRedis, spawnStreamServer, uniqueStreamKey, waitFor } from './stream-helpers';

const PASSWORD = 'correct horse battery staple 42!';
const newId = () => randomUUID();

/** A pending top-up of `customerId` with its Checkout Session id, as createTopupCheckout leaves it. */
async function pendingTopup(db: Database, workspaceId: string, customerId: string, amountMinor: number) {
  const topupId = newId();
  const sessionId = `cs_test_${newId().replace(/-/g, '')}`;
  await db.q.insert(db.t.topups).values({ id: topupId, workspaceId, customerId, amountMinor, currency: 'usd', status: 'pending', stripeCheckoutSessionId: sessionId });
  return { topupId, sessionId };
}

/** Deliver a signed `checkout.session.completed` for the top-up to `baseUrl`. */
async function creditThrough(baseUrl: string, topup: { topupId: string; sessionId: string }, amountMinor: number) {
  const payload = JSON.stringify(stripeEvent('checkout.session.completed', checkoutSession({ id: topup.sessionId, client_reference_id: topup.topupId, amount_total: amountMinor, metadata: { tally_topup_id: topup.topupId } })));
  return deliver(baseUrl, payload, sign(payload));
}

const credits = (s: Awaited<ReturnType<typeof openSse>>) => s.messages().filter((m) => m.kind === 'topup.credited');

describe.each(testDialects)('two server processes on one database and one Redis ($name)', { timeout: 240_000 }, ({ name }) => {
  let database: { url: string; drop(): Promise<void> };
  let db: Database;
  let a: ReturnType<typeof spawnStreamServer>;
  let b: ReturnType<typeof spawnStreamServer>;
  let baseA: string;
  let baseB: string;
  let workspaceId: string;
  const adminEmail = `admin-${newId()}@example.test`;
  const people: Record<'admin' | 'alice' | 'bob', { cookie: string; customerId: string | null }> = {} as never;
  const sses: Awaited<ReturnType<typeof openSse>>[] = [];
  const sse = async (...args: Parameters<typeof openSse>) => {
    const s = await openSse(...args);
    sses.push(s);
    return s;
  };

  beforeAll(async () => {
    database = await createTestDatabaseUrl(name);
    const [portA, portB] = [await freePort(), await freePort()];
    baseA = `http://127.0.0.1:${portA}`;
    baseB = `http://127.0.0.1:${portB}`;
    const env = (port: number) =>
      productionEnv({
        PORT: String(port),
        DATABASE_URL: database.url,
        REDIS_URL: 'redis://127.0.0.1:6379',
        TEST_BILLING_STREAM_KEY: uniqueStreamKey(),
        TALLY_ADMIN_EMAILS: adminEmail,
        ALLOWED_FRONTEND_ORIGINS: ORIGIN,
        TALLY_PUBLIC_URL: `http://127.0.0.1:${port}`,
      });
    const envA = env(portA);
    a = spawnStreamServer(envA);
    await a.waitForOutput(/Tally is running/, 120_000);
    expect(a.stdout()).toContain('Billing stream: Redis at redis://127.0.0.1:6379 (across processes)');
    b = spawnStreamServer({ ...env(portB), TEST_BILLING_STREAM_KEY: envA.TEST_BILLING_STREAM_KEY! });
    await b.waitForOutput(/Tally is running/, 120_000);
    db = await createDatabase(database.url, { poolSize: 2, logger: { warn: () => undefined } });
    const [primary] = await db.q.select({ id: db.t.workspaces.id }).from(db.t.workspaces).where(eq(db.t.workspaces.slug, 'primary'));
    workspaceId = primary!.id;
    for (const [who, email] of [
      ['admin', adminEmail],
      ['alice', `alice-${newId()}@example.test`],
      ['bob', `bob-${newId()}@example.test`],
    ] as const) {
      const cookie = await signUpVerified(baseB, db, { email, password: PASSWORD });
      const [user] = await db.q.select({ id: db.t.users.id }).from(db.t.users).where(eq(db.t.users.email, email));
      const [membership] = await db.q.select({ customerId: db.t.customerMemberships.customerId }).from(db.t.customerMemberships).where(eq(db.t.customerMemberships.userId, user!.id));
      people[who] = { cookie, customerId: membership?.customerId ?? null };
    }
    expect(people.admin.customerId).toBeNull();
    expect(people.alice.customerId).not.toBeNull();
  }, 240_000);

  afterAll(async () => {
    for (const s of sses) s.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await db?.close();
    await database?.drop();
  });

  it("a webhook credited through A reaches B's admin subscriber; another customer's subscriber sees nothing of it", async () => {
    const admin = await sse(`${baseB}/api/v1/billing/stream?workspaceId=${workspaceId}`, { cookie: people.admin.cookie });
    const bob = await sse(`${baseB}/api/v1/billing/stream`, { cookie: people.bob.cookie });
    expect(admin.res.status).toBe(200);
    expect(admin.res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    await waitFor('both connected (status live)', () => (admin.statuses()[0] === 'live' && bob.statuses()[0] === 'live' ? true : undefined));

    const aliceTopup = await pendingTopup(db, workspaceId, people.alice.customerId!, 1500);
    expect((await creditThrough(baseA, aliceTopup, 1500)).status).toBe(200);
    const got = await waitFor("the admin's credit and balance", () => (admin.messages().length >= 2 ? admin.messages() : undefined));
    expect(got.slice(0, 2)).toMatchObject([
      { kind: 'topup.credited', workspaceId, customerId: people.alice.customerId, topupId: aliceTopup.topupId, amountMinor: 1500, currency: 'usd' },
      { kind: 'balance.changed', workspaceId, customerId: people.alice.customerId, balanceMinor: 1500, currency: 'usd' },
    ]);
    expect(admin.events.find((e) => e.event === 'message')!.id).toBe(got[0]!.id);

    // Bob's own credit, delivered after Alice's: the first message he gets is his.
    const bobTopup = await pendingTopup(db, workspaceId, people.bob.customerId!, 700);
    expect((await creditThrough(baseA, bobTopup, 700)).status).toBe(200);
    await waitFor("Bob's credit and balance", () => (bob.messages().length >= 2 ? true : undefined));
    expect(bob.messages().map((m) => [m.kind, m.customerId])).toEqual([
      ['topup.credited', people.bob.customerId],
      ['balance.changed', people.bob.customerId],
    ]);
    await waitFor("the admin's second credit", () => (credits(admin).length === 2 ? true : undefined));
    expect(credits(admin).map((m) => m.topupId)).toEqual([aliceTopup.topupId, bobTopup.topupId]);
  });

  it('a subscriber that reconnects with its last id gets what it missed (API key, Last-Event-ID)', async () => {
    const { key } = await createApiKey(db, { workspaceId, name: 'stream test', mode: 'test' });
    const first = await sse(`${baseB}/api/v1/billing/stream`, { authorization: `Bearer ${key}` });
    await waitFor('connected', () => (first.statuses()[0] === 'live' ? true : undefined));
    const one = await pendingTopup(db, workspaceId, people.alice.customerId!, 100);
    await creditThrough(baseA, one, 100);
    const [seen] = await waitFor('the first credit', () => (credits(first).length === 1 ? credits(first) : undefined));
    const lastId = first.events.filter((e) => e.id).at(-1)!.id!;
    first.close();

    const missed = [await pendingTopup(db, workspaceId, people.bob.customerId!, 200), await pendingTopup(db, workspaceId, people.alice.customerId!, 300)];
    for (const [i, t] of missed.entries()) expect((await creditThrough(baseA, t, [200, 300][i]!)).status).toBe(200);

    const again = await sse(`${baseB}/api/v1/billing/stream`, { authorization: `Bearer ${key}`, 'last-event-id': lastId });
    await waitFor('the two missed credits', () => (credits(again).length === 2 ? true : undefined));
    expect(credits(again).map((m) => m.topupId)).toEqual(missed.map((t) => t.topupId));
    expect(again.messages().some((m) => m.topupId === seen!.topupId)).toBe(false);
    // The same through the query parameter.
    const viaQuery = await sse(`${baseA}/api/v1/billing/stream?lastEventId=${encodeURIComponent(lastId)}`, { authorization: `Bearer ${key}` });
    await waitFor('the two missed credits (query)', () => (credits(viaQuery).length === 2 ? true : undefined));
  });

  it('refuses what it must: no credentials 401, a bad key 401, a foreign workspace 403, a malformed Last-Event-ID 400', async () => {
    const plain = await fetch(`${baseB}/api/v1/billing/stream`);
    expect(plain.status).toBe(401);
    expect(plain.headers.get('www-authenticate')).toContain('Bearer');
    expect((await fetch(`${baseB}/api/v1/billing/stream`, { headers: { authorization: 'Bearer tly_test_nope' } })).status).toBe(401);
    const foreign = await fetch(`${baseB}/api/v1/billing/stream?workspaceId=${newId()}`, { headers: { cookie: people.admin.cookie } });
    expect(foreign.status).toBe(403);
    const customerAsAdmin = await fetch(`${baseB}/api/v1/billing/stream?workspaceId=${workspaceId}`, { headers: { cookie: people.alice.cookie } });
    expect(customerAsAdmin.status).toBe(403);
    const othersCustomer = await fetch(`${baseB}/api/v1/billing/stream?customerId=${people.bob.customerId}`, { headers: { cookie: people.alice.cookie } });
    expect(othersCustomer.status).toBe(404);
    const malformed = await fetch(`${baseB}/api/v1/billing/stream`, { headers: { cookie: people.admin.cookie, 'last-event-id': 'x; DROP' } });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ error: expect.stringContaining('Last-Event-ID') });
  });

  it('stream.billing over tRPC SSE: an admin gets their workspace as tracked ids; a customer asking for the workspace is refused', async () => {
    const url = (input: unknown) => `${baseB}/trpc/stream.billing?input=${encodeURIComponent(JSON.stringify(superjson.serialize(input)))}`;
    const admin = await sse(url({ workspaceId }), { cookie: people.admin.cookie });
    const alice = await sse(url({}), { cookie: people.alice.cookie });
    const refused = await sse(url({ workspaceId }), { cookie: people.alice.cookie });
    await waitFor('connected', () => (admin.events.some((e) => e.event === 'connected') && alice.events.some((e) => e.event === 'connected') ? true : undefined));
    await waitFor('the refusal', () => (refused.events.some((e) => e.event === 'serialized-error') ? true : undefined));
    const error = superjson.deserialize(JSON.parse(refused.events.find((e) => e.event === 'serialized-error')!.data)) as { data: { code: string } };
    expect(error.data.code).toBe('FORBIDDEN');

    const bobTopup = await pendingTopup(db, workspaceId, people.bob.customerId!, 900);
    await creditThrough(baseA, bobTopup, 900);
    const aliceTopup = await pendingTopup(db, workspaceId, people.alice.customerId!, 400);
    await creditThrough(baseA, aliceTopup, 400);
    const data = (s: typeof admin) => s.events.filter((e) => e.event === 'message').map((e) => ({ id: e.id, value: superjson.deserialize(JSON.parse(e.data)) as { id: string; kind: string; topupId?: string } }));
    await waitFor("the admin's two credits", () => (data(admin).filter((d) => d.value.kind === 'topup.credited').length === 2 ? true : undefined));
    await waitFor("alice's credit", () => (data(alice).some((d) => d.value.kind === 'topup.credited') ? true : undefined));
    expect(data(admin).every((d) => d.id === d.value.id)).toBe(true);
    expect(data(alice).map((d) => d.value.topupId).filter(Boolean)).toEqual([aliceTopup.topupId]);
  });
});

describe('a deployment without Redis, and Redis going away', { timeout: 180_000 }, () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('ENABLE_BILLING_STREAM=true without a Redis URL (production): 503 naming the variables, on SSE and tRPC', async () => {
    const database = await createTestDatabaseUrl('sqlite');
    cleanups.push(database.drop);
    const port = await freePort();
    const server = spawnStreamServer(productionEnv({ PORT: String(port), DATABASE_URL: database.url, ENABLE_BILLING_STREAM: 'true' }));
    cleanups.push(server.stop);
    await server.waitForOutput(/Tally is running/, 120_000);
    expect(server.stdout()).toContain('ENABLE_BILLING_STREAM is on but neither BILLING_EVENTS_REDIS_URL nor REDIS_URL is set');
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/billing/stream`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: string };
    expect(body.error).toMatch(/ENABLE_BILLING_STREAM/);
    expect(body.error).toMatch(/BILLING_EVENTS_REDIS_URL/);
    expect(body.error).toMatch(/REDIS_URL/);
    const trpc = await openSse(`http://127.0.0.1:${port}/trpc/stream.billing?input=${encodeURIComponent(JSON.stringify(superjson.serialize({})))}`);
    await waitFor('the tRPC refusal', () => (trpc.events.some((e) => e.event === 'serialized-error') ? true : undefined));
    const error = superjson.deserialize(JSON.parse(trpc.events.find((e) => e.event === 'serialized-error')!.data)) as { message: string; data: { code: string } };
    trpc.close();
    expect(error.data.code).toBe('PRECONDITION_FAILED');
    expect(error.message).toMatch(/BILLING_EVENTS_REDIS_URL/);
  });

  it('Redis killed mid-stream: status reconnecting, the webhook still processed; Redis back: live, then the message', async () => {
    const redis = await ownRedis();
    cleanups.push(redis.stop);
    const database = await createTestDatabaseUrl('sqlite');
    cleanups.push(database.drop);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = spawnStreamServer(productionEnv({ PORT: String(port), DATABASE_URL: database.url, REDIS_URL: redis.url, TEST_HEARTBEAT_MS: '200' }));
    cleanups.push(server.stop);
    await server.waitForOutput(/Tally is running/, 120_000);
    const db = await createDatabase(database.url, { logger: { warn: () => undefined } });
    cleanups.push(() => db.close());
    const [primary] = await db.q.select({ id: db.t.workspaces.id }).from(db.t.workspaces).where(eq(db.t.workspaces.slug, 'primary'));
    const workspaceId = primary!.id;
    const customerId = newId();
    await db.q.insert(db.t.customers).values({ id: customerId, workspaceId, name: 'C' });
    const { key } = await createApiKey(db, { workspaceId, name: 'outage test', mode: 'test' });

    const stream = await openSse(`${base}/api/v1/billing/stream`, { authorization: `Bearer ${key}` });
    cleanups.push(async () => stream.close());
    await waitFor('live', () => (stream.statuses().includes('live') ? true : undefined), 15_000);
    await waitFor('heartbeats', () => (stream.state.comments >= 2 ? true : undefined));

    await redis.stop();
    await waitFor('reconnecting', () => (stream.statuses().at(-1) === 'reconnecting' ? true : undefined), 15_000);
    const topup = await pendingTopup(db, workspaceId, customerId, 2500);
    expect((await creditThrough(base, topup, 2500)).status).toBe(200);
    const [row] = await db.q.select({ status: db.t.topups.status }).from(db.t.topups).where(eq(db.t.topups.id, topup.topupId));
    expect(row!.status).toBe('paid');
    expect(stream.state.ended).toBe(false);

    await redis.start();
    await waitFor('live again', () => (stream.statuses().at(-1) === 'live' ? true : undefined), 20_000);
    await waitFor('the credit made during the outage', () => (credits(stream).some((m) => m.topupId === topup.topupId) ? true : undefined), 15_000);
    expect(stream.statuses()).toEqual(['live', 'reconnecting', 'live']);
    expect(server.stdout() + server.stderr()).toContain('Billing stream: lost Redis');
  });
});
