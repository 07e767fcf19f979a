import type Stripe from 'stripe';
import { previousAttributes } from '../core/events';
import { billingId } from './ids';
import { emit, type BillingOp } from './op';

/**
 * The customer credit balance (https://docs.stripe.com/billing/customer/balance): `balance` is
 * in the minor unit, negative for credit the customer has, positive for what they owe. Every
 * change is recorded as a `customer_balance_transaction` (`cbtxn_...`).
 */

/** A change of a customer's balance. */
export interface BalanceChange {
  /** Added to `customer.balance`: negative credits the customer. */
  amount: number;
  currency: string;
  type: Stripe.CustomerBalanceTransaction.Type;
  creditNote?: string | null;
  invoice?: string | null;
  description?: string | null;
  /** Publish `customer.updated` (with `previous_attributes.balance`); default true. */
  publish?: boolean;
}

/** Applies `change` to the customer's balance, records its transaction and returns both. */
export function changeCustomerBalance(op: BillingOp, customer: Stripe.Customer, change: BalanceChange): { customer: Stripe.Customer; transaction: Stripe.CustomerBalanceTransaction } {
  const { ctx } = op;
  const endingBalance = customer.balance + change.amount;
  const transaction: Stripe.CustomerBalanceTransaction = {
    id: billingId('cbtxn'),
    object: 'customer_balance_transaction',
    amount: change.amount,
    checkout_session: null,
    created: op.now,
    credit_note: change.creditNote ?? null,
    currency: change.currency,
    customer: customer.id,
    customer_account: null,
    description: change.description ?? null,
    ending_balance: endingBalance,
    invoice: change.invoice ?? null,
    livemode: false,
    metadata: {},
    type: change.type,
  };
  ctx.store.customerBalanceTransactions.put(transaction);
  const updated = ctx.store.customers.put({ ...customer, balance: endingBalance });
  if (change.publish ?? true) emit(op, 'customer.updated', updated, previousAttributes(customer, updated));
  return { customer: updated, transaction };
}
