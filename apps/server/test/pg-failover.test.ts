/**
 * Issue 6, item 13: Postgres connections terminated (`pg_terminate_backend`, as a failover
 * or a server restart does) during a burst of webhook deliveries. The server process must
 * stay up, fail only the requests whose connection died (500, so Stripe redelivers), and
 * credit every top-up exactly once after redelivery.
 *
 * Real Postgres server only: in-process PGlite has no backends to terminate. Without a
 * server this file says so loudly and runs nothing (`describe.runIf`).
 */
import { createDatabase, eq, inArray, sql, type Database } from '@tally/db';
import { createTestDatabaseUrl, resolvePostgresTarget } from '@tally/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkoutSession, deliver, seedPendingTopup, sign, stripeEvent } from './harness';
import { freePort, productionEnv, spawnServer, type ServerProcess } from './server-process';

const target = await resolvePostgresTarget();
const onServer = target.kind === 'server';
if (!onServer) {
  console.warn(
    '\n[pg-failover.test] WARNING: NOT RUN. No Postgres server (set TEST_POSTGRES_URL, or run one at 127.0.0.1:5432): ' +
      'PGlite has no backends for pg_terminate_backend, so surviving a terminated connection is untested here.\n',
  );
}

const EVENTS = 80;

describe.runIf(onServer)('Postgres connections terminated during a webhook burst', { timeout: 180_000 }, () => {
  let database: { url: string; drop(): Promise<void> };
  let server: ServerProcess;
  let baseUrl: string;
  let db: Database;
  /** One connection, to terminate every other backend of the database. */
  let killer: Database;

  beforeAll(async () => {
    database = await createTestDatabaseUrl('postgres');
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    server = spawnServer(productionEnv({ PORT: String(port), DATABASE_URL: database.url }));
    await server.waitForOutput(/Tally is running/, 90_000);
    db = await createDatabase(database.url, { poolSize: 2, logger: { warn: () => undefined } });
    killer = await createDatabase(database.url, { poolSize: 1, logger: { warn: () => undefined } });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await killer?.close();
    await db?.close();
    await database?.drop();
  });

  it('stays up while its connections are terminated mid-request, answers 500 for the requests that lost theirs, and credits each top-up once after redelivery', async () => {
    const deliveries = [];
    for (let i = 0; i < EVENTS; i++) {
      const amount = 100 + i;
      const topup = await seedPendingTopup(db, amount);
      const event = stripeEvent('checkout.session.completed', checkoutSession({ id: topup.sessionId, client_reference_id: topup.topupId, amount_total: amount }));
      deliveries.push({ topup, amount, payload: JSON.stringify(event) });
    }
    const send = async (payload: string) => {
      try {
        return (await deliver(baseUrl, payload, sign(payload))).status;
      } catch {
        return 0; // no HTTP answer at all (Stripe retries those too)
      }
    };

    // The burst, with every backend of the database but the killer's terminated every 250 ms
    // (up to 12 times) while it runs: connections in a transaction, running a single statement, idle.
    let inFlight = true;
    const burst = Promise.all(deliveries.map((d) => send(d.payload))).finally(() => (inFlight = false));
    let terminated = 0;
    const databaseName = new URL(database.url).pathname.slice(1);
    for (let round = 0; round < 12 && inFlight; round++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const rows = await killer.rows<{ t: boolean }>(
        sql`select pg_terminate_backend(pid) as t from pg_stat_activity where datname = ${databaseName} and pid <> pg_backend_pid()`,
      );
      terminated += rows.filter((r) => r.t).length;
    }
    const firstStatuses = await burst;
    const failedFirst = firstStatuses.filter((s) => s < 200 || s >= 300).length;
    console.log(`[pg-failover] ${terminated} backends terminated during the burst; ${failedFirst} of ${EVENTS} first deliveries not 2xx (statuses: ${[...new Set(firstStatuses)].join(', ')})`);

    expect(terminated).toBeGreaterThan(0);
    expect(failedFirst).toBeGreaterThan(0); // connections died under in-flight requests
    expect(firstStatuses.every((s) => s === 200 || s === 500)).toBe(true); // failed requests answer 500
    expect(server.child.exitCode).toBeNull();

    // Redeliver what did not get a 2xx, as Stripe would, until every event is delivered.
    let pending = deliveries.filter((_, i) => firstStatuses[i] !== 200);
    for (let round = 0; round < 5 && pending.length > 0; round++) {
      const statuses = await Promise.all(pending.map((d) => send(d.payload)));
      pending = pending.filter((_, i) => statuses[i] !== 200);
    }
    expect(pending).toEqual([]);
    expect(server.child.exitCode).toBeNull();
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);

    // Exactly once: one ledger row per top-up, for its amount, and balances equal the sum.
    const { ledgerEntries, customerBalances } = db.t;
    const customerIds = deliveries.map((d) => d.topup.customerId);
    const entries = await db.q.select().from(ledgerEntries).where(inArray(ledgerEntries.customerId, customerIds));
    expect(entries).toHaveLength(EVENTS);
    for (const d of deliveries) {
      const mine = entries.filter((e) => e.customerId === d.topup.customerId);
      expect(mine.map((e) => [e.reference, e.amountMinor])).toEqual([[`topup:${d.topup.topupId}`, d.amount]]);
      const [balance] = await db.q.select().from(customerBalances).where(eq(customerBalances.customerId, d.topup.customerId));
      expect(balance?.amountMinor).toBe(d.amount);
    }
    expect(entries.reduce((sum, e) => sum + e.amountMinor, 0)).toBe(deliveries.reduce((sum, d) => sum + d.amount, 0));
    expect(server.stderr()).not.toMatch(/Unhandled 'error' event/);
  });
});
