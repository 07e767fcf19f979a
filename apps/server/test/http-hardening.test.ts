/**
 * The HTTP transport's hardening (issue 6, items 5, 6, 7, 12), over real HTTP against the
 * real app: security headers everywhere, tRPC body/batch/content-type/Origin limits, mutation
 * rate limits per user and per IP shared through the database, generic internal errors with
 * a request id, and the built SPA served compressed with the right caching. Both dialects.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { recordingLogger } from '@tally/api';
import { eq, sql, type Database } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import express from 'express';
import superjson from 'superjson';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from '../src/http/errors';
import { assignRequestId } from '../src/http/request-id';
import { ORIGIN, startServer } from './harness';

const PASSWORD = 'Quartz-Meadow-Lantern-4821';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

type Server = Awaited<ReturnType<typeof startServer>>;
type Headers = Record<string, string>;

/** A fake Vite build: index.html and one hashed asset, each large enough to be compressed. */
function fakeWebDist(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tally-web-dist-'));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), `<!doctype html><html><head><title>Tally</title></head><body><div id="root"></div>${'<!-- padding -->'.repeat(200)}</body></html>`);
  writeFileSync(path.join(dir, 'assets', 'x-abc123.js'), `export const x = ${JSON.stringify('x'.repeat(4000))};\n`);
  writeFileSync(path.join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  return dir;
}

/** Raw SQL that returns no rows, on either dialect (test-only: domain code never branches). */
async function exec(db: Database, query: ReturnType<typeof sql>) {
  if (db.dialect === 'sqlite') await (db.q as unknown as { run(q: typeof query): unknown }).run(query);
  else await db.rows(query);
}

/**
 * POST the first `chunks` to `url` without finishing the body and resolve with the status
 * the server answers: a body it refuses early is never sent whole.
 */
function statusOfUnfinishedPost(url: URL, headers: Record<string, string>, chunks: string[]): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
  });
}

/** Sign up (and verify, if the deployment requires it) and return the session cookie. */
async function signedIn(server: Server, db: Database, email: string): Promise<string> {
  const post = (p: string, body: object) =>
    fetch(`${server.url}/api/auth/${p}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: ORIGIN }, body: JSON.stringify(body) });
  const cookieOf = (res: Response) => res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const signUp = await post('sign-up/email', { email, password: PASSWORD, name: 'Hardening Tester' });
  expect(signUp.status).toBe(200);
  let cookie = cookieOf(signUp);
  if (!cookie.includes('session_token')) {
    await db.q.update(db.t.users).set({ emailVerified: true }).where(eq(db.t.users.email, email));
    cookie = cookieOf(await post('sign-in/email', { email, password: PASSWORD }));
  }
  expect(cookie).toContain('session_token');
  return cookie;
}

/** POST a tRPC mutation; JSON with the allowed Origin unless `headers`/`body` say otherwise. */
async function mutate(server: Server, procedure: string, { input, headers = {}, body }: { input?: unknown; headers?: Headers; body?: string | FormData } = {}) {
  // An empty header value leaves the header out (FormData then sets its own multipart type).
  const sent = Object.fromEntries(Object.entries({ 'content-type': 'application/json', origin: ORIGIN, ...headers }).filter(([, v]) => v !== ''));
  const res = await fetch(`${server.url}/trpc/${procedure}`, { method: 'POST', headers: sent, body: body ?? JSON.stringify(superjson.serialize(input)) });
  return { res, status: res.status, body: (await res.json().catch(() => null)) as TrpcBody | null };
}

interface TrpcError {
  message: string;
  data: { code: string; httpStatus: number; stack?: unknown };
}
type TrpcBody = { error?: { json: TrpcError }; result?: unknown } | { error?: { json: TrpcError }; result?: unknown }[];
const errorOf = (body: TrpcBody | null) => (Array.isArray(body) ? body[0]?.error?.json : body?.error?.json);

/** A top-up start that fails validation in the domain (below the minimum): writes nothing, counts as a mutation. */
const INVALID_TOPUP = { amountMinor: 1 };

describe.each(testDialects)('HTTP hardening ($name)', ({ create }) => {
  let db: TestDatabase;
  let webDist: string;
  const servers: Server[] = [];
  const start = async (opts: Parameters<typeof startServer>[1] = {}) => {
    const server = await startServer(db, opts);
    servers.push(server);
    return server;
  };
  const topupCount = async () => (await db.q.select({ id: db.t.topups.id }).from(db.t.topups)).length;
  let emailSeq = 0;
  const newEmail = () => `hardening-${Date.now()}-${++emailSeq}@example.test`;

  beforeAll(async () => {
    db = await create();
    webDist = fakeWebDist();
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    // Each test starts with fresh rate-limit windows (all its requests come from 127.0.0.1).
    await db.q.delete(db.t.rateLimits);
  });
  afterAll(async () => {
    await db.destroy();
    rmSync(webDist, { recursive: true, force: true });
  });

  it("sends helmet's headers and a server-made X-Request-Id on /, /trpc, /api/auth and the webhook", async () => {
    const server = await start({ webDistDir: webDist });
    const responses = await Promise.all([
      fetch(`${server.url}/`),
      fetch(`${server.url}/trpc/me.get`),
      fetch(`${server.url}/api/auth/get-session`, { headers: { 'x-request-id': 'forged-by-client' } }),
      fetch(`${server.url}/api/stripe/webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 400]);
    const ids = new Set<string>();
    for (const res of responses) {
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).toContain("base-uri 'self'");
      expect(csp).toContain("form-action 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('upgrade-insecure-requests');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('strict-transport-security')).toBeNull();
      expect(res.headers.get('x-powered-by')).toBeNull();
      const id = res.headers.get('x-request-id') ?? '';
      expect(id).toMatch(UUID);
      ids.add(id);
    }
    expect(ids.size).toBe(4);
  });

  it('sends HSTS (and upgrade-insecure-requests) only when the public URL is https', async () => {
    const plain = await start({ publicUrl: 'http://billing.example.com' });
    const secure = await start({ publicUrl: 'https://billing.example.com' });
    const [p, s] = await Promise.all([fetch(`${plain.url}/healthz`), fetch(`${secure.url}/healthz`)]);
    expect(p.headers.get('strict-transport-security')).toBeNull();
    expect(s.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    expect(s.headers.get('content-security-policy')).toContain('upgrade-insecure-requests');
  });

  it('answers 413 to a tRPC body over 100 KB, before reading it, and creates nothing', async () => {
    const server = await start();
    const cookie = await signedIn(server, db, newEmail());
    const padding = 'x'.repeat(200 * 1024);
    const big = await mutate(server, 'topup.createCheckout', { headers: { cookie }, body: JSON.stringify(superjson.serialize({ amountMinor: 500, padding })) });
    expect(big.status).toBe(413);
    expect(errorOf(big.body)?.data.code).toBe('PAYLOAD_TOO_LARGE');

    const url = new URL(`${server.url}/trpc/topup.createCheckout`);
    // A declared 64 MB body: the answer comes after the first kilobyte, the rest never sent.
    const declared = await statusOfUnfinishedPost(url, { 'content-type': 'application/json', origin: ORIGIN, cookie, 'content-length': String(64 * 1024 * 1024) }, ['x'.repeat(1024)]);
    expect(declared).toBe(413);
    // A chunked body (no Content-Length) is cut off by tRPC's maxBodySize once past the limit.
    const chunked = await statusOfUnfinishedPost(url, { 'content-type': 'application/json', origin: ORIGIN, cookie }, Array.from({ length: 20 }, () => 'x'.repeat(16 * 1024)));
    expect(chunked).toBe(413);
    expect(await topupCount()).toBe(0);
  });

  it('bounds /api/auth bodies: over 64 KB is 413, another content type 415, before better-auth reads them; a normal sign-in still works', async () => {
    const server = await start();
    const email = newEmail();
    await signedIn(server, db, email);
    const post = (body: string | Buffer, type: string) =>
      fetch(`${server.url}/api/auth/sign-in/email`, { method: 'POST', headers: { 'content-type': type, origin: ORIGIN }, body });
    const big = await post(JSON.stringify({ email, password: PASSWORD, padding: 'x'.repeat(200 * 1024) }), 'application/json');
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error: 'Body larger than 65536 bytes' });
    // A declared 64 MB body is refused after the first kilobyte; the rest is never read.
    const declared = await statusOfUnfinishedPost(new URL(`${server.url}/api/auth/sign-in/email`), { 'content-type': 'application/json', origin: ORIGIN, 'content-length': String(64 * 1024 * 1024) }, ['x'.repeat(1024)]);
    expect(declared).toBe(413);
    for (const type of ['text/plain', 'multipart/form-data; boundary=x', 'application/octet-stream']) {
      expect((await post(JSON.stringify({ email, password: PASSWORD }), type)).status, type).toBe(415);
    }
    const ok = await post(JSON.stringify({ email, password: PASSWORD }), 'application/json');
    expect(ok.status).toBe(200);
    expect(ok.headers.getSetCookie().join('; ')).toContain('session_token');
  });

  it('refuses an 11-call batch and accepts 10', async () => {
    const server = await start();
    const cookie = await signedIn(server, db, newEmail());
    const batch = (n: number, procedure: string) => `${server.url}/trpc/${Array(n).fill(procedure).join(',')}?batch=1`;
    const input = (n: number) => encodeURIComponent(JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [i, superjson.serialize(undefined)]))));

    const ten = await fetch(`${batch(10, 'me.get')}&input=${input(10)}`, { headers: { cookie } });
    expect(ten.status).toBe(200);
    expect((await ten.json()) as unknown[]).toHaveLength(10);

    const eleven = await fetch(`${batch(11, 'me.get')}&input=${input(11)}`, { headers: { cookie } });
    expect(eleven.status).toBe(400);
    expect(errorOf((await eleven.json()) as TrpcBody)?.message).toBe('Batch call exceeds maximum size');

    const inputs = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [i, superjson.serialize({ amountMinor: 500 })]));
    const mutations = await fetch(batch(11, 'topup.createCheckout'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN, cookie },
      body: JSON.stringify(inputs),
    });
    expect(mutations.status).toBe(400);
    expect(await topupCount()).toBe(0);
  });

  it('accepts only application/json on tRPC POSTs: multipart, text/plain and urlencoded are 415 and change nothing', async () => {
    const server = await start();
    const cookie = await signedIn(server, db, newEmail());
    const form = new FormData();
    form.set('amountMinor', '500');
    const refused = [
      await mutate(server, 'topup.createCheckout', { headers: { cookie, 'content-type': '' }, body: form }),
      await mutate(server, 'topup.createCheckout', { headers: { cookie, 'content-type': 'text/plain' }, body: JSON.stringify(superjson.serialize({ amountMinor: 500 })) }),
      await mutate(server, 'topup.createCheckout', { headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: 'amountMinor=500' }),
    ];
    expect(refused.map((r) => r.status)).toEqual([415, 415, 415]);
    expect(refused.map((r) => errorOf(r.body)?.data.code)).toEqual(['UNSUPPORTED_MEDIA_TYPE', 'UNSUPPORTED_MEDIA_TYPE', 'UNSUPPORTED_MEDIA_TYPE']);
    expect(await topupCount()).toBe(0);
    // The same request as JSON reaches the domain (and writes a top-up; the offline Stripe then fails it).
    const json = await mutate(server, 'topup.createCheckout', { headers: { cookie }, input: { amountMinor: 500 } });
    expect(json.status).toBe(502);
    expect(await topupCount()).toBe(1);
    await db.q.delete(db.t.topups);
  });

  it('refuses a mutation with a foreign or missing Origin (403) before the procedure runs, and changes nothing', async () => {
    const server = await start();
    const cookie = await signedIn(server, db, newEmail());
    const noOrigin = await fetch(`${server.url}/trpc/topup.createCheckout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify(superjson.serialize({ amountMinor: 500 })),
    });
    const foreign = await mutate(server, 'topup.createCheckout', { headers: { cookie, origin: 'https://evil.example' }, input: { amountMinor: 500 } });
    // Refused before input validation and authentication: the domain would say 400 and 401.
    const foreignInvalid = await mutate(server, 'topup.createCheckout', { headers: { cookie, origin: 'https://evil.example' }, input: INVALID_TOPUP });
    const foreignSignedOut = await mutate(server, 'topup.createCheckout', { headers: { origin: 'null' }, input: { amountMinor: 500 } });
    expect([noOrigin.status, foreign.status, foreignInvalid.status, foreignSignedOut.status]).toEqual([403, 403, 403, 403]);
    expect(errorOf((await noOrigin.json()) as TrpcBody)?.message).toMatch(/Missing Origin/);
    expect(errorOf(foreign.body)?.message).toMatch(/ALLOWED_FRONTEND_ORIGINS/);
    expect(await topupCount()).toBe(0);
    // Queries (GET) need no Origin.
    expect((await fetch(`${server.url}/trpc/balance.get`, { headers: { cookie } })).status).toBe(200);
  });

  it('rate-limits mutations per user: the limit+1st is 429 with RateLimit headers; another user is unaffected', async () => {
    const server = await start({ limits: { mutationsPerUser: { limit: 3, windowMs: 60_000 }, mutationsPerIp: { limit: 100, windowMs: 60_000 } } });
    const alice = await signedIn(server, db, newEmail());
    const bob = await signedIn(server, db, newEmail());
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await mutate(server, 'topup.createCheckout', { headers: { cookie: alice }, input: INVALID_TOPUP })).status);
    expect(statuses).toEqual([400, 400, 400]);
    const limited = await mutate(server, 'topup.createCheckout', { headers: { cookie: alice }, input: { amountMinor: 500 } });
    expect(limited.status).toBe(429);
    expect(errorOf(limited.body)).toMatchObject({ message: expect.stringMatching(/^Too many requests; try again in \d+ s$/), data: { code: 'TOO_MANY_REQUESTS' } });
    expect(limited.res.headers.get('ratelimit')).toContain('"mutations-per-user"; r=0');
    expect(limited.res.headers.get('ratelimit-policy')).toContain('"mutations-per-user"; q=3; w=60');
    expect(Number(limited.res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await topupCount()).toBe(0);
    expect((await mutate(server, 'topup.createCheckout', { headers: { cookie: bob }, input: INVALID_TOPUP })).status).toBe(400);
    // Queries are not limited.
    expect((await fetch(`${server.url}/trpc/balance.get`, { headers: { cookie: alice } })).status).toBe(200);
  });

  it('rate-limits mutations per client IP as trust proxy resolves it (IPv6 by /56); spoofed X-Forwarded-For does not bypass it', async () => {
    const limits = { mutationsPerIp: { limit: 3, windowMs: 60_000 }, mutationsPerUser: { limit: 100, windowMs: 60_000 } };
    const proxied = await start({ limits, trustProxy: ['loopback'] });
    const cookie = await signedIn(proxied, db, newEmail());
    const from = async (server: Server, ip: string) => (await mutate(server, 'topup.createCheckout', { headers: { cookie, 'x-forwarded-for': ip }, input: INVALID_TOPUP })).status;
    expect([await from(proxied, '203.0.113.1'), await from(proxied, '203.0.113.1'), await from(proxied, '203.0.113.1'), await from(proxied, '203.0.113.1')]).toEqual([400, 400, 400, 429]);
    expect(await from(proxied, '203.0.113.2')).toBe(400);
    expect([await from(proxied, '2001:db8:0:1::1'), await from(proxied, '2001:db8:0:1::2'), await from(proxied, '2001:db8:0:1:ffff::3'), await from(proxied, '2001:db8:0:2::4')]).toEqual([400, 400, 400, 429]);
    expect(await from(proxied, '2001:db8:1::1')).toBe(400);

    // No proxy trusted: the socket address counts, whatever X-Forwarded-For claims.
    const direct = await start({ limits });
    const statuses = [];
    for (let i = 1; i <= 4; i++) statuses.push(await from(direct, `198.51.100.${i}`));
    expect(statuses).toEqual([400, 400, 400, 429]);
  });

  it('shares the counts across processes: two servers on one database allow the limit once', async () => {
    const limits = { mutationsPerUser: { limit: 3, windowMs: 60_000 }, mutationsPerIp: { limit: 100, windowMs: 60_000 } };
    const first = await start({ limits });
    const other = await db.connectAgain();
    const second = await startServer(other, { limits });
    servers.push(second); // `other` is closed by db.destroy()
    const cookie = await signedIn(first, db, newEmail());
    const hit = async (server: Server) => (await mutate(server, 'topup.createCheckout', { headers: { cookie }, input: INVALID_TOPUP })).status;
    expect([await hit(first), await hit(second), await hit(first), await hit(second)]).toEqual([400, 400, 400, 429]);
  });

  it('answers an internal error with a generic message and the request id, and logs the cause under that id', async () => {
    const logger = recordingLogger();
    const server = await start({ logger });
    const cookie = await signedIn(server, db, newEmail());
    await exec(db, sql`alter table customer_balances rename to customer_balances_away`);
    let res: Response;
    try {
      res = await fetch(`${server.url}/trpc/balance.get`, { headers: { cookie } });
    } finally {
      await exec(db, sql`alter table customer_balances_away rename to customer_balances`);
    }
    expect(res.status).toBe(500);
    const text = await res.text();
    const requestId = res.headers.get('x-request-id')!;
    expect(requestId).toMatch(UUID);
    const error = errorOf(JSON.parse(text) as TrpcBody)!;
    expect(error.message).toBe(`Internal error; request id ${requestId}`);
    expect(error.data.code).toBe('INTERNAL_SERVER_ERROR');
    expect(error.data.stack).toBeUndefined();
    expect(text).not.toMatch(/customer_balances|select|Failed query|at .*\.ts/i);
    const logged = logger.records.filter((r) => r.level === 'error' && r.fields.requestId === requestId);
    expect(logged).toHaveLength(1);
    expect(logged[0]!.fields.procedure).toBe('balance.get');
    const cause = logged[0]!.fields.err as Error;
    expect(`${cause.message} ${String((cause.cause as Error | undefined)?.message)}`).toMatch(/customer_balances/);
    // The bound parameters (here the customer id) stay out of the log.
    expect(cause.message).not.toMatch(/params:/);
  });

  it('serves the built SPA compressed, hashed assets cached for a year, index.html revalidated', async () => {
    const server = await start({ webDistDir: webDist });
    const get = (p: string, encoding = 'gzip') => fetch(`${server.url}${p}`, { headers: { 'accept-encoding': encoding } });
    const asset = await get('/assets/x-abc123.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-encoding')).toBe('gzip');
    expect(await asset.text()).toContain('export const x');
    for (const p of ['/', '/index.html', '/balance', '/admin/topups']) {
      const page = await get(p);
      expect([p, page.status, page.headers.get('cache-control'), page.headers.get('content-encoding')]).toEqual([p, 200, 'no-cache', 'gzip']);
      expect(await page.text()).toContain('<div id="root">');
    }
    expect((await get('/', 'identity')).headers.get('content-encoding')).toBeNull();
    expect((await get('/favicon.svg')).headers.get('cache-control')).toBe('no-cache');
    // A missing hashed asset is a 404, not index.html under a script's name; so is an unknown API path.
    expect((await get('/assets/missing-0000.js')).status).toBe(404);
    expect((await get('/api/nothing-here')).status).toBe(404);
    // tRPC and the webhook are not compressed (API responses stay out of BREACH's reach).
    const cookie = await signedIn(server, db, newEmail());
    const trpc = await fetch(`${server.url}/trpc/${Array(10).fill('me.get').join(',')}?batch=1`, { headers: { 'accept-encoding': 'gzip', cookie } });
    expect(trpc.status).toBe(200);
    expect(trpc.headers.get('content-encoding')).toBeNull();
    expect((await trpc.text()).length).toBeGreaterThan(1024);
  });
});

describe('the Express error handler (routes other than tRPC)', () => {
  it('answers 500 with a generic message and the request id, logs the cause with that id, and keeps 4xx messages that may be shown', async () => {
    const logger = recordingLogger();
    const app = express();
    app.use(assignRequestId);
    app.get('/boom', () => {
      throw new Error('Failed query: select secret from users where email = $1\nparams: someone@example.com');
    });
    app.post('/json', express.json({ limit: '10b' }), (_req, res) => void res.json({ ok: true }));
    app.use(errorHandler({ logger }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const res = await fetch(`${url}/boom`);
      const requestId = res.headers.get('x-request-id')!;
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ error: `Internal error; request id ${requestId}`, requestId });
      expect(logger.records).toEqual([{ level: 'error', message: 'Request failed', fields: expect.objectContaining({ requestId, method: 'GET', path: '/boom', err: expect.any(Error) }) }]);
      const tooBig = await fetch(`${url}/json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":"0123456789"}' });
      expect(tooBig.status).toBe(413);
      // body-parser's 413 is answered with the limit it exceeded.
      expect(((await tooBig.json()) as { error: string }).error).toBe('Body larger than 10 bytes');
      expect(logger.records).toHaveLength(1);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
