import { resolveCustomerForActor } from '../customers/resolve-for-actor';
import { assertCustomerInWorkspace, listInvoicesForCustomer } from '../invoices/list-for-customer';
import { AdminInvoiceListInput, InvoiceListInput } from '../schemas/invoices';
import { adminProcedure, createTRPCRouter, customerProcedure } from '../trpc';

/** A customer's invoices: Stripe invoices (mirrored) and billing records together, newest first (`InvoiceListItem`). */
export const invoiceRouter = createTRPCRouter({
  /** Customers: the invoices of one of the caller's customers (`customerId`, else their oldest). NOT_FOUND for a customer the caller is not a member of. */
  list: customerProcedure.input(InvoiceListInput).query(async ({ ctx, input }) => {
    const customer = await resolveCustomerForActor({ db: ctx.db, userId: ctx.actor.userId, customerId: input?.customerId });
    return listInvoicesForCustomer({ db: ctx.db, workspaceId: customer.workspaceId, customerId: customer.id, audience: 'customer', webUrl: ctx.config.webUrl, limit: input?.limit });
  }),
  /** Admins: the invoices of a customer of the selected workspace (with drafts and billing records' pay links). NOT_FOUND for another workspace's customer. */
  listForCustomer: adminProcedure.input(AdminInvoiceListInput).query(async ({ ctx, input }) => {
    await assertCustomerInWorkspace(ctx.db, ctx.workspaceId, input.customerId);
    return listInvoicesForCustomer({ db: ctx.db, workspaceId: ctx.workspaceId, customerId: input.customerId, audience: 'admin', webUrl: ctx.config.webUrl, limit: input.limit });
  }),
});
