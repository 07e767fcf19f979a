/**
 * Usage dashboards (issue 9 item 4). OWNED BY THE DASHBOARD HELPER: replace these stubs.
 * Reads come from `usage_daily_rollups` only (never raw events).
 */
import type { Database } from '@tally/db';
import { AppError } from '../errors';

/** The customer's dashboard: `{ period, currency, meters: [...], daily: [...], pastPeriods: [...], runway }`. */
export async function usageDashboard(_db: Database, _args: { workspaceId: string; customerId: string; now?: Date }): Promise<unknown> {
  throw new AppError('PRECONDITION_FAILED', 'usage.dashboard is not built yet');
}

/** The admin's overview of one period across customers. */
export async function adminUsageOverview(_db: Database, _args: { workspaceId: string; period?: string | undefined; now?: Date }): Promise<unknown> {
  throw new AppError('PRECONDITION_FAILED', 'usage.overview is not built yet');
}
