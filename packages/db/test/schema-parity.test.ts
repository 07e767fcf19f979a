import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { testDialects, type TestDatabase } from '../src/testing';

type Shape = Record<string, string[]>;

async function shapeOf(db: TestDatabase): Promise<Shape> {
  const shape: Shape = {};
  if (db.dialect === 'sqlite') {
    const tables = await db.rows<{ name: string }>(
      sql`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '__drizzle%'`,
    );
    for (const { name } of tables) {
      const cols = await db.rows<{ name: string }>(sql.raw(`pragma table_info("${name}")`));
      shape[name] = cols.map((c) => c.name).sort();
    }
  } else {
    const rows = await db.rows<{ table_name: string; column_name: string }>(
      sql`select table_name, column_name from information_schema.columns where table_schema = 'public' order by table_name, column_name`,
    );
    for (const row of rows) {
      (shape[row.table_name] ??= []).push(row.column_name);
    }
  }
  return shape;
}

describe('schema parity', () => {
  const dbs: TestDatabase[] = [];
  beforeAll(async () => {
    for (const d of testDialects) dbs.push(await d.create());
  });
  afterAll(async () => {
    for (const db of dbs) await db.destroy();
  });

  it('both dialects have the same tables and columns after migrating', async () => {
    const [sqliteShape, pgShape] = [await shapeOf(dbs[0]!), await shapeOf(dbs[1]!)];
    expect(Object.keys(sqliteShape).sort()).toEqual(Object.keys(pgShape).sort());
    expect(sqliteShape).toEqual(pgShape);
    for (const table of ['workspaces', 'users', 'sessions', 'customers', 'customer_memberships', 'ledger_entries', 'topups', 'stripe_events']) {
      expect(sqliteShape[table], table).toBeDefined();
    }
  });
});
