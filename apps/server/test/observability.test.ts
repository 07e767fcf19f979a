/**
 * Observability (issue 10 item 6) on a real server, both dialects: the production logger (JSON
 * lines captured) sees webhooks signed with a known secret, a bad signature, an API key, a
 * password and a session cookie, and no line contains any of them, while every line carries the
 * request id; `/metrics` counts the deliveries it saw (parsed from the text exposition) and the
 * event log by status, and is closed to proxied and unauthenticated scrapes; `/readyz` answers
 * 503 while starting or migrating and when the database is closed, 200 otherwise.
 *
 * The app is `createApp` inside an outer app that mounts the request logging, `/metrics` and
 * `/readyz` the way main.ts/app.ts do (the middlewares are idempotent, so this also holds once
 * app.ts mounts them itself).
 */
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createAuth } from '@tally/api';
import { eq, type Database } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { createReadiness, readinessRoutes, readyWith, startingApp, type Readiness } from '../src/http/health';
import { metricsRoutes } from '../src/http/metrics';
import { assignRequestId, requestLogging } from '../src/http/request-id';
import { createLogger } from '../src/logger';
import { checkoutSession, deliver, ORIGIN, seedPendingTopup, serverStripeAccounts, sign, stripeEvent, testApiConfig, WEBHOOK_SECRET } from './harness';

const API_KEY = `tly_test_${'Q7'.repeat(21)}x`;
const PASSWORD = 'observability horse battery 42';
const SESSION_COOKIE = 'better-auth.session_token=ObservabilityCookieValue123.signaturePart456';

/** `name{labels} value` samples of a Prometheus text exposition. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = /^(\S+?(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

async function listen(app: express.Express) {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe.each(testDialects)('logs, /metrics and /readyz ($name)', ({ create }) => {
  let db: TestDatabase;
  const lines: string[] = [];
  let server: Awaited<ReturnType<typeof listen>>;
  let tokenServer: Awaited<ReturnType<typeof listen>>;
  const logger = createLogger({
    environment: 'production',
    destination: new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    }),
  });
  const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

  function observedApp(database: Database, readiness: Readiness, metricsToken: string | null) {
    const config = testApiConfig;
    const auth = createAuth({ db: database, secret: 'y'.repeat(32), baseURL: 'http://127.0.0.1', trustedOrigins: config.allowedFrontendOrigins, adminEmails: [], signUp: config.signUp, logger });
    const outer = express();
    outer.use(assignRequestId);
    outer.use(requestLogging(logger));
    outer.use(readinessRoutes(readiness));
    outer.use(metricsRoutes({ db: database, token: metricsToken }));
    outer.use(createApp({ services: { db: database, stripeAccounts: serverStripeAccounts(), config, logger }, auth }));
    return outer;
  }

  beforeAll(async () => {
    db = await create();
    server = await listen(observedApp(db, readyWith(db), null));
    tokenServer = await listen(observedApp(db, readyWith(db), 'metrics-token-for-tests-0123456789'));
  });
  afterAll(async () => {
    await server.close();
    await tokenServer.close();
    await db.destroy();
  });

  const scrape = async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    return samples(await res.text());
  };
  const delta = (before: Map<string, number>, after: Map<string, number>, key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);

  it('webhooks with known secrets, an API key, a password and a cookie: no line holds them, every line has the request id; /metrics counts the deliveries', async () => {
    const before = await scrape();
    lines.length = 0;

    // A paid top-up, delivered twice (processed, then duplicate).
    const topup = await seedPendingTopup(db, 500);
    const paid = JSON.stringify(stripeEvent('checkout.session.completed', checkoutSession({ id: topup.sessionId, client_reference_id: topup.topupId, amount_total: 500 })));
    const paidSignature = sign(paid);
    expect((await deliver(server.url, paid, paidSignature)).body).toMatchObject({ status: 'processed', duplicate: false });
    expect((await deliver(server.url, paid, paidSignature)).body).toMatchObject({ duplicate: true });
    // An unknown type (ignored), a wrong secret (rejected), a signature from the future (rejected, and logged by the domain).
    const unknown = JSON.stringify(stripeEvent('customer.created', { id: 'cus_observability', object: 'customer' }));
    expect((await deliver(server.url, unknown, sign(unknown))).body).toMatchObject({ status: 'ignored' });
    const forged = sign(paid, { secret: 'whsec_some_other_secret_0123456789' });
    expect((await deliver(server.url, paid, forged)).status).toBe(400);
    const future = JSON.stringify(stripeEvent('checkout.session.completed', checkoutSession({ id: 'cs_test_future' })));
    const futureSignature = sign(future, { timestamp: Math.floor(Date.now() / 1000) + 3600 });
    expect((await deliver(server.url, future, futureSignature)).status).toBe(400);

    // An API key that does not exist, a session cookie that does not either, a sign-up with a password.
    const keyed = await fetch(`${server.url}/api/v1/usage`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: '{}' });
    expect(keyed.status).toBe(401);
    const cookied = await fetch(`${server.url}/trpc/balance.get`, { headers: { cookie: SESSION_COOKIE, origin: ORIGIN } });
    expect(cookied.status).toBe(401);
    const signUp = await fetch(`${server.url}/api/auth/sign-up/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN },
      body: JSON.stringify({ name: 'Obs', email: `obs-${Date.now()}@example.test`, password: PASSWORD, callbackURL: '/' }),
    });
    expect(signUp.status).toBe(200);
    const pay = await fetch(`${server.url}/pay/AbCdEfGh1234567890TokenXyz?token=secretquery`);
    expect(pay.status).toBeGreaterThanOrEqual(200);

    // Request lines are written when the response finishes: wait for all nine.
    const deadline = Date.now() + 5_000;
    while (parsed().filter((l) => l.msg === 'request completed' || l.msg === 'request failed').length < 9 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const logged = parsed();
    const requestLines = logged.filter((l) => l.msg === 'request completed' || l.msg === 'request failed');
    expect(requestLines.map((l) => (l.req as { path: string }).path)).toEqual(
      expect.arrayContaining(['/api/stripe/webhook', '/api/v1/usage', '/trpc/balance.get', '/api/auth/sign-up/email', '/pay/[redacted]']),
    );
    expect(requestLines.find((l) => (l.req as { path: string }).path === '/api/stripe/webhook')).toMatchObject({ req: { method: 'POST' }, res: { status: 200 }, responseTime: expect.any(Number) });
    // The domain's own line (signature from the future), logged after express.raw, has the request id too.
    const refused = logged.find((l) => l.msg === 'Refused a correctly signed Stripe webhook');
    expect(refused).toMatchObject({ requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(logged.every((l) => typeof l.requestId === 'string' && /^[0-9a-f-]{36}$/.test(l.requestId))).toBe(true);

    const text = lines.join('\n');
    const forbidden = [
      WEBHOOK_SECRET,
      'whsec_some_other_secret_0123456789',
      ...[paidSignature, forged, futureSignature].flatMap((s) => s.split(',').filter((p) => p.startsWith('v1=')).map((p) => p.slice(3))),
      API_KEY,
      PASSWORD,
      'ObservabilityCookieValue123',
      'AbCdEfGh1234567890TokenXyz',
      'secretquery',
      'sk_test_server_tests_123',
    ];
    for (const secret of forbidden) expect(text).not.toContain(secret);

    const after = await scrape();
    const deliveries = (type: string, outcome: string) => delta(before, after, `tally_stripe_webhook_deliveries_total{type="${type}",outcome="${outcome}"}`);
    expect(deliveries('checkout.session.completed', 'processed')).toBe(1);
    expect(deliveries('checkout.session.completed', 'duplicate')).toBe(1);
    expect(deliveries('customer.created', 'ignored')).toBe(1);
    expect(deliveries('unknown', 'rejected')).toBe(2);
    expect(delta(before, after, 'tally_stripe_webhook_processing_seconds_count{outcome="processed"}')).toBe(1);
    expect(delta(before, after, 'tally_stripe_webhook_processing_seconds_count{outcome="rejected"}')).toBe(2);
    // Read from the database at scrape time.
    const byStatus = async (status: string) => (await db.q.select().from(db.t.stripeEvents).where(eq(db.t.stripeEvents.status, status as 'processed'))).length;
    expect(after.get('tally_stripe_events{status="processed"}')).toBe(await byStatus('processed'));
    expect(after.get('tally_stripe_events{status="ignored"}')).toBe(await byStatus('ignored'));
    expect(after.get('tally_stripe_events{status="dead"}')).toBe(0);
    expect(after.get('tally_stripe_event_sweeper_backlog{kind="stuck_received"}')).toBe(0);
    expect(after.get('tally_outbox_pending{outbox="email"}')).toBeGreaterThanOrEqual(1); // the sign-up's verification email
    expect(after.get('tally_outbox_pending{outbox="stripe_meter"}')).toBe(0);
    expect(after.get('tally_database_up')).toBe(1);
    expect(after.has('tally_billing_stream_subscribers')).toBe(true);
    expect(after.has('tally_process_cpu_seconds_total')).toBe(true);
  });

  it('/metrics: a proxied request is refused without a token; with TALLY_METRICS_TOKEN only the bearer gets in', async () => {
    const proxied = await fetch(`${server.url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(proxied.status).toBe(403);
    expect(await proxied.text()).toContain('TALLY_METRICS_TOKEN');
    expect((await fetch(`${tokenServer.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${tokenServer.url}/metrics`, { headers: { authorization: 'Bearer wrong-token' } })).status).toBe(401);
    const ok = await fetch(`${tokenServer.url}/metrics`, { headers: { authorization: 'Bearer metrics-token-for-tests-0123456789', 'x-forwarded-for': '203.0.113.9' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('tally_stripe_webhook_deliveries_total');
  });

  it('/readyz: 200 when ready; 503 while starting and migrating, and once the database is closed; /metrics then says tally_database_up 0', async () => {
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', database: db.dialect });

    const readiness = createReadiness();
    const starting = await listen(startingApp(readiness));
    try {
      const first = await fetch(`${starting.url}/readyz`);
      expect(first.status).toBe(503);
      expect(await first.json()).toMatchObject({ status: 'starting' });
      readiness.markMigrating();
      const migrating = await fetch(`${starting.url}/readyz`);
      expect(migrating.status).toBe(503);
      expect(migrating.headers.get('retry-after')).toBe('5');
      expect(await migrating.json()).toEqual({ status: 'migrating', reason: 'Database migrations are running' });
      const other = await fetch(`${starting.url}/trpc/balance.get`);
      expect(other.status).toBe(503);
      expect(await other.json()).toMatchObject({ error: expect.stringContaining('starting') });
    } finally {
      await starting.close();
    }

    const closing = await create();
    const closedServer = await listen(observedApp(closing, readyWith(closing), null));
    try {
      expect((await fetch(`${closedServer.url}/readyz`)).status).toBe(200);
      await closing.destroy();
      const down = await fetch(`${closedServer.url}/readyz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toEqual({ status: 'unavailable', reason: 'The database is unreachable' });
      const metrics = samples(await (await fetch(`${closedServer.url}/metrics`)).text());
      expect(metrics.get('tally_database_up')).toBe(0);
      expect(metrics.has('tally_stripe_events{status="processed"}')).toBe(false);
    } finally {
      await closedServer.close();
    }
  });
});
