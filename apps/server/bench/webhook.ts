/**
 * Webhook ingestion benchmark (`pnpm bench`): the built server (`dist/main.js`) in its own
 * process on a fresh SQLite file and a fresh Postgres database; autocannon delivers signed
 * `checkout.session.completed` events, one per seeded pending top-up (the credit path:
 * verify, log the event, ledger entry + balance + top-up + event status in one transaction),
 * then the same events again (the duplicate path). Prints throughput, latency and server CPU
 * per event (from /proc), and checks that every top-up was credited exactly once.
 *
 * Env: BENCH_EVENTS (default 3000), BENCH_CONNECTIONS (default 16), BENCH_CPU_PROFILE=<dir>
 * (write the server's V8 CPU profile there).
 */
import { spawn } from 'node:child_process';
import { randomUUID as uuid } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase, sql, type Database, type Dialect } from '@tally/db';
import { createTestDatabaseUrl } from '@tally/db/testing';
import autocannon from 'autocannon';
import Stripe from 'stripe';


const EVENTS = Number(process.env.BENCH_EVENTS ?? 3000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const SECRET = 'whsec_bench_only_0123456789abcdef';
const here = path.dirname(fileURLToPath(import.meta.url));
const stripe = new Stripe('sk_test_bench_0123456789');

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

async function seedTopups(db: Database, n: number) {
  const t = db.t;
  const workspaceId = uuid();
  const customerId = uuid();
  await db.q.insert(t.workspaces).values({ id: workspaceId, name: 'Bench', slug: `bench-${workspaceId}`, currency: 'usd' });
  await db.q.insert(t.customers).values({ id: customerId, workspaceId, name: 'Bench customer' });
  const rows = Array.from({ length: n }, () => {
    const id = uuid();
    return { id, workspaceId, customerId, amountMinor: 500, currency: 'usd', status: 'pending' as const, stripeCheckoutSessionId: `cs_test_${id.replace(/-/g, '')}` };
  });
  for (let i = 0; i < rows.length; i += 500) await db.q.insert(t.topups).values(rows.slice(i, i + 500));
  return { customerId, bodies: rows.map((r) => JSON.stringify(eventFor(r.id, r.stripeCheckoutSessionId))) };
}

function eventFor(topupId: string, sessionId: string) {
  return {
    id: `evt_${uuid().replace(/-/g, '')}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'checkout.session.completed',
    data: {
      object: {
        id: sessionId,
        object: 'checkout.session',
        mode: 'payment',
        status: 'complete',
        payment_status: 'paid',
        amount_total: 500,
        currency: 'usd',
        client_reference_id: topupId,
        metadata: { tally_topup_id: topupId },
        payment_intent: `pi_${topupId.replace(/-/g, '')}`,
      },
    },
  };
}

async function fire(url: string, bodies: string[]) {
  let i = 0;
  const result = await autocannon({
    url: `${url}/api/stripe/webhook`,
    connections: CONNECTIONS,
    amount: bodies.length,
    method: 'POST',
    requests: [
      {
        setupRequest: (req) => {
          const body = bodies[i++ % bodies.length]!;
          const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET });
          return { ...req, body, headers: { 'content-type': 'application/json', 'stripe-signature': header } };
        },
      },
    ],
  });
  return result;
}

async function benchDialect(dialect: Dialect) {
  const database = await createTestDatabaseUrl(dialect);
  const db = await createDatabase(database.url);
  await db.migrate();
  const { customerId, bodies } = await seedTopups(db, EVENTS);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const profile = process.env.BENCH_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, path.resolve(here, '../dist/main.js')], {
    env: { PATH: process.env.PATH, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: database.url, STRIPE_API_BASE: 'http://127.0.0.1:9', STRIPE_WEBHOOK_SECRET: SECRET, TALLY_SEED_DEMO: 'false', TALLY_ALLOW_EMULATOR_IN_PRODUCTION: 'true' },
    stdio: 'ignore',
  });
  try {
    for (let tries = 0; ; tries++) {
      if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
      if (tries > 300) throw new Error('server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const rows: string[] = [];
    for (const [label, pass] of [['credit (first delivery)', bodies], ['duplicate (redelivery)', bodies]] as const) {
      const cpuBefore = cpuMs(child.pid!);
      const r = await fire(url, pass);
      const cpu = cpuMs(child.pid!) - cpuBefore;
      const non2xx = r.non2xx + r.errors;
      rows.push(
        `${dialect.padEnd(8)} ${label.padEnd(24)} ${String(Math.round(pass.length / r.duration)).padStart(6)} req/s  p50 ${String(r.latency.p50).padStart(4)} ms  p99 ${String(r.latency.p99).padStart(4)} ms  server CPU ${((cpu * 1000) / pass.length).toFixed(0).padStart(5)} µs/event  non-2xx ${non2xx}`,
      );
    }
    const [check] = await db.rows<{ entries: number | string; total: number | string }>(
      sql`select count(*) as entries, coalesce(sum(amount_minor), 0) as total from ledger_entries where customer_id = ${customerId}`,
    );
    const [cached] = await db.rows<{ amount: number | string }>(sql`select amount_minor as amount from customer_balances where customer_id = ${customerId}`);
    rows.push(
      `${dialect.padEnd(8)} ledger: ${check!.entries} entries for ${EVENTS} top-ups, sum ${check!.total}, cached balance ${cached?.amount ?? 0} (expected ${EVENTS * 500})`,
    );
    return rows;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await db.close();
    await database.drop();
  }
}

console.log(`Webhook ingestion: ${EVENTS} signed checkout.session.completed events, ${CONNECTIONS} connections, server and load generator on the same ${'2'} cores`);
for (const dialect of ['sqlite', 'postgres'] as const) {
  for (const row of await benchDialect(dialect)) console.log(row);
}
