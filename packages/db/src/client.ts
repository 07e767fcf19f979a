/**
 * One database handle for two dialects: SQLite (better-sqlite3, development) and Postgres
 * (node-postgres in production, in-process PGlite where no server runs).
 *
 * Domain code is written once against the Postgres-typed query builder (`db.q`, `db.t`).
 * Plain statements are awaited on either dialect. Multi-statement transactions are written
 * as generator functions that `yield*` their statements (`all`, `get`, `run`); the runner
 * executes them synchronously inside a `BEGIN IMMEDIATE` better-sqlite3 transaction, or
 * awaits them inside a Postgres transaction. So no transaction body ever awaits, and no
 * business rule is written twice. See docs/ARCHITECTURE.md, "Two SQL dialects".
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import type BetterSqlite3 from 'better-sqlite3';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type pgTypes from 'pg';
import type { SQL } from 'drizzle-orm';
import { pgSchema, sqliteSchema, type Tables } from './schema/index';

export type Dialect = 'sqlite' | 'postgres';

/** The query builder type domain code sees (Postgres-typed; see module doc). */
export type QueryBuilder = NodePgDatabase<Tables>;
/** A transaction's query builder, as seen by a transaction body. */
export type TxBuilder = Parameters<Parameters<QueryBuilder['transaction']>[0]>[0];

type Step = { op: 'all' | 'get' | 'run'; query: unknown };
/** A transaction body: a generator that yields statements through `all`/`get`/`run`. */
export type TxBody<T> = Generator<Step, T, unknown>;

/** Run a statement in a transaction body and get all rows: `const rows = yield* all(tx.select()...)`. */
export function* all<T>(query: PromiseLike<T[]>): Generator<Step, T[], unknown> {
  return (yield { op: 'all', query }) as T[];
}
/** Run a statement in a transaction body and get the first row, or undefined. */
export function* get<T>(query: PromiseLike<T[]>): Generator<Step, T | undefined, unknown> {
  return (yield { op: 'get', query }) as T | undefined;
}
/** Run a statement in a transaction body that returns no rows. */
export function* run(query: PromiseLike<unknown>): Generator<Step, void, unknown> {
  yield { op: 'run', query };
}

export interface Database {
  readonly dialect: Dialect;
  /** Where it points, with any password removed (for logs and /healthz). */
  readonly label: string;
  /** Query builder for single statements (awaitable on both dialects). */
  readonly q: QueryBuilder;
  /** Tables of this dialect, typed as `Tables`. */
  readonly t: Tables;
  /**
   * Run `body` atomically. SQLite: synchronous `BEGIN IMMEDIATE` transaction (writers
   * serialize). Postgres: READ COMMITTED transaction; bodies rely on unique constraints
   * with `ON CONFLICT` for exactly-once effects, never on reads.
   * @throws whatever a statement throws; the transaction is rolled back.
   */
  transaction<T>(body: (tx: TxBuilder) => TxBody<T>): Promise<T>;
  /** Run raw SQL (the caller writes it for `dialect`) and return its rows. */
  rows<T>(query: SQL): Promise<T[]>;
  /** Apply committed migrations (idempotent; serialized across processes on Postgres). */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/**
 * Folder of one dialect's committed migrations: `packages/db/migrations/<dialect>` in the
 * workspace, or `migrations/<dialect>` beside a production bundle (the server's build copies it).
 */
export function migrationsDir(dialect: Dialect): string {
  const candidates = [path.resolve(here, '../migrations', dialect), path.resolve(here, 'migrations', dialect)];
  return candidates.find((dir) => existsSync(dir)) ?? candidates[0]!;
}

/** Which dialect a DATABASE_URL selects: `postgres://`/`postgresql://` -> postgres, `pglite:` -> PGlite, anything else is a SQLite file path or `file:` URL. */
export function parseDatabaseUrl(url: string):
  | { kind: 'sqlite'; file: string }
  | { kind: 'postgres'; url: string }
  | { kind: 'pglite'; dataDir: string | undefined } {
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url };
  if (url.startsWith('pglite:')) {
    const dir = url.slice('pglite:'.length).replace(/^\/\//, '');
    return { kind: 'pglite', dataDir: dir === '' || dir === 'memory' ? undefined : dir };
  }
  if (url.startsWith('file:')) return { kind: 'sqlite', file: url.slice('file:'.length).replace(/^\/\//, '') };
  return { kind: 'sqlite', file: url };
}

/** Open a database from a DATABASE_URL (see `parseDatabaseUrl`). Does not migrate. */
export async function createDatabase(url: string, opts: { poolSize?: number } = {}): Promise<Database> {
  const parsed = parseDatabaseUrl(url);
  if (parsed.kind === 'sqlite') return openSqlite(parsed.file);
  if (parsed.kind === 'pglite') {
    const { PGlite } = await import('@electric-sql/pglite');
    return fromPglite(new PGlite(parsed.dataDir), `pglite:${parsed.dataDir ?? 'memory'}`);
  }
  const pg = (await import('pg')).default;
  const pool = new pg.Pool({ connectionString: parsed.url, max: opts.poolSize ?? 10 });
  // An idle client losing its connection emits 'error' on the pool; unhandled, it would
  // crash the process. The pool replaces the client on next use.
  pool.on('error', (err) => console.error(`[db] idle Postgres connection lost: ${err.message}`));
  return fromPgPool(pool, redact(parsed.url));
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres';
  }
}

async function openSqlite(file: string): Promise<Database> {
  const Sqlite = (await import('better-sqlite3')).default;
  const { drizzle } = await import('drizzle-orm/better-sqlite3');
  const { migrate } = await import('drizzle-orm/better-sqlite3/migrator');
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const client: BetterSqlite3.Database = new Sqlite(file);
  // WAL + NORMAL survives a process crash (ENVIRONMENT.md); busy_timeout lets a second
  // process wait for the writer instead of failing with SQLITE_BUSY.
  client.pragma('journal_mode = WAL');
  client.pragma('synchronous = NORMAL');
  client.pragma('busy_timeout = 5000');
  client.pragma('foreign_keys = ON');
  const db = drizzle({ client, schema: sqliteSchema, casing: 'snake_case' });
  return {
    dialect: 'sqlite',
    label: `sqlite:${file}`,
    q: db as unknown as QueryBuilder,
    t: sqliteSchema as unknown as Tables,
    async transaction(body) {
      return db.transaction(
        (tx) => drive(body(tx as unknown as TxBuilder), (step) => runSqliteStep(step)),
        { behavior: 'immediate' },
      );
    },
    rows: async <T>(query: SQL) => db.all<T>(query),
    async migrate() {
      migrate(db, { migrationsFolder: migrationsDir('sqlite') });
    },
    async close() {
      client.close();
    },
  };
}

function runSqliteStep(step: Step): unknown {
  const query = step.query as { all(): unknown[]; get(): unknown; run(): unknown };
  if (step.op === 'all') return query.all();
  if (step.op === 'get') return query.get();
  query.run();
  return undefined;
}

async function runPgStep(step: Step): Promise<unknown> {
  const result = await (step.query as PromiseLike<unknown>);
  if (step.op === 'all') return result;
  if (step.op === 'get') return (result as unknown[])[0];
  return undefined;
}

function drive<T>(gen: TxBody<T>, exec: (step: Step) => unknown): T {
  let next = gen.next();
  while (!next.done) next = gen.next(exec(next.value));
  return next.value;
}

async function driveAsync<T>(gen: TxBody<T>): Promise<T> {
  let next = gen.next();
  while (!next.done) next = gen.next(await runPgStep(next.value));
  return next.value;
}

/** Key for pg_advisory_lock around migrations, so concurrent starts migrate once. */
const MIGRATION_LOCK_KEY = 7_341_202;

async function fromPgPool(pool: pgTypes.Pool, label: string): Promise<Database> {
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const { migrate } = await import('drizzle-orm/node-postgres/migrator');
  const db = drizzle({ client: pool, schema: pgSchema, casing: 'snake_case' });
  return {
    dialect: 'postgres',
    label,
    q: db,
    t: pgSchema,
    transaction: (body) => db.transaction((tx) => driveAsync(body(tx))),
    rows: async <T>(query: SQL) => (await db.execute(query)).rows as T[],
    async migrate() {
      const conn = await pool.connect();
      try {
        await conn.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        await migrate(drizzle({ client: conn, casing: 'snake_case' }), { migrationsFolder: migrationsDir('postgres') });
      } finally {
        await conn.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
        conn.release();
      }
    },
    close: () => pool.end(),
  };
}

/** Wrap an in-process PGlite instance (tests and laptops without a Postgres server). */
export async function fromPglite(client: PGlite, label = 'pglite:memory'): Promise<Database> {
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const db = drizzle({ client, schema: pgSchema, casing: 'snake_case' });
  return {
    dialect: 'postgres',
    label,
    q: db as unknown as QueryBuilder,
    t: pgSchema,
    transaction: (body) => db.transaction((tx) => driveAsync(body(tx as unknown as TxBuilder))),
    rows: async <T>(query: SQL) => (await db.execute(query)).rows as T[],
    async migrate() {
      await migrate(db, { migrationsFolder: migrationsDir('postgres') });
    },
    close: () => client.close(),
  };
}
