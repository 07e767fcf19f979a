/**
 * Test databases for both dialects. Every database test runs once per entry of
 * `testDialects`: SQLite (a temp file) and Postgres.
 *
 * Postgres target: TEST_POSTGRES_URL if set (it must answer: CI sets it; `pglite` forces PGlite), else a server at
 * postgres://postgres@127.0.0.1:5432/postgres if one answers, else in-process PGlite, so the Postgres
 * suite runs on a laptop with nothing installed. Each `create()` makes a fresh, migrated
 * database (`CREATE DATABASE tally_test_<random>` on a server).
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDatabase, fromPglite, type Database, type Dialect } from './client';

export interface TestDatabase extends Database {
  /** A second, independent connection to the same database: another server process. */
  connectAgain(): Promise<Database>;
  /** Close every connection and delete the database. */
  destroy(): Promise<void>;
}

export interface TestDialect {
  name: Dialect;
  create(): Promise<TestDatabase>;
}

const DEFAULT_PG = 'postgres://postgres@127.0.0.1:5432/postgres';

let pgTarget: Promise<{ kind: 'server'; adminUrl: string } | { kind: 'pglite' }> | undefined;

async function answers(url: string): Promise<boolean> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1500 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Resolve (once per process) which Postgres the suite runs on. */
export function resolvePostgresTarget() {
  pgTarget ??= (async () => {
    const explicit = process.env.TEST_POSTGRES_URL;
    if (explicit === 'pglite') return { kind: 'pglite' as const };
    if (explicit) {
      if (!(await answers(explicit))) throw new Error(`TEST_POSTGRES_URL is set but Postgres does not answer at ${explicit}`);
      return { kind: 'server' as const, adminUrl: explicit };
    }
    if (await answers(DEFAULT_PG)) return { kind: 'server' as const, adminUrl: DEFAULT_PG };
    process.stderr.write('[tally/db] no Postgres server at 127.0.0.1:5432: Postgres suite runs on in-process PGlite\n');
    return { kind: 'pglite' as const };
  })();
  return pgTarget;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function createPostgres(): Promise<TestDatabase> {
  const target = await resolvePostgresTarget();
  if (target.kind === 'pglite') {
    const { PGlite } = await import('@electric-sql/pglite');
    const client = new PGlite();
    const db = await fromPglite(client);
    await db.migrate();
    // PGlite is one connection in this process: "another process" shares it.
    return { ...db, connectAgain: async () => db, destroy: () => db.close() };
  }
  const name = `tally_test_${randomBytes(6).toString('hex')}`;
  const pg = (await import('pg')).default;
  const admin = new pg.Client({ connectionString: target.adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = withDatabase(target.adminUrl, name);
  const db = await createDatabase(url, { poolSize: 8 });
  await db.migrate();
  const others: Database[] = [];
  return {
    ...db,
    async connectAgain() {
      const other = await createDatabase(url, { poolSize: 8 });
      others.push(other);
      return other;
    },
    async destroy() {
      for (const other of others) await other.close();
      await db.close();
      const dropper = new pg.Client({ connectionString: target.adminUrl });
      await dropper.connect();
      await dropper.query(`drop database if exists ${name}`);
      await dropper.end();
    },
  };
}

async function createSqlite(): Promise<TestDatabase> {
  const file = path.join(os.tmpdir(), `tally-test-${randomBytes(6).toString('hex')}.sqlite`);
  const db = await createDatabase(file);
  await db.migrate();
  const others: Database[] = [];
  return {
    ...db,
    async connectAgain() {
      const other = await createDatabase(file);
      others.push(other);
      return other;
    },
    async destroy() {
      for (const other of others) await other.close();
      await db.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    },
  };
}

/** Both dialects; use as `describe.each(testDialects)('thing ($name)', ({ create }) => ...)`. */
export const testDialects: TestDialect[] = [
  { name: 'sqlite', create: createSqlite },
  { name: 'postgres', create: createPostgres },
];
