/**
 * Issue 10 item 3 in the server: the event sweeper job.
 * - A server process killed (SIGKILL) between storing a Stripe event and settling it: the event
 *   stays `received`; two sweepers (two connections, as two processes would have) process it
 *   once after 5 minutes.
 * - The scheduled sweeper runs by itself: two of them on two connections at once process
 *   every stuck event exactly once, then stop.
 */
import { createDatabase, eq, sql, type Database } from '@tally/db';
import { createTestDatabaseUrl, resolvePostgresTarget, testDialects, type TestDatabase } from '@tally/db/testing';
import { silentLogger, storeStripeEvent, DEPLOYMENT_SCOPE } from '@tally/api';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEventSweeper } from '../src/jobs/event-sweeper';
import { checkoutSession, deliver, seedPendingTopup, serverStripeAccounts, sign, stripeEvent } from './harness';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, productionEnv } from './server-process';

const SIX_MINUTES = 6 * 60_000;
const HANG_AMOUNT = 4343;
const target = await resolvePostgresTarget();

async function exec(db: Database, statement: string) {
  if (db.dialect === 'sqlite') (db.q as unknown as { run(q: ReturnType<typeof sql.raw>): unknown }).run(sql.raw(statement));
  else await db.rows(sql.raw(statement));
}

/** Poll `check` until it is true or `timeoutMs` passes (then fail, saying what was awaited). */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * While `tally_test_hang` has a row, inserting a ledger entry of HANG_AMOUNT never finishes
 * (Postgres: pg_sleep; SQLite: a very large cross join): the server is stuck mid-handler,
 * after the event was stored, until it is killed.
 */
async function installHang(db: Database) {
  await exec(db, 'create table tally_test_hang (x integer)');
  await exec(db, 'insert into tally_test_hang (x) values (1)');
  if (db.dialect === 'sqlite') {
    await exec(db, 'create table tally_test_spin (x integer)');
    await exec(db, 'insert into tally_test_spin (x) with recursive c(x) as (select 1 union all select x + 1 from c where x < 3000) select x from c');
    await exec(
      db,
      `create trigger hang_credit before insert on ledger_entries when new.amount_minor = ${HANG_AMOUNT} and exists (select 1 from tally_test_hang) begin select count(*) from tally_test_spin a, tally_test_spin b, tally_test_spin c; end`,
    );
  } else {
    await exec(db, `create function tally_test_hang() returns trigger language plpgsql as $$ begin if exists (select 1 from tally_test_hang) then perform pg_sleep(120); end if; return new; end $$`);
    await exec(db, `create trigger hang_credit before insert on ledger_entries for each row when (new.amount_minor = ${HANG_AMOUNT}) execute function tally_test_hang()`);
  }
}

const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The real server as ONE process (`node --import tsx src/main.ts`, not the `tsx` wrapper, whose
 * SIGKILL would leave the server itself running), resolved once it prints that it runs.
 */
async function startServerProcess(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: serverDir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TMPDIR: process.env.TMPDIR ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  await until('the server to start', async () => {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${output}`);
    return output.includes('Tally is running');
  }, 90_000);
  return { child, exited, output: () => output };
}

const runsProcesses = target.kind === 'server';
if (!runsProcesses) console.warn('\n[event-sweeper.test] Postgres is PGlite here: the killed-process case runs on SQLite only.\n');

describe.each(testDialects.filter((d) => d.name === 'sqlite' || runsProcesses))('a server killed between storing and processing an event ($name)', { timeout: 120_000 }, ({ name }) => {
  let database: { url: string; drop(): Promise<void> };
  let server: Awaited<ReturnType<typeof startServerProcess>>;
  let baseUrl: string;
  let db: Database;
  let other: Database;
  beforeAll(async () => {
    database = await createTestDatabaseUrl(name);
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    server = await startServerProcess(productionEnv({ PORT: String(port), DATABASE_URL: database.url }));
    db = await createDatabase(database.url, { poolSize: 2, logger: { warn: () => undefined } });
    other = await createDatabase(database.url, { poolSize: 2, logger: { warn: () => undefined } });
  }, 120_000);
  afterAll(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    await server?.exited;
    await other?.close();
    await db?.close();
    await database?.drop();
  });

  it('leaves it received; the sweepers process it once, after 5 minutes', async () => {
    await installHang(db);
    const topup = await seedPendingTopup(db, HANG_AMOUNT);
    const event = stripeEvent('checkout.session.completed', checkoutSession({ id: topup.sessionId, client_reference_id: topup.topupId, amount_total: HANG_AMOUNT }));
    const payload = JSON.stringify(event);
    const delivery = deliver(baseUrl, payload, sign(payload)).catch(() => null);
    const rowOf = async (database: Database = db) => (await database.q.select().from(database.t.stripeEvents).where(eq(database.t.stripeEvents.id, event.id)))[0];
    await until('the event to be stored', async () => (await rowOf())?.status === 'received');
    server.child.kill('SIGKILL');
    expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await delivery).toBeNull();
    if (name === 'postgres') {
      // The killed process's backend sleeps on in its transaction; Postgres ends such orphans once it notices (here: at once).
      const dbName = new URL(database.url).pathname.slice(1);
      await db.rows(sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${dbName} and pid <> pg_backend_pid() and application_name <> 'tally-test-keep'`);
    }
    await exec(db, 'delete from tally_test_hang');
    expect(await rowOf()).toMatchObject({ status: 'received', attempts: 1, processedAt: null });

    const sweepers = [db, other].map((database, i) =>
      startEventSweeper({ db: database, stripeAccounts: serverStripeAccounts(), logger: silentLogger, config: { publicUrl: baseUrl }, schedule: null, owner: `sweeper-${i}`, now: () => new Date(Date.now() + SIX_MINUTES) }),
    );
    try {
      // Not yet 5 minutes old for a sweeper on the real clock.
      const early = startEventSweeper({ db, stripeAccounts: serverStripeAccounts(), logger: silentLogger, config: { publicUrl: baseUrl }, schedule: null, owner: 'early' });
      expect(await early.runNow()).toMatchObject({ status: 'ran', picked: 0 });
      await early.stop();
      const summaries = [];
      for (let round = 0; round < 3; round++) summaries.push(...(await Promise.all(sweepers.map((s) => s.runNow()))));
      const processed = summaries.flatMap((s) => s?.results.filter((r) => r.action === 'processed').map((r) => r.eventId) ?? []);
      expect(processed).toEqual([event.id]);
    } finally {
      await Promise.all(sweepers.map((s) => s.stop()));
    }
    expect(await rowOf(other)).toMatchObject({ status: 'processed', attempts: 2, workspaceId: topup.workspaceId });
    const ledger = await db.q.select().from(db.t.ledgerEntries).where(eq(db.t.ledgerEntries.customerId, topup.customerId));
    expect(ledger.map((e) => [e.amountMinor, e.reference])).toEqual([[HANG_AMOUNT, `topup:${topup.topupId}`]]);
    expect(await db.q.select().from(db.t.stripeEventErrors).where(eq(db.t.stripeEventErrors.eventId, event.id))).toEqual([]);
  });
});

describe.each(testDialects)('the scheduled event sweeper ($name)', ({ create }) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await create();
  });
  afterAll(async () => {
    await db.destroy();
  });

  it('two sweepers on a schedule, on two connections, process every stuck event once and stop', async () => {
    const other = await db.connectAgain();
    const storedAt = new Date();
    const topups: Awaited<ReturnType<typeof seedPendingTopup>>[] = [];
    for (let i = 0; i < 8; i++) topups.push(await seedPendingTopup(db, 600 + i));
    const events = topups.map((t, i) => stripeEvent('checkout.session.completed', checkoutSession({ id: t.sessionId, client_reference_id: t.topupId, amount_total: 600 + i })));
    for (const event of events) {
      await storeStripeEvent(db, { receipt: { scope: DEPLOYMENT_SCOPE, workspaceId: null }, event: event as unknown as Stripe.Event, payload: JSON.stringify(event), now: storedAt });
    }
    const sweepers = [db, other].map((database, i) =>
      startEventSweeper({
        db: database,
        stripeAccounts: serverStripeAccounts(),
        logger: silentLogger,
        config: { publicUrl: 'http://127.0.0.1' },
        schedule: '* * * * * *',
        limit: 3,
        owner: `scheduled-${i}`,
        now: () => new Date(Date.now() + SIX_MINUTES),
      }),
    );
    const statuses = async () => (await db.q.select({ id: db.t.stripeEvents.id, status: db.t.stripeEvents.status, attempts: db.t.stripeEvents.attempts }).from(db.t.stripeEvents)).filter((r) => events.some((e) => e.id === r.id));
    try {
      await until('every stuck event to be processed', async () => (await statuses()).every((r) => r.status === 'processed'));
    } finally {
      await Promise.all(sweepers.map((s) => s.stop()));
    }
    expect((await statuses()).map((r) => r.attempts)).toEqual(events.map(() => 2));
    for (const [i, t] of topups.entries()) {
      const ledger = await db.q.select().from(db.t.ledgerEntries).where(eq(db.t.ledgerEntries.customerId, t.customerId));
      expect(ledger.map((e) => e.amountMinor)).toEqual([600 + i]);
    }
    // Stopped: runNow does nothing any more.
    expect(await sweepers[0]!.runNow()).toBeNull();
  });
});
