/**
 * SQLite only: each SQL text is compiled once per connection (client.ts, `cacheStatements`).
 * Postgres has no client-side compile step to cache (node-postgres sends the text, the
 * server parses it), so there is no Postgres counterpart of this behaviour to test.
 */
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { createDatabase, run, SQLITE_STATEMENT_CACHE_SIZE, type Database } from '../src/client';
import { createTestDatabaseUrl } from '../src/testing';

describe('SQLite statement cache', () => {
  let database: Awaited<ReturnType<typeof createTestDatabaseUrl>>;
  let db: Database;
  const prepare = vi.spyOn(BetterSqlite3.prototype, 'prepare');
  const compiled = (text: string) => prepare.mock.calls.filter(([source]) => source === text).length;

  beforeAll(async () => {
    database = await createTestDatabaseUrl('sqlite');
    db = await createDatabase(database.url);
    await db.migrate();
  });
  afterAll(async () => {
    prepare.mockRestore();
    await db.close();
    await database.drop();
  });

  const workspace = (n: number) => ({ id: `ws-${n}`, name: `Workspace ${n}`, slug: `ws-${n}`, currency: 'usd' });

  it('compiles a statement once however often it runs, through single statements and transactions alike', async () => {
    const { workspaces } = db.t;
    await db.q.insert(workspaces).values(workspace(1));
    const select = db.q.select({ name: workspaces.name }).from(workspaces).where(eq(workspaces.id, 'ws-1'));
    const text = select.toSQL().sql;
    prepare.mockClear();
    for (let i = 0; i < 20; i++) {
      expect(await db.q.select({ name: workspaces.name }).from(workspaces).where(eq(workspaces.id, 'ws-1'))).toEqual([{ name: 'Workspace 1' }]);
      await db.transaction(function* (tx) {
        yield* run(tx.update(workspaces).set({ name: `Workspace 1` }).where(eq(workspaces.id, 'ws-1')));
      });
    }
    expect(compiled(text)).toBe(1);
    expect(prepare.mock.calls.length).toBeLessThanOrEqual(4);
  });

  it('a shared statement answers objects to db.rows and typed rows to the query builder, in any order', async () => {
    const { workspaces } = db.t;
    await db.q.insert(workspaces).values(workspace(2));
    // The same SQL text through both paths: the builder reads in raw (array) mode, db.rows in object mode.
    const text = db.q.select({ id: workspaces.id, name: workspaces.name }).from(workspaces).where(eq(workspaces.id, 'ws-2')).toSQL().sql;
    for (let i = 0; i < 3; i++) {
      expect(await db.q.select({ id: workspaces.id, name: workspaces.name }).from(workspaces).where(eq(workspaces.id, 'ws-2'))).toEqual([{ id: 'ws-2', name: 'Workspace 2' }]);
      expect(await db.rows(sql.raw(text.replace('?', "'ws-2'")))).toEqual([{ id: 'ws-2', name: 'Workspace 2' }]);
      expect(await db.rows(sql`${sql.raw(text.replace(' = ?', ' = '))}${'ws-2'}`)).toEqual([{ id: 'ws-2', name: 'Workspace 2' }]);
    }
  });

  it('keeps at most SQLITE_STATEMENT_CACHE_SIZE texts and still runs evicted ones', async () => {
    prepare.mockClear();
    for (let i = 0; i < SQLITE_STATEMENT_CACHE_SIZE + 10; i++) await db.rows(sql.raw(`select ${i} as n`));
    expect(await db.rows(sql.raw('select 0 as n'))).toEqual([{ n: 0 }]);
    // `select 0` was the least recently used: compiled again. `select 400` is still cached.
    expect(compiled('select 0 as n')).toBe(2);
    await db.rows(sql.raw(`select ${SQLITE_STATEMENT_CACHE_SIZE} as n`));
    expect(compiled(`select ${SQLITE_STATEMENT_CACHE_SIZE} as n`)).toBe(1);
  });

  it('a statement cached before a schema change runs against the new schema', async () => {
    await db.rows(sql.raw('create table cache_probe (a integer)'));
    await db.rows(sql.raw('insert into cache_probe (a) values (1)'));
    expect(await db.rows(sql.raw('select * from cache_probe'))).toEqual([{ a: 1 }]);
    await db.rows(sql.raw('alter table cache_probe add column b integer default 7'));
    expect(await db.rows(sql.raw('select * from cache_probe'))).toEqual([{ a: 1, b: 7 }]);
  });
});
