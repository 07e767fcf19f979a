/**
 * Postgres tables (node-postgres and PGlite): the definitions in `./tables.ts` built with
 * Postgres's column types. drizzle-kit reads this file (drizzle.pg.config.ts).
 */
import { bigint, boolean, index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { defineTables, type SchemaKit } from './tables';

const pgKit: SchemaKit = {
  table: pgTable,
  text,
  integer,
  int64: () => bigint({ mode: 'number' }),
  boolean,
  timestamp: () => timestamp({ withTimezone: true, mode: 'date' }),
  index,
  uniqueIndex,
  primaryKey,
};

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
} = defineTables(pgKit);
