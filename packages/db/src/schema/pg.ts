/**
 * Postgres schema. Must stay column-for-column identical to `./sqlite.ts`
 * (test/schema-parity.test.ts proves it on migrated databases). Column names are
 * derived snake_case (drizzle `casing: 'snake_case'`).
 */
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

const at = () => timestamp({ withTimezone: true, mode: 'date' });
const createdAt = () => at().notNull().$defaultFn(() => new Date());
/** Signed amount in the currency's minor unit (cents). */
const minor = () => bigint({ mode: 'number' });

// ---- auth (owned by better-auth; field names are the library's) ----
export const users = pgTable('users', {
  id: text().primaryKey(),
  name: text().notNull(),
  email: text().notNull().unique(),
  emailVerified: boolean().notNull().default(false),
  image: text(),
  createdAt: createdAt(),
  updatedAt: createdAt(),
});

export const sessions = pgTable(
  'sessions',
  {
    id: text().primaryKey(),
    expiresAt: at().notNull(),
    token: text().notNull().unique(),
    createdAt: createdAt(),
    updatedAt: createdAt(),
    ipAddress: text(),
    userAgent: text(),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
  },
  (t) => [index('sessions_user_id_idx').on(t.userId)],
);

export const accounts = pgTable(
  'accounts',
  {
    id: text().primaryKey(),
    accountId: text().notNull(),
    providerId: text().notNull(),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    accessToken: text(),
    refreshToken: text(),
    idToken: text(),
    accessTokenExpiresAt: at(),
    refreshTokenExpiresAt: at(),
    scope: text(),
    password: text(),
    createdAt: createdAt(),
    updatedAt: createdAt(),
  },
  (t) => [index('accounts_user_id_idx').on(t.userId)],
);

export const verifications = pgTable(
  'verifications',
  {
    id: text().primaryKey(),
    identifier: text().notNull(),
    value: text().notNull(),
    expiresAt: at().notNull(),
    createdAt: createdAt(),
    updatedAt: createdAt(),
  },
  (t) => [index('verifications_identifier_idx').on(t.identifier)],
);

// ---- tenancy ----
export const workspaces = pgTable('workspaces', {
  id: text().primaryKey(),
  name: text().notNull(),
  slug: text().notNull().unique(),
  /** ISO 4217 lowercase, as Stripe writes it. */
  currency: text().notNull().default('usd'),
  createdAt: createdAt(),
});

export const workspaceMembers = pgTable(
  'workspace_members',
  {
    id: text().primaryKey(),
    workspaceId: text()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text({ enum: ['admin'] }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('workspace_members_workspace_id_user_id_key').on(t.workspaceId, t.userId), index('workspace_members_user_id_idx').on(t.userId)],
);

export const customers = pgTable(
  'customers',
  {
    id: text().primaryKey(),
    workspaceId: text()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text().notNull(),
    email: text(),
    stripeCustomerId: text().unique(),
    createdAt: createdAt(),
  },
  (t) => [index('customers_workspace_id_idx').on(t.workspaceId)],
);

export const customerMemberships = pgTable(
  'customer_memberships',
  {
    id: text().primaryKey(),
    customerId: text()
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text({ enum: ['owner', 'member'] }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('customer_memberships_customer_id_user_id_key').on(t.customerId, t.userId), index('customer_memberships_user_id_idx').on(t.userId)],
);

// ---- money ----
export const ledgerEntries = pgTable(
  'ledger_entries',
  {
    id: text().primaryKey(),
    workspaceId: text()
      .notNull()
      .references(() => workspaces.id),
    customerId: text()
      .notNull()
      .references(() => customers.id),
    currency: text().notNull(),
    /** Signed: credits > 0, debits < 0. */
    amountMinor: minor().notNull(),
    kind: text({ enum: ['topup', 'usage_charge', 'refund', 'adjustment'] }).notNull(),
    /** Idempotency reference, e.g. `topup:<topupId>`. One effect per reference, ever. */
    reference: text().notNull().unique(),
    description: text().notNull(),
    topupId: text(),
    stripeEventId: text(),
    createdAt: createdAt(),
  },
  (t) => [index('ledger_entries_customer_id_currency_created_at_idx').on(t.customerId, t.currency, t.createdAt)],
);

/** Cache of SUM(ledger_entries.amount_minor), updated in the ledger entry's transaction. */
export const customerBalances = pgTable(
  'customer_balances',
  {
    customerId: text()
      .notNull()
      .references(() => customers.id),
    currency: text().notNull(),
    amountMinor: minor().notNull(),
    updatedAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.customerId, t.currency] })],
);

export const topups = pgTable(
  'topups',
  {
    id: text().primaryKey(),
    workspaceId: text()
      .notNull()
      .references(() => workspaces.id),
    customerId: text()
      .notNull()
      .references(() => customers.id),
    /** What the customer asked for; the credit uses Stripe's `amount_total`. */
    amountMinor: minor().notNull(),
    currency: text().notNull(),
    status: text({ enum: ['pending', 'paid', 'expired', 'failed'] }).notNull(),
    stripeCheckoutSessionId: text().unique(),
    stripePaymentIntentId: text(),
    creditedAmountMinor: minor(),
    createdByUserId: text(),
    createdAt: createdAt(),
    updatedAt: createdAt(),
    paidAt: at(),
  },
  (t) => [index('topups_workspace_id_created_at_idx').on(t.workspaceId, t.createdAt), index('topups_customer_id_created_at_idx').on(t.customerId, t.createdAt)],
);

// ---- Stripe event log ----
export const stripeEvents = pgTable(
  'stripe_events',
  {
    /** Stripe's event id (`evt_...`). */
    id: text().primaryKey(),
    type: text().notNull(),
    apiVersion: text(),
    livemode: boolean().notNull(),
    /** Stripe's `created` (unix seconds) as a timestamp. */
    stripeCreatedAt: at().notNull(),
    payload: jsonb().notNull(),
    status: text({ enum: ['received', 'processed', 'ignored', 'failed'] }).notNull(),
    attempts: integer().notNull().default(0),
    /** Why it was ignored, or what it did. */
    outcome: text(),
    lastError: text(),
    workspaceId: text(),
    receivedAt: createdAt(),
    updatedAt: createdAt(),
    processedAt: at(),
  },
  (t) => [index('stripe_events_status_received_at_idx').on(t.status, t.receivedAt), index('stripe_events_received_at_idx').on(t.receivedAt)],
);
