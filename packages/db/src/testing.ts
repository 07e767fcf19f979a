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

/** Create an empty database on the Postgres server; returns its URL and how to drop it. */
async function createServerDatabase(adminUrl: string) {
  const pg = (await import('pg')).default;
  const name = `tally_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  return {
    url: withDatabase(adminUrl, name),
    async drop() {
      const dropper = new pg.Client({ connectionString: adminUrl });
      await dropper.connect();
      await dropper.query(`drop database if exists ${name}`);
      await dropper.end();
    },
  };
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
  const created = await createServerDatabase(target.adminUrl);
  const db = await createDatabase(created.url, { poolSize: 8 });
  await db.migrate();
  const others: Database[] = [];
  return {
    ...db,
    async connectAgain() {
      const other = await createDatabase(created.url, { poolSize: 8 });
      others.push(other);
      return other;
    },
    async destroy() {
      for (const other of others) await other.close();
      await db.close();
      await created.drop();
    },
  };
}

/**
 * A DATABASE_URL for a fresh, empty database of `dialect`, for a server running in a child
 * process (it migrates at start), and a function that deletes it.
 */
export async function createTestDatabaseUrl(dialect: Dialect): Promise<{ url: string; drop(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const file = path.join(os.tmpdir(), `tally-test-${randomBytes(6).toString('hex')}.sqlite`);
    return { url: `file:${file}`, drop: async () => removeSqlite(file) };
  }
  const target = await resolvePostgresTarget();
  if (target.kind === 'server') return createServerDatabase(target.adminUrl);
  const dir = path.join(os.tmpdir(), `tally-test-pglite-${randomBytes(6).toString('hex')}`);
  return { url: `pglite:${dir}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

function removeSqlite(file: string) {
  for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
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
      removeSqlite(file);
    },
  };
}

/** Both dialects; use as `describe.each(testDialects)('thing ($name)', ({ create }) => ...)`. */
export const testDialects: TestDialect[] = [
  { name: 'sqlite', create: createSqlite },
  { name: 'postgres', create: createPostgres },
];
