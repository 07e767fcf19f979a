/**
 * `GET /api/v1/billing/stream` in process (issue 10 item 1): heartbeats, a client that goes
 * away leaves no subscriber behind, stopping the bus ends the response, and a deployment
 * without a stream answers 503. Database (API keys) on SQLite and Postgres.
 */
import type { AddressInfo } from 'node:net';
import { createApiKey, createAuth, createInProcessBus, billingStreamWithout, recordingLogger, type BillingStream } from '@tally/api';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../../packages/api/src/ids';
import { billingStreamRoutes } from '../src/stream/sse-route';
import { openSse, waitFor } from './stream-helpers';

describe.each(testDialects)('billing stream SSE route ($name)', ({ create }) => {
  let db: TestDatabase;
  let key: string;
  let workspaceId: string;
  beforeAll(async () => {
    db = await create();
    workspaceId = newId();
    await db.q.insert(db.t.workspaces).values({ id: workspaceId, name: 'W', slug: `w-${workspaceId}`, currency: 'usd' });
    key = (await createApiKey(db, { workspaceId, name: 'k', mode: 'test' })).key;
  });
  afterAll(() => db.destroy());

  async function serve(stream: BillingStream) {
    const auth = createAuth({ db, secret: 'x'.repeat(32), baseURL: 'http://127.0.0.1', trustedOrigins: [], adminEmails: [], signUp: 'open', logger: recordingLogger() });
    const app = express().use(billingStreamRoutes({ db, auth, stream, logger: recordingLogger(), heartbeatMs: 50 }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/billing/stream`, close: () => new Promise((resolve) => server.close(resolve)) };
  }

  it('sends heartbeats and messages; a client that disconnects leaves no subscriber; stopping the bus ends the response', async () => {
    const bus = createInProcessBus();
    const server = await serve(bus);
    const sse = await openSse(server.url, { authorization: `Bearer ${key}` });
    await waitFor('heartbeats', () => (sse.state.comments >= 2 ? true : undefined));
    expect(bus.subscriberCount()).toBe(1);
    bus.publish({ kind: 'balance.changed', workspaceId, customerId: newId(), balanceMinor: 10, currency: 'usd' });
    bus.publish({ kind: 'balance.changed', workspaceId: newId(), customerId: newId(), balanceMinor: 20, currency: 'usd' });
    await waitFor('the message', () => (sse.messages().length === 1 ? true : undefined));
    expect(sse.messages()[0]).toMatchObject({ kind: 'balance.changed', balanceMinor: 10 });
    sse.close();
    await waitFor('the subscriber to go', () => (bus.subscriberCount() === 0 ? true : undefined));

    const second = await openSse(server.url, { authorization: `Bearer ${key}` });
    await waitFor('subscribed', () => (bus.subscriberCount() === 1 ? true : undefined));
    await bus.stop();
    await waitFor('the response to end', () => (second.state.ended ? true : undefined));
    expect(bus.subscriberCount()).toBe(0);
    await server.close();
  });

  it('without a stream: 503 naming the variable; a bad key: 401 (nothing subscribed)', async () => {
    for (const [kind, variable] of [
      ['unavailable', 'BILLING_EVENTS_REDIS_URL'],
      ['off', 'ENABLE_BILLING_STREAM=false'],
    ] as const) {
      const server = await serve(billingStreamWithout(kind));
      const res = await fetch(server.url, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: string }).error).toContain(variable);
      await server.close();
    }
    const bus = createInProcessBus();
    const server = await serve(bus);
    const res = await fetch(server.url, { headers: { authorization: 'Bearer tly_test_0000000000000000000000000000000000000000000' } });
    expect(res.status).toBe(401);
    expect(bus.subscriberCount()).toBe(0);
    await server.close();
    await bus.stop();
  });
});
