/**
 * What the server process does when it cannot start (issue 6, items 14 and 15): one clear
 * line on stderr, exit code 1, never "Tally is running", never a stack dump or a password.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createDatabase, sql } from '@tally/db';
import { createTestDatabaseUrl, resolvePostgresTarget, testDialects } from '@tally/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, productionEnv, spawnServer } from './server-process';

/** stderr of a failed start: exactly one non-empty line, without stack frames. */
function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, `stderr:\n${stderr}`).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
  return lines[0]!;
}

async function startFails(env: Record<string, string>) {
  const server = spawnServer(productionEnv({ PORT: String(await freePort()), ...env }));
  const code = await server.exited;
  expect(server.stdout()).not.toContain('Tally is running');
  return { code, line: oneLine(server.stderr()), stderr: server.stderr() };
}

/** A tsx start loads the whole server (~5 s of CPU); the shared 2-core machine can triple that. */
const SPAWN_TIMEOUT = 90_000;

const pgTarget = await resolvePostgresTarget();
if (pgTarget.kind !== 'server') {
  console.warn(
    '\n[process.test] WARNING: no Postgres server (TEST_POSTGRES_URL / 127.0.0.1:5432): the "wrong database name" start test does NOT run; PGlite has no server to name a database on.\n',
  );
}

describe('server process: a port in use', { timeout: SPAWN_TIMEOUT }, () => {
  let holder: Server;
  let port: number;
  let drop: () => Promise<void>;
  let url: string;
  beforeAll(async () => {
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    port = (holder.address() as { port: number }).port;
    ({ url, drop } = await createTestDatabaseUrl('sqlite'));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => holder.close(() => resolve()));
    await drop();
  });

  it('exits 1 naming the port instead of reporting that it runs', async () => {
    const { code, line } = await startFails({ PORT: String(port), DATABASE_URL: url });
    expect(code).toBe(1);
    expect(line).toBe(`Cannot listen on 127.0.0.1:${port}: address already in use (EADDRINUSE)`);
  });
});

describe('server process: database errors at start', { timeout: SPAWN_TIMEOUT }, () => {
  it('an unreachable Postgres: one line with the redacted DATABASE_URL and "connection refused", exit 1', async () => {
    const closed = await freePort();
    const { code, line, stderr } = await startFails({ DATABASE_URL: `postgres://tally:s3cret-Pa55@127.0.0.1:${closed}/tally` });
    expect(code).toBe(1);
    expect(line).toBe(`Cannot open the database postgres://tally:***@127.0.0.1:${closed}/tally: connection refused (ECONNREFUSED)`);
    expect(stderr).not.toContain('s3cret-Pa55');
  });

  it.runIf(pgTarget.kind === 'server')('a database name that does not exist: one line naming it, exit 1', async () => {
    const target = pgTarget as { kind: 'server'; adminUrl: string };
    const u = new URL(target.adminUrl);
    u.pathname = '/tally_missing_database';
    u.password = 'n0t-Printed';
    const { code, line, stderr } = await startFails({ DATABASE_URL: u.toString() });
    expect(code).toBe(1);
    u.password = '***';
    expect(line).toBe(`Cannot open the database ${u.toString()}: database "tally_missing_database" does not exist (3D000)`);
    expect(stderr).not.toContain('n0t-Printed');
  });

  it('a SQLite path that cannot be created: one line with the path and the reason, exit 1', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tally-process-'));
    try {
      const file = path.join(dir, 'not-a-directory');
      writeFileSync(file, 'a file where a directory should be');
      const { code, line } = await startFails({ DATABASE_URL: `file:${file}/data/tally.sqlite` });
      expect(code).toBe(1);
      expect(line).toBe(`Cannot open the database file:${file}/data/tally.sqlite: not a directory, mkdir '${file}/data' (ENOTDIR)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe.each(testDialects)('a migration that fails ($name)', ({ name }) => {
    let url: string;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      ({ url, drop } = await createTestDatabaseUrl(name));
      // A table the first migration creates, already there (a database used by something else).
      const db = await createDatabase(url);
      await db.rows(sql`create table workspaces (unrelated integer)`);
      await db.close();
    });
    afterAll(async () => drop());

    it('prints one line naming the database and the failing reason, no SQL, exit 1', async () => {
      const { code, line } = await startFails({ DATABASE_URL: url });
      expect(code).toBe(1);
      const where = name === 'sqlite' ? url : url.replace(/:\/\/([^:@/]+):[^@/]+@/, '://$1:***@');
      const reason = name === 'sqlite' ? 'table `workspaces` already exists (SQLITE_ERROR)' : 'relation "workspaces" already exists (42P07)';
      expect(line).toBe(`Cannot migrate the database ${where}: ${reason}`);
      expect(line).not.toMatch(/CREATE TABLE|Failed query/i);
    });
  });
});

describe('server process: invalid configuration', { timeout: SPAWN_TIMEOUT }, () => {
  it('still exits 1 with the configuration message', async () => {
    const server = spawnServer(productionEnv({ PORT: 'not-a-port' }));
    expect(await server.exited).toBe(1);
    expect(server.stderr()).toMatch(/^Invalid configuration:\n {2}- PORT: .+\nSee \.env\.example for every variable\.\n$/);
    expect(server.stdout()).not.toContain('Tally is running');
  });
});
