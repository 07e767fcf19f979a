import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context';
import { StripeApiError, invalidRequest } from '../http/errors';
import { createPaymentIntent } from '../resources/payment-intents';
import { attemptInvoicePayment, defaultPaymentMethodFor, noPaymentMethodError, type AttemptOutcome } from './collection';
import { billingId } from './ids';
import {
  createDraftInvoice,
  finalizeInvoice,
  pendingInvoiceItems,
  productName,
  recordInvoicePayment,
  subscriptionLineDescription,
  voidInvoice,
  wireDecimal,
  type LineInput,
} from './invoices';
import { billedUsage, priceAmount } from './usage';
import { emit, flushOutbox, idOf, type BillingOp } from './op';
import { prorationAmounts } from './proration';
import { billingSettings } from './settings';
import { cancelSubscriptionNow, updateSubscription } from './subscription-state';
import { addIntervals, type Interval } from './time';

/**
 * The subscription lifecycle (https://docs.stripe.com/billing/subscriptions/overview): creation
 * and its first invoice, renewals at each period end, trials, price changes with prorations,
 * cancellation. Every amount is in minor units, every timestamp in unix seconds, taken from
 * `op.now` (the customer's test clock time or real time).
 */

export type PaymentBehavior = 'allow_incomplete' | 'default_incomplete' | 'error_if_incomplete' | 'pending_if_incomplete';
export type ProrationBehavior = 'create_prorations' | 'none' | 'always_invoice';

/** One item of a new subscription. */
export interface ItemInput {
  price: Stripe.Price;
  /** Licensed prices only (metered items have no quantity). */
  quantity: number;
  metadata: Stripe.Metadata;
}

/** What a new subscription is made of (validated by the resource layer). */
export interface NewSubscription {
  customer: Stripe.Customer;
  items: ItemInput[];
  /** Unix seconds, or `null` for no trial. */
  trialEnd: number | null;
  defaultPaymentMethod: string | null;
  paymentBehavior: PaymentBehavior;
  cancelAtPeriodEnd: boolean;
  metadata: Stripe.Metadata;
  description: string | null;
  collectionMethod: 'charge_automatically' | 'send_invoice';
  daysUntilDue: number | null;
  missingPaymentMethod: 'cancel' | 'create_invoice' | 'pause';
  /** Whether the first payment is made with the customer absent. Default `false`. */
  offSession?: boolean;
}

const isMetered = (price: Stripe.Price) => price.recurring?.usage_type === 'metered';

/** The legacy `plan` Stripe still renders on subscription items, made from the price. */
export function planOf(price: Stripe.Price): Stripe.Plan {
  const recurring = price.recurring!;
  return {
    id: price.id,
    object: 'plan',
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: price.billing_scheme,
    created: price.created,
    currency: price.currency,
    interval: recurring.interval,
    interval_count: recurring.interval_count,
    livemode: false,
    metadata: price.metadata,
    meter: recurring.meter ?? null,
    nickname: price.nickname,
    product: price.product,
    tiers_mode: null,
    transform_usage: price.transform_quantity ? { divide_by: price.transform_quantity.divide_by, round: price.transform_quantity.round } : null,
    trial_period_days: recurring.trial_period_days ?? null,
    usage_type: recurring.usage_type,
  } as Stripe.Plan;
}

/** A subscription item (`si_...`) for `price` over the period `[start, end)`. */
export function buildItem(subscriptionId: string, input: ItemInput, period: { start: number; end: number }, created: number): Stripe.SubscriptionItem {
  return {
    id: billingId('si'),
    object: 'subscription_item',
    billing_thresholds: null,
    created,
    current_period_end: period.end,
    current_period_start: period.start,
    current_trial: null,
    discounts: [],
    metadata: input.metadata,
    plan: planOf(input.price),
    price: input.price,
    ...(isMetered(input.price) ? {} : { quantity: input.quantity }),
    subscription: subscriptionId,
    tax_rates: [],
  };
}

/** The `[start, end)` period shared by a subscription's items. */
export function currentPeriod(subscription: Stripe.Subscription): { start: number; end: number } {
  const item = subscription.items.data[0];
  return { start: item?.current_period_start ?? subscription.start_date, end: item?.current_period_end ?? subscription.start_date };
}

/** The billing interval of a subscription (that of its first item's price). */
export function recurringOf(subscription: Stripe.Subscription): { interval: Interval; count: number } {
  const recurring = subscription.items.data[0]?.price.recurring;
  return { interval: (recurring?.interval ?? 'month') as Interval, count: recurring?.interval_count ?? 1 };
}

/** The end of the billing period that starts at `start` for a subscription anchored at `anchor`. */
export function periodEndAfter(anchor: number, interval: Interval, count: number, start: number): number {
  let n = 1;
  let end = addIntervals(anchor, interval, count, n);
  while (end <= start) end = addIntervals(anchor, interval, count, (n += 1));
  return end;
}

/** Invoice lines billing `items` in advance for `period` (licensed) or in arrears for `usagePeriod` (metered). */
export function itemLines(
  ctx: EmulatorContext,
  subscription: Stripe.Subscription,
  items: readonly Stripe.SubscriptionItem[],
  period: { start: number; end: number },
  usagePeriod: { start: number; end: number } | null,
  trial = false,
): LineInput[] {
  const customer = String(idOf(subscription.customer as string));
  return items.map((item) => {
    const source = { type: 'subscription_item' as const, subscription: subscription.id, subscriptionItem: item.id };
    const { price } = item;
    if (isMetered(price)) {
      const usage = usagePeriod && !trial ? billedUsage(ctx, price, customer, usagePeriod) : 0;
      return {
        amount: priceAmount(price, usage),
        currency: price.currency,
        description: trial ? `Trial period for ${productName(ctx, price)}` : subscriptionLineDescription(ctx, price, usage),
        period: usagePeriod ?? period,
        quantity: usage,
        price,
        proration: false,
        source,
      };
    }
    const quantity = item.quantity ?? 1;
    return {
      amount: trial ? 0 : priceAmount(price, quantity),
      currency: price.currency,
      description: trial ? `Trial period for ${productName(ctx, price)}` : subscriptionLineDescription(ctx, price, quantity),
      period,
      quantity,
      price,
      proration: false,
      source,
    };
  });
}

/** A new subscription invoice with `lines` and the pending invoice items, left as a draft. */
function draftSubscriptionInvoice(
  op: BillingOp,
  subscription: Stripe.Subscription,
  billingReason: Stripe.Invoice.BillingReason,
  lines: readonly LineInput[],
  period: { start: number; end: number },
  options: { autoAdvance: boolean; finalizesAt: number | null },
): Stripe.Invoice {
  const { ctx } = op;
  const customer = ctx.store.customers.get(String(idOf(subscription.customer as string)))!;
  const draft = createDraftInvoice(
    op,
    {
      customer,
      subscription,
      billingReason,
      collectionMethod: subscription.collection_method as 'charge_automatically' | 'send_invoice',
      autoAdvance: options.autoAdvance,
      daysUntilDue: subscription.days_until_due,
      description: subscription.description,
      metadata: {},
      currency: subscription.currency,
      periodStart: period.start,
      periodEnd: period.end,
      defaultPaymentMethod: null,
      automaticallyFinalizesAt: options.finalizesAt,
    },
    lines,
    pendingInvoiceItems(ctx, customer.id, subscription.id, subscription.currency),
  );
  return draft;
}

/**
 * Finalizes a subscription invoice now and, for `charge_automatically`, attempts payment
 * (`offSession` for renewals). Returns the attempt's outcome, or `undefined` when nothing was
 * charged (paid at once because nothing was due, or `send_invoice`).
 */
export function finalizeAndCollect(op: BillingOp, draft: Stripe.Invoice, offSession: boolean): AttemptOutcome | undefined {
  const finalized = finalizeInvoice(op, draft);
  if (finalized.status !== 'open' || finalized.collection_method !== 'charge_automatically') return undefined;
  return attemptInvoicePayment(op, finalized, { offSession, automatic: true });
}

/** A pending PaymentIntent for an invoice collected later (`payment_behavior=default_incomplete`), for its `confirmation_secret`. */
function pendingIntentFor(op: BillingOp, invoice: Stripe.Invoice): void {
  const intent = createPaymentIntent(
    op.ctx,
    { amount: invoice.amount_remaining, currency: invoice.currency, customer: String(idOf(invoice.customer as string)), description: 'Subscription creation', metadata: {}, shipping: null },
    op.request,
  );
  op.ctx.store.invoiceStates.put({ id: invoice.id, paymentIntent: intent.id, firstFailureAt: null });
  recordInvoicePayment(op.ctx, invoice, intent, op.now);
}

/**
 * Creates a subscription (https://docs.stripe.com/api/subscriptions/create) and its first
 * invoice (`billing_reason=subscription_create`), finalized at once:
 * - with a trial: status `trialing`, a $0 invoice paid at once; `trial_will_end` is sent now
 *   if the trial ends within 3 days (otherwise 3 days before it ends);
 * - `allow_incomplete` (default): the invoice is charged; paid → `active`, otherwise
 *   `incomplete` (the invoice stays open; after 23 hours `incomplete_expired`);
 * - `default_incomplete`: not charged; `incomplete` with a pending PaymentIntent;
 * - `error_if_incomplete`: a failed payment answers 402 and leaves no subscription.
 * Events: `customer.subscription.created` (in its final status), `invoice.created`,
 * `invoice.finalized`, then `invoice.paid` + `invoice.payment_succeeded` or
 * `invoice.payment_failed` / `invoice.payment_action_required`.
 */
export function createSubscription(op: BillingOp, input: NewSubscription): Stripe.Subscription {
  const { ctx, now } = op;
  const first = input.items[0]!.price;
  const { interval, count } = { interval: first.recurring!.interval as Interval, count: first.recurring!.interval_count };
  const anchor = input.trialEnd ?? now;
  const period = input.trialEnd !== null ? { start: now, end: input.trialEnd } : { start: now, end: addIntervals(anchor, interval, count) };
  const id = billingId('sub');
  const trialing = input.trialEnd !== null;
  const subscription: Stripe.Subscription = {
    id,
    object: 'subscription',
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: anchor,
    billing_cycle_anchor_config: null,
    billing_mode: { flexible: null, type: 'classic' },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: input.cancelAtPeriodEnd ? period.end : null,
    cancel_at_period_end: input.cancelAtPeriodEnd,
    canceled_at: input.cancelAtPeriodEnd ? now : null,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: input.cancelAtPeriodEnd ? 'cancellation_requested' : null },
    collection_method: input.collectionMethod,
    created: now,
    currency: first.currency,
    customer: input.customer.id,
    customer_account: null,
    days_until_due: input.collectionMethod === 'send_invoice' ? (input.daysUntilDue ?? 30) : null,
    default_payment_method: input.defaultPaymentMethod,
    default_source: null,
    default_tax_rates: [],
    description: input.description,
    discounts: [],
    ended_at: null,
    invoice_settings: { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: { type: 'self' } },
    items: { object: 'list', data: [], has_more: false, url: `/v1/subscription_items?subscription=${id}` },
    latest_invoice: null,
    livemode: false,
    managed_payments: null,
    metadata: input.metadata,
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: { payment_method_options: null, payment_method_types: null, save_default_payment_method: 'off' },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: now,
    status: trialing ? 'trialing' : 'incomplete',
    test_clock: input.customer.test_clock ?? null,
    transfer_data: null,
    trial_end: input.trialEnd,
    trial_settings: { end_behavior: { billing_cycle_anchor: null, missing_payment_method: input.missingPaymentMethod } },
    trial_start: trialing ? now : null,
  };
  subscription.items.data = input.items.map((item) => buildItem(id, item, period, now));

  // Billing events wait until the outcome is known: `customer.subscription.created` comes first and
  // shows the status the API answers with; a failed `error_if_incomplete` creation sends none.
  const held: BillingOp = { ...op, outbox: [] };
  ctx.store.subscriptions.put(subscription);
  ctx.store.subscriptionStates.put({ id, trialWillEndSent: false });

  const lines = itemLines(ctx, subscription, subscription.items.data, period, trialing ? null : period, trialing);
  const draft = draftSubscriptionInvoice(held, subscription, 'subscription_create', lines, { start: now, end: now }, { autoAdvance: true, finalizesAt: null });
  ctx.store.subscriptions.put({ ...subscription, latest_invoice: draft.id });
  const finalized = finalizeInvoice(held, draft);

  let outcome: AttemptOutcome | undefined;
  if (finalized.status === 'open' && input.collectionMethod === 'charge_automatically') {
    if (input.paymentBehavior === 'default_incomplete') pendingIntentFor(held, finalized);
    else outcome = attemptInvoicePayment(held, finalized, { offSession: input.offSession ?? false, automatic: false });
  }
  const paid = ctx.store.invoices.get(draft.id)?.status === 'paid';
  const status: Stripe.Subscription.Status = trialing ? 'trialing' : paid || input.collectionMethod === 'send_invoice' ? 'active' : 'incomplete';
  const current = ctx.store.subscriptions.put({ ...ctx.store.subscriptions.get(id)!, status });

  if (input.paymentBehavior === 'error_if_incomplete' && outcome && outcome.status !== 'paid') {
    // Stripe creates nothing when the first payment of an `error_if_incomplete` subscription fails.
    rollBackCreation(ctx, current, draft.id);
    throw new StripeApiError(402, outcome.status === 'failed' || outcome.status === 'requires_action' ? outcome.error : noPaymentMethodError());
  }
  held.outbox = (held.outbox ?? []).filter((event) => !(event.type === 'customer.subscription.updated' && (event.object as { id?: string }).id === id));
  held.outbox.unshift({ type: 'customer.subscription.created', object: structuredClone(current) });
  flushOutbox(held);
  sendTrialWillEndIfDue(op, current);
  return ctx.store.subscriptions.get(id)!;
}

function rollBackCreation(ctx: EmulatorContext, subscription: Stripe.Subscription, invoiceId: string): void {
  ctx.store.subscriptions.delete(subscription.id);
  ctx.store.subscriptionStates.delete(subscription.id);
  for (const item of ctx.store.invoiceItems.all()) if (item.invoice === invoiceId) ctx.store.invoiceItems.put({ ...item, invoice: null });
  ctx.store.invoices.delete(invoiceId);
  ctx.store.invoiceStates.delete(invoiceId);
}

/**
 * Sends `customer.subscription.trial_will_end` for a trialing subscription once it is due:
 * 3 days before `trial_end`, or at once for a shorter trial
 * (https://docs.stripe.com/billing/subscriptions/trials#trial-ending).
 */
export function sendTrialWillEndIfDue(op: BillingOp, subscription: Stripe.Subscription): void {
  const state = op.ctx.store.subscriptionStates.get(subscription.id) ?? { id: subscription.id, trialWillEndSent: false };
  if (subscription.status !== 'trialing' || subscription.trial_end === null || state.trialWillEndSent) return;
  if (op.now < subscription.trial_end - billingSettings(op.ctx).trialWillEndSeconds) return;
  op.ctx.store.subscriptionStates.put({ ...state, trialWillEndSent: true });
  emit(op, 'customer.subscription.trial_will_end', subscription);
}

/** When `customer.subscription.trial_will_end` is due for a trialing subscription, or `null`. */
export function trialWillEndAt(ctx: EmulatorContext, subscription: Stripe.Subscription): number | null {
  if (subscription.status !== 'trialing' || subscription.trial_end === null) return null;
  if (ctx.store.subscriptionStates.get(subscription.id)?.trialWillEndSent) return null;
  return Math.max(subscription.created, subscription.trial_end - billingSettings(ctx).trialWillEndSeconds);
}

/**
 * Starts the next billing period at its end (`op.now`): a subscription due to cancel at period
 * end is canceled (`customer.subscription.deleted`); otherwise the items move to the next
 * period (`customer.subscription.updated`) and a renewal invoice is drafted
 * (`billing_reason=subscription_cycle`: licensed items for the new period, metered items with
 * the usage of the period that ended, pending invoice items). It is finalized and charged off
 * session after `renewalFinalizeDelaySeconds` (1 hour, as Stripe), or at once if that is 0.
 * `unpaid` subscriptions get drafts that are not advanced automatically, as Stripe does.
 */
export function renewSubscription(op: BillingOp, subscription: Stripe.Subscription): void {
  const { ctx } = op;
  const ended = currentPeriod(subscription);
  if (subscription.cancel_at_period_end || (subscription.cancel_at !== null && subscription.cancel_at <= op.now)) {
    cancelSubscriptionNow(op, subscription, { reason: 'cancellation_requested' });
    return;
  }
  const { interval, count } = recurringOf(subscription);
  const start = ended.end;
  const period = { start, end: periodEndAfter(subscription.billing_cycle_anchor, interval, count, start) };
  const items = subscription.items.data.map((item) => ({ ...item, current_period_start: period.start, current_period_end: period.end }));
  const lines = itemLines(ctx, subscription, subscription.items.data, period, ended);
  openRenewalInvoice(op, subscription, { ...subscription, items: { ...subscription.items, data: items } }, 'subscription_cycle', lines, ended);
}

function openRenewalInvoice(
  op: BillingOp,
  before: Stripe.Subscription,
  after: Stripe.Subscription,
  reason: Stripe.Invoice.BillingReason,
  lines: readonly LineInput[],
  invoicePeriod: { start: number; end: number },
): void {
  const { ctx } = op;
  const delay = billingSettings(ctx).renewalFinalizeDelaySeconds;
  const autoAdvance = after.status !== 'unpaid';
  const draft = draftSubscriptionInvoice(op, after, reason, lines, invoicePeriod, { autoAdvance, finalizesAt: autoAdvance ? op.now + delay : null });
  updateSubscription(op, before, { ...after, latest_invoice: draft.id });
  if (autoAdvance && delay === 0) finalizeAndCollect(op, draft, true);
}

/**
 * Applies `trial_settings.end_behavior.missing_payment_method` when a trial ends without a
 * PaymentMethod: `cancel` (`customer.subscription.deleted`) or `pause` (status `paused`,
 * `customer.subscription.paused`); returns whether it did (`create_invoice` goes on billing).
 */
function endTrialWithoutPaymentMethod(op: BillingOp, subscription: Stripe.Subscription): boolean {
  const behaviour = subscription.trial_settings?.end_behavior.missing_payment_method ?? 'create_invoice';
  const customer = op.ctx.store.customers.get(String(idOf(subscription.customer as string)));
  const hasPaymentMethod =
    idOf(subscription.default_payment_method as string | null) !== null || idOf(customer?.invoice_settings?.default_payment_method as string | null | undefined) !== null;
  if (hasPaymentMethod || behaviour === 'create_invoice') return false;
  if (behaviour === 'cancel') {
    cancelSubscriptionNow(op, subscription, { reason: 'cancellation_requested' });
    return true;
  }
  const paused = updateSubscription(op, subscription, { status: 'paused', trial_end: Math.min(subscription.trial_end ?? op.now, op.now) });
  emit(op, 'customer.subscription.paused', paused);
  return true;
}

/**
 * Ends a trial at `trial_end` (https://docs.stripe.com/billing/subscriptions/trials): without a
 * PaymentMethod, `trial_settings.end_behavior.missing_payment_method` may cancel or pause it;
 * otherwise it becomes `active` for a new period anchored at the trial end, and the first paid
 * invoice is drafted and collected like a renewal (a failed payment makes it `past_due`).
 */
export function endTrial(op: BillingOp, subscription: Stripe.Subscription): void {
  const { ctx } = op;
  if (endTrialWithoutPaymentMethod(op, subscription)) return;
  const { interval, count } = recurringOf(subscription);
  const start = op.now;
  const period = { start, end: addIntervals(start, interval, count) };
  const items = subscription.items.data.map((item) => ({ ...item, current_period_start: period.start, current_period_end: period.end }));
  const after: Stripe.Subscription = { ...subscription, status: 'active', billing_cycle_anchor: start, trial_end: Math.min(subscription.trial_end ?? start, start), items: { ...subscription.items, data: items } };
  const lines = itemLines(ctx, subscription, subscription.items.data, period, null);
  openRenewalInvoice(op, subscription, after, 'subscription_cycle', lines, { start, end: start });
}

/**
 * Ends a trial now because of `trial_end=now` on update: like {@link endTrial}, but the invoice
 * (`billing_reason=subscription_update`) is finalized and charged at once, as Stripe does.
 */
export function endTrialNow(op: BillingOp, subscription: Stripe.Subscription): Stripe.Subscription {
  const { ctx } = op;
  if (endTrialWithoutPaymentMethod(op, subscription)) return ctx.store.subscriptions.get(subscription.id)!;
  const { interval, count } = recurringOf(subscription);
  const start = op.now;
  const period = { start, end: addIntervals(start, interval, count) };
  const items = subscription.items.data.map((item) => ({ ...item, current_period_start: period.start, current_period_end: period.end }));
  const lines = itemLines(ctx, subscription, subscription.items.data, period, null);
  const after: Stripe.Subscription = { ...subscription, status: 'active', billing_cycle_anchor: start, trial_end: start, items: { ...subscription.items, data: items } };
  const draft = draftSubscriptionInvoice(op, after, 'subscription_update', lines, { start, end: start }, { autoAdvance: true, finalizesAt: null });
  const updated = updateSubscription(op, subscription, { ...after, latest_invoice: draft.id });
  finalizeAndCollect(op, draft, false);
  return ctx.store.subscriptions.get(updated.id)!;
}

/**
 * Expires an `incomplete` subscription whose first invoice was not paid within 23 hours
 * (https://docs.stripe.com/billing/subscriptions/overview#incomplete-expired): the invoice is
 * voided and the subscription becomes `incomplete_expired` (a terminal status).
 */
export function expireIncomplete(op: BillingOp, subscription: Stripe.Subscription): void {
  const { ctx } = op;
  const invoice = ctx.store.invoices.get(String(idOf(subscription.latest_invoice as string | null)));
  if (invoice && invoice.status === 'open') voidInvoice(op, invoice);
  updateSubscription(op, ctx.store.subscriptions.get(subscription.id) ?? subscription, { status: 'incomplete_expired', ended_at: op.now });
}

/** One change to a subscription's items on update. */
export interface ItemChange {
  /** Existing item (`si_...`), or `undefined` to add one. */
  id?: string | undefined;
  price?: Stripe.Price | undefined;
  quantity?: number | undefined;
  deleted?: boolean | undefined;
  metadata?: Stripe.Metadata | undefined;
}

function prorationDate(at: number): string {
  return new Date(at * 1000).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
}

/** A pending proration invoice item of a subscription item (`proration: true`). */
function prorationItem(
  op: BillingOp,
  subscription: Stripe.Subscription,
  item: Stripe.SubscriptionItem,
  amount: number,
  description: string,
  period: { start: number; end: number },
): Stripe.InvoiceItem {
  const { price } = item;
  const invoiceItem: Stripe.InvoiceItem = {
    id: billingId('ii'),
    object: 'invoiceitem',
    amount,
    currency: price.currency,
    customer: String(idOf(subscription.customer as string)),
    customer_account: null,
    date: op.now,
    description,
    discountable: false,
    discounts: [],
    invoice: null,
    livemode: false,
    metadata: {},
    net_amount: amount,
    parent: { type: 'subscription_details', subscription_details: { subscription: subscription.id, subscription_item: item.id } },
    period,
    pricing: { type: 'price_details', price_details: { price: price.id, product: String(idOf(price.product as string)) }, unit_amount_decimal: wireDecimal(price.unit_amount ?? 0) },
    proration: true,
    proration_details: { credited_items: null, discount_amounts: [] },
    quantity: item.quantity ?? 1,
    quantity_decimal: wireDecimal(item.quantity ?? 1),
    tax_rates: [],
    test_clock: subscription.test_clock,
  };
  op.ctx.store.invoiceItems.put(invoiceItem);
  emit(op, 'invoiceitem.created', invoiceItem);
  return invoiceItem;
}

/** One proration of an item change: what becomes a pending proration invoice item. */
export interface Proration {
  /** The subscription item it is for (the old one for a credit, the new one for a charge). */
  item: Stripe.SubscriptionItem;
  /** Minor units: negative for the unused time of the old item, positive for the remaining time of the new one. */
  amount: number;
  description: string;
  /** `[proration date, end of the current period)`, unix seconds. */
  period: { start: number; end: number };
}

/** What a list of item changes does to a subscription, computed without storing anything (see {@link changeItems}). */
export interface ItemChangePlan {
  /** The current period `[start, end)`, unix seconds. */
  period: { start: number; end: number };
  /** The items after the changes (added items have new `si_` ids). */
  items: Stripe.SubscriptionItem[];
  /** The prorations at the proration date, in the order they are created. */
  prorations: Proration[];
  /** Whether the billing interval changes (Stripe then restarts the cycle now and invoices at once). */
  intervalChanged: boolean;
}

/**
 * Computes item changes (https://docs.stripe.com/billing/subscriptions/prorations): the new
 * items and, for each change of price or quantity, the credit for the unused time of the old
 * item and the charge for the remaining time of the new one, prorated to the second at
 * `prorationAt` (`proration_date`, https://docs.stripe.com/api/subscriptions/update#update_subscription-proration_date;
 * usually `now`). Pure: both {@link changeItems} and the invoice preview use it, so a previewed
 * proration is the one an update at the same proration date creates.
 */
export function planItemChanges(
  ctx: EmulatorContext,
  subscription: Stripe.Subscription,
  changes: readonly ItemChange[],
  at: { now: number; prorationAt: number },
): ItemChangePlan {
  const { now, prorationAt } = at;
  const period = currentPeriod(subscription);
  const span = { start: prorationAt, end: period.end };
  const after = prorationDate(prorationAt);
  let items = [...subscription.items.data];
  const prorations: Proration[] = [];
  const push = (item: Stripe.SubscriptionItem, amount: number, description: string) => prorations.push({ item, amount, description, period: span });
  for (const change of changes) {
    const existing = change.id ? items.find((item) => item.id === change.id) : undefined;
    if (existing && change.deleted) {
      items = items.filter((item) => item.id !== existing.id);
      push(existing, -prorationAmounts(existing, null, period, prorationAt).credit, `Unused time on ${productName(ctx, existing.price)} after ${after}`);
      continue;
    }
    if (existing) {
      const price = change.price ?? existing.price;
      const quantity = change.quantity ?? existing.quantity ?? 1;
      const next: Stripe.SubscriptionItem = {
        ...existing,
        price,
        plan: planOf(price),
        ...(isMetered(price) ? { quantity: undefined } : { quantity }),
        metadata: change.metadata ?? existing.metadata,
      };
      if (isMetered(price)) delete next.quantity;
      items = items.map((item) => (item.id === existing.id ? next : item));
      if (price.id !== existing.price.id || quantity !== (existing.quantity ?? 1)) {
        const { credit, debit } = prorationAmounts(existing, next, period, prorationAt);
        if (credit !== 0) push(existing, -credit, `Unused time on ${productName(ctx, existing.price)} after ${after}`);
        if (debit !== 0) push(next, debit, `Remaining time on ${quantity} × ${productName(ctx, price)} after ${after}`);
      }
      continue;
    }
    const added = buildItem(subscription.id, { price: change.price!, quantity: change.quantity ?? 1, metadata: change.metadata ?? {} }, period, now);
    items.push(added);
    const { debit } = prorationAmounts(null, added, period, prorationAt);
    if (debit !== 0) push(added, debit, `Remaining time on ${added.quantity ?? 1} × ${productName(ctx, added.price)} after ${after}`);
  }
  const before = recurringOf(subscription);
  const next = recurringOf({ ...subscription, items: { ...subscription.items, data: items } });
  return { period, items, prorations, intervalChanged: before.interval !== next.interval || before.count !== next.count };
}

/**
 * Applies item changes (https://docs.stripe.com/billing/subscriptions/change-price): new prices
 * and quantities take effect now; the prorations ({@link planItemChanges}) are computed at
 * `prorationAt` (the update's `proration_date`, default `op.now`). With `create_prorations`
 * (default) the unused time of the old item is credited and the remaining time of the new one
 * charged as pending invoice items (added to the next invoice); `always_invoice` invoices them
 * now; `none` creates none. A change of billing interval restarts the period now and invoices
 * it at once, as Stripe does. Trialing subscriptions and metered items are not prorated.
 * `patch` holds the other fields the same update changes (one `customer.subscription.updated`
 * covers all).
 */
export function changeItems(
  op: BillingOp,
  subscription: Stripe.Subscription,
  changes: readonly ItemChange[],
  prorationBehavior: ProrationBehavior,
  patch: Partial<Stripe.Subscription> = {},
  prorationAt: number = op.now,
): Stripe.Subscription {
  const { ctx, now } = op;
  const { items, prorations, intervalChanged } = planItemChanges(ctx, subscription, changes, { now, prorationAt });
  const after: Stripe.Subscription = { ...subscription, ...patch, items: { ...subscription.items, data: items } };

  if (intervalChanged && subscription.status !== 'trialing') {
    // A new interval restarts the billing cycle now: credit the unused time, bill the new period in full.
    const next = recurringOf(after);
    const newPeriod = { start: now, end: addIntervals(now, next.interval, next.count) };
    const moved = items.map((item) => ({ ...item, current_period_start: newPeriod.start, current_period_end: newPeriod.end }));
    const restarted: Stripe.Subscription = { ...after, billing_cycle_anchor: now, items: { ...after.items, data: moved } };
    if (prorationBehavior !== 'none') {
      for (const proration of prorations.filter((entry) => entry.amount < 0)) {
        prorationItem(op, subscription, proration.item, proration.amount, proration.description, proration.period);
      }
    }
    const lines = itemLines(ctx, restarted, moved, newPeriod, null);
    const draft = draftSubscriptionInvoice(op, restarted, 'subscription_update', lines, { start: now, end: now }, { autoAdvance: true, finalizesAt: null });
    updateSubscription(op, subscription, { ...restarted, latest_invoice: draft.id });
    finalizeAndCollect(op, draft, false);
    return ctx.store.subscriptions.get(subscription.id)!;
  }

  const updated = updateSubscription(op, subscription, after);
  if (prorationBehavior === 'none' || subscription.status === 'trialing') return updated;
  for (const proration of prorations) prorationItem(op, updated, proration.item, proration.amount, proration.description, proration.period);
  if (prorationBehavior === 'always_invoice' && prorations.length > 0) {
    const draft = draftSubscriptionInvoice(op, updated, 'subscription_update', [], { start: now, end: now }, { autoAdvance: true, finalizesAt: null });
    const withLatest = updateSubscription(op, updated, { latest_invoice: draft.id });
    finalizeAndCollect(op, draft, false);
    return ctx.store.subscriptions.get(withLatest.id)!;
  }
  return updated;
}

/** Default PaymentMethod the subscription's invoices would be charged with now. */
export function subscriptionPaymentMethod(ctx: EmulatorContext, subscription: Stripe.Subscription): string | null {
  const invoice = ctx.store.invoices.get(String(idOf(subscription.latest_invoice as string | null)));
  if (invoice) return defaultPaymentMethodFor(ctx, invoice);
  const customer = ctx.store.customers.get(String(idOf(subscription.customer as string)));
  return idOf(subscription.default_payment_method as string | null) ?? idOf(customer?.invoice_settings?.default_payment_method as string | null | undefined) ?? null;
}

/** Throws Stripe's 400 when a subscription's items mix currencies or billing intervals. */
export function checkItemsCompatible(prices: readonly Stripe.Price[], param = 'items'): void {
  const [first, ...rest] = prices;
  if (!first) return;
  for (const price of rest) {
    if (price.currency !== first.currency) {
      throw invalidRequest('Currency and interval fields must match across all plans on this subscription. Found mismatch in currency field.', { param });
    }
    if (price.recurring?.interval !== first.recurring?.interval || price.recurring?.interval_count !== first.recurring?.interval_count) {
      throw invalidRequest('Currency and interval fields must match across all plans on this subscription. Found mismatch in interval field.', { param });
    }
  }
}
