/**
 * Postgres server only (issue 6, item 13): a backend terminated while its connection is
 * checked out for a transaction (`pg_terminate_backend`, 57P01, as a failover or restart
 * does). Without an 'error' listener on the client, node-postgres's 'error' event is
 * unhandled and ends the process (here: the test run). PGlite has no backends to
 * terminate, so without a server this file says so loudly and runs nothing.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createDatabase, run, type Database } from '../src/client';
import { createTestDatabaseUrl, resolvePostgresTarget } from '../src/testing';

const target = await resolvePostgresTarget();
const onServer = target.kind === 'server';
if (!onServer) {
  console.warn('\n[pg-connection-loss.test] WARNING: NOT RUN. No Postgres server: PGlite has no backends to terminate.\n');
}

describe.runIf(onServer)('Postgres: a connection terminated in the middle of a transaction', () => {
  const PASSWORD = 'pw-never-logged';
  let database: { url: string; drop(): Promise<void> };
  let db: Database;
  let killer: pg.Client;
  const warnings: { fields: Record<string, unknown>; message: string }[] = [];

  beforeAll(async () => {
    database = await createTestDatabaseUrl('postgres');
    const withPassword = new URL(database.url);
    withPassword.password = PASSWORD; // trust auth ignores it; it must never reach a log line
    withPassword.searchParams.set('application_name', 'tally-connection-loss');
    db = await createDatabase(withPassword.toString(), { poolSize: 2, logger: { warn: (fields, message) => warnings.push({ fields, message }) } });
    killer = new pg.Client({ connectionString: database.url });
    await killer.connect();
  });
  afterAll(async () => {
    await killer?.end();
    await db?.close();
    await database?.drop();
  });

  it('fails that transaction, logs one line without secrets, drops the dead connection, and later transactions succeed', async () => {
    const doomed = db.transaction(function* (tx) {
      yield* run(tx.execute(sql`select 1`));
      yield* run(tx.execute(sql`select pg_sleep(30)`));
      return 'committed';
    });
    // Wait until the transaction's statement runs, then terminate its backend.
    let pid: number | undefined;
    for (let i = 0; i < 200 && pid === undefined; i++) {
      const { rows } = await killer.query<{ pid: number }>("select pid from pg_stat_activity where application_name = 'tally-connection-loss' and query like '%pg_sleep(30)%' and state = 'active'");
      pid = rows[0]?.pid;
      if (pid === undefined) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(pid).toBeDefined();
    await killer.query('select pg_terminate_backend($1)', [pid]);

    await expect(doomed).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 50)); // let the socket's end event arrive

    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/Postgres connection lost/);
    expect(warnings[0]!.fields).toMatchObject({ reason: expect.any(String) });
    expect(JSON.stringify(warnings)).not.toContain(PASSWORD);

    // The dead client is not handed out again: with a pool of 2, run more transactions than
    // that, concurrently and one after another; each needs a live connection.
    const once = () =>
      db.transaction(function* (tx) {
        yield* run(tx.execute(sql`select 1`));
        return 'ok';
      });
    expect(await Promise.all([once(), once(), once()])).toEqual(['ok', 'ok', 'ok']);
    for (let i = 0; i < 3; i++) expect(await once()).toBe('ok');
    const live = await killer.query("select count(*)::int as n from pg_stat_activity where application_name = 'tally-connection-loss'");
    expect(live.rows[0].n).toBeLessThanOrEqual(2);
  });
});
