/**
 * Every table, defined once for both dialects against a small kit of column and table
 * builders (`SchemaKit`) that `pg.ts` and `sqlite.ts` supply. The kit's types are Postgres's:
 * domain code sees Postgres-typed tables on either dialect (see client.ts), and at run time
 * each dialect file gets its own driver's tables, which drizzle-kit reads to generate that
 * dialect's migrations. Column names are derived snake_case (drizzle `casing: 'snake_case'`);
 * test/schema-parity.test.ts proves both migrated databases have the same columns.
 */
import type * as pgCore from 'drizzle-orm/pg-core';

/**
 * What a dialect supplies. Everything but the four dialect-specific columns is the driver's
 * own builder of the same name and call shape.
 */
export interface SchemaKit {
  table: typeof pgCore.pgTable;
  text: typeof pgCore.text;
  integer: typeof pgCore.integer;
  /** A 64-bit integer read back as a JS number (Postgres bigint; SQLite integers are 64-bit). */
  int64: () => ReturnType<typeof pgCore.bigint<'number'>>;
  boolean: typeof pgCore.boolean;
  /** A point in time read back as a Date (Postgres timestamptz; SQLite integer milliseconds). */
  timestamp: () => ReturnType<typeof pgCore.timestamp<'date'>>;
  index: typeof pgCore.index;
  uniqueIndex: typeof pgCore.uniqueIndex;
  primaryKey: typeof pgCore.primaryKey;
}

export function defineTables(k: SchemaKit) {
  const at = () => k.timestamp();
  const createdAt = () => at().notNull().$defaultFn(() => new Date());
  /** Signed amount in the currency's minor unit (cents). */
  const minor = () => k.int64();

  // ---- auth (owned by better-auth; field names are the library's) ----
  const users = k.table('users', {
    id: k.text().primaryKey(),
    name: k.text().notNull(),
    email: k.text().notNull().unique(),
    emailVerified: k.boolean().notNull().default(false),
    image: k.text(),
    createdAt: createdAt(),
    updatedAt: createdAt(),
  });

  const sessions = k.table(
    'sessions',
    {
      id: k.text().primaryKey(),
      expiresAt: at().notNull(),
      token: k.text().notNull().unique(),
      createdAt: createdAt(),
      updatedAt: createdAt(),
      ipAddress: k.text(),
      userAgent: k.text(),
      userId: k.text()
        .notNull()
        .references(() => users.id, { onDelete: 'cascade' }),
    },
    (t) => [k.index('sessions_user_id_idx').on(t.userId)],
  );

  const accounts = k.table(
    'accounts',
    {
      id: k.text().primaryKey(),
      accountId: k.text().notNull(),
      providerId: k.text().notNull(),
      userId: k.text()
        .notNull()
        .references(() => users.id, { onDelete: 'cascade' }),
      accessToken: k.text(),
      refreshToken: k.text(),
      idToken: k.text(),
      accessTokenExpiresAt: at(),
      refreshTokenExpiresAt: at(),
      scope: k.text(),
      password: k.text(),
      createdAt: createdAt(),
      updatedAt: createdAt(),
    },
    (t) => [k.index('accounts_user_id_idx').on(t.userId)],
  );

  const verifications = k.table(
    'verifications',
    {
      id: k.text().primaryKey(),
      identifier: k.text().notNull(),
      value: k.text().notNull(),
      expiresAt: at().notNull(),
      createdAt: createdAt(),
      updatedAt: createdAt(),
    },
    (t) => [k.index('verifications_identifier_idx').on(t.identifier)],
  );

  // ---- tenancy ----
  const workspaces = k.table('workspaces', {
    id: k.text().primaryKey(),
    name: k.text().notNull(),
    slug: k.text().notNull().unique(),
    /** ISO 4217 lowercase, as Stripe writes it. */
    currency: k.text().notNull().default('usd'),
    /** Whether a prepaid usage debit may take a customer's balance below zero (otherwise 402). */
    allowNegativeBalance: k.boolean().notNull().default(false),
    createdAt: createdAt(),
  });

  const workspaceMembers = k.table(
    'workspace_members',
    {
      id: k.text().primaryKey(),
      workspaceId: k.text()
        .notNull()
        .references(() => workspaces.id, { onDelete: 'cascade' }),
      userId: k.text()
        .notNull()
        .references(() => users.id, { onDelete: 'cascade' }),
      role: k.text({ enum: ['admin'] }).notNull(),
      createdAt: createdAt(),
    },
    (t) => [k.uniqueIndex('workspace_members_workspace_id_user_id_key').on(t.workspaceId, t.userId), k.index('workspace_members_user_id_idx').on(t.userId)],
  );

  const customers = k.table(
    'customers',
    {
      id: k.text().primaryKey(),
      workspaceId: k.text()
        .notNull()
        .references(() => workspaces.id, { onDelete: 'cascade' }),
      name: k.text().notNull(),
      email: k.text(),
      stripeCustomerId: k.text().unique(),
      /** The id the workspace's own system knows this customer by (usage events may name it instead). */
      externalId: k.text(),
      /** Balance (minor units) below which one low-balance notice is sent when a usage debit crosses it; null = none. */
      lowBalanceThresholdMinor: k.int64(),
      createdAt: createdAt(),
    },
    (t) => [k.index('customers_workspace_id_idx').on(t.workspaceId), k.uniqueIndex('customers_workspace_id_external_id_key').on(t.workspaceId, t.externalId)],
  );

  const customerMemberships = k.table(
    'customer_memberships',
    {
      id: k.text().primaryKey(),
      customerId: k.text()
        .notNull()
        .references(() => customers.id, { onDelete: 'cascade' }),
      userId: k.text()
        .notNull()
        .references(() => users.id, { onDelete: 'cascade' }),
      role: k.text({ enum: ['owner', 'member'] }).notNull(),
      createdAt: createdAt(),
    },
    (t) => [k.uniqueIndex('customer_memberships_customer_id_user_id_key').on(t.customerId, t.userId), k.index('customer_memberships_user_id_idx').on(t.userId)],
  );

  // ---- money ----
  const ledgerEntries = k.table(
    'ledger_entries',
    {
      id: k.text().primaryKey(),
      workspaceId: k.text()
        .notNull()
        .references(() => workspaces.id),
      customerId: k.text()
        .notNull()
        .references(() => customers.id),
      currency: k.text().notNull(),
      /** Signed: credits > 0, debits < 0. */
      amountMinor: minor().notNull(),
      /** `overpayment`: a payment for a billing record already PAID or VOID, credited instead of lost. */
      kind: k.text({ enum: ['topup', 'usage_charge', 'refund', 'adjustment', 'overpayment'] }).notNull(),
      /** Idempotency reference, e.g. `topup:<topupId>`. One effect per reference, ever. */
      reference: k.text().notNull().unique(),
      description: k.text().notNull(),
      topupId: k.text(),
      billingRecordId: k.text(),
      stripeEventId: k.text(),
      /** Who posted it by hand (adjustments); null for entries Stripe events caused. */
      createdByUserId: k.text(),
      createdAt: createdAt(),
    },
    (t) => [k.index('ledger_entries_customer_id_currency_created_at_idx').on(t.customerId, t.currency, t.createdAt)],
  );

  /** Cache of SUM(ledger_entries.amount_minor), updated in the ledger entry's transaction. */
  const customerBalances = k.table(
    'customer_balances',
    {
      customerId: k.text()
        .notNull()
        .references(() => customers.id),
      currency: k.text().notNull(),
      amountMinor: minor().notNull(),
      updatedAt: createdAt(),
    },
    (t) => [k.primaryKey({ columns: [t.customerId, t.currency] })],
  );

  const topups = k.table(
    'topups',
    {
      id: k.text().primaryKey(),
      workspaceId: k.text()
        .notNull()
        .references(() => workspaces.id),
      customerId: k.text()
        .notNull()
        .references(() => customers.id),
      /** What the customer asked for: a payment whose `amount_total` differs is an anomaly, never a credit. */
      amountMinor: minor().notNull(),
      currency: k.text().notNull(),
      status: k.text({ enum: ['pending', 'paid', 'expired', 'failed'] }).notNull(),
      stripeCheckoutSessionId: k.text().unique(),
      stripePaymentIntentId: k.text(),
      creditedAmountMinor: minor(),
      createdByUserId: k.text(),
      createdAt: createdAt(),
      updatedAt: createdAt(),
      paidAt: at(),
    },
    (t) => [k.index('topups_workspace_id_created_at_idx').on(t.workspaceId, t.createdAt), k.index('topups_customer_id_created_at_idx').on(t.customerId, t.createdAt)],
  );

  // ---- Stripe event log ----
  const stripeEvents = k.table(
    'stripe_events',
    {
      /**
       * Which endpoint received it: `deployment` (`/api/stripe/webhook`, the env secret) or a
       * workspace id (`/api/stripe/webhook/<workspaceId>`, that workspace's secret). One Stripe
       * account may feed two workspaces, so an event id is unique per scope, not globally.
       */
      scope: k.text().notNull(),
      /** Stripe's event id (`evt_...`). */
      id: k.text().notNull(),
      type: k.text().notNull(),
      apiVersion: k.text(),
      livemode: k.boolean().notNull(),
      /** Stripe's `created` (unix seconds) as a timestamp. */
      stripeCreatedAt: at().notNull(),
      /**
       * The delivery's raw body (UTF-8 text exactly as Stripe signed it), so any payload can be
       * stored (Postgres jsonb refuses `\u0000`) and re-verified or replayed later.
       */
      payload: k.text().notNull(),
      /** `anomaly`: verified, but Tally will not act on it (amount, currency or mode differs from what Tally asked for). */
      /**
       * `failed`: a handler threw; the sweeper retries it at `nextAttemptAt` with backoff.
       * `dead`: failed on every scheduled retry; kept for an operator (replay by hand).
       */
      status: k.text({ enum: ['received', 'processed', 'ignored', 'failed', 'anomaly', 'dead'] }).notNull(),
      attempts: k.integer().notNull().default(0),
      /** Why it was ignored, or what it did. */
      outcome: k.text(),
      lastError: k.text(),
      workspaceId: k.text(),
      receivedAt: createdAt(),
      updatedAt: createdAt(),
      processedAt: at(),
      /** When the sweeper retries a `failed` event next (null: not scheduled). */
      nextAttemptAt: at(),
      /** When retention pruned the payload (`payload` is then empty); null: payload kept. */
      payloadPrunedAt: at(),
    },
    (t) => [
      k.primaryKey({ columns: [t.scope, t.id] }),
      k.index('stripe_events_status_received_at_idx').on(t.status, t.receivedAt),
      k.index('stripe_events_received_at_idx').on(t.receivedAt),
      k.index('stripe_events_workspace_id_received_at_idx').on(t.workspaceId, t.receivedAt),
      k.index('stripe_events_status_next_attempt_at_idx').on(t.status, t.nextAttemptAt),
    ],
  );

  /** Every failed processing attempt of a Stripe event, with its error and time (append-only). */
  const stripeEventErrors = k.table(
    'stripe_event_errors',
    {
      id: k.text().primaryKey(),
      /** The event's key in `stripe_events` (scope, id). */
      scope: k.text().notNull(),
      eventId: k.text().notNull(),
      /** Which attempt failed (the event's `attempts` then). */
      attempt: k.integer().notNull(),
      /** `webhook` (a delivery), `sweeper`, `replay` or `backfill`. */
      source: k.text().notNull(),
      error: k.text().notNull(),
      createdAt: createdAt(),
    },
    (t) => [k.index('stripe_event_errors_scope_event_id_idx').on(t.scope, t.eventId, t.createdAt)],
  );

  // ---- rate limits ----
  /**
   * Fixed-window counters shared by every server process: better-auth's `rateLimit` model
   * (its field names) and Tally's own limiters (mutations per user and IP, failed sign-ins
   * per account). One row per key.
   */
  const rateLimits = k.table('rate_limits', {
    id: k.text().primaryKey(),
    key: k.text().notNull().unique(),
    count: k.integer().notNull(),
    /** Start of the current window, unix milliseconds. */
    lastRequest: k.int64().notNull(),
  });

  // ---- email outbox ----
  /**
   * Every email Tally sends, written before it is sent (in the transaction of the change it
   * reports, where there is one) and drained by the outbox worker: stored, sent once (a lease
   * guards concurrent workers), and readable in development.
   */
  const emailOutbox = k.table(
    'email_outbox',
    {
      id: k.text().primaryKey(),
      /** The workspace it concerns; null for account emails of users outside any workspace. */
      workspaceId: k.text(),
      /** What it is, e.g. `verify_email`, `reset_password`. */
      kind: k.text().notNull(),
      toAddress: k.text().notNull(),
      subject: k.text().notNull(),
      textBody: k.text().notNull(),
      htmlBody: k.text(),
      /** Optional idempotency reference: one email per reference, ever. */
      reference: k.text().unique(),
      status: k.text({ enum: ['pending', 'sending', 'sent', 'failed'] }).notNull(),
      attempts: k.integer().notNull().default(0),
      lastError: k.text(),
      /** Earliest time the worker may (re)try it. */
      nextAttemptAt: at().notNull(),
      /** While `sending`: the lease; a worker that crashed lets it go when this passes. */
      lockedUntil: at(),
      /** The SMTP server's message id once sent. */
      messageId: k.text(),
      createdAt: createdAt(),
      sentAt: at(),
    },
    (t) => [k.index('email_outbox_status_next_attempt_at_idx').on(t.status, t.nextAttemptAt), k.index('email_outbox_workspace_id_created_at_idx').on(t.workspaceId, t.createdAt)],
  );

  // ---- invitations ----
  /**
   * An email invited into a workspace: as an admin, or as an owner/member of a customer
   * (`customerId`; null with `owner` means a new customer is created on acceptance). It is
   * accepted when that email, verified, signs up or next signs in. With `TALLY_SIGN_UP=invite`
   * only invited (or bootstrap admin) emails may sign up.
   */
  const invitations = k.table(
    'invitations',
    {
      id: k.text().primaryKey(),
      workspaceId: k.text()
        .notNull()
        .references(() => workspaces.id, { onDelete: 'cascade' }),
      /** Lowercased. */
      email: k.text().notNull(),
      role: k.text({ enum: ['admin', 'owner', 'member'] }).notNull(),
      customerId: k.text().references(() => customers.id, { onDelete: 'cascade' }),
      invitedByUserId: k.text(),
      createdAt: createdAt(),
      acceptedAt: at(),
      acceptedByUserId: k.text(),
    },
    (t) => [k.index('invitations_email_idx').on(t.email), k.index('invitations_workspace_id_idx').on(t.workspaceId)],
  );

  // ---- per-workspace Stripe account ----
  /**
   * A workspace's own Stripe keys (Settings -> Stripe). Secrets are sealed with AES-256-GCM
   * under TALLY_SECRET_ENCRYPTION_KEY, the workspace id as associated data
   * (`packages/api/src/secrets/encryption.ts`): never stored in plain text, never returned to a
   * browser. A workspace without a row uses the deployment's env keys (or the emulator).
   */
  const workspaceStripeAccounts = k.table('workspace_stripe_accounts', {
    workspaceId: k.text()
      .primaryKey()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    /** Sealed `sk_...`/`rk_...` (`v1.<keyId>.<nonce>.<ciphertext>.<tag>`). */
    secretKeySealed: k.text().notNull(),
    keyKind: k.text({ enum: ['secret', 'restricted'] }).notNull(),
    mode: k.text({ enum: ['test', 'live'] }).notNull(),
    /** Last 4 characters of the key, shown to admins. */
    keyLast4: k.text().notNull(),
    /** Sealed `whsec_...`; null until pasted or returned by webhook endpoint registration. */
    webhookSecretSealed: k.text(),
    webhookSecretLast4: k.text(),
    /** `acct_...` as `GET /v1/account` answered; null when not verified. */
    stripeAccountId: k.text(),
    /** When `GET /v1/account` accepted the key; null: saved while Stripe was unreachable ("not verified"). */
    verifiedAt: at(),
    /** `we_...` created by "Register webhook endpoint". */
    webhookEndpointId: k.text(),
    webhookEndpointRegisteredAt: at(),
    savedByUserId: k.text().notNull(),
    savedAt: at().notNull(),
  });

  // ---- billing records ----
  /**
   * Something a customer owes ("March retainer, $1,200, due April 1"): DUE until paid through
   * Stripe Checkout or marked paid by an admin (PAID), or voided (VOID). PAID and VOID are
   * final. Overdue is derived (due date passed while DUE), never stored.
   */
  const billingRecords = k.table(
    'billing_records',
    {
      id: k.text().primaryKey(),
      workspaceId: k.text()
        .notNull()
        .references(() => workspaces.id),
      customerId: k.text()
        .notNull()
        .references(() => customers.id),
      description: k.text().notNull(),
      /** What is owed, minor units (1 to 99,999,999). */
      amountMinor: minor().notNull(),
      /** ISO 4217 lowercase. */
      currency: k.text().notNull(),
      /** Calendar date `YYYY-MM-DD`; overdue from the next day (UTC). */
      dueDate: k.text().notNull(),
      status: k.text({ enum: ['DUE', 'PAID', 'VOID'] }).notNull(),
      /** Bearer token of the pay link `/pay/<token>` (32 random bytes, base64url). */
      payToken: k.text().notNull().unique(),
      /** Checkout attempts so far; each attempt's idempotency key is `tally-billing-record-<id>-<attempt>`. */
      paymentAttempts: k.integer().notNull().default(0),
      /** `stripe` or how an admin says it was paid. */
      paymentMethod: k.text({ enum: ['stripe', 'bank_transfer', 'cash', 'check', 'other'] }),
      /** Admin's reference note for a manual payment (bank transfer id...). */
      paymentReference: k.text(),
      /** The date an admin says a manual payment arrived (`YYYY-MM-DD`). */
      manualPaidOn: k.text(),
      paidAt: at(),
      paidByUserId: k.text(),
      stripeCheckoutSessionId: k.text(),
      stripePaymentIntentId: k.text(),
      /** Checkout's `payment_status` as last reported (`paid`, `unpaid`, ...). */
      stripePaymentStatus: k.text(),
      stripeLastEventAt: at(),
      voidedAt: at(),
      voidReason: k.text(),
      createdByUserId: k.text(),
      createdAt: createdAt(),
      updatedAt: createdAt(),
    },
    (t) => [
      k.index('billing_records_workspace_id_status_due_date_idx').on(t.workspaceId, t.status, t.dueDate),
      k.index('billing_records_customer_id_created_at_idx').on(t.customerId, t.createdAt),
    ],
  );

  /** Each Checkout Session started for a billing record, so the others are expired once it is PAID. */
  const billingRecordCheckouts = k.table(
    'billing_record_checkouts',
    {
      id: k.text().primaryKey(),
      workspaceId: k.text()
        .notNull()
        .references(() => workspaces.id),
      billingRecordId: k.text()
        .notNull()
        .references(() => billingRecords.id),
      attempt: k.integer().notNull(),
      stripeCheckoutSessionId: k.text().unique(),
      amountMinor: minor().notNull(),
      currency: k.text().notNull(),
      status: k.text({ enum: ['creating', 'open', 'complete', 'expired', 'failed'] }).notNull(),
      /** Who started it; null for a pay link opened without an account. */
      createdByUserId: k.text(),
      createdAt: createdAt(),
      updatedAt: createdAt(),
    },
    (t) => [k.uniqueIndex('billing_record_checkouts_billing_record_id_attempt_key').on(t.billingRecordId, t.attempt)],
  );

  // ---- audit log ----
  /**
   * Admin actions, append-only: who, when, what, before and after (JSON text). Never a key or
   * a secret: settings record only mode, last 4 and verification state.
   */
  const auditLog = k.table(
    'audit_log',
    {
      id: k.text().primaryKey(),
      workspaceId: k.text()
        .notNull()
        .references(() => workspaces.id, { onDelete: 'cascade' }),
      /** Null for operator CLI actions. */
      actorUserId: k.text(),
      /** The actor's email, or `cli` for the operator CLI. */
      actorLabel: k.text().notNull(),
      /** e.g. `billing_record.create`, `billing_record.mark_paid`, `stripe_settings.save`. */
      action: k.text().notNull(),
      targetType: k.text().notNull(),
      targetId: k.text(),
      before: k.text(),
      after: k.text(),
      requestId: k.text(),
      createdAt: createdAt(),
    },
    (t) => [k.index('audit_log_workspace_id_created_at_idx').on(t.workspaceId, t.createdAt)],
  );

  // ---- plans ----
  /**
   * What a workspace sells (issue 8): one row per plan code, priced by a Stripe Price (monthly,
   * optionally yearly). Amount and interval come from Stripe (`priceCache`, JSON of the
   * retrieved price), never typed twice.
   */
  const plans = k.table(
    'plans',
    {
      id: k.text().primaryKey(),
      workspaceId: k.text()
        .notNull()
        .references(() => workspaces.id, { onDelete: 'cascade' }),
      /** Stable identifier used by the API and `STRIPE_PRODUCT_PRICE_MAP` (`solo`, `team`). */
      code: k.text().notNull(),
      name: k.text().notNull(),
      description: k.text().notNull().default(''),
      /** Feature bullets, a JSON array of strings. */
      features: k.text().notNull().default('[]'),
      /** `price_...` billed monthly. */
      stripePriceId: k.text().notNull(),
      /** Optional `price_...` billed yearly. */
      stripeYearlyPriceId: k.text(),
      perSeat: k.boolean().notNull().default(false),
      trialDays: k.integer().notNull().default(0),
      issuesLicenses: k.boolean().notNull().default(false),
      active: k.boolean().notNull().default(true),
      /** The Stripe Price as last retrieved (JSON: unit amount in minor units, currency, interval); null until retrieved. */
      priceCache: k.text(),
      priceCachedAt: at(),
      createdAt: createdAt(),
      updatedAt: createdAt(),
    },
    (t) => [k.uniqueIndex('plans_workspace_id_code_key').on(t.workspaceId, t.code)],
  );

  // ---- subscriptions (Stripe Billing mirrors) ----
  /**
   * Tally's mirror of a Stripe Subscription of one of its customers, written only by webhook
   * handlers (and the re-read they do). `syncedAtMs` orders writes: a write lands only when its
   * source is newer (event `created` x 1000 from a payload, or the time Tally started re-reading
   * the object from Stripe), so a stale event never moves the row backwards.
   */
  const subscriptions = k.table(
    'subscriptions',
    {
      id: k.text().primaryKey(),
      workspaceId: k.text()
        .notNull()
        .references(() => workspaces.id),
      customerId: k.text()
        .notNull()
        .references(() => customers.id),
      stripeSubscriptionId: k.text().notNull(),
      stripeCustomerId: k.text().notNull(),
      /** The plan whose monthly or yearly price is the subscription's first item; null for a price no plan has. */
      planId: k.text().references(() => plans.id),
      stripePriceId: k.text(),
      /** Stripe's status: incomplete, incomplete_expired, trialing, active, past_due, canceled, unpaid, paused. */
      status: k.text().notNull(),
      /** The first item's quantity (seats; 1 for flat plans). */
      seats: k.integer().notNull().default(1),
      currency: k.text(),
      currentPeriodStart: at(),
      currentPeriodEnd: at(),
      trialStart: at(),
      trialEnd: at(),
      cancelAtPeriodEnd: k.boolean().notNull().default(false),
      cancelAt: at(),
      canceledAt: at(),
      endedAt: at(),
      latestStripeInvoiceId: k.text(),
      /** When the first failed payment of the invoice that made it past due was attempted (Stripe's clock); null when not past due. */
      pastDueSince: at(),
      /** `clock_...` when the customer lives on a Stripe test clock (its time is `stripe_test_clocks.frozen_time`). */
      stripeTestClockId: k.text(),
      livemode: k.boolean().notNull().default(false),
      stripeCreated: at(),
      /** Ordering guard (ms): the source time of the write that produced this row. */
      syncedAtMs: k.int64().notNull().default(0),
      createdAt: createdAt(),
      updatedAt: createdAt(),
    },
    (t) => [
      k.uniqueIndex('subscriptions_workspace_id_stripe_subscription_id_key').on(t.workspaceId, t.stripeSubscriptionId),
      k.index('subscriptions_customer_id_idx').on(t.customerId),
    ],
  );

  /** Tally's mirror of a Stripe Invoice of one of its customers (subscription or not). Same ordering guard as `subscriptions`. */
  const invoices = k.table(
    'invoices',
    {
      id: k.text().primaryKey(),
      workspaceId: k.text()
        .notNull()
        .references(() => workspaces.id),
      customerId: k.text()
        .notNull()
        .references(() => customers.id),
      stripeInvoiceId: k.text().notNull(),
      /** `sub_...` from `parent.subscription_details.subscription` (current API) or `subscription` (older). */
      stripeSubscriptionId: k.text(),
      number: k.text(),
      /** draft, open, paid, void, uncollectible. */
      status: k.text().notNull(),
      billingReason: k.text(),
      currency: k.text().notNull(),
      totalMinor: minor().notNull().default(0),
      amountDueMinor: minor().notNull().default(0),
      amountPaidMinor: minor().notNull().default(0),
      amountRemainingMinor: minor().notNull().default(0),
      hostedInvoiceUrl: k.text(),
      invoicePdfUrl: k.text(),
      periodStart: at(),
      periodEnd: at(),
      /** JSON array of at most 20 `{ description, amountMinor, quantity }` from the invoice's lines. */
      linesSummary: k.text().notNull().default('[]'),
      attemptCount: k.integer().notNull().default(0),
      nextPaymentAttemptAt: at(),
      /** First failed payment attempt (Stripe's clock: `status_transitions.finalized_at` of an automatically charged invoice). */
      firstFailedAt: at(),
      /** The last attempt needs the customer (3-D Secure) at `hostedInvoiceUrl`. */
      paymentActionRequired: k.boolean().notNull().default(false),
      finalizedAt: at(),
      paidAt: at(),
      voidedAt: at(),
      livemode: k.boolean().notNull().default(false),
      stripeCreated: at(),
      syncedAtMs: k.int64().notNull().default(0),
      createdAt: createdAt(),
      updatedAt: createdAt(),
    },
    (t) => [
      k.uniqueIndex('invoices_workspace_id_stripe_invoice_id_key').on(t.workspaceId, t.stripeInvoiceId),
      k.index('invoices_customer_id_stripe_created_idx').on(t.customerId, t.stripeCreated),
      k.index('invoices_stripe_subscription_id_idx').on(t.stripeSubscriptionId),
    ],
  );

  /** A Stripe test clock's time, from `test_helpers.test_clock.*` events: the "now" of its customers' subscriptions. */
  const stripeTestClocks = k.table(
    'stripe_test_clocks',
    {
      workspaceId: k.text()
        .notNull()
        .references(() => workspaces.id),
      stripeTestClockId: k.text().notNull(),
      frozenTime: at().notNull(),
      updatedAt: createdAt(),
    },
    (t) => [k.primaryKey({ columns: [t.workspaceId, t.stripeTestClockId] })],
  );

  /**
   * License keys issued for a licensing plan's subscription, one per seat. The key is stored as
   * a SHA-256 hash; the full key is kept encrypted (`keyCiphertext`, the secrets keyring) only
   * until the customer has seen it once (`revealedAt`), then erased.
   */
  const licenses = k.table(
    'licenses',
    {
      id: k.text().primaryKey(),
      workspaceId: k.text()
        .notNull()
        .references(() => workspaces.id),
      customerId: k.text()
        .notNull()
        .references(() => customers.id),
      subscriptionId: k.text()
        .notNull()
        .references(() => subscriptions.id),
      planId: k.text().references(() => plans.id),
      /** 1, 2, ... in issue order per subscription: the newest (highest) are revoked first when seats drop. */
      sequence: k.integer().notNull(),
      /** SHA-256 (hex) of the normalized key. */
      keyHash: k.text().notNull().unique(),
      /** The key's last group, for the masked display. */
      keyLast4: k.text().notNull(),
      keyCiphertext: k.text(),
      revealedAt: at(),
      /** active, suspended, revoked. */
      status: k.text().notNull(),
      /** Bound by the first verify that sends one. */
      fingerprint: k.text(),
      lastVerifiedAt: at(),
      suspendedAt: at(),
      revokedAt: at(),
      createdAt: createdAt(),
      updatedAt: createdAt(),
    },
    (t) => [
      k.uniqueIndex('licenses_subscription_id_sequence_key').on(t.subscriptionId, t.sequence),
      k.index('licenses_customer_id_idx').on(t.customerId),
    ],
  );

  /** Workspace API keys for other backends (`Authorization: Bearer tly_...`), stored as SHA-256 hashes. */
  const apiKeys = k.table(
    'api_keys',
    {
      id: k.text().primaryKey(),
      workspaceId: k.text()
        .notNull()
        .references(() => workspaces.id),
      name: k.text().notNull(),
      /** `live` or `test` (the `tly_live_` / `tly_test_` prefix). */
      mode: k.text().notNull(),
      /** What is shown in lists: the prefix and the first characters (`tly_test_Ab3dE`). */
      displayPrefix: k.text().notNull(),
      /** SHA-256 (hex) of the whole key. */
      keyHash: k.text().notNull().unique(),
      createdByUserId: k.text(),
      lastUsedAt: at(),
      revokedAt: at(),
      createdAt: createdAt(),
    },
    (t) => [k.index('api_keys_workspace_id_idx').on(t.workspaceId)],
  );

  // ---- usage metering (issue 9) ----
  /**
   * What a workspace meters: usage events name a meter by `key`. Cost of a period's quantity q:
   * ceil(q / blockSize) * priceMinor (blocks rounded up per customer, meter and period, never per
   * event; see usage/pricing.ts).
   */
  const meters = k.table(
    'meters',
    {
      id: k.text().primaryKey(),
      workspaceId: k.text()
        .notNull()
        .references(() => workspaces.id),
      /** `[a-z0-9_]{1,64}`, unique per workspace, e.g. `stt_words`. */
      key: k.text().notNull(),
      displayName: k.text().notNull(),
      /** Singular unit label, e.g. `word`, `call`. */
      unit: k.text().notNull(),
      /** `sum` | `count` | `max` of the events' quantities in a period. */
      aggregation: k.text().notNull(),
      /** Price of one block in the workspace currency's minor units (>= 0). */
      priceMinor: k.int64().notNull(),
      /** Units per block (>= 1), e.g. 1000. */
      blockSize: k.int64().notNull(),
      /** `prepaid` | `invoice` | `stripe_meter`. */
      billingMode: k.text().notNull(),
      /** The Stripe Billing Meter's `event_name` (stripe_meter mode only). */
      stripeMeterEventName: k.text(),
      archivedAt: at(),
      createdAt: createdAt(),
      updatedAt: createdAt(),
    },
    (t) => [k.uniqueIndex('meters_workspace_id_key_key').on(t.workspaceId, t.key)],
  );

  /**
   * Raw usage events, append-only. The idempotency key is unique per workspace; `payloadHash`
   * (SHA-256 of the canonical payload) tells a true duplicate from a conflicting reuse. No
   * other index: every read goes through the rollups.
   */
  const usageEvents = k.table(
    'usage_events',
    {
      id: k.text().primaryKey(),
      workspaceId: k.text().notNull(),
      customerId: k.text().notNull(),
      meterId: k.text().notNull(),
      idempotencyKey: k.text().notNull(),
      quantity: k.int64().notNull(),
      occurredAt: at().notNull(),
      /** JSON object or null. */
      properties: k.text(),
      payloadHash: k.text().notNull(),
      /** Signed minor units the prepaid debit for this event took (0 when none). */
      chargedMinor: k.int64().notNull().default(0),
      receivedAt: at().notNull(),
    },
    (t) => [k.uniqueIndex('usage_events_workspace_id_idempotency_key_key').on(t.workspaceId, t.idempotencyKey)],
  );

  /**
   * Per customer, meter and UTC day (`YYYY-MM-DD`): kept in step in the ingestion transaction.
   * Keyed day first so the rows ingestion updates (today's) sit together in the primary key
   * (SQLite stores this table WITHOUT ROWID, clustered by it): a batch of events for random
   * customers dirties the few pages of today's rows, not one page per customer. Readers by
   * customer use the (customer, meter, day) index, which only row inserts touch.
   */
  const usageDailyRollups = k.table(
    'usage_daily_rollups',
    {
      customerId: k.text().notNull(),
      meterId: k.text().notNull(),
      day: k.text().notNull(),
      workspaceId: k.text().notNull(),
      /** Sum of quantities. */
      quantity: k.int64().notNull(),
      eventCount: k.int64().notNull(),
      maxQuantity: k.int64().notNull(),
      /** Sum of prepaid debits (positive minor units) taken for this day's events. */
      chargedMinor: k.int64().notNull(),
    },
    (t) => [k.primaryKey({ columns: [t.day, t.meterId, t.customerId] }), k.index('usage_daily_rollups_customer_id_meter_id_day_idx').on(t.customerId, t.meterId, t.day)],
  );

  /** A workspace's usage period (calendar month, UTC, `YYYY-MM`): `closing` then `closed`. Late events for it are refused from `closing` on. */
  const usagePeriods = k.table(
    'usage_periods',
    {
      workspaceId: k.text()
        .notNull()
        .references(() => workspaces.id),
      period: k.text().notNull(),
      status: k.text().notNull(),
      /** JSON summary of the close: customers, invoices, totals. */
      summary: k.text(),
      closingAt: at(),
      closedAt: at(),
    },
    (t) => [k.primaryKey({ columns: [t.workspaceId, t.period] })],
  );

  /**
   * A Tally-issued usage invoice: one per customer and period (unique), for `invoice`-mode
   * meters. Created `draft` with its lines; `issued` once the Stripe invoice is finalized.
   */
  const usageInvoices = k.table(
    'usage_invoices',
    {
      id: k.text().primaryKey(),
      workspaceId: k.text()
        .notNull()
        .references(() => workspaces.id),
      customerId: k.text()
        .notNull()
        .references(() => customers.id),
      period: k.text().notNull(),
      /** `draft` | `issued` | `empty` (nothing to bill) | `failed` (last issuance attempt failed; retried). */
      status: k.text().notNull(),
      currency: k.text().notNull(),
      totalMinor: k.int64().notNull(),
      /** JSON: [{ meterId, meterKey, displayName, unit, quantity, blocks, blockSize, priceMinor, amountMinor }]. */
      lines: k.text().notNull(),
      /** `period_close` or `manual` (an admin's Generate usage invoice). */
      source: k.text().notNull(),
      stripeInvoiceId: k.text(),
      stripeHostedInvoiceUrl: k.text(),
      stripeTotalMinor: k.int64(),
      lastError: k.text(),
      createdByUserId: k.text(),
      issuedAt: at(),
      createdAt: createdAt(),
      updatedAt: createdAt(),
    },
    (t) => [k.uniqueIndex('usage_invoices_customer_id_period_key').on(t.customerId, t.period), k.index('usage_invoices_workspace_id_period_idx').on(t.workspaceId, t.period)],
  );

  /** Meter events waiting to be sent to Stripe (stripe_meter mode), written in the ingestion transaction. */
  const stripeMeterOutbox = k.table(
    'stripe_meter_outbox',
    {
      id: k.text().primaryKey(),
      workspaceId: k.text().notNull(),
      usageEventId: k.text().notNull().unique(),
      eventName: k.text().notNull(),
      stripeCustomerId: k.text().notNull(),
      value: k.int64().notNull(),
      /** The usage event's idempotency key: Stripe's meter event `identifier`. */
      identifier: k.text().notNull(),
      /** When the usage happened (the meter event's `timestamp`). */
      occurredAt: at().notNull(),
      /** `pending` | `sent` | `dead`. */
      status: k.text().notNull(),
      attempts: k.integer().notNull().default(0),
      nextAttemptAt: at().notNull(),
      lastError: k.text(),
      sentAt: at(),
      createdAt: createdAt(),
    },
    (t) => [k.index('stripe_meter_outbox_status_next_attempt_at_idx').on(t.status, t.nextAttemptAt)],
  );

  /** A named lease so one process at a time runs a job (the monthly usage close, sweepers). */
  const jobLeases = k.table('job_leases', {
    name: k.text().primaryKey(),
    owner: k.text().notNull(),
    expiresAt: at().notNull(),
    updatedAt: createdAt(),
  });

  return { users, sessions, accounts, verifications, workspaces, workspaceMembers, customers, customerMemberships, ledgerEntries, customerBalances, topups, stripeEvents, stripeEventErrors, rateLimits, emailOutbox, invitations, workspaceStripeAccounts, billingRecords, billingRecordCheckouts, auditLog, plans, subscriptions, invoices, stripeTestClocks, licenses, apiKeys, meters, usageEvents, usageDailyRollups, usagePeriods, usageInvoices, stripeMeterOutbox, jobLeases };
}
