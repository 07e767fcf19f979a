/**
 * The tables of both dialects (defined once in `./tables.ts`), plus the row types domain code uses.
 * Driver-free: safe to import anywhere (including the SPA, for types).
 */
import * as pg from './pg';
import * as sqlite from './sqlite';

export { pg as pgSchema, sqlite as sqliteSchema };

/** The tables as domain code sees them (typed by the Postgres definitions; see client.ts). */
export type Tables = typeof pg;

export type Workspace = typeof pg.workspaces.$inferSelect;
export type Customer = typeof pg.customers.$inferSelect;
export type LedgerEntry = typeof pg.ledgerEntries.$inferSelect;
export type Topup = typeof pg.topups.$inferSelect;
export type StripeEventRow = typeof pg.stripeEvents.$inferSelect;
export type StripeEventErrorRow = typeof pg.stripeEventErrors.$inferSelect;
export type EmailOutboxRow = typeof pg.emailOutbox.$inferSelect;
export type Invitation = typeof pg.invitations.$inferSelect;
export type WorkspaceStripeAccount = typeof pg.workspaceStripeAccounts.$inferSelect;
export type BillingRecord = typeof pg.billingRecords.$inferSelect;
export type BillingRecordCheckout = typeof pg.billingRecordCheckouts.$inferSelect;
export type AuditLogRow = typeof pg.auditLog.$inferSelect;
export type Plan = typeof pg.plans.$inferSelect;
export type Subscription = typeof pg.subscriptions.$inferSelect;
export type Invoice = typeof pg.invoices.$inferSelect;
export type License = typeof pg.licenses.$inferSelect;
export type ApiKey = typeof pg.apiKeys.$inferSelect;
export type Meter = typeof pg.meters.$inferSelect;
export type UsageEvent = typeof pg.usageEvents.$inferSelect;
export type UsageDailyRollup = typeof pg.usageDailyRollups.$inferSelect;
export type UsagePeriod = typeof pg.usagePeriods.$inferSelect;
export type UsageInvoice = typeof pg.usageInvoices.$inferSelect;
export type StripeMeterOutboxRow = typeof pg.stripeMeterOutbox.$inferSelect;

export type LedgerEntryKind = LedgerEntry['kind'];
export type TopupStatus = Topup['status'];
export type StripeEventStatus = StripeEventRow['status'];
export type BillingRecordStatus = BillingRecord['status'];
export type BillingRecordPaymentMethod = NonNullable<BillingRecord['paymentMethod']>;

export const METER_AGGREGATIONS = ['sum', 'count', 'max'] as const;
export type MeterAggregation = (typeof METER_AGGREGATIONS)[number];
export const METER_BILLING_MODES = ['prepaid', 'invoice', 'stripe_meter'] as const;
export type MeterBillingMode = (typeof METER_BILLING_MODES)[number];
export const USAGE_INVOICE_STATUSES = ['draft', 'issued', 'empty', 'failed'] as const;
export type UsageInvoiceStatus = (typeof USAGE_INVOICE_STATUSES)[number];

export const STRIPE_EVENT_STATUSES = ['received', 'processed', 'ignored', 'failed', 'anomaly', 'dead'] as const satisfies readonly StripeEventStatus[];
export const TOPUP_STATUSES = ['pending', 'paid', 'expired', 'failed'] as const satisfies readonly TopupStatus[];
export const BILLING_RECORD_STATUSES = ['DUE', 'PAID', 'VOID'] as const satisfies readonly BillingRecordStatus[];
export const MANUAL_PAYMENT_METHODS = ['bank_transfer', 'cash', 'check', 'other'] as const satisfies readonly BillingRecordPaymentMethod[];
