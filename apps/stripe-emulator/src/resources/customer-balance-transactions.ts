import { paginate } from '../http/lists';
import { resourceMissing } from '../http/errors';
import { listParams, p, parseParams } from '../http/params';
import { reference, type ApiHandler, type ResourceModule } from '../http/route';
import { requireCustomer } from './customers';
import { noParams } from './shared';

/**
 * A customer's balance transactions (https://docs.stripe.com/api/customer_balance_transactions),
 * read-only: they are recorded by credit notes (`credit_note`) and by finalized invoices that
 * used the balance (`applied_to_invoice`); see `billing/customer-balance.ts`.
 */

/** GET /v1/customers/:id/balance_transactions — newest first. */
const list: ApiHandler = (req, ctx) => {
  const query = parseParams(p.object(listParams), req.params);
  const customer = requireCustomer(ctx, req.path.id ?? '');
  const all = ctx.store.customerBalanceTransactions.newestFirst().filter((transaction) => transaction.customer === customer.id);
  return paginate(all, query, `/v1/customers/${customer.id}/balance_transactions`);
};

/** GET /v1/customers/:customer/balance_transactions/:id — 404 unless it is that customer's. */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  const customer = requireCustomer(ctx, req.path.customer ?? '');
  const transaction = ctx.store.customerBalanceTransactions.get(req.path.id ?? '');
  if (!transaction || transaction.customer !== customer.id) throw resourceMissing('customer_balance_transaction', req.path.id ?? '');
  return transaction;
};

/** Customer balance transactions: list and retrieve. */
export const customerBalanceTransactions: ResourceModule = {
  routes: [
    { method: 'get', path: '/v1/customers/:id/balance_transactions', returns: 'customer_balance_transaction', list: true, handler: list },
    { method: 'get', path: '/v1/customers/:customer/balance_transactions/:id', returns: 'customer_balance_transaction', handler: retrieve },
  ],
  expandable: {
    customer_balance_transaction: {
      customer: reference('customer', (store) => store.customers),
      credit_note: reference('credit_note', (store) => store.creditNotes),
      invoice: reference('invoice', (store) => store.invoices),
    },
  },
};
