/**
 * `POST /api/v1/usage` over real HTTP against the real app (issue 9 items 2 and 3), both
 * dialects: workspace API keys (401 for a missing, malformed, unknown or revoked key; another
 * workspace's customer is 404), the body limits (415, 400, 413 for 1 MB and for 1,000 events),
 * each single-event status, per-event batch answers, the same batch twice, and 20 concurrent
 * copies of one event on two server instances (own database connections) counted once.
 */
import { createApiKey, revokeApiKey } from '@tally/api';
import { and, eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../../packages/api/src/ids';
import { seedTenants } from '../../../packages/api/test/helpers';
import { creditBalance, insertMeter } from '../../../packages/api/test/usage-helpers';
import { startServer } from './harness';

type Server = Awaited<ReturnType<typeof startServer>>;

describe.each(testDialects)('usage ingestion API ($name)', ({ create }) => {
  let db: TestDatabase;
  let server: Server;
  let acme: Awaited<ReturnType<typeof seedTenants>>;
  let globex: Awaited<ReturnType<typeof seedTenants>>;
  let key: string;
  let revokedKey: string;

  beforeAll(async () => {
    db = await create();
    server = await startServer(db);
    acme = await seedTenants(db);
    globex = await seedTenants(db);
    await insertMeter(db, acme.workspaceId, { key: 'stt_words' });
    await insertMeter(db, acme.workspaceId, { key: 'api_calls', billingMode: 'prepaid', aggregation: 'count', priceMinor: 10, blockSize: 100 });
    key = (await createApiKey(db, { workspaceId: acme.workspaceId, name: 'voice backend', mode: 'test' })).key;
    const revoked = await createApiKey(db, { workspaceId: acme.workspaceId, name: 'old', mode: 'test' });
    await revokeApiKey(db, { workspaceId: acme.workspaceId, keyId: revoked.id });
    revokedKey = revoked.key;
  });
  afterAll(async () => {
    await server?.close();
    await db?.destroy();
  });

  const post = (body: unknown, { auth = key, url = server.url, type = 'application/json' }: { auth?: string | null; url?: string; type?: string } = {}) =>
    fetch(`${url}/api/v1/usage`, {
      method: 'POST',
      headers: { ...(auth === null ? {} : { authorization: auth.startsWith('Bearer') || auth.startsWith('Basic') ? auth : `Bearer ${auth}` }), 'content-type': type },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> });
  const ev = (overrides: Record<string, unknown> = {}) => ({ customerId: acme.alice.customerId, meter: 'stt_words', quantity: 10, idempotencyKey: `h-${newId()}`, ...overrides });
  const eventCount = async () => (await db.q.select({ id: db.t.usageEvents.id }).from(db.t.usageEvents)).length;
  const quantityOf = async (customerId: string) =>
    (await db.q.select().from(db.t.usageDailyRollups).where(eq(db.t.usageDailyRollups.customerId, customerId))).reduce((s, r) => s + Number(r.quantity), 0);

  it('refuses a missing, malformed, unknown or revoked key with 401 and stores nothing', async () => {
    const before = await eventCount();
    for (const auth of [null, 'Basic abc', `Bearer tly_test_${'A'.repeat(43)}`, revokedKey, 'Bearer not-a-key']) {
      const res = await post(ev(), { auth });
      expect(res.status, String(auth)).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="tally"/);
    }
    expect(await eventCount()).toBe(before);
  });

  it("another workspace's customer is unknown here: 404, nothing stored", async () => {
    const before = await eventCount();
    expect(await json(await post(ev({ customerId: globex.alice.customerId })))).toMatchObject({ status: 404, body: { status: 'rejected', code: 'unknown_customer' } });
    expect(await eventCount()).toBe(before);
  });

  it('one event: 201 accepted, then 200 duplicate with the same id, then 409 for another payload', async () => {
    const event = ev({ quantity: 42 });
    const first = await json(await post(event));
    expect(first).toMatchObject({ status: 201, body: { status: 'accepted', idempotencyKey: event.idempotencyKey, chargedMinor: 0 } });
    expect(await json(await post(event))).toMatchObject({ status: 200, body: { status: 'duplicate', eventId: first.body.eventId } });
    expect(await json(await post({ ...event, quantity: 43 }))).toMatchObject({ status: 409, body: { code: 'conflict' } });
  });

  it('one event: 400 for a bad quantity, 404 for an unknown meter, 402 when the prepaid balance cannot cover it', async () => {
    expect(await json(await post(ev({ quantity: '100' })))).toMatchObject({ status: 400, body: { code: 'invalid', error: expect.stringMatching(/quantity must be a number/) } });
    expect(await json(await post(ev({ meter: 'nope' })))).toMatchObject({ status: 404, body: { code: 'unknown_meter' } });
    expect(await json(await post(ev({ meter: 'api_calls', customerId: acme.bob.customerId })))).toMatchObject({ status: 402, body: { code: 'payment_required' } });
    await creditBalance(db, { workspaceId: acme.workspaceId, customerId: acme.bob.customerId, amountMinor: 10 });
    expect(await json(await post(ev({ meter: 'api_calls', customerId: acme.bob.customerId })))).toMatchObject({ status: 201, body: { chargedMinor: 10 } });
  });

  it('a batch answers per event; one bad event does not drop the good ones; the same batch twice is all duplicates', async () => {
    const batch = { events: [ev({ quantity: 1 }), ev({ quantity: -1 }), ev({ quantity: 2 }), ev({ meter: 'nope' })] };
    const before = await quantityOf(acme.alice.customerId);
    const first = await json(await post(batch));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ accepted: 2, duplicates: 0, rejected: 2 });
    expect((first.body.results as { status: string }[]).map((r) => r.status)).toEqual(['accepted', 'rejected', 'accepted', 'rejected']);
    expect(await quantityOf(acme.alice.customerId)).toBe(before + 3);
    const again = await json(await post(batch));
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 2, rejected: 2 });
    expect(await quantityOf(acme.alice.customerId)).toBe(before + 3);
    // A bare array is a batch too.
    expect((await json(await post([ev()]))).body).toMatchObject({ accepted: 1 });
  });

  it('refuses bodies it cannot read: 415, 400 and 413, storing nothing', async () => {
    const before = await eventCount();
    expect((await post(ev(), { type: 'text/plain' })).status).toBe(415);
    expect(await json(await post('{"events": [', {}))).toMatchObject({ status: 400, body: { error: 'Body is not valid JSON' } });
    expect((await json(await post('42'))).status).toBe(400);
    expect(await json(await post({ events: 'nope' }))).toMatchObject({ status: 400, body: { error: 'events must be an array of usage events' } });
    expect(await json(await post({ events: [] }))).toMatchObject({ status: 400, body: { error: 'events must hold at least one event' } });
    expect(await json(await post({ events: [ev()], extra: 1 }))).toMatchObject({ status: 400 });
    const tooMany = { events: Array.from({ length: 1001 }, () => ev()) };
    expect(await json(await post(tooMany))).toMatchObject({ status: 413, body: { error: 'A batch holds at most 1000 events; this one has 1001' } });
    const big = { events: Array.from({ length: 300 }, () => ev({ properties: { pad: 'x'.repeat(3900) } })) };
    expect(JSON.stringify(big).length).toBeGreaterThan(1_048_576);
    expect(await json(await post(big))).toMatchObject({ status: 413, body: { error: expect.stringMatching(/Body larger than 1048576 bytes/) } });
    expect((await post(ev(), { auth: key })).status).toBe(201);
    expect(await eventCount()).toBe(before + 1);
    expect((await fetch(`${server.url}/api/v1/usage`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(405);
  });

  it('a full batch of 1,000 events is accepted in one request', async () => {
    const customerId = newId();
    await db.q.insert(db.t.customers).values({ id: customerId, workspaceId: acme.workspaceId, name: 'Bulk', externalId: `bulk-${customerId}` });
    const events = Array.from({ length: 1000 }, (_, i) => ({ customerExternalId: `bulk-${customerId}`, meter: 'stt_words', quantity: i, idempotencyKey: `bulk-${customerId}-${i}` }));
    expect((await json(await post({ events }))).body).toMatchObject({ accepted: 1000, rejected: 0 });
    expect(await quantityOf(customerId)).toBe((999 * 1000) / 2);
  });

  it('20 concurrent copies of one event on two server instances are counted once', async () => {
    const second = await startServer(await db.connectAgain());
    try {
      const event = ev({ customerId: acme.bob.customerId, quantity: 17 });
      const before = await quantityOf(acme.bob.customerId);
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => post(event, { url: i % 2 ? second.url : server.url }).then(json)));
      expect(answers.map((a) => a.status).sort()).toEqual([...Array(19).fill(200), 201].sort());
      expect(new Set(answers.map((a) => a.body.eventId)).size).toBe(1);
      expect(await quantityOf(acme.bob.customerId)).toBe(before + 17);
      const rows = await db.q.select().from(db.t.usageEvents).where(and(eq(db.t.usageEvents.workspaceId, acme.workspaceId), eq(db.t.usageEvents.idempotencyKey, event.idempotencyKey)));
      expect(rows).toHaveLength(1);
    } finally {
      await second.close();
    }
  });
});
