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
    /** What the customer asked for: a payment whose `amount_total` differs is an anomaly, never a credit. */
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
    /**
     * The delivery's raw body (UTF-8 text exactly as Stripe signed it), so any payload can be
     * stored (Postgres jsonb refuses `\u0000`) and re-verified or replayed later.
     */
    payload: text().notNull(),
    /** `anomaly`: verified, but Tally will not act on it (amount, currency or mode differs from what Tally asked for). */
    status: text({ enum: ['received', 'processed', 'ignored', 'failed', 'anomaly'] }).notNull(),
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

// ---- rate limits ----
/**
 * Fixed-window counters shared by every server process: better-auth's `rateLimit` model
 * (its field names) and Tally's own limiters (mutations per user and IP, failed sign-ins
 * per account). One row per key.
 */
export const rateLimits = pgTable('rate_limits', {
  id: text().primaryKey(),
  key: text().notNull().unique(),
  count: integer().notNull(),
  /** Start of the current window, unix milliseconds. */
  lastRequest: bigint({ mode: 'number' }).notNull(),
});

// ---- email outbox ----
/**
 * Every email Tally sends, written before it is sent (in the transaction of the change it
 * reports, where there is one) and drained by the outbox worker: stored, sent once (a lease
 * guards concurrent workers), and readable in development.
 */
export const emailOutbox = pgTable(
  'email_outbox',
  {
    id: text().primaryKey(),
    /** The workspace it concerns; null for account emails of users outside any workspace. */
    workspaceId: text(),
    /** What it is, e.g. `verify_email`, `reset_password`. */
    kind: text().notNull(),
    toAddress: text().notNull(),
    subject: text().notNull(),
    textBody: text().notNull(),
    htmlBody: text(),
    /** Optional idempotency reference: one email per reference, ever. */
    reference: text().unique(),
    status: text({ enum: ['pending', 'sending', 'sent', 'failed'] }).notNull(),
    attempts: integer().notNull().default(0),
    lastError: text(),
    /** Earliest time the worker may (re)try it. */
    nextAttemptAt: at().notNull(),
    /** While `sending`: the lease; a worker that crashed lets it go when this passes. */
    lockedUntil: at(),
    /** The SMTP server's message id once sent. */
    messageId: text(),
    createdAt: createdAt(),
    sentAt: at(),
  },
  (t) => [index('email_outbox_status_next_attempt_at_idx').on(t.status, t.nextAttemptAt), index('email_outbox_workspace_id_created_at_idx').on(t.workspaceId, t.createdAt)],
);

// ---- invitations ----
/**
 * An email invited into a workspace: as an admin, or as an owner/member of a customer
 * (`customerId`; null with `owner` means a new customer is created on acceptance). It is
 * accepted when that email, verified, signs up or next signs in. With `TALLY_SIGN_UP=invite`
 * only invited (or bootstrap admin) emails may sign up.
 */
export const invitations = pgTable(
  'invitations',
  {
    id: text().primaryKey(),
    workspaceId: text()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    /** Lowercased. */
    email: text().notNull(),
    role: text({ enum: ['admin', 'owner', 'member'] }).notNull(),
    customerId: text().references(() => customers.id, { onDelete: 'cascade' }),
    invitedByUserId: text(),
    createdAt: createdAt(),
    acceptedAt: at(),
    acceptedByUserId: text(),
  },
  (t) => [index('invitations_email_idx').on(t.email), index('invitations_workspace_id_idx').on(t.workspaceId)],
);
