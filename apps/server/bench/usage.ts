/**
 * Usage metering benchmark (`pnpm bench:usage`, issue 9 item 6). For SQLite and for Postgres
 * (TEST_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/postgres; a fresh database per
 * run, dropped after; never PGlite) it prints, on a generated data set:
 *
 * 1. Batch ingestion through the real HTTP endpoint `POST /api/v1/usage` of the built server
 *    (`dist/main.js`, its own process, NODE_ENV=production, a workspace API key as Bearer):
 *    `--batches` batches of 1,000 events (default 100 = 100,000 events) sent by autocannon over
 *    `--connections` keep-alive connections (default 4), events for random customers and the
 *    three `invoice`-mode meters, `occurredAt` omitted (now). Figures: events/s (events / wall
 *    time of the run), server CPU µs per event (utime + stime of the server process from
 *    /proc/<pid>/stat before and after the run, 10 ms ticks, divided by events), p50/p99 batch
 *    latency (autocannon's per-request latency, ms); wall time measured around the autocannon run. Then the same with 10% duplicate keys (one
 *    event in ten repeats, with the same payload, an event of the first run). Every answer must
 *    be a 200, and the stored events are counted afterwards (accepted once, duplicates never).
 * 2. A bare baseline in the same run, measured just before each Tally run: a `node:http`
 *    server in its own process (this file with `--baseline-server`) that reads the body,
 *    `JSON.parse`s it and writes each batch with ONE hand-written multi-row
 *    `INSERT ... ON CONFLICT DO NOTHING` into the same `usage_events` table of the same
 *    database (better-sqlite3 prepared statement / one pg query), with the same batches (its
 *    own keys). Tally's figures are printed as ratios to it (throughput baseline/Tally, CPU
 *    Tally/baseline: "within 2x" means both ratios <= 2).
 * 3. `usage.dashboard` latency p50/p95: tRPC GET `/trpc/usage.dashboard?input=...` over HTTP to
 *    the same server as a signed-in customer (signed up and signed in through better-auth, its
 *    membership of 20 generated customers added directly), `--dashboard-requests` (default 200)
 *    sequential requests after 20 warm-ups, round robin over those 20 customers; wall time
 *    measured in this process (fetch, keep-alive).
 * 4. Period close: `closeUsagePeriod({ issue: false })` (aggregation and the Tally usage invoice
 *    rows, no Stripe) for the previous month, called in this process on the loaded database,
 *    timed wall clock. "n/a" when close-period.ts is not built.
 *
 * Data set: `--customers` (default 10,000) customers and `--events` (default 10,000,000)
 * events loaded directly by this bench, before the servers start: `usage_events` rows made
 * by `INSERT ... SELECT` from a generated series (recursive CTE on SQLite, generate_series on
 * Postgres) in chunks of 250,000, each chunk's matching `usage_daily_rollups` upserted from
 * that chunk's events (so rollups equal the events exactly), then ANALYZE. 90% of the events
 * fall evenly in the previous month (the period the close covers), 10% in the current month up
 * to 10 minutes ago; quantity 1..2,000; customer `n % customers`, meter `(n / customers) % 3`.
 * The HTTP measurements run on top of it.
 *
 * Options: --events N --customers N --dialect sqlite|postgres|both (default both) --batches N
 * --connections N --dashboard-requests N; `--quick` = --events 100000 --customers 1000
 * --dialect sqlite --batches 40. Env BENCH_CPU_PROFILE=<dir> writes the Tally server's V8 CPU
 * profile there. The machine is shared and noisy (absolute figures drift ~30% between runs):
 * read the ratios to the baseline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createApiKey, createStripeAccounts } from '@tally/api';
import { createDatabase, type Database, type Dialect } from '@tally/db';
import { createTestDatabaseUrl, resolvePostgresTarget } from '@tally/db/testing';
import autocannon from 'autocannon';

/** The parts of better-sqlite3 and pg this bench uses (their types are packages/db's dev dependencies, not this app's). */
interface SqliteStatement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
}
interface SqliteConnection {
  pragma(source: string): unknown;
  prepare(source: string): SqliteStatement;
  exec(source: string): unknown;
  transaction(fn: () => void): () => void;
  close(): void;
}
interface PgClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  release(): void;
}
interface PgPool {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  connect(): Promise<PgClient>;
  end(): Promise<void>;
}
const driverName = { sqlite: 'better-sqlite3', pg: 'pg' };
const BetterSqlite3 = ((await import(driverName.sqlite)) as { default: new (file: string) => SqliteConnection }).default;
const pg = ((await import(driverName.pg)) as { default: { Pool: new (config: { connectionString: string; max: number }) => PgPool } }).default;

const here = path.dirname(fileURLToPath(import.meta.url));

const { values: opts } = parseArgs({
  options: {
    events: { type: 'string' },
    customers: { type: 'string' },
    dialect: { type: 'string' },
    batches: { type: 'string' },
    connections: { type: 'string' },
    'dashboard-requests': { type: 'string' },
    quick: { type: 'boolean' },
    'baseline-server': { type: 'boolean' },
  },
  strict: true,
});

const num = (value: string | undefined, fallback: number, name: string) => {
  if (value === undefined) return fallback;
  const n = Number(value.replace(/[_,]/g, ''));
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got ${value}`);
  return n;
};

const quick = opts.quick === true;
const EVENTS = num(opts.events, quick ? 100_000 : 10_000_000, 'events');
const CUSTOMERS = Math.max(1, num(opts.customers, quick ? 1_000 : 10_000, 'customers'));
const BATCHES = Math.max(1, num(opts.batches, quick ? 40 : 100, 'batches'));
const CONNECTIONS = Math.max(1, num(opts.connections, 4, 'connections'));
const DASHBOARD_REQUESTS = Math.max(1, num(opts['dashboard-requests'], 200, 'dashboard-requests'));
const DIALECTS: Dialect[] = (() => {
  const d = opts.dialect ?? (quick ? 'sqlite' : 'both');
  if (d === 'both') return ['sqlite', 'postgres'];
  if (d === 'sqlite' || d === 'postgres') return [d];
  throw new Error(`--dialect must be sqlite, postgres or both, got ${d}`);
})();
const BATCH = 1000;
const METER_KEYS = ['stt_words', 'tts_words', 'api_calls'] as const;
const CHUNK = 250_000;
const PREVIOUS_SHARE = 0.9;

/** The issue's targets (issue 9, "Targets"). */
const TARGETS = {
  ingest: { sqlite: 25_000, postgres: 15_000 } as Record<Dialect, number>,
  baselineRatio: 2,
  dashboardP95Ms: 20,
  closeSqliteS: 60,
};

// ---------------------------------------------------------------------------------------------
// Small helpers

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
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (line: string) => console.log(line);

/** Customer id of generated customer `i` (a UUID shape, as the API checks). */
const customerIdOf = (i: number) => `00000000-0000-7000-8000-${i.toString(16).padStart(12, '0')}`;
const meterIdOf = (i: number) => `00000000-0000-7000-9000-${i.toString(16).padStart(12, '0')}`;

function monthStart(at: Date, offset = 0): number {
  return Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + offset, 1);
}

// ---------------------------------------------------------------------------------------------
// The bare baseline server (child process)

/** A raw connection to the bench database: hand-written SQL only. */
type Raw =
  | { dialect: 'sqlite'; sqlite: SqliteConnection }
  | { dialect: 'postgres'; pool: PgPool };

function openRaw(dialect: Dialect, url: string): Raw {
  if (dialect === 'sqlite') {
    const sqlite = new BetterSqlite3(url.replace(/^file:/, ''));
    // The same settings as Tally's SQLite connections (packages/db/src/client.ts).
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('wal_autocheckpoint = 10000');
    sqlite.pragma('busy_timeout = 5000');
    return { dialect, sqlite };
  }
  return { dialect, pool: new pg.Pool({ connectionString: url, max: 10 }) };
}

async function closeRaw(raw: Raw) {
  if (raw.dialect === 'sqlite') raw.sqlite.close();
  else await raw.pool.end();
}

const EVENT_COLUMNS = 'id, workspace_id, customer_id, meter_id, idempotency_key, quantity, occurred_at, properties, payload_hash, charged_minor, received_at';

async function baselineServer() {
  const dialect = process.env.BENCH_DIALECT as Dialect;
  const raw = openRaw(dialect, process.env.BENCH_DB_URL!);
  const workspaceId = process.env.BENCH_WORKSPACE!;
  const meterIds = JSON.parse(process.env.BENCH_METERS!) as Record<string, string>;
  const statements = new Map<number, SqliteStatement>();
  const placeholders = (rows: number) => {
    const parts: string[] = [];
    for (let r = 0; r < rows; r++) {
      const base = r * 11;
      parts.push(dialect === 'sqlite' ? '(?,?,?,?,?,?,?,?,?,?,?)' : `(${Array.from({ length: 11 }, (_, i) => `$${base + i + 1}`).join(',')})`);
    }
    return `insert into usage_events (${EVENT_COLUMNS}) values ${parts.join(',')} on conflict (workspace_id, idempotency_key) do nothing`;
  };
  let seq = 0;
  const prefix = randomBytes(4).toString('hex');
  const server = createHttpServer((req, res) => {
    if (req.method === 'GET') return void res.writeHead(200).end('ok');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events: { customerId: string; meter: string; quantity: number; idempotencyKey: string }[] };
          const events = body.events;
          const now = Date.now();
          const values: unknown[] = [];
          for (const e of events) {
            values.push(`${prefix}-${(seq++).toString(36).padStart(10, '0')}`, workspaceId, e.customerId, meterIds[e.meter] ?? '', e.idempotencyKey, e.quantity, dialect === 'sqlite' ? now : new Date(now), null, '', 0, dialect === 'sqlite' ? now : new Date(now));
          }
          if (raw.dialect === 'sqlite') {
            let stmt = statements.get(events.length);
            if (!stmt) statements.set(events.length, (stmt = raw.sqlite.prepare(placeholders(events.length))));
            stmt.run(values);
          } else await raw.pool.query(placeholders(events.length), values);
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: events.length }));
        } catch (err) {
          res.writeHead(500).end(String(err));
        }
      })();
    });
  });
  server.listen(Number(process.env.BENCH_PORT), '127.0.0.1');
  process.on('SIGTERM', () => {
    server.close();
    void closeRaw(raw).finally(() => process.exit(0));
  });
}

// ---------------------------------------------------------------------------------------------
// Loading the data set

interface Seeded {
  workspaceId: string;
  meterIds: Record<string, string>;
  previousPeriod: string;
  previousEvents: number;
}

async function loadDataSet(db: Database, raw: Raw, dialect: Dialect): Promise<Seeded> {
  const t = db.t;
  const now = new Date();
  const workspaceId = randomUUID();
  await db.q.insert(t.workspaces).values({ id: workspaceId, name: 'Bench', slug: `bench-${workspaceId}`, currency: 'usd' });
  const meterIds: Record<string, string> = {};
  await db.q.insert(t.meters).values(
    METER_KEYS.map((key, i) => {
      meterIds[key] = meterIdOf(i);
      return { id: meterIdOf(i), workspaceId, key, displayName: key, unit: key === 'api_calls' ? 'call' : 'word', aggregation: key === 'api_calls' ? 'count' : 'sum', priceMinor: 100, blockSize: 1000, billingMode: 'invoice', createdAt: now, updatedAt: now };
    }),
  );
  const m = METER_KEYS.map((k) => meterIds[k]!);

  // Customers.
  const nowMs = now.getTime();
  if (raw.dialect === 'sqlite') {
    raw.sqlite
      .prepare(
        `insert into customers (id, workspace_id, name, email, external_id, created_at)
         with recursive s(n) as (select 0 union all select n + 1 from s where n + 1 < ?)
         select printf('00000000-0000-7000-8000-%012x', n), ?, 'Bench customer ' || n, null, 'ext-' || n, ? from s`,
      )
      .run(CUSTOMERS, workspaceId, nowMs);
  } else {
    await raw.pool.query(
      `insert into customers (id, workspace_id, name, email, external_id, created_at)
       select '00000000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'), $2, 'Bench customer ' || n, null, 'ext-' || n, now() from generate_series(0, $1::bigint - 1) n`,
      [CUSTOMERS, workspaceId],
    );
  }

  // Events: 90% over the previous month, 10% over this month up to 10 minutes ago.
  const prevStart = monthStart(now, -1);
  const curStart = monthStart(now, 0);
  const prevLen = curStart - prevStart;
  const curLen = Math.max(1, nowMs - 10 * 60_000 - curStart);
  const P = Math.round(EVENTS * PREVIOUS_SHARE);
  const rest = Math.max(1, EVENTS - P);
  const at = `case when n < ${P} then ${prevStart} + (n * ${prevLen}) / ${Math.max(1, P)} else ${curStart} + ((n - ${P}) * ${curLen}) / ${rest} end`;
  const started = Date.now();
  let lastPrint = 0;
  for (let lo = 0; lo < EVENTS; lo += CHUNK) {
    const hi = Math.min(EVENTS, lo + CHUNK);
    if (raw.dialect === 'sqlite') {
      const s = raw.sqlite;
      s.transaction(() => {
        s.prepare(
          `insert into usage_events (${EVENT_COLUMNS})
           with recursive s(n) as (select ? union all select n + 1 from s where n + 1 < ?)
           select printf('00000000-0000-7000-a000-%012x', n), ?, printf('00000000-0000-7000-8000-%012x', n % ?),
                  case (n / ?) % 3 when 0 then ? when 1 then ? else ? end, printf('bulk-%012d', n), ((n * 7919) % 2000) + 1,
                  ${at}, null, 'bulk', 0, ${at}
           from s`,
        ).run(lo, hi, workspaceId, CUSTOMERS, CUSTOMERS, m[0], m[1], m[2]);
        s.prepare(
          `insert into usage_daily_rollups (customer_id, meter_id, day, workspace_id, quantity, event_count, max_quantity, charged_minor)
           select customer_id, meter_id, strftime('%Y-%m-%d', occurred_at / 1000, 'unixepoch') as d, workspace_id, sum(quantity), count(*), max(quantity), 0
           from usage_events where id >= ? and id < ? group by customer_id, meter_id, d, workspace_id
           on conflict (customer_id, meter_id, day) do update set quantity = quantity + excluded.quantity, event_count = event_count + excluded.event_count,
             max_quantity = max(max_quantity, excluded.max_quantity)`,
        ).run(`00000000-0000-7000-a000-${lo.toString(16).padStart(12, '0')}`, `00000000-0000-7000-a000-${hi.toString(16).padStart(12, '0')}`);
      })();
    } else {
      const c = await raw.pool.connect();
      try {
        await c.query('begin');
        await c.query('set local synchronous_commit = off');
        await c.query(
          `insert into usage_events (${EVENT_COLUMNS})
           select '00000000-0000-7000-a000-' || lpad(to_hex(n), 12, '0'), $3, '00000000-0000-7000-8000-' || lpad(to_hex(n % $4), 12, '0'),
                  ($5::text[])[((n / $4) % 3) + 1], 'bulk-' || lpad(n::text, 12, '0'), ((n * 7919) % 2000) + 1,
                  to_timestamp((${at}) / 1000.0), null, 'bulk', 0, to_timestamp((${at}) / 1000.0)
           from generate_series($1::bigint, $2::bigint - 1) n`,
          [lo, hi, workspaceId, CUSTOMERS, m],
        );
        await c.query(
          `insert into usage_daily_rollups (customer_id, meter_id, day, workspace_id, quantity, event_count, max_quantity, charged_minor)
           select customer_id, meter_id, to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD') as d, workspace_id, sum(quantity), count(*), max(quantity), 0
           from usage_events where id >= $1 and id < $2 group by customer_id, meter_id, d, workspace_id
           on conflict (customer_id, meter_id, day) do update set quantity = usage_daily_rollups.quantity + excluded.quantity,
             event_count = usage_daily_rollups.event_count + excluded.event_count, max_quantity = greatest(usage_daily_rollups.max_quantity, excluded.max_quantity)`,
          [`00000000-0000-7000-a000-${lo.toString(16).padStart(12, '0')}`, `00000000-0000-7000-a000-${hi.toString(16).padStart(12, '0')}`],
        );
        await c.query('commit');
      } catch (err) {
        await c.query('rollback').catch(() => undefined);
        throw err;
      } finally {
        c.release();
      }
    }
    const elapsed = (Date.now() - started) / 1000;
    if (hi === EVENTS || Date.now() - lastPrint > 5000) {
      lastPrint = Date.now();
      say(`  [${dialect}] loaded ${fmt(hi)} / ${fmt(EVENTS)} events and their rollups (${fmt(hi / Math.max(elapsed, 0.001))} events/s, ${elapsed.toFixed(0)} s)`);
    }
  }
  if (raw.dialect === 'sqlite') raw.sqlite.exec('analyze');
  else await raw.pool.query('analyze');
  const previousPeriod = new Date(prevStart).toISOString().slice(0, 7);
  return { workspaceId, meterIds, previousPeriod, previousEvents: Math.min(P, EVENTS) };
}

async function countRows(raw: Raw, query: string, params: unknown[]): Promise<number> {
  if (raw.dialect === 'sqlite') {
    const row = raw.sqlite.prepare(query.replace(/\$\d+/g, '?')).get(...params) as Record<string, number>;
    return Number(Object.values(row)[0]);
  }
  const r = await raw.pool.query(query, params);
  return Number(Object.values(r.rows[0] as Record<string, unknown>)[0]);
}

// ---------------------------------------------------------------------------------------------
// Processes

async function waitHealthy(url: string, child: ChildProcess, output: () => string) {
  for (let tries = 0; ; tries++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${output()}`);
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    if (tries > 600) throw new Error(`server did not start: ${output()}`);
    await sleep(100);
  }
}

function spawnLogged(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    err = (err + c.toString()).slice(-4000);
  });
  return { child, output: () => err };
}

async function stop(child: ChildProcess) {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

// ---------------------------------------------------------------------------------------------
// Measurements

interface Batch {
  body: string;
  keys: string[];
  quantity: number;
}

/** `count` batches of 1,000 events; with `repeatFrom`, every tenth event repeats (same payload) an event of those batches. */
function makeBatches(prefix: string, count: number, repeatFrom?: { events: { customerId: string; meter: string; quantity: number; idempotencyKey: string }[] }) {
  const all: { customerId: string; meter: string; quantity: number; idempotencyKey: string }[] = [];
  const batches: Batch[] = [];
  let r = 0;
  for (let b = 0; b < count; b++) {
    const events: { customerId: string; meter: string; quantity: number; idempotencyKey: string }[] = [];
    for (let i = 0; i < BATCH; i++) {
      const n = b * BATCH + i;
      if (repeatFrom && i % 10 === 9 && repeatFrom.events.length > 0) {
        events.push(repeatFrom.events[(r++ * 7919) % repeatFrom.events.length]!);
        continue;
      }
      const h = createHash('sha256').update(`${prefix}:${n}`).digest();
      events.push({ customerId: customerIdOf(h.readUInt32BE(0) % CUSTOMERS), meter: METER_KEYS[h[4]! % 3]!, quantity: 1 + (h.readUInt16BE(5) % 2000), idempotencyKey: `${prefix}-${n}` });
    }
    all.push(...events);
    batches.push({ body: JSON.stringify({ events }), keys: events.map((e) => e.idempotencyKey), quantity: events.reduce((s, e) => s + e.quantity, 0) });
  }
  return { batches, events: all };
}

interface Run {
  eventsPerSec: number;
  cpuUsPerEvent: number;
  p50: number;
  p99: number;
  non2xx: number;
}

async function fire(url: string, pid: number, batches: Batch[], headers: Record<string, string>): Promise<Run> {
  let i = 0;
  const cpuBefore = cpuMs(pid);
  const started = performance.now();
  let lastResponse = started;
  // autocannon settles an `amount` run on its 1-second tick, so its end is coarse: the wall time
  // ends at the last response instead.
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: CONNECTIONS,
        amount: batches.length,
        method: 'POST',
        timeout: 60,
        requests: [{ setupRequest: (req) => ({ ...req, body: batches[i++ % batches.length]!.body, headers: { 'content-type': 'application/json', ...headers } }) }],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', () => {
      lastResponse = performance.now();
    });
  });
  const seconds = (lastResponse - started) / 1000;
  const cpu = cpuMs(pid) - cpuBefore;
  const events = batches.length * BATCH;
  return {
    eventsPerSec: events / seconds,
    cpuUsPerEvent: (cpu * 1000) / events,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx + result.errors + result.timeouts,
  };
}

/** Signs up, verifies in the database, signs in; returns the session cookie. */
async function signIn(url: string, db: Database): Promise<{ cookie: string; userId: string }> {
  const email = `bench-${randomBytes(4).toString('hex')}@example.test`;
  const password = 'Bench-horse-battery-staple-9431!';
  const post = (p: string, body: unknown) => fetch(`${url}/api/auth/${p}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: url }, body: JSON.stringify(body) });
  const up = await post('sign-up/email', { name: 'Bench customer', email, password, callbackURL: '/' });
  if (up.status !== 200) throw new Error(`sign-up answered ${up.status}: ${await up.text()}`);
  const { eq } = await import('@tally/db');
  const [user] = await db.q.update(db.t.users).set({ emailVerified: true }).where(eq(db.t.users.email, email)).returning({ id: db.t.users.id });
  const res = await post('sign-in/email', { email, password });
  if (res.status !== 200) throw new Error(`sign-in answered ${res.status}: ${await res.text()}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return { cookie, userId: user!.id };
}

interface DialectReport {
  dialect: Dialect;
  lines: string[];
}

async function benchDialect(dialect: Dialect): Promise<DialectReport> {
  const lines: string[] = [];
  if (dialect === 'postgres' && (await resolvePostgresTarget()).kind !== 'server') {
    return { dialect, lines: ['postgres: skipped (no Postgres server at TEST_POSTGRES_URL or 127.0.0.1:5432; PGlite is not benchmarked)'] };
  }
  const database = await createTestDatabaseUrl(dialect);
  const db = await createDatabase(database.url);
  const children: ChildProcess[] = [];
  let raw: Raw | null = null;
  try {
    await db.migrate();
    raw = openRaw(dialect, database.url);
    say(`[${dialect}] loading ${fmt(CUSTOMERS)} customers and ${fmt(EVENTS)} events (${database.url.replace(/\/\/[^@/]*@/, '//')})`);
    const loadStart = Date.now();
    const seeded = await loadDataSet(db, raw, dialect);
    const loadSeconds = (Date.now() - loadStart) / 1000;
    lines.push(`${dialect}: data set ${fmt(CUSTOMERS)} customers, ${fmt(EVENTS)} events (${fmt(seeded.previousEvents)} in ${seeded.previousPeriod}), loaded in ${loadSeconds.toFixed(1)} s`);

    const key = await createApiKey(db, { workspaceId: seeded.workspaceId, name: 'bench', mode: 'test' });

    // Tally's server.
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const profile = process.env.BENCH_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`] : [];
    const tally = spawnLogged([...profile, path.resolve(here, '../dist/main.js')], {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: database.url,
      TALLY_PUBLIC_URL: url,
      BETTER_AUTH_SECRET: randomBytes(32).toString('base64url'),
      STRIPE_API_BASE: 'http://127.0.0.1:9',
      STRIPE_WEBHOOK_SECRET: 'whsec_bench_only_0123456789abcdef',
      TALLY_SEED_DEMO: 'false',
      TALLY_ALLOW_EMULATOR_IN_PRODUCTION: 'true',
      // The bench times the close itself: the server must not close the loaded period on start.
      TALLY_USAGE_CLOSE_SCHEDULE: 'off',
    });
    children.push(tally.child);
    // The baseline server.
    const basePort = await freePort();
    const baseUrl = `http://127.0.0.1:${basePort}`;
    const base = spawnLogged(['--import', 'tsx', fileURLToPath(import.meta.url), '--baseline-server'], {
      PATH: process.env.PATH,
      BENCH_DIALECT: dialect,
      BENCH_DB_URL: database.url,
      BENCH_PORT: String(basePort),
      BENCH_WORKSPACE: seeded.workspaceId,
      BENCH_METERS: JSON.stringify(seeded.meterIds),
    });
    children.push(base.child);
    await waitHealthy(`${url}/healthz`, tally.child, tally.output);
    await waitHealthy(baseUrl, base.child, base.output);

    const auth = { authorization: `Bearer ${key.key}` };
    const unique = makeBatches(`http-u`, BATCHES);
    const dup = makeBatches(`http-d`, BATCHES, unique);
    const baseUnique = makeBatches(`base-u`, BATCHES);
    const baseDup = makeBatches(`base-d`, BATCHES, baseUnique);
    // Warm both servers up (JIT, statement caches, connections) with a few batches of their own.
    const warm = makeBatches('warm', 4);
    await fire(`${url}/api/v1/usage`, tally.child.pid!, warm.batches, auth);
    await fire(baseUrl, base.child.pid!, makeBatches('base-warm', 4).batches, {});

    const eventsBefore = await countRows(raw, `select count(*) as c from usage_events where workspace_id = $1`, [seeded.workspaceId]);
    const results: { label: string; base: Run; tally: Run }[] = [];
    for (const [label, tallyBatches, baseBatches] of [
      ['unique keys', unique.batches, baseUnique.batches],
      ['10% duplicate keys', dup.batches, baseDup.batches],
    ] as const) {
      const b = await fire(baseUrl, base.child.pid!, baseBatches, {});
      const r = await fire(`${url}/api/v1/usage`, tally.child.pid!, tallyBatches, auth);
      results.push({ label, base: b, tally: r });
    }
    const eventsAfter = await countRows(raw, `select count(*) as c from usage_events where workspace_id = $1`, [seeded.workspaceId]);
    const tallyStored = await countRows(raw, `select count(*) as c from usage_events where workspace_id = $1 and idempotency_key >= 'http-' and idempotency_key < 'http.'`, [seeded.workspaceId]);
    // New keys per server: the unique run, and 9 in 10 of the duplicate run (warm-ups came before the count).
    const expectedTally = BATCHES * BATCH + BATCHES * (BATCH - BATCH / 10);
    const target = TARGETS.ingest[dialect];
    for (const { label, base: b, tally: r } of results) {
      const speed = b.eventsPerSec / r.eventsPerSec;
      const cpu = r.cpuUsPerEvent / Math.max(b.cpuUsPerEvent, 0.001);
      const ok = r.eventsPerSec >= target && speed <= TARGETS.baselineRatio && cpu <= TARGETS.baselineRatio;
      lines.push(
        `${dialect}: ingest ${label.padEnd(18)} Tally ${fmt(r.eventsPerSec).padStart(7)} events/s  CPU ${r.cpuUsPerEvent.toFixed(1).padStart(6)} µs/event  p50 ${String(r.p50).padStart(4)} ms  p99 ${String(r.p99).padStart(4)} ms  non-2xx ${r.non2xx}`,
        `${dialect}:        ${''.padEnd(18)} bare  ${fmt(b.eventsPerSec).padStart(7)} events/s  CPU ${b.cpuUsPerEvent.toFixed(1).padStart(6)} µs/event  p50 ${String(b.p50).padStart(4)} ms  p99 ${String(b.p99).padStart(4)} ms  non-2xx ${b.non2xx}`,
        `${dialect}:        ${''.padEnd(18)} ratio: baseline is ${speed.toFixed(2)}x faster, Tally uses ${cpu.toFixed(2)}x the CPU   target >= ${fmt(target)} events/s and within ${TARGETS.baselineRatio}x: ${ok ? 'MET' : 'NOT MET'}`,
      );
    }
    lines.push(
      `${dialect}: check: Tally stored ${fmt(tallyStored)} of its events (expected ${fmt(expectedTally)}: duplicates once), all stored rows grew by ${fmt(eventsAfter - eventsBefore)} (expected ${fmt(2 * expectedTally)}: Tally's and the baseline's)`,
    );

    // usage.dashboard over HTTP as a signed-in customer.
    try {
      const { cookie, userId } = await signIn(url, db);
      const targets = Array.from({ length: Math.min(20, CUSTOMERS) }, (_, i) => customerIdOf(Math.floor((i * CUSTOMERS) / Math.min(20, CUSTOMERS))));
      await db.q.insert(db.t.customerMemberships).values(targets.map((customerId) => ({ id: randomUUID(), customerId, userId, role: 'owner' as const })));
      const dashboard = (customerId: string) => fetch(`${url}/trpc/usage.dashboard?input=${encodeURIComponent(JSON.stringify({ json: { customerId } }))}`, { headers: { cookie } });
      const first = await dashboard(targets[0]!);
      if (first.status !== 200) throw new Error(`usage.dashboard answered ${first.status}: ${(await first.text()).slice(0, 300)}`);
      await first.arrayBuffer();
      for (let i = 0; i < 20; i++) await (await dashboard(targets[i % targets.length]!)).arrayBuffer();
      const times: number[] = [];
      let bad = 0;
      for (let i = 0; i < DASHBOARD_REQUESTS; i++) {
        const t0 = performance.now();
        const res = await dashboard(targets[i % targets.length]!);
        await res.arrayBuffer();
        times.push(performance.now() - t0);
        if (res.status !== 200) bad++;
      }
      times.sort((a, b) => a - b);
      const p95 = pct(times, 95);
      lines.push(
        `${dialect}: usage.dashboard (tRPC GET over HTTP, signed-in customer, ${DASHBOARD_REQUESTS} sequential requests over ${targets.length} customers): p50 ${pct(times, 50).toFixed(1)} ms  p95 ${p95.toFixed(1)} ms  non-200 ${bad}   target p95 <= ${TARGETS.dashboardP95Ms} ms at 10M events: ${p95 <= TARGETS.dashboardP95Ms ? 'MET' : 'NOT MET'}${EVENTS < 10_000_000 ? ` (at ${fmt(EVENTS)} events)` : ''}`,
      );
    } catch (err) {
      lines.push(`${dialect}: usage.dashboard: failed (${err instanceof Error ? err.message : String(err)})`);
    }

    for (const child of children) await stop(child);

    // Period close (aggregation + Tally invoice rows, no Stripe), in this process.
    const closeModulePath = '../../../packages/api/src/usage/close-period.ts';
    type CloseFn = (o: Record<string, unknown>) => Promise<{ customers: number; invoicesCreated: number; totalMinor: number }>;
    let close: CloseFn | null = null;
    try {
      const mod = (await import(closeModulePath)) as { closeUsagePeriod?: CloseFn };
      close = mod.closeUsagePeriod ?? null;
    } catch {
      close = null;
    }
    if (!close) lines.push(`${dialect}: period close: n/a (close-period not built)`);
    else {
      const already = await countRows(raw, `select count(*) as c from usage_periods where workspace_id = $1 and period = $2`, [seeded.workspaceId, seeded.previousPeriod]);
      const stripeAccounts = createStripeAccounts({ deployment: { mode: 'none', client: null, webhookSecret: null }, keyring: null, createClient: () => { throw new Error('no Stripe in the benchmark'); } });
      const t0 = performance.now();
      const summary = await close({ db, stripeAccounts, workspaceId: seeded.workspaceId, period: seeded.previousPeriod, issue: false });
      const seconds = (performance.now() - t0) / 1000;
      lines.push(
        `${dialect}: period close ${seeded.previousPeriod} (closeUsagePeriod, issue: false; ${fmt(seeded.previousEvents)} events): ${seconds.toFixed(2)} s, ${fmt(summary.customers)} customers, ${fmt(summary.invoicesCreated)} invoices created, total ${fmt(summary.totalMinor)} minor units` +
          (dialect === 'sqlite' ? `   target <= ${TARGETS.closeSqliteS} s at 10M events: ${seconds <= TARGETS.closeSqliteS ? 'MET' : 'NOT MET'}${EVENTS < 10_000_000 ? ` (at ${fmt(EVENTS)} events)` : ''}` : '') +
          (already > 0 ? '   (note: the period was already closing/closed before this call, e.g. by the server\'s monthly job)' : ''),
      );
    }
    return { dialect, lines };
  } finally {
    for (const child of children) await stop(child);
    if (raw) await closeRaw(raw);
    await db.close();
    await database.drop();
  }
}

async function main() {
  say(
    `Usage benchmark: ${fmt(CUSTOMERS)} customers, ${fmt(EVENTS)} events; ingestion ${BATCHES} batches of ${BATCH} events per run over ${CONNECTIONS} connections; server and load generator on the same machine (${(await import('node:os')).cpus().length} cores)`,
  );
  const reports: DialectReport[] = [];
  for (const dialect of DIALECTS) {
    try {
      reports.push(await benchDialect(dialect));
    } catch (err) {
      reports.push({ dialect, lines: [`${dialect}: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`] });
    }
  }
  say('');
  say('Results');
  for (const r of reports) for (const line of r.lines) say(line);
}

if (opts['baseline-server']) await baselineServer();
else await main();
