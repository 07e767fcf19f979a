/**
 * The usage ingestion hot path, written once per dialect (issue 9; see docs/ARCHITECTURE.md
 * "Usage ingestion"). A batch of 1,000 events through Drizzle's query builder spent more time
 * building SQL text for thousands of bound values than the database spent storing them, so
 * these few statements bypass the builder:
 * - SQLite: statements prepared once per connection and run once per row inside the
 *   transaction (better-sqlite3 runs a prepared insert in about a microsecond; there is no
 *   round trip to save), and `json_each(?)` for "IN (list)" lookups;
 * - Postgres: one statement per batch whatever its size, with one array parameter per column
 *   (`sql.param(array)`: one bound array, where a bare array would expand to a list)
 *   (`unnest($1::text[], ...)`, `= any($1::text[])`), so the text never changes and the
 *   server plans it once.
 * Everything else in ingestion stays on the shared query builder. Each function is a
 * transaction step (`yield*` it in a transaction body) or a plain async read.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { sql } from 'drizzle-orm';
import type { Step, TxBody, TxBuilder } from './client';

/** One usage event row as ingestion writes it. Times are Unix milliseconds. */
export interface UsageEventInsert {
  id: string;
  customerId: string;
  meterId: string;
  idempotencyKey: string;
  quantity: number;
  occurredAtMs: number;
  /** JSON text or null. */
  properties: string | null;
  payloadHash: string;
  chargedMinor: number;
}

/** One daily rollup increment: added to the row (customer, meter, day), created at these values when absent. */
export interface DailyRollupIncrement {
  customerId: string;
  meterId: string;
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  quantity: number;
  eventCount: number;
  maxQuantity: number;
  chargedMinor: number;
}

/** A customer as ingestion needs it. */
export interface UsageCustomer {
  id: string;
  externalId: string | null;
  stripeCustomerId: string | null;
  lowBalanceThresholdMinor: number | null;
}

export interface UsageStore {
  /**
   * Transaction step: insert events that are not stored yet (ON CONFLICT (workspace_id,
   * idempotency_key) DO NOTHING), in the order given (callers sort by key so concurrent
   * batches lock keys in one order). Returns the idempotency keys this statement inserted.
   */
  insertEvents(tx: TxBuilder, workspaceId: string, receivedAtMs: number, rows: readonly UsageEventInsert[]): TxBody<string[]>;
  /** Transaction step: the stored events with these keys: `{ id, idempotencyKey, payloadHash }`. */
  findEvents(tx: TxBuilder, workspaceId: string, keys: readonly string[]): TxBody<{ id: string; idempotencyKey: string; payloadHash: string }[]>;
  /** Transaction step: add increments to the daily rollups (one row per customer, meter and day in `rows`, in lock order). */
  addToDailyRollups(tx: TxBuilder, workspaceId: string, rows: readonly DailyRollupIncrement[]): TxBody<void>;
  /** Customers of a workspace by Tally id and by external id (two lists; unknown ones are absent). */
  findCustomers(workspaceId: string, ids: readonly string[], externalIds: readonly string[]): Promise<UsageCustomer[]>;
}

function* step<T>(op: Step['op'], query: unknown): TxBody<T> {
  return (yield { op, query }) as T;
}

/** SQLite: prepared statements on the connection, run per row (synchronously, inside the transaction). */
export function sqliteUsageStore(client: BetterSqlite3.Database): UsageStore {
  let insert: BetterSqlite3.Statement | undefined;
  let find: BetterSqlite3.Statement | undefined;
  let rollup: BetterSqlite3.Statement | undefined;
  let customersById: BetterSqlite3.Statement | undefined;
  let customersByExternalId: BetterSqlite3.Statement | undefined;
  const syncAll = (fn: () => unknown) => ({ all: fn, get: fn, run: fn });
  return {
    insertEvents(_tx, workspaceId, receivedAtMs, rows) {
      insert ??= client.prepare(
        'insert into usage_events (id, workspace_id, customer_id, meter_id, idempotency_key, quantity, occurred_at, properties, payload_hash, charged_minor, received_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (workspace_id, idempotency_key) do nothing',
      );
      const stmt = insert;
      return step<string[]>(
        'all',
        syncAll(() => {
          const inserted: string[] = [];
          for (const r of rows) {
            const { changes } = stmt.run(r.id, workspaceId, r.customerId, r.meterId, r.idempotencyKey, r.quantity, r.occurredAtMs, r.properties, r.payloadHash, r.chargedMinor, receivedAtMs);
            if (changes === 1) inserted.push(r.idempotencyKey);
          }
          return inserted;
        }),
      );
    },
    findEvents(_tx, workspaceId, keys) {
      find ??= client.prepare(
        'select id, idempotency_key as idempotencyKey, payload_hash as payloadHash from usage_events where workspace_id = ? and idempotency_key in (select value from json_each(?))',
      );
      const stmt = find;
      return step('all', syncAll(() => (keys.length === 0 ? [] : stmt.all(workspaceId, JSON.stringify(keys)))));
    },
    addToDailyRollups(_tx, workspaceId, rows) {
      rollup ??= client.prepare(
        `insert into usage_daily_rollups (customer_id, meter_id, day, workspace_id, quantity, event_count, max_quantity, charged_minor) values (?, ?, ?, ?, ?, ?, ?, ?)
         on conflict (customer_id, meter_id, day) do update set quantity = quantity + excluded.quantity, event_count = event_count + excluded.event_count,
           max_quantity = max(max_quantity, excluded.max_quantity), charged_minor = charged_minor + excluded.charged_minor`,
      );
      const stmt = rollup;
      return step<void>(
        'run',
        syncAll(() => {
          for (const r of rows) stmt.run(r.customerId, r.meterId, r.day, workspaceId, r.quantity, r.eventCount, r.maxQuantity, r.chargedMinor);
        }),
      );
    },
    async findCustomers(workspaceId, ids, externalIds) {
      const cols = 'id, external_id as externalId, stripe_customer_id as stripeCustomerId, low_balance_threshold_minor as lowBalanceThresholdMinor';
      customersById ??= client.prepare(`select ${cols} from customers where workspace_id = ? and id in (select value from json_each(?))`);
      customersByExternalId ??= client.prepare(`select ${cols} from customers where workspace_id = ? and external_id in (select value from json_each(?))`);
      return [
        ...(ids.length > 0 ? (customersById.all(workspaceId, JSON.stringify(ids)) as UsageCustomer[]) : []),
        ...(externalIds.length > 0 ? (customersByExternalId.all(workspaceId, JSON.stringify(externalIds)) as UsageCustomer[]) : []),
      ];
    },
  };
}

type Execute = (query: ReturnType<typeof sql>) => PromiseLike<{ rows: unknown[] }>;

/** Postgres (node-postgres or PGlite): one statement per batch with array parameters. */
export function pgUsageStore(execute: Execute): UsageStore {
  const rowsOf = (tx: TxBuilder, query: ReturnType<typeof sql>) => (tx.execute(query) as unknown as PromiseLike<{ rows: unknown[] }>).then((r) => r.rows);
  return {
    insertEvents(tx, workspaceId, receivedAtMs, rows) {
      if (rows.length === 0) return step<string[]>('all', Promise.resolve([]));
      const col = <K extends keyof UsageEventInsert>(k: K) => rows.map((r) => r[k]);
      const occurred = rows.map((r) => new Date(r.occurredAtMs).toISOString());
      const query = sql`insert into usage_events (id, workspace_id, customer_id, meter_id, idempotency_key, quantity, occurred_at, properties, payload_hash, charged_minor, received_at)
        select u.id, ${workspaceId}, u.customer_id, u.meter_id, u.idempotency_key, u.quantity, u.occurred_at, u.properties, u.payload_hash, u.charged_minor, ${new Date(receivedAtMs).toISOString()}::timestamptz
        from unnest(${sql.param(col('id'))}::text[], ${sql.param(col('customerId'))}::text[], ${sql.param(col('meterId'))}::text[], ${sql.param(col('idempotencyKey'))}::text[], ${sql.param(col('quantity'))}::bigint[], ${sql.param(occurred)}::timestamptz[], ${sql.param(col('properties'))}::text[], ${sql.param(col('payloadHash'))}::text[], ${sql.param(col('chargedMinor'))}::bigint[])
          with ordinality as u(id, customer_id, meter_id, idempotency_key, quantity, occurred_at, properties, payload_hash, charged_minor, ord)
        order by u.ord
        on conflict (workspace_id, idempotency_key) do nothing
        returning idempotency_key`;
      return step<string[]>(
        'all',
        rowsOf(tx, query).then((r) => (r as { idempotency_key: string }[]).map((x) => x.idempotency_key)),
      );
    },
    findEvents(tx, workspaceId, keys) {
      if (keys.length === 0) return step('all', Promise.resolve([]));
      return step(
        'all',
        rowsOf(tx, sql`select id, idempotency_key as "idempotencyKey", payload_hash as "payloadHash" from usage_events where workspace_id = ${workspaceId} and idempotency_key = any(${sql.param([...keys])}::text[])`),
      );
    },
    addToDailyRollups(tx, workspaceId, rows) {
      if (rows.length === 0) return step<void>('run', Promise.resolve(undefined));
      const col = <K extends keyof DailyRollupIncrement>(k: K) => rows.map((r) => r[k]);
      const query = sql`insert into usage_daily_rollups (customer_id, meter_id, day, workspace_id, quantity, event_count, max_quantity, charged_minor)
        select u.customer_id, u.meter_id, u.day, ${workspaceId}, u.quantity, u.event_count, u.max_quantity, u.charged_minor
        from unnest(${sql.param(col('customerId'))}::text[], ${sql.param(col('meterId'))}::text[], ${sql.param(col('day'))}::text[], ${sql.param(col('quantity'))}::bigint[], ${sql.param(col('eventCount'))}::bigint[], ${sql.param(col('maxQuantity'))}::bigint[], ${sql.param(col('chargedMinor'))}::bigint[])
          with ordinality as u(customer_id, meter_id, day, quantity, event_count, max_quantity, charged_minor, ord)
        order by u.ord
        on conflict (customer_id, meter_id, day) do update set
          quantity = usage_daily_rollups.quantity + excluded.quantity,
          event_count = usage_daily_rollups.event_count + excluded.event_count,
          max_quantity = greatest(usage_daily_rollups.max_quantity, excluded.max_quantity),
          charged_minor = usage_daily_rollups.charged_minor + excluded.charged_minor`;
      return step<void>(
        'run',
        rowsOf(tx, query).then(() => undefined),
      );
    },
    async findCustomers(workspaceId, ids, externalIds) {
      const cols = sql.raw('id, external_id as "externalId", stripe_customer_id as "stripeCustomerId", low_balance_threshold_minor as "lowBalanceThresholdMinor"');
      const found: UsageCustomer[] = [];
      if (ids.length > 0) found.push(...((await execute(sql`select ${cols} from customers where workspace_id = ${workspaceId} and id = any(${sql.param([...ids])}::text[])`)).rows as UsageCustomer[]));
      if (externalIds.length > 0)
        found.push(...((await execute(sql`select ${cols} from customers where workspace_id = ${workspaceId} and external_id = any(${sql.param([...externalIds])}::text[])`)).rows as UsageCustomer[]));
      return found.map((c) => ({ ...c, lowBalanceThresholdMinor: c.lowBalanceThresholdMinor === null ? null : Number(c.lowBalanceThresholdMinor) }));
    },
  };
}
