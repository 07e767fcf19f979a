/**
 * SQLite tables (better-sqlite3): the definitions in `./tables.ts` built with SQLite's column
 * types. They are typed as Postgres tables, as domain code sees them (see client.ts); at run
 * time they are SQLite tables, which is what drizzle-kit reads (drizzle.sqlite.config.ts).
 */
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { defineTables, type SchemaKit } from './tables';

const sqliteKit = {
  table: sqliteTable,
  text,
  integer,
  /** SQLite integers are 64-bit; read back as numbers. */
  int64: () => integer(),
  boolean: () => integer({ mode: 'boolean' }),
  /** Unix milliseconds, read back as a Date. */
  timestamp: () => integer({ mode: 'timestamp_ms' }),
  index,
  uniqueIndex,
  primaryKey,
} as unknown as SchemaKit;

export const {
  users,
  sessions,
  accounts,
  verifications,
  workspaces,
  workspaceMembers,
  customers,
  customerMemberships,
  ledgerEntries,
  customerBalances,
  topups,
  stripeEvents,
  stripeEventErrors,
  rateLimits,
  emailOutbox,
  invitations,
  workspaceStripeAccounts,
  billingRecords,
  billingRecordCheckouts,
  auditLog,
  plans,
  subscriptions,
  invoices,
  stripeTestClocks,
  licenses,
  apiKeys,
  meters,
  usageEvents,
  usageDailyRollups,
  usagePeriods,
  usageInvoices,
  stripeMeterOutbox,
  jobLeases,
} = defineTables(sqliteKit);
