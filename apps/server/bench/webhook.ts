/**
 * Webhook ingestion benchmark (`pnpm bench`, issue 11): Tally's webhook endpoint against a bare
 * baseline, in the same run, on SQLite and on Postgres.
 *
 * What runs, per dialect:
 * - Two servers, each in its own child process on its own fresh database of that dialect
 *   (`createTestDatabaseUrl`; Postgres is TEST_POSTGRES_URL, else 127.0.0.1:5432, never PGlite),
 *   both migrated by Tally's migrations (so the same tables and indexes) and seeded the same way:
 *   one workspace, BENCH_CUSTOMERS customers (default 1,000: a month-start burst is many
 *   subscribers' events; with 1, every credit moves the same `customer_balances` row, so on
 *   Postgres credits serialize on that row's lock, held until each commit's WAL flush), pending top-ups of 500 usd minor units dealt
 *   round robin to them, each with its Checkout Session id.
 *   - Tally: the built server `dist/main.js` (NODE_ENV=production), `POST /api/stripe/webhook`.
 *   - The baseline: this file with `--baseline-server`, a hand-written webhook receiver as a bare
 *     integration would be written: `node:http`, the raw body read whole, one `Stripe` instance
 *     and `stripe.webhooks.constructEvent(body, header, secret)`, then ONE transaction: insert the
 *     event (`processed` or `ignored`) with `ON CONFLICT (scope, id) DO NOTHING RETURNING`; a
 *     conflict is a redelivery (`attempts + 1`, commit, 200 duplicate); otherwise, for
 *     `checkout.session.completed`, select the top-up (id from `client_reference_id` /
 *     `metadata.tally_topup_id`, and the session id), insert the ledger entry
 *     (`topup:<id>`, `ON CONFLICT (reference) DO NOTHING`), upsert `customer_balances`, mark the
 *     top-up paid. The same columns Tally writes. SQLite: better-sqlite3 with Tally's pragmas
 *     (WAL, synchronous NORMAL, wal_autocheckpoint, foreign_keys; busy_timeout 5 s, as it has no
 *     asynchronous retry, and no other writer touches its file during the runs), statements
 *     prepared once, `transaction(...).immediate`. Postgres: a `pg` Pool of BENCH_PG_POOL_SIZE,
 *     `BEGIN ... COMMIT` on one client with parameterized text queries. It answers 200
 *     `{"received":true}`.
 * - Warm-up (not measured, but part of the checks): BENCH_WARMUP credit events on their own
 *   top-ups, to each server.
 * - Three measured scenarios, each delivered by autocannon (signed `Stripe-Signature` made at
 *   send time, so every delivery is signed afresh) to the baseline, then right after to Tally,
 *   with the same number of deliveries and connections:
 *   1. credit: BENCH_EVENTS `checkout.session.completed`, one per pending top-up;
 *   2. redelivery: the same bodies again (duplicates: nothing may change but `attempts`);
 *   3. mixed stream, BENCH_EVENTS deliveries: 50% credit events for fresh top-ups, 30% event
 *      types Tally ignores (`charge.succeeded`, `charge.updated`, `payment_intent.created`,
 *      `payment_intent.succeeded`, whose `data.object` is Stripe's example charge /
 *      payment_intent read at run time from BENCH_STRIPE_FIXTURES, default
 *      /work/shared/stripe/fixtures3.json; a minimal object if it is missing, which the output
 *      says), 20% duplicates (same event id and body) of deliveries earlier in the stream: half
 *      of them within the number of connections after their original, so they race it, half
 *      anywhere later. Order from a PRNG with a fixed seed: the same stream shape for both
 *      servers and every run.
 *
 * Figures, per (dialect, scenario, server): req/s (deliveries / wall time from the first request
 * to the last response), autocannon's p50/p99 latency, server CPU µs per delivery (utime + stime
 * of the server's process, all threads, from /proc/<pid>/stat before and after the run, 10 ms
 * ticks), and non-2xx (non-2xx answers + errors + timeouts). Then, per scenario, the ratios:
 * `Tally CPU / baseline CPU` (what Tally's code costs above the bare minimum the same database
 * work needs: 1.00 would be free) and `throughput Tally / baseline` (1.00: as fast as bare).
 * Ratios are the figures to read: the machine is shared, so absolute figures drift between
 * runs, but both servers run back to back under the same load. Server and load generator share
 * the machine's cores. Postgres's `synchronous_commit` is printed (the bench does not change it):
 * `on` means every commit waits for its WAL flush (durable).
 *
 * Checks, per server, after the runs (over every top-up: warm-up, credit and mixed stream):
 * each top-up has exactly one ledger entry (`topup:<id>`) and is `paid`; each customer's cached
 * balance equals the sum of their ledger entries, and the total is 500 x top-ups; the event log
 * holds each distinct event once (processed / ignored as expected) and counted every delivery in
 * `attempts` (printed; a mismatch there is reported, not fatal). A failed ledger check or a
 * server that dies makes the exit code 1; unmet targets do not (this is a report).
 *
 * Targets (issue 11), printed MET / NOT MET: SQLite credit CPU ratio <= 1.7, SQLite redelivery
 * CPU ratio <= 1.3, Postgres credit >= 1,700 events/s and CPU ratio <= 2.0, and for the mixed
 * stream on both dialects and both servers: no non-2xx and the ledger checks above.
 *
 * Env: BENCH_EVENTS (default 5000) deliveries per scenario; BENCH_WARMUP (default 500);
 * BENCH_CUSTOMERS (default 1000); BENCH_CONNECTIONS (default 16) autocannon connections on SQLite;
 * BENCH_PG_CONNECTIONS (default 32) on Postgres; BENCH_PG_POOL_SIZE (default 32) the baseline's pg pool, also passed to Tally
 * as DATABASE_POOL_SIZE; BENCH_DIALECTS (default `sqlite,postgres`); BENCH_NODE_FLAGS (extra node flags for
 * Tally's process, e.g. `--max-semi-space-size=32`); BENCH_CPU_PROFILE=<dir>
 * writes Tally's V8 CPU profile there (Tally only); BENCH_STRIPE_FIXTURES (see above).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase, sql, type Database, type Dialect } from '@tally/db';
import { createTestDatabaseUrl, resolvePostgresTarget } from '@tally/db/testing';
import autocannon from 'autocannon';
import Stripe from 'stripe';

// ---------------------------------------------------------------------------------------------
// Settings

function envInt(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw.replace(/[_,]/g, ''));
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name} must be a whole number >= ${min}, got ${raw}`);
  return n;
}

const EVENTS = envInt('BENCH_EVENTS', 5000, 10);
const WARMUP = envInt('BENCH_WARMUP', 500, 0);
const CONNECTIONS: Record<Dialect, number> = { sqlite: envInt('BENCH_CONNECTIONS', 16, 1), postgres: envInt('BENCH_PG_CONNECTIONS', 32, 1) };
const PG_POOL_SIZE = envInt('BENCH_PG_POOL_SIZE', 32, 1);
const CUSTOMERS = envInt('BENCH_CUSTOMERS', 1000, 1);
const DIALECTS: Dialect[] = (process.env.BENCH_DIALECTS ?? 'sqlite,postgres')
  .split(',')
  .map((d) => d.trim())
  .filter((d) => d !== '')
  .map((d) => {
    if (d !== 'sqlite' && d !== 'postgres') throw new Error(`BENCH_DIALECTS takes sqlite and/or postgres, got ${d}`);
    return d;
  });
const FIXTURES = process.env.BENCH_STRIPE_FIXTURES ?? '/work/shared/stripe/fixtures3.json';

const SECRET = 'whsec_bench_only_0123456789abcdef';
const AMOUNT = 500;
const CURRENCY = 'usd';
const SCOPE = 'deployment';
const SEED = 0x7a11e5;
/** Mixed stream shares: credits for fresh top-ups, ignored types; the rest are duplicates. */
const MIX = { credit: 0.5, ignored: 0.3 };
const IGNORED_TYPES = ['charge.succeeded', 'payment_intent.created', 'payment_intent.succeeded', 'charge.updated'] as const;

/** The issue's targets (issue 11). */
const TARGETS = { sqliteCreditCpu: 1.7, sqliteRedeliveryCpu: 1.3, postgresCreditRps: 1700, postgresCreditCpu: 2.0 };

const here = path.dirname(fileURLToPath(import.meta.url));
const serverDir = path.resolve(here, '..');

// ---------------------------------------------------------------------------------------------
// Small helpers (freePort, cpuMs, waitHealthy, spawnLogged, stop: as in usage.ts)

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** utime + stime of a process in ms (Linux /proc; clock ticks are 10 ms here). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (line: string) => console.log(line);
const hex = (uuid: string) => uuid.replace(/-/g, '');

/** mulberry32: a small seeded PRNG, so the mixed stream has the same shape on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], rand: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** A time-ordered UUID (v7 layout), as Tally's ids are, so both servers' B-tree inserts append alike. */
function uuidV7(): string {
  const ms = Date.now().toString(16).padStart(12, '0');
  const r = randomUUID();
  return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7${r.slice(15, 18)}-${r.slice(19, 23)}-${r.slice(24)}`;
}

function spawnLogged(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, args, { cwd: serverDir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    err = (err + c.toString()).slice(-4000);
  });
  return { child, output: () => err };
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

async function waitHealthy(url: string, child: ChildProcess, output: () => string) {
  for (let tries = 0; ; tries++) {
    if (exited(child)) throw new Error(`server exited with ${child.exitCode ?? child.signalCode}: ${output()}`);
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    if (tries > 600) throw new Error(`server did not start: ${output()}`);
    await sleep(100);
  }
}

async function stop(child: ChildProcess) {
  if (exited(child)) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await gone;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------
// The bare baseline server (child process: this file with --baseline-server)

/** The parts of better-sqlite3 and pg the baseline uses (their types are packages/db's dev dependencies, not this app's). */
interface SqliteStatement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
}
interface SqliteConnection {
  pragma(source: string): unknown;
  prepare(source: string): SqliteStatement;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): { (...args: A): R; immediate(...args: A): R };
  close(): void;
}
interface PgClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  release(err?: Error | boolean): void;
  on(event: 'error', listener: (err: Error) => void): unknown;
}
interface PgPool {
  connect(): Promise<PgClient>;
  end(): Promise<void>;
  on(event: 'connect', listener: (client: PgClient) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}
const driverName = { sqlite: 'better-sqlite3', pg: 'pg' };

/** What one verified delivery writes, computed before the transaction. */
interface Receipt {
  eventId: string;
  type: string;
  apiVersion: string | null;
  livemode: boolean;
  stripeCreatedAtMs: number;
  payload: string;
  nowMs: number;
  /** For `checkout.session.completed`: the top-up the session refers to. */
  credit: { topupId: string; sessionId: string; paymentIntentId: string | null; amountTotal: unknown; currency: unknown } | null;
}

interface TopupRow {
  id: string;
  workspace_id: string;
  customer_id: string;
  amount_minor: number | string;
  currency: string;
}

/**
 * The event row's settlement once the top-up is known. The event is inserted as `processed`
 * with `creditedOutcome`; only when this says otherwise is the row updated again.
 */
function settle(r: Receipt, topup: TopupRow | undefined): { status: 'processed' | 'ignored' | 'anomaly'; outcome: string } {
  if (!topup) return { status: 'ignored', outcome: `No top-up for Checkout Session ${r.credit!.sessionId}` };
  if (r.credit!.amountTotal !== Number(topup.amount_minor) || r.credit!.currency !== topup.currency) return { status: 'anomaly', outcome: `Nothing credited to top-up ${topup.id}: amount or currency differs` };
  return { status: 'processed', outcome: creditedOutcome(r) };
}

const creditedOutcome = (r: Receipt) => `Credited ${String(r.credit!.amountTotal)} ${String(r.credit!.currency)} minor units to top-up ${r.credit!.topupId}`;
const ignoredOutcome = (type: string) => `Event type ${type} is not handled`;

const SQL = {
  insertEvent: (p: (n: number) => string) =>
    `INSERT INTO stripe_events (scope, id, type, api_version, livemode, stripe_created_at, payload, status, attempts, outcome, workspace_id, received_at, updated_at, processed_at)
     VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, 1, ${p(9)}, ${p(10)}, ${p(11)}, ${p(12)}, ${p(13)})
     ON CONFLICT (scope, id) DO NOTHING RETURNING id`,
  redelivered: (p: (n: number) => string) => `UPDATE stripe_events SET attempts = attempts + 1, updated_at = ${p(1)} WHERE scope = ${p(2)} AND id = ${p(3)} RETURNING status`,
  selectTopup: (p: (n: number) => string) => `SELECT id, workspace_id, customer_id, amount_minor, currency FROM topups WHERE id = ${p(1)} AND stripe_checkout_session_id = ${p(2)}`,
  insertEntry: (p: (n: number) => string) =>
    `INSERT INTO ledger_entries (id, workspace_id, customer_id, currency, amount_minor, kind, reference, description, topup_id, stripe_event_id, created_at)
     VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, 'topup', ${p(6)}, 'Top-up via Stripe Checkout', ${p(7)}, ${p(8)}, ${p(9)})
     ON CONFLICT (reference) DO NOTHING RETURNING id`,
  upsertBalance: (p: (n: number) => string) =>
    `INSERT INTO customer_balances (customer_id, currency, amount_minor, updated_at) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})
     ON CONFLICT (customer_id, currency) DO UPDATE SET amount_minor = customer_balances.amount_minor + excluded.amount_minor, updated_at = excluded.updated_at`,
  markPaid: (p: (n: number) => string) =>
    `UPDATE topups SET status = 'paid', credited_amount_minor = ${p(1)}, stripe_payment_intent_id = ${p(2)}, paid_at = ${p(3)}, updated_at = ${p(4)} WHERE id = ${p(5)}`,
  settleEvent: (p: (n: number) => string) => `UPDATE stripe_events SET status = ${p(1)}, outcome = ${p(2)}, workspace_id = ${p(3)} WHERE scope = ${p(4)} AND id = ${p(5)}`,
};

/** Writes one delivery in one transaction; resolves true for a redelivery (event already logged). */
type Store = { receive(r: Receipt): Promise<boolean>; close(): Promise<void> };

async function sqliteStore(file: string, workspaceId: string): Promise<Store> {
  const Sqlite = ((await import(driverName.sqlite)) as { default: new (file: string) => SqliteConnection }).default;
  const db = new Sqlite(file);
  // Tally's settings (packages/db/src/client.ts), but a 5 s busy timeout: no asynchronous retry here.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_autocheckpoint = 10000');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  const q = () => '?';
  const s = Object.fromEntries(Object.entries(SQL).map(([k, f]) => [k, db.prepare(f(q))])) as Record<keyof typeof SQL, SqliteStatement>;
  const tx = db.transaction((r: Receipt): boolean => {
    const status = r.credit ? 'processed' : 'ignored';
    const outcome = r.credit ? creditedOutcome(r) : ignoredOutcome(r.type);
    const inserted = s.insertEvent.get(SCOPE, r.eventId, r.type, r.apiVersion, r.livemode ? 1 : 0, r.stripeCreatedAtMs, r.payload, status, outcome, r.credit ? workspaceId : null, r.nowMs, r.nowMs, r.nowMs);
    if (!inserted) {
      s.redelivered.get(r.nowMs, SCOPE, r.eventId);
      return true;
    }
    if (!r.credit) return false;
    const topup = s.selectTopup.get(r.credit.topupId, r.credit.sessionId) as TopupRow | undefined;
    const settled = settle(r, topup);
    if (settled.status !== 'processed' || !topup) {
      s.settleEvent.run(settled.status, settled.outcome, topup?.workspace_id ?? null, SCOPE, r.eventId);
      return false;
    }
    const entry = s.insertEntry.get(uuidV7(), topup.workspace_id, topup.customer_id, topup.currency, topup.amount_minor, `topup:${topup.id}`, topup.id, r.eventId, r.nowMs);
    if (entry) {
      s.upsertBalance.run(topup.customer_id, topup.currency, topup.amount_minor, r.nowMs);
      s.markPaid.run(topup.amount_minor, r.credit.paymentIntentId, r.nowMs, r.nowMs, topup.id);
    } else s.settleEvent.run('processed', `Top-up ${topup.id} was already credited`, topup.workspace_id, SCOPE, r.eventId);
    return false;
  });
  return {
    receive: async (r) => tx.immediate(r),
    close: async () => db.close(),
  };
}

async function pgStore(url: string, poolSize: number, workspaceId: string): Promise<Store> {
  const pg = ((await import(driverName.pg)) as { default: { Pool: new (config: { connectionString: string; max: number }) => PgPool } }).default;
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  pool.on('connect', (client) => client.on('error', () => undefined));
  pool.on('error', () => undefined);
  const d = (n: number) => `$${n}`;
  const s = Object.fromEntries(Object.entries(SQL).map(([k, f]) => [k, f(d)])) as Record<keyof typeof SQL, string>;
  return {
    async receive(r) {
      const c = await pool.connect();
      let broken: Error | undefined;
      try {
        await c.query('BEGIN');
        const now = new Date(r.nowMs);
        const status = r.credit ? 'processed' : 'ignored';
        const outcome = r.credit ? creditedOutcome(r) : ignoredOutcome(r.type);
        const inserted = await c.query(s.insertEvent, [SCOPE, r.eventId, r.type, r.apiVersion, r.livemode, new Date(r.stripeCreatedAtMs), r.payload, status, outcome, r.credit ? workspaceId : null, now, now, now]);
        if (inserted.rows.length === 0) {
          await c.query(s.redelivered, [now, SCOPE, r.eventId]);
          await c.query('COMMIT');
          return true;
        }
        if (r.credit) {
          const topup = (await c.query(s.selectTopup, [r.credit.topupId, r.credit.sessionId])).rows[0] as TopupRow | undefined;
          const settled = settle(r, topup);
          if (settled.status !== 'processed' || !topup) await c.query(s.settleEvent, [settled.status, settled.outcome, topup?.workspace_id ?? null, SCOPE, r.eventId]);
          else {
            const entry = await c.query(s.insertEntry, [uuidV7(), topup.workspace_id, topup.customer_id, topup.currency, topup.amount_minor, `topup:${topup.id}`, topup.id, r.eventId, now]);
            if (entry.rows.length > 0) {
              await c.query(s.upsertBalance, [topup.customer_id, topup.currency, topup.amount_minor, now]);
              await c.query(s.markPaid, [topup.amount_minor, r.credit.paymentIntentId, now, now, topup.id]);
            } else await c.query(s.settleEvent, ['processed', `Top-up ${topup.id} was already credited`, topup.workspace_id, SCOPE, r.eventId]);
          }
        }
        await c.query('COMMIT');
        return false;
      } catch (err) {
        // A connection that cannot roll back is dropped from the pool, not reused.
        await c.query('ROLLBACK').catch((rollbackErr: Error) => (broken = rollbackErr));
        throw err;
      } finally {
        c.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

function receiptOf(event: Stripe.Event, payload: string): Receipt {
  let credit: Receipt['credit'] = null;
  if (event.type === 'checkout.session.completed') {
    const session = event.data.object;
    const topupId = session.client_reference_id ?? session.metadata?.tally_topup_id ?? '';
    const pi = session.payment_intent;
    credit = { topupId, sessionId: session.id, paymentIntentId: typeof pi === 'string' ? pi : (pi?.id ?? null), amountTotal: session.amount_total, currency: session.currency };
  }
  return { eventId: event.id, type: event.type, apiVersion: event.api_version ?? null, livemode: event.livemode, stripeCreatedAtMs: event.created * 1000, payload, nowMs: Date.now(), credit };
}

async function baselineServer() {
  const dialect = process.env.BENCH_DIALECT as Dialect;
  const url = process.env.BENCH_DB_URL!;
  const workspaceId = process.env.BENCH_WORKSPACE!;
  const store = dialect === 'sqlite' ? await sqliteStore(url.replace(/^file:/, ''), workspaceId) : await pgStore(url, Number(process.env.BENCH_PG_POOL_SIZE), workspaceId);
  const stripe = new Stripe('sk_test_bench_baseline_0123456789');
  const json = { 'content-type': 'application/json' };
  const server = createHttpServer((req, res) => {
    if (req.method !== 'POST') return void res.writeHead(200).end('ok');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let event: Stripe.Event;
      try {
        event = stripe.webhooks.constructEvent(body, req.headers['stripe-signature'] ?? '', SECRET);
      } catch {
        return void res.writeHead(400, json).end('{"error":"Invalid signature"}');
      }
      store.receive(receiptOf(event, body.toString('utf8'))).then(
        (duplicate) => res.writeHead(200, json).end(duplicate ? '{"received":true,"duplicate":true}' : '{"received":true}'),
        (err: unknown) => {
          process.stderr.write(`baseline: ${event.id}: ${err instanceof Error ? err.message : String(err)}\n`);
          res.writeHead(500, json).end('{"error":"Could not store the event"}');
        },
      );
    });
  });
  server.listen(Number(process.env.BENCH_PORT), '127.0.0.1');
  process.on('SIGTERM', () => {
    server.close();
    void store.close().finally(() => process.exit(0));
  });
}

// ---------------------------------------------------------------------------------------------
// Data: seeded top-ups and the deliveries

interface Topup {
  id: string;
  sessionId: string;
}

interface Seeded {
  workspaceId: string;
  warm: Topup[];
  credit: Topup[];
  mixed: Topup[];
}

const mixedCounts = () => {
  const credit = Math.round(EVENTS * MIX.credit);
  const ignored = Math.round(EVENTS * MIX.ignored);
  return { credit, ignored, duplicates: EVENTS - credit - ignored };
};

async function seedTopups(db: Database): Promise<Seeded> {
  const t = db.t;
  const workspaceId = randomUUID();
  await db.q.insert(t.workspaces).values({ id: workspaceId, name: 'Bench', slug: `bench-${workspaceId}`, currency: CURRENCY });
  const customerIds = Array.from({ length: CUSTOMERS }, () => randomUUID());
  for (let i = 0; i < customerIds.length; i += 500) {
    await db.q.insert(t.customers).values(customerIds.slice(i, i + 500).map((id, j) => ({ id, workspaceId, name: `Bench customer ${i + j}` })));
  }
  const total = WARMUP + EVENTS + mixedCounts().credit;
  const rows = Array.from({ length: total }, (_, i) => {
    const id = randomUUID();
    return { id, workspaceId, customerId: customerIds[i % CUSTOMERS]!, amountMinor: AMOUNT, currency: CURRENCY, status: 'pending' as const, stripeCheckoutSessionId: `cs_test_${hex(id)}` };
  });
  for (let i = 0; i < rows.length; i += 500) await db.q.insert(t.topups).values(rows.slice(i, i + 500));
  const topups = rows.map((r) => ({ id: r.id, sessionId: r.stripeCheckoutSessionId }));
  return { workspaceId, warm: topups.slice(0, WARMUP), credit: topups.slice(WARMUP, WARMUP + EVENTS), mixed: topups.slice(WARMUP + EVENTS) };
}

const eventId = () => `evt_${hex(randomUUID())}`;

function eventEnvelope(type: string, object: unknown) {
  return { id: eventId(), object: 'event', api_version: '2026-10-28.endive', created: Math.floor(Date.now() / 1000), livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null }, type, data: { object } };
}

function creditBody(topup: Topup): string {
  return JSON.stringify(
    eventEnvelope('checkout.session.completed', {
      id: topup.sessionId,
      object: 'checkout.session',
      mode: 'payment',
      status: 'complete',
      payment_status: 'paid',
      amount_total: AMOUNT,
      currency: CURRENCY,
      client_reference_id: topup.id,
      metadata: { tally_topup_id: topup.id },
      payment_intent: `pi_${hex(topup.id)}`,
    }),
  );
}

/** Stripe's example charge and payment_intent objects (read at run time, never copied into the repo). */
function loadExampleObjects(): { objects: Record<'charge' | 'payment_intent', unknown>; note: string } {
  try {
    const fixtures = JSON.parse(readFileSync(FIXTURES, 'utf8')) as { resources?: Record<string, unknown> };
    const charge = fixtures.resources?.charge;
    const paymentIntent = fixtures.resources?.payment_intent;
    if (charge && paymentIntent) return { objects: { charge, payment_intent: paymentIntent }, note: `ignored events carry Stripe's example charge / payment_intent from ${FIXTURES}` };
    throw new Error('no charge or payment_intent resource in it');
  } catch (err) {
    const why = existsSync(FIXTURES) ? (err instanceof Error ? err.message : String(err)) : 'file missing';
    return {
      objects: { charge: { id: 'ch_bench', object: 'charge', amount: 500, currency: CURRENCY }, payment_intent: { id: 'pi_bench', object: 'payment_intent', amount: 500, currency: CURRENCY } },
      note: `NOTE: ${FIXTURES} not usable (${why}): ignored events carry a minimal charge / payment_intent object instead`,
    };
  }
}

/**
 * The mixed stream: credits for `topups`, `ignored` events of other types, and duplicates of
 * earlier deliveries (half within `window` deliveries of their original, so they race it; half
 * anywhere later), in an order drawn from a PRNG with a fixed seed.
 */
function mixedStream(topups: Topup[], examples: Record<'charge' | 'payment_intent', unknown>, window: number): string[] {
  const rand = prng(SEED);
  const { ignored, duplicates } = mixedCounts();
  const originals = topups.map(creditBody);
  for (let i = 0; i < ignored; i++) {
    const type = IGNORED_TYPES[i % IGNORED_TYPES.length]!;
    originals.push(JSON.stringify(eventEnvelope(type, type.startsWith('charge.') ? examples.charge : examples.payment_intent)));
  }
  shuffle(originals, rand);
  const keyed = originals.map((body, i) => ({ at: i, body }));
  for (let d = 0; d < duplicates; d++) {
    const i = Math.floor(rand() * originals.length);
    const offset = rand() < 0.5 ? rand() * window : rand() * (originals.length - i);
    keyed.push({ at: i + offset, body: originals[i]! });
  }
  // Stable sort: a duplicate with offset 0 still comes right after its original.
  return keyed.sort((a, b) => a.at - b.at).map((k) => k.body);
}

// ---------------------------------------------------------------------------------------------
// Measurement

interface Run {
  reqPerSec: number;
  cpuUsPerEvent: number;
  p50: number;
  p99: number;
  non2xx: number;
  deliveries: number;
  responses: number;
}

async function fire(url: string, pid: number, bodies: string[], connections: number, stripe: Stripe): Promise<Run> {
  let i = 0;
  let responses = 0;
  const cpuBefore = cpuMs(pid);
  const started = performance.now();
  let lastResponse = started;
  // autocannon settles an `amount` run on its 1-second tick, so its end is coarse: the wall time
  // ends at the last response instead.
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: Math.min(connections, bodies.length),
        amount: bodies.length,
        method: 'POST',
        timeout: 60,
        requests: [
          {
            setupRequest: (req) => {
              const body = bodies[i++ % bodies.length]!;
              const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET });
              return { ...req, body, headers: { 'content-type': 'application/json', 'stripe-signature': header } };
            },
          },
        ],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', () => {
      responses++;
      lastResponse = performance.now();
    });
  });
  const seconds = Math.max((lastResponse - started) / 1000, 0.001);
  const cpu = cpuMs(pid) - cpuBefore;
  return {
    reqPerSec: bodies.length / seconds,
    cpuUsPerEvent: (cpu * 1000) / bodies.length,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx + result.errors + result.timeouts,
    deliveries: bodies.length,
    responses,
  };
}

type ServerName = 'baseline' | 'Tally';
type Scenario = 'credit' | 'redelivery' | 'mixed';
const SCENARIOS: { key: Scenario; label: string }[] = [
  { key: 'credit', label: 'credit (first delivery)' },
  { key: 'redelivery', label: 'redelivery (same bodies)' },
  { key: 'mixed', label: 'mixed stream 50/30/20' },
];

interface LedgerCheck {
  ok: boolean;
  line: string;
}

/** Exactly-once over every seeded top-up (all were delivered), the balance cache, and the event log. */
async function checkLedger(db: Database, seeded: Seeded): Promise<LedgerCheck> {
  const topups = seeded.warm.length + seeded.credit.length + seeded.mixed.length;
  const [perTopup] = await db.rows<{ topups: number | string; once: number | string; missing: number | string; doubled: number | string; unpaid: number | string }>(sql`
    select count(*) as topups,
           coalesce(sum(case when n = 1 and status = 'paid' then 1 else 0 end), 0) as once,
           coalesce(sum(case when n = 0 then 1 else 0 end), 0) as missing,
           coalesce(sum(case when n > 1 then 1 else 0 end), 0) as doubled,
           coalesce(sum(case when status <> 'paid' then 1 else 0 end), 0) as unpaid
    from (select t.id, t.status, count(l.id) as n from topups t left join ledger_entries l on l.reference = 'topup:' || t.id
          where t.workspace_id = ${seeded.workspaceId} group by t.id, t.status) per_topup`);
  const [ledger] = await db.rows<{ entries: number | string; total: number | string }>(
    sql`select count(*) as entries, coalesce(sum(amount_minor), 0) as total from ledger_entries where workspace_id = ${seeded.workspaceId}`,
  );
  // The cache against the ledger, per customer: the total, and how many customers' cache differs from their sum.
  const [cached] = await db.rows<{ amount: number | string; differ: number | string }>(sql`
    select coalesce(sum(coalesce(b.amount_minor, 0)), 0) as amount,
           coalesce(sum(case when coalesce(b.amount_minor, 0) <> coalesce(l.total, 0) then 1 else 0 end), 0) as differ
    from customers c
    left join customer_balances b on b.customer_id = c.id and b.currency = ${CURRENCY}
    left join (select customer_id, sum(amount_minor) as total from ledger_entries group by customer_id) l on l.customer_id = c.id
    where c.workspace_id = ${seeded.workspaceId}`);
  const events = await db.rows<{ status: string; n: number | string; attempts: number | string }>(sql`select status, count(*) as n, coalesce(sum(attempts), 0) as attempts from stripe_events group by status`);

  const n = (v: number | string | undefined) => Number(v ?? 0);
  const once = n(perTopup?.once);
  const total = n(ledger?.total);
  const balance = n(cached?.amount);
  const expectedTotal = topups * AMOUNT;
  const differ = n(cached?.differ);
  const ledgerOk = n(perTopup?.topups) === topups && once === topups && n(ledger?.entries) === topups && differ === 0 && total === balance && total === expectedTotal;

  const mix = mixedCounts();
  const byStatus = Object.fromEntries(events.map((e) => [e.status, n(e.n)]));
  const attempts = events.reduce((s, e) => s + n(e.attempts), 0);
  const expected = { processed: WARMUP + EVENTS + mix.credit, ignored: mix.ignored, deliveries: WARMUP + 3 * EVENTS };
  const logOk = byStatus.processed === expected.processed && byStatus.ignored === expected.ignored && events.length === 2 && attempts === expected.deliveries;
  const statuses = events.map((e) => `${e.status} ${fmt(n(e.n))}`).join(', ');
  return {
    ok: ledgerOk,
    line:
      `${fmt(once)}/${fmt(topups)} top-ups credited exactly once and paid (missing ${n(perTopup?.missing)}, doubled ${n(perTopup?.doubled)}, unpaid ${n(perTopup?.unpaid)}); ` +
      `ledger ${fmt(n(ledger?.entries))} entries, sum ${fmt(total)}, cached balances ${fmt(balance)} (expected ${fmt(expectedTotal)}; customers whose cache differs from their ledger: ${differ}): ${ledgerOk ? 'OK' : 'FAILED'}; ` +
      `event log: ${statuses} (expected processed ${fmt(expected.processed)}, ignored ${fmt(expected.ignored)}), attempts ${fmt(attempts)} (deliveries ${fmt(expected.deliveries)}): ${logOk ? 'OK' : 'MISMATCH'}`,
  };
}

interface Server {
  name: ServerName;
  url: string;
  child: ChildProcess;
  output: () => string;
  db: Database;
  seeded: Seeded;
}

interface DialectResult {
  dialect: Dialect;
  runs: Partial<Record<Scenario, Record<ServerName, Run>>>;
  checks: Partial<Record<ServerName, LedgerCheck>>;
  failed: string | null;
}

const pad = (dialect: Dialect) => dialect.padEnd(8);

function runLine(dialect: Dialect, label: string, server: ServerName, r: Run) {
  return `${pad(dialect)} ${label.padEnd(24)} ${server.padEnd(8)} ${fmt(r.reqPerSec).padStart(6)} req/s  p50 ${String(r.p50).padStart(4)} ms  p99 ${String(r.p99).padStart(4)} ms  server CPU ${fmt(r.cpuUsPerEvent).padStart(5)} µs/event  non-2xx ${r.non2xx}${r.responses === r.deliveries ? '' : `  (${fmt(r.responses)} responses for ${fmt(r.deliveries)} deliveries)`}`;
}

const cpuRatio = (runs: Record<ServerName, Run>) => runs.Tally.cpuUsPerEvent / Math.max(runs.baseline.cpuUsPerEvent, 0.001);
const speedRatio = (runs: Record<ServerName, Run>) => runs.Tally.reqPerSec / Math.max(runs.baseline.reqPerSec, 0.001);

async function benchDialect(dialect: Dialect, examples: Record<'charge' | 'payment_intent', unknown>, stripe: Stripe): Promise<DialectResult> {
  const result: DialectResult = { dialect, runs: {}, checks: {}, failed: null };
  const connections = CONNECTIONS[dialect];
  const created: { drop(): Promise<void> }[] = [];
  const servers: Server[] = [];
  const dbs: Database[] = [];
  try {
    if (dialect === 'postgres') {
      const target = await resolvePostgresTarget();
      if (target.kind !== 'server') {
        result.failed = 'skipped (no Postgres server at TEST_POSTGRES_URL or 127.0.0.1:5432; PGlite is not benchmarked)';
        say(`${pad(dialect)} ${result.failed}`);
        return result;
      }
    }
    for (const name of ['baseline', 'Tally'] as const) {
      const database = await createTestDatabaseUrl(dialect);
      created.push(database);
      const db = await createDatabase(database.url, { poolSize: 2 });
      dbs.push(db);
      await db.migrate();
      const seeded = await seedTopups(db);
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const spawned =
        name === 'Tally'
          ? spawnLogged([...(process.env.BENCH_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`] : []), ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), path.resolve(serverDir, 'dist/main.js')], {
              PATH: process.env.PATH,
              NODE_ENV: 'production',
              HOST: '127.0.0.1',
              PORT: String(port),
              DATABASE_URL: database.url,
              DATABASE_POOL_SIZE: String(PG_POOL_SIZE),
              STRIPE_API_BASE: 'http://127.0.0.1:9',
              STRIPE_WEBHOOK_SECRET: SECRET,
              TALLY_SEED_DEMO: 'false',
              TALLY_ALLOW_EMULATOR_IN_PRODUCTION: 'true',
            })
          : spawnLogged(['--import', 'tsx', fileURLToPath(import.meta.url), '--baseline-server'], {
              PATH: process.env.PATH,
              BENCH_DIALECT: dialect,
              BENCH_DB_URL: database.url,
              BENCH_PORT: String(port),
              BENCH_WORKSPACE: seeded.workspaceId,
              BENCH_PG_POOL_SIZE: String(PG_POOL_SIZE),
            });
      servers.push({ name, url, child: spawned.child, output: spawned.output, db, seeded });
    }
    for (const s of servers) await waitHealthy(s.name === 'Tally' ? `${s.url}/healthz` : s.url, s.child, s.output);
    if (dialect === 'postgres') {
      const [row] = await servers[0]!.db.rows<{ synchronous_commit: string }>(sql`show synchronous_commit`);
      say(`${pad(dialect)} synchronous_commit = ${row?.synchronous_commit ?? '?'} (unchanged by the bench)${row?.synchronous_commit === 'on' ? ': every commit waits for its WAL flush' : ''}`);
    }

    const endpoint = (s: Server) => (s.name === 'Tally' ? `${s.url}/api/stripe/webhook` : `${s.url}/`);
    const alive = (s: Server, during: string) => {
      if (exited(s.child)) throw new Error(`${s.name} server exited (${s.child.exitCode ?? s.child.signalCode}) during ${during}: ${s.output()}`);
    };
    const streams = new Map<Server, Record<Scenario | 'warm', string[]>>();
    for (const s of servers) {
      const credit = s.seeded.credit.map(creditBody);
      streams.set(s, { warm: s.seeded.warm.map(creditBody), credit, redelivery: credit, mixed: mixedStream(s.seeded.mixed, examples, connections) });
    }
    /** One autocannon run against `s`; a server that died during it is named as such (not as a failed /proc read). */
    const measure = async (s: Server, bodies: string[], during: string) => {
      try {
        const run = await fire(endpoint(s), s.child.pid!, bodies, connections, stripe);
        alive(s, during);
        return run;
      } catch (err) {
        alive(s, during);
        throw err;
      }
    };
    if (WARMUP > 0) for (const s of servers) await measure(s, streams.get(s)!.warm, 'warm-up');
    for (const { key, label } of SCENARIOS) {
      const runs = {} as Record<ServerName, Run>;
      for (const s of servers) {
        runs[s.name] = await measure(s, streams.get(s)![key], label);
        say(runLine(dialect, label, s.name, runs[s.name]));
      }
      result.runs[key] = runs;
      say(`${pad(dialect)} ${label.padEnd(24)} ratio    Tally CPU / baseline CPU = ${cpuRatio(runs).toFixed(2)}   throughput Tally / baseline = ${speedRatio(runs).toFixed(2)}`);
    }
    for (const s of servers) {
      const check = await checkLedger(s.db, s.seeded);
      result.checks[s.name] = check;
      say(`${pad(dialect)} check ${s.name.padEnd(8)} ${check.line}`);
    }
    for (const s of servers) {
      alive(s, 'the checks');
      await stop(s.child);
    }
  } catch (err) {
    result.failed = err instanceof Error ? (err.stack ?? err.message) : String(err);
    say(`${pad(dialect)} FAILED: ${result.failed}`);
  } finally {
    for (const s of servers) await stop(s.child);
    for (const db of dbs) await db.close().catch(() => undefined);
    for (const database of created) await database.drop().catch((err: unknown) => say(`${pad(dialect)} could not drop a bench database: ${String(err)}`));
  }
  return result;
}

function targetLines(results: DialectResult[]): string[] {
  const lines: string[] = [];
  const verdict = (ok: boolean) => (ok ? 'MET' : 'NOT MET');
  const find = (d: Dialect) => results.find((r) => r.dialect === d);
  const sqlite = find('sqlite');
  const postgres = find('postgres');
  const na = (d: Dialect, what: string) => `${pad(d)} ${what}: n/a (not run)`;
  if (sqlite?.runs.credit) {
    const x = cpuRatio(sqlite.runs.credit);
    lines.push(`${pad('sqlite')} credit: Tally CPU / baseline CPU ${x.toFixed(2)} <= ${TARGETS.sqliteCreditCpu}: ${verdict(x <= TARGETS.sqliteCreditCpu)}`);
  } else lines.push(na('sqlite', 'credit CPU ratio'));
  if (sqlite?.runs.redelivery) {
    const x = cpuRatio(sqlite.runs.redelivery);
    lines.push(`${pad('sqlite')} redelivery: Tally CPU / baseline CPU ${x.toFixed(2)} <= ${TARGETS.sqliteRedeliveryCpu}: ${verdict(x <= TARGETS.sqliteRedeliveryCpu)}`);
  } else lines.push(na('sqlite', 'redelivery CPU ratio'));
  if (postgres?.runs.credit) {
    const runs = postgres.runs.credit;
    const x = cpuRatio(runs);
    const rps = runs.Tally.reqPerSec;
    lines.push(
      `${pad('postgres')} credit: Tally ${fmt(rps)} events/s >= ${fmt(TARGETS.postgresCreditRps)} and Tally CPU / baseline CPU ${x.toFixed(2)} <= ${TARGETS.postgresCreditCpu.toFixed(1)}: ${verdict(rps >= TARGETS.postgresCreditRps && x <= TARGETS.postgresCreditCpu)}`,
    );
  } else lines.push(na('postgres', 'credit throughput and CPU ratio'));
  for (const d of ['sqlite', 'postgres'] as const) {
    const r = find(d);
    for (const name of ['baseline', 'Tally'] as const) {
      const run = r?.runs.mixed?.[name];
      const check = r?.checks[name];
      if (!run || !check) {
        lines.push(na(d, `mixed stream, ${name}`));
        continue;
      }
      lines.push(`${pad(d)} mixed stream, ${name.padEnd(8)}: non-2xx ${run.non2xx}, every top-up credited exactly once, ledger sum = cached balance: ${check.ok ? 'yes' : 'NO'}: ${verdict(run.non2xx === 0 && check.ok)}`);
    }
  }
  return lines;
}

async function main() {
  const examples = loadExampleObjects();
  const mix = mixedCounts();
  say(
    `Webhook ingestion, Tally vs a bare baseline: ${fmt(EVENTS)} deliveries per scenario after ${fmt(WARMUP)} warm-up credits; ` +
      `connections: SQLite ${CONNECTIONS.sqlite}, Postgres ${CONNECTIONS.postgres}; pg pool ${PG_POOL_SIZE}; ` +
      `${fmt(CUSTOMERS)} customer${CUSTOMERS === 1 ? '' : 's'}; mixed stream: ${fmt(mix.credit)} credits, ${fmt(mix.ignored)} ignored types, ${fmt(mix.duplicates)} duplicates; ` +
      `servers and load generator on the same ${os.cpus().length} cores`,
  );
  say(examples.note);
  const stripe = new Stripe('sk_test_bench_0123456789');
  const results: DialectResult[] = [];
  for (const dialect of DIALECTS) results.push(await benchDialect(dialect, examples.objects, stripe));
  say('');
  say('Targets (issue 11)');
  for (const line of targetLines(results)) say(line);
  const broken = results.filter((r) => (r.failed && !r.failed.startsWith('skipped')) || Object.values(r.checks).some((c) => !c.ok));
  if (broken.length > 0) {
    say(`FAILED on ${broken.map((r) => r.dialect).join(', ')}: a server died or an exactly-once check failed (see above)`);
    process.exitCode = 1;
  }
}

if (process.argv.includes('--baseline-server')) await baselineServer();
else await main();
