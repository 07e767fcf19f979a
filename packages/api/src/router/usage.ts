import { resolveCustomerForActor } from '../customers/resolve-for-actor';
import { assertCustomerInWorkspace } from '../invoices/list-for-customer';
import { RecordUsageInput } from '../schemas/usage';
import { AdminUsageDashboardInput, GenerateUsageInvoiceInput, UsageDashboardInput, UsageOverviewInput } from '../schemas/usage-views';
import { adminProcedure, createTRPCRouter, customerProcedure } from '../trpc';
import { adminUsageOverview, usageDashboard } from '../usage/dashboard';
import { generateUsageInvoice } from '../usage/generate-invoice';
import { recordUsage } from '../usage/ingest';

/**
 * Usage metering (issue 9): recording usage in-app, the dashboards, and usage invoices.
 * Customers see only their own customer; admins any customer of the selected workspace.
 */
export const usageRouter = createTRPCRouter({
  /**
   * Admin: record a batch of 1..1,000 usage events for customers of the selected workspace,
   * exactly as `POST /api/v1/usage` does (`RecordUsageResult`: one answer per event). The tRPC
   * endpoint's limits apply (100 KB bodies, 30 mutations a minute per user): bulk reporting
   * from other backends belongs on `POST /api/v1/usage`.
   */
  record: adminProcedure.input(RecordUsageInput).mutation(({ ctx, input }) => recordUsage({ db: ctx.db, workspaceId: ctx.workspaceId, events: input.events })),
  /** Customer: the usage dashboard of one of the caller's customers. */
  dashboard: customerProcedure.input(UsageDashboardInput).query(async ({ ctx, input }) => {
    const customer = await resolveCustomerForActor({ db: ctx.db, userId: ctx.actor.userId, customerId: input?.customerId });
    return usageDashboard(ctx.db, { workspaceId: customer.workspaceId, customerId: customer.id });
  }),
  /** Admin: the same dashboard for a customer of the selected workspace (NOT_FOUND for another workspace's). */
  dashboardForCustomer: adminProcedure.input(AdminUsageDashboardInput).query(async ({ ctx, input }) => {
    await assertCustomerInWorkspace(ctx.db, ctx.workspaceId, input.customerId);
    return usageDashboard(ctx.db, { workspaceId: ctx.workspaceId, customerId: input.customerId });
  }),
  /** Admin: usage across customers for one period: per-meter totals, top consumers, daily charts. */
  overview: adminProcedure.input(UsageOverviewInput).query(({ ctx, input }) => adminUsageOverview(ctx.db, { workspaceId: ctx.workspaceId, period: input?.period })),
  /** Admin: create and issue one customer's usage invoice for a past period (idempotent: one per customer and period). */
  generateInvoice: adminProcedure.input(GenerateUsageInvoiceInput).mutation(({ ctx, input }) =>
    generateUsageInvoice({ db: ctx.db, stripeAccounts: ctx.stripeAccounts, workspaceId: ctx.workspaceId, customerId: input.customerId, period: input.period, actor: ctx.actor, requestId: ctx.requestId }),
  ),
});
