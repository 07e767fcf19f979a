import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context';
import { randomToken } from '../core/ids';
import { StripeApiError, docUrl } from '../http/errors';
import { applyBalance, buildInvoice, buildLine, invoiceItemLine, invoiceItemPrice, pendingInvoiceItems, withTotals, type LineInput } from './invoices';
import { idOf } from './op';
import {
  currentPeriod,
  itemLines,
  periodEndAfter,
  planItemChanges,
  recurringOf,
  type ItemChange,
  type ItemChangePlan,
  type Proration,
  type ProrationBehavior,
} from './subscriptions';
import { addIntervals } from './time';

/**
 * Invoice previews (`POST /v1/invoices/create_preview`,
 * https://docs.stripe.com/api/invoices/create_preview) of an existing subscription, with or
 * without item changes. Built from the same code as the real thing — {@link planItemChanges}
 * for the prorations, `itemLines` for the period lines, the pending invoice items — so an update
 * with the same `proration_date` creates exactly the previewed prorations. Nothing is stored and
 * no event is sent. Amounts in minor units, times in unix seconds.
 */

/** What to preview on a subscription. */
export interface PreviewRequest {
  /** Item changes (`subscription_details[items]`), validated; empty to preview the next invoice as is. */
  changes: readonly ItemChange[];
  /** `subscription_details[proration_behavior]`, default `create_prorations`. */
  prorationBehavior: ProrationBehavior;
  /** Unix seconds the prorations are computed at (`subscription_details[proration_date]`, default `now`). */
  prorationAt: number;
  /** The customer's current time (test clock or real), unix seconds. */
  now: number;
  /** `subscription_details[cancel_at_period_end]`, when given. */
  cancelAtPeriodEnd?: boolean | undefined;
}

const ENDED: ReadonlySet<string> = new Set(['canceled', 'incomplete_expired', 'paused']);

/** Stripe's answer when there is nothing to preview: 404 `invoice_upcoming_none`. */
export function noUpcomingInvoice(customer: string): StripeApiError {
  return new StripeApiError(404, {
    type: 'invalid_request_error',
    code: 'invoice_upcoming_none',
    doc_url: docUrl('invoice_upcoming_none'),
    message: `No upcoming invoices for customer: ${customer}`,
  });
}

/** A previewed proration as an invoice line: `parent.subscription_item_details.proration` true, no invoice item yet (as in Stripe's previews). */
function prorationLine(subscription: Stripe.Subscription, proration: Proration): LineInput {
  const { item } = proration;
  return {
    amount: proration.amount,
    currency: item.price.currency,
    description: proration.description,
    period: proration.period,
    quantity: item.quantity ?? 1,
    price: item.price,
    proration: true,
    source: { type: 'subscription_item', subscription: subscription.id, subscriptionItem: item.id },
  };
}

/**
 * The invoice the subscription would get next if `request` were applied as an update now:
 * - a change of billing interval (not trialing): the invoice made at once, the credit for the
 *   unused time (unless `none`) and the new period in full;
 * - `always_invoice` with prorations (not trialing): the invoice made at once, the pending
 *   invoice items and the new prorations;
 * - otherwise the renewal at the end of the current period (or of the trial): the next period at
 *   the new prices, metered usage so far, the pending invoice items and, for
 *   `create_prorations`, the new prorations.
 * `billing_reason` is `upcoming`, the id `upcoming_in_…`, lines `il_tmp_…`; the customer's
 * balance is applied to `amount_due` as finalization would. A subscription that has ended, is
 * paused or would cancel by the end of the period has no upcoming invoice: 404
 * `invoice_upcoming_none`.
 */
export function previewSubscriptionInvoice(ctx: EmulatorContext, subscription: Stripe.Subscription, request: PreviewRequest): Stripe.Invoice {
  const { now, prorationAt, prorationBehavior } = request;
  const customerId = String(idOf(subscription.customer as string));
  const customer = ctx.store.customers.get(customerId);
  if (!customer || ENDED.has(subscription.status)) throw noUpcomingInvoice(customerId);
  const plan: ItemChangePlan =
    request.changes.length > 0
      ? planItemChanges(ctx, subscription, request.changes, { now, prorationAt })
      : { period: currentPeriod(subscription), items: subscription.items.data, prorations: [], intervalChanged: false };
  const { period } = plan;
  const cancel =
    request.cancelAtPeriodEnd === true
      ? { cancel_at_period_end: true, cancel_at: period.end }
      : request.cancelAtPeriodEnd === false
        ? { cancel_at_period_end: false, cancel_at: null }
        : {};
  const after: Stripe.Subscription = { ...subscription, ...cancel, items: { ...subscription.items, data: plan.items } };
  const trialing = subscription.status === 'trialing';
  const prorating = prorationBehavior !== 'none' && !trialing && request.changes.length > 0;
  const pending = pendingInvoiceItems(ctx, customerId, subscription.id, subscription.currency).map((item) => invoiceItemLine(item, invoiceItemPrice(ctx, item)));
  const prorations = prorating ? plan.prorations.map((proration) => prorationLine(subscription, proration)) : [];

  let lines: LineInput[];
  let created: number;
  let invoicePeriod: { start: number; end: number };
  if (plan.intervalChanged && !trialing) {
    const next = recurringOf(after);
    const newPeriod = { start: now, end: addIntervals(now, next.interval, next.count) };
    const moved = plan.items.map((item) => ({ ...item, current_period_start: newPeriod.start, current_period_end: newPeriod.end }));
    const restarted: Stripe.Subscription = { ...after, billing_cycle_anchor: now, items: { ...after.items, data: moved } };
    lines = [...itemLines(ctx, restarted, moved, newPeriod, null), ...pending, ...prorations.filter((line) => line.amount < 0)];
    created = now;
    invoicePeriod = { start: now, end: now };
  } else if (prorationBehavior === 'always_invoice' && prorations.length > 0) {
    lines = [...pending, ...prorations];
    created = now;
    invoicePeriod = { start: now, end: now };
  } else {
    if (after.cancel_at_period_end || (after.cancel_at !== null && after.cancel_at <= period.end)) throw noUpcomingInvoice(customerId);
    const { interval, count } = recurringOf(after);
    const start = period.end;
    const nextPeriod = trialing ? { start, end: addIntervals(start, interval, count) } : { start, end: periodEndAfter(after.billing_cycle_anchor, interval, count, start) };
    lines = [...itemLines(ctx, after, after.items.data, nextPeriod, trialing ? null : period), ...pending, ...prorations];
    created = start;
    invoicePeriod = trialing ? { start, end: start } : period;
  }

  const id = `upcoming_in_${randomToken(24)}`;
  const collectionMethod = subscription.collection_method as 'charge_automatically' | 'send_invoice';
  const invoice = buildInvoice(id, created, {
    customer,
    subscription: after,
    billingReason: 'upcoming',
    collectionMethod,
    autoAdvance: false,
    daysUntilDue: subscription.days_until_due,
    description: subscription.description,
    metadata: {},
    currency: subscription.currency,
    periodStart: invoicePeriod.start,
    periodEnd: invoicePeriod.end,
    defaultPaymentMethod: null,
    automaticallyFinalizesAt: null,
  });
  invoice.lines.data = lines.map((line) => ({ ...buildLine(id, line), id: `il_tmp_${randomToken(24)}` }));
  const totals = withTotals(invoice);
  const balance = customer.balance ?? 0;
  const { amountDue, endingBalance } = applyBalance(totals.total, balance);
  return {
    ...totals,
    amount_due: amountDue,
    amount_remaining: amountDue,
    starting_balance: balance,
    ending_balance: endingBalance,
    next_payment_attempt: collectionMethod === 'charge_automatically' && amountDue > 0 ? created : null,
    webhooks_delivered_at: null,
    parent: {
      type: 'subscription_details',
      quote_details: null,
      subscription_details: {
        metadata: subscription.metadata,
        subscription: subscription.id,
        ...(prorating ? { subscription_proration_date: prorationAt } : {}),
      },
    },
  };
}
