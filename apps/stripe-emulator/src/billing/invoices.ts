import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context';
import { formatAmount } from '../pages/html';
import { changeCustomerBalance } from './customer-balance';
import { billingId } from './ids';
import { emit, idOf, type BillingOp } from './op';
import type { Interval } from './time';

/**
 * Invoices as Stripe builds them (https://docs.stripe.com/api/invoices/object), shaped as API
 * `2026-10-28.endive` renders them: lines with `parent` and `pricing`, the subscription under
 * `parent.subscription_details`, payments as `invoice_payment` objects. Every amount is in the
 * currency's minor unit (cents); every timestamp in unix seconds.
 */

/** A decimal as Stripe sends it on the wire: a string (`"1500"`); the SDK's types describe its client-side class. */
export const wireDecimal = (value: number) => String(value) as unknown as Stripe.Decimal;

/** Where an invoice line comes from. */
export type LineSource =
  | { type: 'invoice_item'; invoiceItem: string; subscription: string | null }
  | { type: 'subscription_item'; subscription: string; subscriptionItem: string };

/** What an invoice line is made of. */
export interface LineInput {
  /** Minor units; negative for credits (unused time of a proration). */
  amount: number;
  currency: string;
  description: string | null;
  period: { start: number; end: number };
  /** `null` for amount-only invoice items. */
  quantity: number | null;
  price: Stripe.Price | null;
  proration: boolean;
  source: LineSource;
  metadata?: Stripe.Metadata;
}

/** Builds an invoice line item (`il_...`) of invoice `invoiceId`. */
export function buildLine(invoiceId: string, input: LineInput): Stripe.InvoiceLineItem {
  const { source, price } = input;
  const subscription = source.subscription;
  return {
    id: billingId('il'),
    object: 'line_item',
    amount: input.amount,
    currency: input.currency,
    description: input.description,
    discount_amounts: [],
    discountable: true,
    discounts: [],
    invoice: invoiceId,
    livemode: false,
    metadata: input.metadata ?? {},
    parent:
      source.type === 'invoice_item'
        ? {
            type: 'invoice_item_details',
            invoice_item_details: { invoice_item: source.invoiceItem, proration: input.proration, proration_details: { credited_items: null }, subscription },
            subscription_item_details: null,
          }
        : {
            type: 'subscription_item_details',
            invoice_item_details: null,
            subscription_item_details: {
              invoice_item: null,
              proration: input.proration,
              proration_details: { credited_items: null },
              subscription,
              subscription_item: source.subscriptionItem,
            },
          },
    period: input.period,
    pretax_credit_amounts: [],
    pricing: pricingOf(price, input),
    quantity: input.quantity,
    quantity_decimal: input.quantity === null ? null : wireDecimal(input.quantity),
    subscription,
    subtotal: input.amount,
    taxes: [],
  };
}

function pricingOf(price: Stripe.Price | null, input: LineInput): Stripe.InvoiceLineItem.Pricing {
  if (price) {
    return { type: 'price_details', price_details: { price: price.id, product: String(idOf(price.product as string)) }, unit_amount_decimal: wireDecimal(price.unit_amount ?? 0) };
  }
  const unit = input.quantity ? Math.round(input.amount / input.quantity) : input.amount;
  return { type: 'price_details', unit_amount_decimal: wireDecimal(unit) };
}

/** `month`, `3 months`: a recurring price's interval as Stripe writes it in line descriptions. */
export function intervalLabel(interval: Interval, count: number): string {
  return count === 1 ? interval : `${count} ${interval}s`;
}

/** The name of a price's product (or the price id when the product is unknown). */
export function productName(ctx: EmulatorContext, price: Stripe.Price): string {
  return ctx.store.products.get(String(idOf(price.product as string)))?.name ?? price.id;
}

/** A subscription line's description, as Stripe words it: `1 × Pro (at $15.00 / month)`. */
export function subscriptionLineDescription(ctx: EmulatorContext, price: Stripe.Price, quantity: number): string {
  const recurring = price.recurring;
  const per = recurring ? ` / ${intervalLabel(recurring.interval as Interval, recurring.interval_count)}` : '';
  const unit = price.transform_quantity ? ` per ${price.transform_quantity.divide_by}` : '';
  return `${quantity} × ${productName(ctx, price)} (at ${formatAmount(price.unit_amount ?? 0, price.currency)}${unit}${per})`;
}

/** What a new invoice is made of. */
export interface NewInvoice {
  customer: Stripe.Customer;
  subscription: Stripe.Subscription | null;
  billingReason: Stripe.Invoice.BillingReason;
  collectionMethod: 'charge_automatically' | 'send_invoice';
  autoAdvance: boolean;
  daysUntilDue: number | null;
  description: string | null;
  metadata: Stripe.Metadata;
  currency: string;
  /** Unix seconds. For subscription renewals: the period just ended; otherwise the creation time. */
  periodStart: number;
  periodEnd: number;
  defaultPaymentMethod: string | null;
  /** When a draft is finalized automatically (unix seconds), `null` for never. */
  automaticallyFinalizesAt: number | null;
}

/** Recomputes `subtotal`, `total`, `amount_due`, `amount_remaining` of a draft from its lines. */
export function withTotals(invoice: Stripe.Invoice): Stripe.Invoice {
  const subtotal = invoice.lines.data.reduce((sum, line) => sum + line.amount, 0);
  const amountDue = invoice.status === 'draft' ? Math.max(0, subtotal) : invoice.amount_due;
  return {
    ...invoice,
    subtotal,
    subtotal_excluding_tax: subtotal,
    total: subtotal,
    total_excluding_tax: subtotal,
    amount_due: amountDue,
    amount_remaining: Math.max(0, amountDue - invoice.amount_paid),
  };
}

/** A `draft` invoice `id` created at `now` (unix seconds), without lines or totals; stores nothing. */
export function buildInvoice(id: string, now: number, input: NewInvoice): Stripe.Invoice {
  const { customer, subscription } = input;
  return {
    id,
    object: 'invoice',
    account_country: 'US',
    account_name: 'Stripe emulator',
    account_tax_ids: null,
    amount_due: 0,
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: 0,
    amount_shipping: 0,
    application: null,
    attempt_count: 0,
    attempted: false,
    auto_advance: input.autoAdvance,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: input.automaticallyFinalizesAt,
    billing_reason: input.billingReason,
    collection_method: input.collectionMethod,
    created: now,
    currency: input.currency,
    custom_fields: null,
    customer: customer.id,
    customer_account: null,
    customer_address: customer.address ?? null,
    customer_email: customer.email,
    customer_name: customer.name ?? null,
    customer_phone: customer.phone ?? null,
    customer_shipping: customer.shipping,
    customer_tax_exempt: customer.tax_exempt ?? 'none',
    customer_tax_ids: [],
    default_payment_method: input.defaultPaymentMethod,
    default_source: null,
    default_tax_rates: [],
    description: input.description,
    discounts: [],
    due_date: input.collectionMethod === 'send_invoice' ? now + (input.daysUntilDue ?? 30) * 86_400 : null,
    effective_at: null,
    ending_balance: null,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    issuer: { type: 'self' },
    last_finalization_error: null,
    latest_revision: null,
    lines: { object: 'list', data: [], has_more: false, url: `/v1/invoices/${id}/lines` },
    livemode: false,
    metadata: input.metadata,
    next_payment_attempt: null,
    number: null,
    on_behalf_of: null,
    parent: subscription
      ? { type: 'subscription_details', quote_details: null, subscription_details: { metadata: subscription.metadata, subscription: subscription.id } }
      : null,
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: input.periodEnd,
    period_start: input.periodStart,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: 'draft',
    status_transitions: { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    subtotal: 0,
    subtotal_excluding_tax: 0,
    test_clock: customer.test_clock ?? null,
    total: 0,
    total_discount_amounts: [],
    total_excluding_tax: 0,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: now,
  };
}

/** Stores a new `draft` invoice with `lines` and pending invoice `items` (now invoiced), and emits `invoice.created`. */
export function createDraftInvoice(op: BillingOp, input: NewInvoice, lines: readonly LineInput[] = [], items: readonly Stripe.InvoiceItem[] = []): Stripe.Invoice {
  const id = billingId('in');
  const invoice = buildInvoice(id, op.now, input);
  invoice.lines.data = [
    ...lines.map((line) => buildLine(id, line)),
    ...items.map((item) => {
      op.ctx.store.invoiceItems.put({ ...item, invoice: id });
      return buildLine(id, invoiceItemLine(item, invoiceItemPrice(op.ctx, item)));
    }),
  ];
  const stored = op.ctx.store.invoices.put(withTotals(invoice));
  op.ctx.store.invoiceStates.put({ id, paymentIntent: null, firstFailureAt: null });
  emit(op, 'invoice.created', stored);
  return stored;
}

/** The line of an invoice item, for the invoice it is added to. */
export function invoiceItemLine(item: Stripe.InvoiceItem, price: Stripe.Price | null): LineInput {
  return {
    amount: item.amount,
    currency: item.currency,
    description: item.description,
    period: item.period,
    quantity: item.quantity,
    price,
    proration: item.proration,
    source: { type: 'invoice_item', invoiceItem: item.id, subscription: item.parent?.subscription_details?.subscription ?? null },
    metadata: item.metadata ?? {},
  };
}

/** The price an invoice item was priced with, if any. */
export function invoiceItemPrice(ctx: EmulatorContext, item: Stripe.InvoiceItem): Stripe.Price | null {
  const id = item.pricing?.price_details?.price;
  return id ? (ctx.store.prices.get(idOf(id as string) ?? '') ?? null) : null;
}

/**
 * The customer's pending invoice items (not yet on an invoice), oldest first. For a subscription
 * invoice: those of that subscription and those of no subscription, as Stripe pulls them in
 * (https://docs.stripe.com/billing/invoices/subscription#adding-draft-invoice-items).
 */
export function pendingInvoiceItems(ctx: EmulatorContext, customer: string, subscription: string | null, currency?: string): Stripe.InvoiceItem[] {
  return ctx.store.invoiceItems.all().filter((item) => {
    if (item.invoice !== null || item.customer !== customer) return false;
    if (currency !== undefined && item.currency !== currency) return false;
    const itemSubscription = item.parent?.subscription_details?.subscription ?? null;
    return itemSubscription === null || itemSubscription === subscription;
  });
}

/** Adds `items` to a draft invoice (lines and totals), marking them as invoiced. No event: Stripe sends none for it. */
export function addItemsToInvoice(op: BillingOp, invoice: Stripe.Invoice, items: readonly Stripe.InvoiceItem[]): Stripe.Invoice {
  if (items.length === 0) return invoice;
  const lines = items.map((item) => {
    op.ctx.store.invoiceItems.put({ ...item, invoice: invoice.id });
    return buildLine(invoice.id, invoiceItemLine(item, invoiceItemPrice(op.ctx, item)));
  });
  return op.ctx.store.invoices.put(withTotals({ ...invoice, lines: { ...invoice.lines, data: [...invoice.lines.data, ...lines] } }));
}

/** Removes invoice item `itemId`'s line from a draft invoice. */
export function removeItemFromInvoice(ctx: EmulatorContext, invoice: Stripe.Invoice, itemId: string): Stripe.Invoice {
  const data = invoice.lines.data.filter((line) => line.parent?.invoice_item_details?.invoice_item !== itemId);
  return ctx.store.invoices.put(withTotals({ ...invoice, lines: { ...invoice.lines, data } }));
}

/** The invoice number Stripe gives at finalization: the customer's `invoice_prefix` and sequence, `ABCD1234-0001`. */
function nextInvoiceNumber(ctx: EmulatorContext, customerId: string): string {
  const customer = ctx.store.customers.get(customerId);
  if (!customer) return `EMU-${Date.now()}`;
  const sequence = customer.next_invoice_sequence ?? 1;
  ctx.store.customers.put({ ...customer, next_invoice_sequence: sequence + 1 });
  return `${customer.invoice_prefix ?? 'EMU'}-${String(sequence).padStart(4, '0')}`;
}

/**
 * Applies the customer's balance (negative = credit) to a total, as Stripe does at
 * finalization (https://docs.stripe.com/billing/customer/balance): returns the amount due and
 * the balance left. A negative total (more credit than charge) adds to the credit.
 */
export function applyBalance(total: number, balance: number): { amountDue: number; endingBalance: number } {
  const owed = total + balance;
  if (owed >= 0) return { amountDue: owed, endingBalance: 0 };
  return { amountDue: 0, endingBalance: owed };
}

/** The public URL of an invoice's hosted page. */
export function hostedInvoiceUrl(ctx: EmulatorContext, invoiceId: string): string {
  return `${ctx.baseUrl()}/i/${invoiceId}`;
}

/**
 * Finalizes a draft (https://docs.stripe.com/invoicing/integration/workflow-transitions):
 * `open`, a number, `hosted_invoice_url`, the customer balance applied; emits `invoice.finalized`. An invoice with nothing due is paid at once
 * (`invoice.paid`, `invoice.payment_succeeded`), as Stripe does.
 */
export function finalizeInvoice(op: BillingOp, draft: Stripe.Invoice, options: { autoAdvance?: boolean | undefined } = {}): Stripe.Invoice {
  const { ctx } = op;
  const customerId = String(idOf(draft.customer as string));
  const customer = ctx.store.customers.get(customerId);
  const balance = customer?.balance ?? 0;
  const { amountDue, endingBalance } = applyBalance(draft.total, balance);
  if (customer && endingBalance !== balance) {
    changeCustomerBalance(op, customer, { amount: endingBalance - balance, currency: draft.currency, type: 'applied_to_invoice', invoice: draft.id, publish: false });
  }
  const finalized = ctx.store.invoices.put({
    ...draft,
    status: 'open',
    number: nextInvoiceNumber(ctx, customerId),
    auto_advance: options.autoAdvance ?? draft.auto_advance,
    automatically_finalizes_at: null,
    amount_due: amountDue,
    amount_remaining: amountDue,
    starting_balance: balance,
    ending_balance: endingBalance,
    effective_at: op.now,
    hosted_invoice_url: hostedInvoiceUrl(ctx, draft.id),
    status_transitions: { ...draft.status_transitions, finalized_at: op.now },
  });
  emit(op, 'invoice.finalized', finalized);
  if (amountDue === 0) return markInvoicePaid(op, finalized, { paymentIntent: null, outOfBand: false });
  return finalized;
}

/**
 * Marks an open (or uncollectible) invoice `paid` and emits `invoice.paid`, then
 * `invoice.payment_succeeded` unless it was paid out of band (Stripe sends only `invoice.paid` then).
 */
export function markInvoicePaid(
  op: BillingOp,
  invoice: Stripe.Invoice,
  payment: { paymentIntent: Stripe.PaymentIntent | null; outOfBand: boolean },
): Stripe.Invoice {
  const paid = op.ctx.store.invoices.put({
    ...invoice,
    status: 'paid',
    amount_paid: invoice.amount_due,
    amount_remaining: 0,
    ...(payment.outOfBand ? { amount_paid_off_stripe: invoice.amount_remaining } : {}),
    attempted: invoice.attempted || payment.paymentIntent !== null,
    next_payment_attempt: null,
    auto_advance: false,
    status_transitions: { ...invoice.status_transitions, paid_at: op.now },
  });
  emit(op, 'invoice.paid', paid);
  if (!payment.outOfBand) emit(op, 'invoice.payment_succeeded', paid);
  return paid;
}

/** Voids an open or uncollectible invoice (https://docs.stripe.com/api/invoices/void) and emits `invoice.voided`. */
export function voidInvoice(op: BillingOp, invoice: Stripe.Invoice): Stripe.Invoice {
  const voided = op.ctx.store.invoices.put({
    ...invoice,
    status: 'void',
    next_payment_attempt: null,
    auto_advance: false,
    status_transitions: { ...invoice.status_transitions, voided_at: op.now },
  });
  cancelOpenPayments(op.ctx, invoice.id, op.now);
  emit(op, 'invoice.voided', voided);
  return voided;
}

/** Marks an open invoice `uncollectible` (it can still be paid later) and emits `invoice.marked_uncollectible`. */
export function markUncollectible(op: BillingOp, invoice: Stripe.Invoice): Stripe.Invoice {
  const marked = op.ctx.store.invoices.put({
    ...invoice,
    status: 'uncollectible',
    next_payment_attempt: null,
    auto_advance: false,
    status_transitions: { ...invoice.status_transitions, marked_uncollectible_at: op.now },
  });
  emit(op, 'invoice.marked_uncollectible', marked);
  return marked;
}

function cancelOpenPayments(ctx: EmulatorContext, invoiceId: string, now: number): void {
  for (const payment of ctx.store.invoicePayments.all()) {
    if (payment.invoice === invoiceId && payment.status === 'open') {
      ctx.store.invoicePayments.put({ ...payment, status: 'canceled', status_transitions: { ...payment.status_transitions, canceled_at: now } });
    }
  }
}

/** The `invoice_payment` of an invoice's PaymentIntent, created on first use (https://docs.stripe.com/api/invoice-payment/object). */
export function recordInvoicePayment(ctx: EmulatorContext, invoice: Stripe.Invoice, intent: Stripe.PaymentIntent, now: number): Stripe.InvoicePayment {
  const existing = ctx.store.invoicePayments.all().find((payment) => payment.invoice === invoice.id && payment.payment.payment_intent === intent.id);
  const paid = intent.status === 'succeeded';
  const record: Stripe.InvoicePayment = existing ?? {
    id: billingId('inpay'),
    object: 'invoice_payment',
    amount_paid: null,
    amount_requested: intent.amount,
    created: now,
    currency: intent.currency,
    invoice: invoice.id,
    is_default: true,
    livemode: false,
    payment: { type: 'payment_intent', payment_intent: intent.id },
    status: 'open',
    status_transitions: { canceled_at: null, paid_at: null },
  };
  return ctx.store.invoicePayments.put({
    ...record,
    amount_paid: paid ? intent.amount_received : record.amount_paid,
    status: paid ? 'paid' : record.status,
    status_transitions: { ...record.status_transitions, paid_at: paid ? now : record.status_transitions.paid_at },
  });
}

/** An invoice's payments, oldest first. */
export function invoicePaymentsOf(ctx: EmulatorContext, invoiceId: string): Stripe.InvoicePayment[] {
  return ctx.store.invoicePayments.all().filter((payment) => payment.invoice === invoiceId);
}
