/**
 * Inputs of the usage dashboards and the usage invoice procedures (issue 9 items 4 and 5).
 * No server imports; nothing from `../schemas`.
 */
import { z } from 'zod';

const PERIOD = /^\d{4}-(0[1-9]|1[0-2])$/;
export const UsagePeriodSchema = z.string().regex(PERIOD, { error: 'period must be a month written YYYY-MM, e.g. 2026-11' });

/** `usage.dashboard`: the caller's customer (`customerId`, else their oldest). */
export const UsageDashboardInput = z.object({ customerId: z.uuid({ error: 'customerId must be a Tally id (a UUID)' }).optional() }).optional();
/** `usage.dashboardForCustomer` (admin). */
export const AdminUsageDashboardInput = z.object({ customerId: z.uuid({ error: 'customerId must be a Tally id (a UUID)' }) });
/** `usage.overview` (admin): one period, default the current one. */
export const UsageOverviewInput = z.object({ period: UsagePeriodSchema.optional() }).optional();
/** `usage.generateInvoice` (admin): one customer's usage invoice for one past period. */
export const GenerateUsageInvoiceInput = z.object({ customerId: z.uuid({ error: 'customerId must be a Tally id (a UUID)' }), period: UsagePeriodSchema });
