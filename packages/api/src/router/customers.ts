import { createCustomer } from '../customers/create';
import { getCustomer } from '../customers/get';
import { inviteCustomerMember } from '../customers/invite-member';
import { listCustomers } from '../customers/list';
import { adjustBalance } from '../ledger/adjust';
import { listLedgerForCustomer } from '../ledger/list-for-customer';
import { AdjustBalanceInput, CreateCustomerInput, CustomerIdInput, CustomerLedgerInput, CustomersListInput, InviteCustomerMemberInput } from '../schemas/customers';
import { adminProcedure, createTRPCRouter } from '../trpc';

/**
 * The admin's *Customers* page. Every procedure acts on the selected workspace
 * (`ctx.workspaceId`): a customer of another workspace is NOT_FOUND; a non-admin is FORBIDDEN;
 * invalid input is BAD_REQUEST. Amounts are minor units.
 */
export const customersRouter = createTRPCRouter({
  /** `{ search?, limit, cursor? }` -> `{ items: [{ id, name, email, stripeCustomerId, createdAt, balances, openRecordCount }], nextCursor }`. */
  list: adminProcedure.input(CustomersListInput).query(({ ctx, input }) =>
    listCustomers({ db: ctx.db, workspaceId: ctx.workspaceId, workspaceCurrency: ctx.workspaceCurrency, search: input.search, limit: input.limit, cursor: input.cursor }),
  ),
  /** `{ name, email? }` -> `{ id }`; audit `customer.create`. */
  create: adminProcedure
    .input(CreateCustomerInput)
    .mutation(({ ctx, input }) => createCustomer({ db: ctx.db, workspaceId: ctx.workspaceId, actor: ctx.actor, requestId: ctx.requestId, input })),
  /** `{ customerId }` -> the customer with balances, members and pending invitations. */
  get: adminProcedure
    .input(CustomerIdInput)
    .query(({ ctx, input }) => getCustomer({ db: ctx.db, workspaceId: ctx.workspaceId, workspaceCurrency: ctx.workspaceCurrency, customerId: input.customerId })),
  /** `{ customerId, limit, cursor? }` -> the customer's ledger entries, newest first. */
  ledger: adminProcedure
    .input(CustomerLedgerInput)
    .query(({ ctx, input }) => listLedgerForCustomer({ db: ctx.db, workspaceId: ctx.workspaceId, customerId: input.customerId, limit: input.limit, cursor: input.cursor })),
  /** `{ customerId, email }` -> `{ invitationId, attachedNow }`; audit `customer.invite`. */
  invite: adminProcedure
    .input(InviteCustomerMemberInput)
    .mutation(({ ctx, input }) =>
      inviteCustomerMember({ db: ctx.db, workspaceId: ctx.workspaceId, actor: ctx.actor, requestId: ctx.requestId, webUrl: ctx.config.webUrl, input }),
    ),
  /** `{ customerId, amountMinor, reason }` -> `{ entryId, balanceMinor, currency }`; audit `ledger.adjustment`. */
  adjustBalance: adminProcedure
    .input(AdjustBalanceInput)
    .mutation(({ ctx, input }) =>
      adjustBalance({ db: ctx.db, workspaceId: ctx.workspaceId, currency: ctx.workspaceCurrency, actor: ctx.actor, requestId: ctx.requestId, input }),
    ),
});
