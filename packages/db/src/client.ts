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
 *
 * Surviving the database:
 * - Postgres: every pooled connection has an 'error' listener (an unhandled one would crash
 *   the process when a server restarts, fails over, or `pg_terminate_backend` ends a
 *   backend mid-transaction). The statement in flight fails (the request answers 500; Stripe
 *   and clients retry); pg-pool discards a client that is no longer queryable when it is
 *   released instead of reusing it, and later requests get fresh connections.
 * - SQLite: a lock held by another process is waited for asynchronously, never by blocking
 *   the event loop; see `sqlite-busy.ts` (also the rule for long writes: chunk them).
 * - Start-up: `openDatabase` opens, checks and migrates, and reports failure as one line
 *   (`DatabaseStartError`) naming the redacted DATABASE_URL and the cause.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import type BetterSqlite3 from 'better-sqlite3';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type pgTypes from 'pg';
import { sql as sqlTag, type SQL } from 'drizzle-orm';
import { pgSchema, sqliteSchema, type Tables } from './schema/index';
import { createBusyRetry, SQLITE_BUSY_TIMEOUT_MS, type BusyRetry, type BusyRetryOptions } from './sqlite-busy';
import { DatabaseStartError, describeDatabaseError, redactDatabaseUrl } from './start-errors';
import { pgPreparedExecutor, sqlitePreparedExecutor, type PreparedStep } from './prepared';
import { pgUsageStore, sqliteUsageStore, type UsageStore } from './usage-store';

export * from './sqlite-busy';
export * from './start-errors';
export * from './usage-store';
export * from './prepared';

export type Dialect = 'sqlite' | 'postgres';

/** The query builder type domain code sees (Postgres-typed; see module doc). */
export type QueryBuilder = NodePgDatabase<Tables>;
/** A transaction's query builder, as seen by a transaction body. */
export type TxBuilder = Parameters<Parameters<QueryBuilder['transaction']>[0]>[0];

/** One statement a transaction body yields (see `all`, `get`, `run`). */
export type Step = { op: 'all' | 'get' | 'run' | 'prepared'; query: unknown };
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
  /** The usage ingestion hot path's statements, written per dialect (usage-store.ts). */
  readonly usage: UsageStore;
  /** Run raw SQL (the caller writes it for `dialect`) and return its rows ([] for a statement that returns none). */
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

/** Where the database handle reports what it survives (pino's call shape; `console` by default). */
export interface DatabaseLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

const consoleLogger: DatabaseLogger = {
  warn: (fields, message) => console.warn(`[db] ${message} ${JSON.stringify(fields)}`),
};

export interface CreateDatabaseOptions {
  /** Postgres pool size (default 10). */
  poolSize?: number;
  /** Where lost Postgres connections are reported (one line each, no secrets). */
  logger?: DatabaseLogger;
  /** SQLite lock waiting (see `sqlite-busy.ts`); tests shorten the deadline. */
  sqliteBusy?: BusyRetryOptions;
}

/** Open a database from a DATABASE_URL (see `parseDatabaseUrl`). Does not migrate; Postgres connects lazily. */
export async function createDatabase(url: string, opts: CreateDatabaseOptions = {}): Promise<Database> {
  const parsed = parseDatabaseUrl(url);
  if (parsed.kind === 'sqlite') return openSqlite(parsed.file, createBusyRetry(opts.sqliteBusy));
  if (parsed.kind === 'pglite') {
    const { PGlite } = await import('@electric-sql/pglite');
    return fromPglite(new PGlite(parsed.dataDir), `pglite:${parsed.dataDir ?? 'memory'}`);
  }
  const pg = (await import('pg')).default;
  const pool = new pg.Pool({ connectionString: parsed.url, max: opts.poolSize ?? 10 });
  const logger = opts.logger ?? consoleLogger;
  // Every client gets an 'error' listener for its whole life. node-postgres emits 'error' on
  // a client whose connection ends (server restart, failover, pg_terminate_backend: 57P01);
  // pg-pool listens only while the client is idle, so one checked out for a transaction
  // would otherwise throw an unhandled 'error' and end the process. The query in flight
  // rejects on its own; on release, pg-pool removes a client that is no longer queryable
  // (`_queryable` false after the error), so a dead connection is never reused.
  pool.on('connect', (client) => {
    client.on('error', (err: Error & { code?: string }) => {
      logger.warn({ code: err.code ?? null, reason: err.message }, 'Postgres connection lost; the pool opens a new one on next use');
    });
  });
  // The same error on an idle client is also re-emitted on the pool (pg-pool then drops the
  // client); it is already logged by the client listener above.
  pool.on('error', () => undefined);
  return fromPgPool(pool, redactDatabaseUrl(parsed.url));
}

/**
 * Open DATABASE_URL, check that it answers, and apply committed migrations: how a process
 * starts. Nothing is retried: a supervisor restarts the process.
 * @throws DatabaseStartError whose message is one line, e.g.
 * `Cannot open the database postgres://tally:***@db:5432/tally: connection refused (ECONNREFUSED)`
 * or `Cannot migrate the database file:data/tally.sqlite: table `users` already exists (SQLITE_ERROR)`.
 */
export async function openDatabase(url: string, opts: CreateDatabaseOptions = {}): Promise<Database> {
  const where = redactDatabaseUrl(url);
  let step: 'open' | 'migrate' = 'open';
  let db: Database | undefined;
  try {
    db = await createDatabase(url, opts);
    await db.rows(sqlTag`select 1`);
    step = 'migrate';
    await db.migrate();
    return db;
  } catch (err) {
    await db?.close().catch(() => undefined);
    throw new DatabaseStartError(`Cannot ${step} the database ${where}: ${describeDatabaseError(err, { url })}`, { cause: err });
  }
}

async function openSqlite(file: string, busy: BusyRetry): Promise<Database> {
  const Sqlite = (await import('better-sqlite3')).default;
  const { drizzle } = await import('drizzle-orm/better-sqlite3');
  const { migrate } = await import('drizzle-orm/better-sqlite3/migrator');
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  // A short busy timeout: the thread blocks at most this long per attempt; longer waits
  // for another process's lock are asynchronous retries (sqlite-busy.ts).
  const client: BetterSqlite3.Database = new Sqlite(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  // WAL + NORMAL survives a process crash (ENVIRONMENT.md); WAL readers never wait for the writer.
  client.pragma('journal_mode = WAL');
  client.pragma('synchronous = NORMAL');
  client.pragma('wal_autocheckpoint = 10000');
  client.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  client.pragma('foreign_keys = ON');
  // Two Drizzle handles on one connection: `db` runs transaction bodies and migrations
  // synchronously; `q` (single statements) executes each statement through `busy`.
  const db = drizzle({ client, schema: sqliteSchema, casing: 'snake_case' });
  const q = drizzle({ client, schema: sqliteSchema, casing: 'snake_case' });
  const statements = cacheStatements(client);
  for (const handle of [db, q]) statements.serve(handle);
  retryStatementsWhenBusy(q, busy);
  const prepared = sqlitePreparedExecutor(db, sqliteSchema as unknown as Tables);
  return {
    dialect: 'sqlite',
    label: `sqlite:${file}`,
    q: q as unknown as QueryBuilder,
    t: sqliteSchema as unknown as Tables,
    usage: sqliteUsageStore(client),
    // A busy BEGIN IMMEDIATE (or any busy statement: the transaction is rolled back) re-runs
    // the whole body later; a body is a generator, so nothing of it ran before.
    transaction: (body) =>
      busy(() => db.transaction((tx) => drive(body(tx as unknown as TxBuilder), (step) => (step.op === 'prepared' ? prepared(step.query as PreparedStep) : runSqliteStep(step))), { behavior: 'immediate' })),
    rows: <T>(query: SQL) =>
      busy(() => {
        try {
          return db.all<T>(query);
        } catch (err) {
          // DDL and other statements without a result set: [] as on Postgres.
          if (!(err instanceof TypeError) || !err.message.includes('does not return data')) throw err;
          db.run(query);
          return [] as T[];
        }
      }),
    async migrate() {
      await busy(() => migrate(db, { migrationsFolder: migrationsDir('sqlite') }));
    },
    async close() {
      client.close();
    },
  };
}

/** How many distinct SQL texts a SQLite connection keeps compiled (least recently used ones are finalized first). */
export const SQLITE_STATEMENT_CACHE_SIZE = 500;

/**
 * Compile each SQL text once per SQLite connection. Drizzle's better-sqlite3 session calls
 * `client.prepare(sql)` for every statement it runs, and compiling (sqlite3_prepare_v2) cost
 * about as much as running the statement: a fifth of the webhook path's CPU (issue 11). Every
 * Drizzle handle on the connection (`serve`) now gets compiled statements from one LRU map
 * keyed by SQL text (`SQLITE_STATEMENT_CACHE_SIZE`). A cached statement is shared by every
 * query with that text, so the facade resets better-sqlite3's sticky `raw()` mode before
 * each object-mode read (Drizzle calls `stmt.raw().all()` for typed selections and
 * `stmt.all()` for `db.rows`). SQLite recompiles a cached statement by itself after a
 * schema change (sqlite.org/c3ref/prepare.html, "v2" interfaces). Drizzle 0.45 internals
 * (`session.client`): checked by test/sqlite-statement-cache.test.ts.
 */
function cacheStatements(client: BetterSqlite3.Database) {
  type Facade = Pick<BetterSqlite3.Statement, 'run' | 'all' | 'get' | 'raw'>;
  const cache = new Map<string, Facade>();
  const prepare = (source: string): Facade => {
    const hit = cache.get(source);
    if (hit) {
      // Most recently used last: Map iteration order is insertion order.
      cache.delete(source);
      cache.set(source, hit);
      return hit;
    }
    const stmt = client.prepare(source);
    const objects = () => (stmt.reader ? stmt.raw(false) : stmt);
    const facade: Facade = {
      run: (...params: unknown[]) => stmt.run(...params),
      all: (...params: unknown[]) => objects().all(...params),
      get: (...params: unknown[]) => objects().get(...params),
      raw: (toggle = true) => stmt.raw(toggle),
    };
    if (cache.size >= SQLITE_STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(source, facade);
    return facade;
  };
  const facadeClient = { prepare, transaction: client.transaction.bind(client) };
  return {
    /** Point a Drizzle better-sqlite3 handle's session at the cache. */
    serve(handle: object) {
      const session = (handle as { session?: { client?: unknown } }).session;
      if (!session || session.client !== client) throw new Error('drizzle-orm changed: better-sqlite3 session has no client to cache statements for');
      session.client = facadeClient;
    },
  };
}

type PreparedStatement = Record<'run' | 'all' | 'get' | 'values', (placeholders?: unknown) => unknown>;

/**
 * Make every statement awaited through drizzle handle `q` (builders' `then`/`execute`, the
 * relational `q.query`, `$count`; better-auth's adapter included) wait for a busy lock
 * through `busy` instead of blocking: Drizzle's better-sqlite3 builders execute through
 * `session.prepareQuery(...).run|all|get|values()` inside their async `execute()`, so the
 * prepared statement's methods return `busy(...)`'s promise, which `execute()` awaits.
 * `all` calls `values` internally: the inner call runs directly. (Drizzle 0.45 internals:
 * a Drizzle upgrade is checked by test/sqlite-busy.test.ts.) `q.transaction` is not used:
 * transactions go through `Database.transaction`.
 */
function retryStatementsWhenBusy(q: object, busy: BusyRetry) {
  const session = (q as { session?: { prepareQuery?: (...args: unknown[]) => PreparedStatement } }).session;
  const prepareQuery = session?.prepareQuery;
  if (!session || typeof prepareQuery !== 'function') throw new Error('drizzle-orm changed: better-sqlite3 session has no prepareQuery');
  session.prepareQuery = (...args: unknown[]) => {
    const prepared = prepareQuery.apply(session, args);
    let inside = false;
    for (const method of ['run', 'all', 'get', 'values'] as const) {
      const original = prepared[method];
      prepared[method] = (placeholders?: unknown) => {
        if (inside) return original.call(prepared, placeholders);
        return busy(() => {
          inside = true;
          try {
            return original.call(prepared, placeholders);
          } finally {
            inside = false;
          }
        });
      };
    }
    return prepared;
  };
}

function runSqliteStep(step: Step): unknown {
  const query = step.query as { all(): unknown[]; get(): unknown; run(): unknown };
  if (step.op === 'all') return query.all();
  if (step.op === 'get') return query.get();
  query.run();
  return undefined;
}

type PgPreparedExecutor = ReturnType<typeof pgPreparedExecutor>;

async function runPgStep(step: Step, tx: unknown, prepared: PgPreparedExecutor): Promise<unknown> {
  if (step.op === 'prepared') return prepared(step.query as PreparedStep, tx);
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

async function driveAsync<T>(gen: TxBody<T>, tx: unknown, prepared: PgPreparedExecutor): Promise<T> {
  let next = gen.next();
  while (!next.done) next = gen.next(await runPgStep(next.value, tx, prepared));
  return next.value;
}

/** Key for pg_advisory_lock around migrations, so concurrent starts migrate once. */
const MIGRATION_LOCK_KEY = 7_341_202;

async function fromPgPool(pool: pgTypes.Pool, label: string): Promise<Database> {
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const { migrate } = await import('drizzle-orm/node-postgres/migrator');
  const db = drizzle({ client: pool, schema: pgSchema, casing: 'snake_case' });
  const prepared = pgPreparedExecutor(db, pgSchema);
  return {
    dialect: 'postgres',
    label,
    q: db,
    t: pgSchema,
    usage: pgUsageStore((query) => db.execute(query)),
    transaction: (body) => db.transaction((tx) => driveAsync(body(tx), tx, prepared)),
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
  const prepared = pgPreparedExecutor(db, pgSchema);
  return {
    dialect: 'postgres',
    label,
    q: db as unknown as QueryBuilder,
    t: pgSchema,
    usage: pgUsageStore((query) => db.execute(query) as unknown as PromiseLike<{ rows: unknown[] }>),
    transaction: (body) => db.transaction((tx) => driveAsync(body(tx as unknown as TxBuilder), tx, prepared)),
    rows: async <T>(query: SQL) => (await db.execute(query)).rows as T[],
    async migrate() {
      await migrate(db, { migrationsFolder: migrationsDir('postgres') });
    },
    close: () => client.close(),
  };
}

/**
 * Transaction step: a transaction-scoped lock on `key`, held until commit or rollback.
 * Postgres: `pg_advisory_xact_lock_shared` / `pg_advisory_xact_lock` on `hashtext(key)`
 * (shared holders run together; an exclusive holder waits for them and blocks new ones).
 * SQLite: nothing to do, its writers already run one at a time (`BEGIN IMMEDIATE`).
 * Used so a usage period's close and the late events for it never interleave.
 */
export function* transactionLock(tx: TxBuilder, dialect: Dialect, key: string, mode: 'shared' | 'exclusive'): TxBody<void> {
  if (dialect !== 'postgres') return;
  yield* run(mode === 'shared' ? tx.execute(sqlTag`select pg_advisory_xact_lock_shared(hashtext(${key}))`) : tx.execute(sqlTag`select pg_advisory_xact_lock(hashtext(${key}))`));
}
