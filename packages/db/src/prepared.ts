/**
 * Prepared statements for hot paths, on both dialects (issue 11; docs/ARCHITECTURE.md,
 * "Webhook pipeline").
 *
 * A statement is written once, with Drizzle's query builder against `Tables` and
 * `sql.placeholder(name)` where values go (`param(name, column)` in an update's `set`), and
 * compiled once per database handle with Drizzle's own `.prepare()`: the SQL text is built
 * once, each run only binds values (through the columns' encoders, so Dates and booleans are
 * stored as on every other path) and maps the returned rows. Building SQL through the query
 * builder cost about 150 µs per statement on a 2-core machine: more than SQLite took to run
 * it.
 * - SQLite: prepared on the connection's synchronous handle and run synchronously inside the
 *   transaction body (better-sqlite3's statement is compiled once too: client.ts).
 * - Postgres: a named statement (`PREPARE` once per connection by node-postgres, so the
 *   server parses and plans it once), run on the transaction's own connection.
 * Domain code runs them as transaction steps: `yield* allPrepared(stmt, values)` or
 * `yield* runPrepared(stmt, values)`.
 */
import { Param, sql, type Placeholder, type SQL } from 'drizzle-orm';
import type { QueryBuilder, Step } from './client';
import type { Tables } from './schema/index';

/** Something Drizzle can prepare: a select, insert, update or delete builder. */
export interface Preparable {
  prepare(name: string): unknown;
}

/** A statement defined once (`preparedStatement`), compiled per database on first use. */
export interface PreparedStatement<V extends Record<string, unknown>, R> {
  /** Unique across the application: the Postgres prepared statement's name. */
  readonly name: string;
  readonly build: (q: QueryBuilder, t: Tables) => Preparable;
  /** Type carriers only. */
  readonly _values?: V;
  readonly _row?: R;
}

const names = new Set<string>();

/**
 * Define a prepared statement.
 * @param name unique name (`tally_<what>`), the Postgres statement name.
 * @param build the statement with `sql.placeholder(<key of V>)` for each value.
 * @throws Error when `name` is already taken (two statements may not share a server-side name).
 */
export function preparedStatement<V extends Record<string, unknown>, R = never>(name: string, build: (q: QueryBuilder, t: Tables) => Preparable): PreparedStatement<V, R> {
  if (names.has(name)) throw new Error(`Prepared statement name ${name} is used twice`);
  names.add(name);
  return { name, build };
}

/** `sql.placeholder(name)`, typed for positions that take a value. */
export const placeholder = (name: string): Placeholder => sql.placeholder(name);

/**
 * A placeholder bound through `column`'s encoder (Date -> Unix ms on SQLite, ISO text on
 * Postgres; boolean -> 0/1 on SQLite), with null passed through as SQL NULL (Drizzle's own
 * placeholder encoding would hand null to the encoder). Use it for every Date or boolean
 * value, in `values` and in an update's `set`: `set({ paidAt: param('now', t.topups.paidAt) })`.
 */
export function param(name: string, column: unknown): SQL {
  const encoder = column as { mapToDriverValue(value: unknown): unknown };
  const nullSafe = { mapToDriverValue: (value: unknown) => (value === null || value === undefined ? null : encoder.mapToDriverValue(value)) };
  return sql`${new Param(sql.placeholder(name), nullSafe as never)}`;
}

/** The step a prepared statement yields; the dialect's transaction runner executes it. */
export interface PreparedStep {
  statement: PreparedStatement<Record<string, unknown>, unknown>;
  values: Record<string, unknown>;
  rows: boolean;
}

/** Transaction step: run a prepared statement and get its rows (a select, or `returning`). */
export function* allPrepared<V extends Record<string, unknown>, R>(statement: PreparedStatement<V, R>, values: V): Generator<Step, R[], unknown> {
  return (yield { op: 'prepared', query: { statement, values, rows: true } satisfies PreparedStep }) as R[];
}

/** Transaction step: run a prepared statement that returns no rows. */
export function* runPrepared<V extends Record<string, unknown>>(statement: PreparedStatement<V, unknown>, values: V): Generator<Step, void, unknown> {
  yield { op: 'prepared', query: { statement, values, rows: false } satisfies PreparedStep };
}

type SyncPrepared = { all(values: Record<string, unknown>): unknown[]; run(values: Record<string, unknown>): unknown };
type AsyncPrepared = { execute(values: Record<string, unknown>): Promise<unknown> };

/**
 * SQLite: compile with the connection's synchronous Drizzle handle, run synchronously.
 * Returns the executor the transaction runner calls for `prepared` steps.
 */
export function sqlitePreparedExecutor(db: object, t: Tables): (step: PreparedStep) => unknown {
  const compiled = new Map<PreparedStep['statement'], SyncPrepared>();
  return ({ statement, values, rows }) => {
    let query = compiled.get(statement);
    if (!query) {
      query = statement.build(db as QueryBuilder, t).prepare(statement.name) as SyncPrepared;
      compiled.set(statement, query);
    }
    if (rows) return query.all(values);
    query.run(values);
    return undefined;
  };
}

/**
 * Postgres (node-postgres or PGlite): compile with the pool's Drizzle handle, run on the
 * transaction's connection: Drizzle's prepared query reads its driver client from `client`,
 * so each run uses a view of it whose `client` is the transaction's (`tx.session.client`;
 * Drizzle 0.45 internals, checked by test/prepared.test.ts on both dialects).
 */
export function pgPreparedExecutor(db: object, t: Tables): (step: PreparedStep, tx: unknown) => Promise<unknown> {
  const compiled = new Map<PreparedStep['statement'], AsyncPrepared>();
  return async ({ statement, values, rows }, tx) => {
    let query = compiled.get(statement);
    if (!query) {
      query = statement.build(db as QueryBuilder, t).prepare(statement.name) as AsyncPrepared;
      compiled.set(statement, query);
    }
    const client = (tx as { session?: { client?: unknown } } | undefined)?.session?.client;
    if (!client) throw new Error('drizzle-orm changed: a Postgres transaction has no session client to run prepared statements on');
    const result = await (Object.create(query, { client: { value: client } }) as AsyncPrepared).execute(values);
    return rows ? result : undefined;
  };
}
