import type Stripe from 'stripe';
import { nowSeconds } from '../core/clock';
import { invalidRequest, resourceMissing } from '../http/errors';
import { formatAmount } from '../pages/html';
import { checkRefundable, refundCharge } from '../resources/refunds';
import { settlePaidInvoice } from './collection';
import { changeCustomerBalance } from './customer-balance';
import { billingId } from './ids';
import { wireDecimal } from './invoices';
import { emit, idOf, saveUpdate, type BillingOp } from './op';

/**
 * Credit notes (https://docs.stripe.com/invoicing/integration/programmatic-credit-notes): they
 * lower what a finalized invoice is worth. On an `open` invoice the credit first reduces
 * `amount_due`/`amount_remaining` (the credit note's `pre_payment_amount`, added to the invoice's
 * `pre_payment_credit_notes_amount`); the rest (`post_payment_amount`, e.g. all of it on a `paid`
 * invoice) is refunded (`refund_amount`), credited to the customer's balance (`credit_amount`,
 * the default) or recorded as credited outside Stripe (`out_of_band_amount`). The credit notes of
 * an invoice can never total more than the invoice's `total`. Amounts in the minor unit.
 */

/** One `lines[]` entry of a create or preview request, as parsed. */
export interface CreditNoteLineParam {
  type: 'custom_line_item' | 'invoice_line_item';
  amount?: number | undefined;
  description?: string | undefined;
  invoice_line_item?: string | undefined;
  metadata?: Record<string, string> | null | undefined;
  quantity?: number | undefined;
  unit_amount?: number | undefined;
}

/** What a credit note is asked to be (`POST /v1/credit_notes`, `GET /v1/credit_notes/preview`). */
export interface CreditNoteRequest {
  invoice: Stripe.Invoice;
  amount?: number | undefined;
  lines?: CreditNoteLineParam[] | undefined;
  creditAmount?: number | undefined;
  refundAmount?: number | undefined;
  outOfBandAmount?: number | undefined;
  reason?: Stripe.CreditNote.Reason | undefined;
  memo?: string | undefined;
  metadata: Stripe.Metadata;
  effectiveAt?: number | undefined;
}

/** A validated credit note, not stored yet, and how its amount is applied. */
export interface CreditNotePlan {
  creditNote: Stripe.CreditNote;
  invoice: Stripe.Invoice;
  /** Part that lowers the invoice's `amount_remaining`. */
  prePayment: number;
  /** Part credited to the customer's balance. */
  credit: number;
  /** Part refunded on the invoice's charge. */
  refund: number;
  /** The invoice's charge, when something is refunded. */
  charge: Stripe.Charge | null;
}

/** The credit notes of an invoice that count (not voided). */
export function issuedCreditNotes(op: BillingOp, invoiceId: string): Stripe.CreditNote[] {
  return op.ctx.store.creditNotes.all().filter((note) => note.invoice === invoiceId && note.status === 'issued');
}

/** How much of invoice line `lineId` the issued credit notes of the invoice already credit (amount and quantity). */
function creditedOnLine(notes: readonly Stripe.CreditNote[], lineId: string): { amount: number; quantity: number } {
  let amount = 0;
  let quantity = 0;
  for (const note of notes) {
    for (const line of note.lines.data) {
      if (line.type !== 'invoice_line_item' || line.invoice_line_item !== lineId) continue;
      amount += line.amount;
      quantity += line.unit_amount !== null ? (line.quantity ?? 0) : 0;
    }
  }
  return { amount, quantity };
}

const onlyFor = (param: string, field: string, type: string) =>
  invalidRequest(`\`${field}\` is only valid for credit note lines of type \`${type}\`.`, { param: `${param}[${field}]` });

/** Builds the credit note lines of `lines` (400 naming `lines[i][...]` for the first bad one). */
function buildLines(invoice: Stripe.Invoice, lines: readonly CreditNoteLineParam[], notes: readonly Stripe.CreditNote[]): Stripe.CreditNoteLineItem[] {
  const built: Stripe.CreditNoteLineItem[] = [];
  const pseudoNote = (): Stripe.CreditNote => ({ lines: { data: built } }) as Stripe.CreditNote;
  lines.forEach((line, index) => {
    const param = `lines[${index}]`;
    const base = {
      id: billingId('cnli'),
      object: 'credit_note_line_item' as const,
      discount_amount: 0,
      discount_amounts: [],
      livemode: false,
      metadata: line.metadata ?? {},
      pretax_credit_amounts: [],
      tax_rates: [],
      taxes: [],
    };
    if (line.type === 'custom_line_item') {
      if (line.invoice_line_item !== undefined) throw onlyFor(param, 'invoice_line_item', 'invoice_line_item');
      if (line.amount !== undefined) throw onlyFor(param, 'amount', 'invoice_line_item');
      if (line.unit_amount === undefined) throw invalidRequest(`Missing required param: ${param}[unit_amount].`, { param: `${param}[unit_amount]`, code: 'parameter_missing' });
      const quantity = line.quantity ?? 1;
      built.push({
        ...base,
        amount: line.unit_amount * quantity,
        description: line.description ?? null,
        quantity,
        type: 'custom_line_item',
        unit_amount: line.unit_amount,
        unit_amount_decimal: wireDecimal(line.unit_amount),
      });
      return;
    }
    if (line.unit_amount !== undefined) throw onlyFor(param, 'unit_amount', 'custom_line_item');
    if (line.description !== undefined) throw onlyFor(param, 'description', 'custom_line_item');
    if (line.invoice_line_item === undefined) {
      throw invalidRequest(`Missing required param: ${param}[invoice_line_item].`, { param: `${param}[invoice_line_item]`, code: 'parameter_missing' });
    }
    const invoiceLine = invoice.lines.data.find((candidate) => candidate.id === line.invoice_line_item);
    if (!invoiceLine) throw resourceMissing('invoice line item', line.invoice_line_item, `${param}[invoice_line_item]`);
    if (line.amount !== undefined && line.quantity !== undefined) {
      throw invalidRequest('You may only specify one of these parameters: amount, quantity.', { param: `${param}[amount]` });
    }
    if (line.amount === undefined && line.quantity === undefined) {
      throw invalidRequest('Lines of type `invoice_line_item` need either `amount` or `quantity`.', { param: `${param}[amount]`, code: 'parameter_missing' });
    }
    const credited = creditedOnLine([...notes, pseudoNote()], invoiceLine.id);
    const remaining = invoiceLine.amount - credited.amount;
    let amount: number;
    let quantity = 1;
    let unitAmount: number | null = null;
    if (line.quantity !== undefined) {
      const lineQuantity = invoiceLine.quantity ?? 1;
      if (line.quantity > lineQuantity - credited.quantity) {
        throw invalidRequest(
          `The quantity to credit (${line.quantity}) is greater than the quantity of invoice line item ${invoiceLine.id} that can still be credited (${lineQuantity - credited.quantity}).`,
          { param: `${param}[quantity]` },
        );
      }
      unitAmount = Math.round(invoiceLine.amount / lineQuantity);
      quantity = line.quantity;
      amount = Math.min(unitAmount * quantity, remaining);
    } else {
      amount = line.amount ?? 0;
    }
    if (amount > remaining) {
      throw invalidRequest(
        `The amount to credit (${formatAmount(amount, invoice.currency)}) is greater than the amount of invoice line item ${invoiceLine.id} that can still be credited (${formatAmount(remaining, invoice.currency)}).`,
        { param: `${param}[amount]` },
      );
    }
    built.push({
      ...base,
      amount,
      description: invoiceLine.description,
      invoice_line_item: invoiceLine.id,
      quantity,
      type: 'invoice_line_item',
      unit_amount: unitAmount,
      unit_amount_decimal: unitAmount === null ? null : wireDecimal(unitAmount),
    });
  });
  return built;
}

/** The invoice's successful charge (of its PaymentIntent), if any. */
function invoiceCharge(op: BillingOp, invoice: Stripe.Invoice): Stripe.Charge | null {
  const state = op.ctx.store.invoiceStates.get(invoice.id);
  const intent = state?.paymentIntent ? op.ctx.store.paymentIntents.get(state.paymentIntent) : undefined;
  if (intent?.status !== 'succeeded') return null;
  return op.ctx.store.charges.get(String(idOf(intent.latest_charge as string | null))) ?? null;
}

/**
 * Validates a credit note request and builds the credit note, changing nothing: 400 for an
 * invoice that is not `open` or `paid`, bad lines, a total above what can still be credited,
 * or `credit_amount` + `refund_amount` + `out_of_band_amount` not equal to the post-payment part.
 */
export function planCreditNote(op: BillingOp, request: CreditNoteRequest): CreditNotePlan {
  const { invoice } = request;
  const money = (amount: number) => formatAmount(amount, invoice.currency);
  if (invoice.status !== 'open' && invoice.status !== 'paid') {
    throw invalidRequest(`You can only issue credit notes for invoices with a status of \`open\` or \`paid\`; invoice ${invoice.id} is \`${invoice.status}\`.`, {
      param: 'invoice',
    });
  }
  if (request.amount !== undefined && request.lines !== undefined) {
    throw invalidRequest('You may only specify one of these parameters: amount, lines.', { param: 'amount' });
  }
  if (request.amount === undefined && (request.lines === undefined || request.lines.length === 0)) {
    throw invalidRequest('One of `amount`, `lines`, or `shipping_cost` must be provided.', { param: 'lines', code: 'parameter_missing' });
  }
  const notes = issuedCreditNotes(op, invoice.id);
  const lines = request.lines ? buildLines(invoice, request.lines, notes) : [];
  const total = request.amount ?? lines.reduce((sum, line) => sum + line.amount, 0);
  const totalParam = request.amount !== undefined ? 'amount' : 'lines';
  if (total <= 0) throw invalidRequest('The credit note total must be greater than 0.', { param: totalParam });
  const creditable = invoice.total - notes.reduce((sum, note) => sum + note.total, 0);
  if (total > creditable) {
    throw invalidRequest(`The credit note total (${money(total)}) is greater than the amount that can still be credited on invoice ${invoice.id} (${money(creditable)}).`, {
      param: totalParam,
    });
  }
  const prePayment = invoice.status === 'open' ? Math.min(total, invoice.amount_remaining) : 0;
  const postPayment = total - prePayment;
  const given = [request.creditAmount, request.refundAmount, request.outOfBandAmount];
  const anyGiven = given.some((value) => value !== undefined);
  const credit = anyGiven ? (request.creditAmount ?? 0) : postPayment;
  const refund = request.refundAmount ?? 0;
  const outOfBand = request.outOfBandAmount ?? 0;
  if (anyGiven && credit + refund + outOfBand !== postPayment) {
    throw invalidRequest(
      `The sum of credit_amount, refund_amount and out_of_band_amount (${money(credit + refund + outOfBand)}) must equal the credit note's post-payment amount (${money(postPayment)}): the credit note total less what it takes off the invoice's amount_remaining.`,
      { param: request.creditAmount !== undefined ? 'credit_amount' : request.refundAmount !== undefined ? 'refund_amount' : 'out_of_band_amount' },
    );
  }
  let charge: Stripe.Charge | null = null;
  if (refund > 0) {
    charge = invoiceCharge(op, invoice);
    if (!charge) throw invalidRequest(`Invoice ${invoice.id} has no successful charge to refund.`, { param: 'refund_amount' });
    checkRefundable(op.ctx, charge);
    const unrefunded = charge.amount - charge.amount_refunded;
    if (refund > unrefunded) {
      throw invalidRequest(`Refund amount (${money(refund)}) is greater than unrefunded amount on charge (${money(unrefunded)})`, { param: 'refund_amount' });
    }
  }
  const id = billingId('cn');
  const sequence = op.ctx.store.creditNotes.all().filter((note) => note.invoice === invoice.id).length + 1;
  const creditNote: Stripe.CreditNote = {
    id,
    object: 'credit_note',
    amount: total,
    amount_shipping: 0,
    created: op.now,
    currency: invoice.currency,
    customer: String(idOf(invoice.customer as string)),
    customer_account: null,
    customer_balance_transaction: null,
    discount_amount: 0,
    discount_amounts: [],
    effective_at: request.effectiveAt ?? op.now,
    invoice: invoice.id,
    lines: { object: 'list', data: lines, has_more: false, url: `/v1/credit_notes/${id}/lines` },
    livemode: false,
    memo: request.memo ?? null,
    metadata: request.metadata,
    number: `${invoice.number ?? invoice.id}-CN-${String(sequence).padStart(2, '0')}`,
    out_of_band_amount: outOfBand > 0 ? outOfBand : null,
    pdf: `${op.ctx.baseUrl()}/credit_notes/${id}/pdf`,
    post_payment_amount: postPayment,
    pre_payment_amount: prePayment,
    pretax_credit_amounts: [],
    reason: request.reason ?? null,
    refunds: [],
    shipping_cost: null,
    status: 'issued',
    subtotal: total,
    subtotal_excluding_tax: total,
    total,
    total_excluding_tax: total,
    total_taxes: [],
    type: prePayment > 0 && postPayment > 0 ? 'mixed' : postPayment > 0 ? 'post_payment' : 'pre_payment',
    voided_at: null,
  };
  return { creditNote, invoice, prePayment, credit, refund, charge };
}

/**
 * Brings the invoice's unfinished PaymentIntent in line with what is still owed: its `amount`
 * follows `amount_remaining`; it is canceled (`payment_intent.canceled`) once nothing is owed.
 */
function syncOpenPaymentIntent(op: BillingOp, invoice: Stripe.Invoice): void {
  const { ctx } = op;
  const state = ctx.store.invoiceStates.get(invoice.id);
  const intent = state?.paymentIntent ? ctx.store.paymentIntents.get(state.paymentIntent) : undefined;
  if (!intent || !['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(intent.status)) return;
  if (invoice.status === 'open' && invoice.amount_remaining > 0) {
    if (intent.amount !== invoice.amount_remaining) ctx.store.paymentIntents.put({ ...intent, amount: invoice.amount_remaining });
    return;
  }
  const canceled = ctx.store.paymentIntents.put({ ...intent, status: 'canceled', canceled_at: nowSeconds(), cancellation_reason: 'automatic', next_action: null });
  emit(op, 'payment_intent.canceled', canceled);
  for (const payment of ctx.store.invoicePayments.all()) {
    if (payment.invoice === invoice.id && payment.status === 'open' && payment.payment.payment_intent === intent.id) {
      ctx.store.invoicePayments.put({ ...payment, status: 'canceled', status_transitions: { ...payment.status_transitions, canceled_at: op.now } });
    }
  }
}

/** Applies the credit note's `pre_payment_amount`/`post_payment_amount` to its invoice (`sign` -1 undoes it), with `invoice.updated`. */
function adjustInvoice(op: BillingOp, invoice: Stripe.Invoice, note: Stripe.CreditNote, sign: 1 | -1): Stripe.Invoice {
  const pre = sign * note.pre_payment_amount;
  const after: Stripe.Invoice = {
    ...invoice,
    pre_payment_credit_notes_amount: invoice.pre_payment_credit_notes_amount + pre,
    post_payment_credit_notes_amount: invoice.post_payment_credit_notes_amount + sign * note.post_payment_amount,
    amount_due: invoice.amount_due - pre,
    amount_remaining: invoice.amount_remaining - pre,
  };
  return saveUpdate(op, op.ctx.store.invoices, invoice, after, 'invoice.updated');
}

/**
 * Issues a planned credit note: refunds `refund` on the invoice's charge (`charge.refunded`,
 * `refund.created`, ...), credits `credit` to the customer's balance (a `credit_note` balance
 * transaction, `customer.updated`), stores the credit note (`credit_note.created`) and lowers the
 * invoice (`invoice.updated`). An open invoice left with nothing to pay becomes `paid`
 * (`invoice.paid`), its unfinished PaymentIntent canceled.
 */
export function issueCreditNote(op: BillingOp, plan: CreditNotePlan): Stripe.CreditNote {
  const { ctx } = op;
  let note = plan.creditNote;
  if (plan.refund > 0 && plan.charge) {
    const refund = refundCharge(ctx, plan.charge, { amount: plan.refund, reason: null, metadata: {} }, op.request);
    note = { ...note, refunds: [{ amount_refunded: plan.refund, payment_record_refund: null, refund: refund.id, type: 'refund' }] };
  }
  const customer = ctx.store.customers.get(String(note.customer));
  if (plan.credit > 0 && customer) {
    const { transaction } = changeCustomerBalance(op, customer, { amount: -plan.credit, currency: note.currency, type: 'credit_note', creditNote: note.id, invoice: plan.invoice.id });
    note = { ...note, customer_balance_transaction: transaction.id };
  }
  ctx.store.creditNotes.put(note);
  emit(op, 'credit_note.created', note);
  const invoice = adjustInvoice(op, ctx.store.invoices.get(plan.invoice.id) ?? plan.invoice, note, 1);
  if (invoice.status === 'open' && invoice.amount_remaining === 0) {
    syncOpenPaymentIntent(op, { ...invoice, status: 'paid' });
    settlePaidInvoice(op, invoice, null, true);
  } else {
    syncOpenPaymentIntent(op, invoice);
  }
  return note;
}

/**
 * Voids an issued credit note (https://docs.stripe.com/api/credit_notes/void): its effects are
 * undone (the invoice's `amount_due`/`amount_remaining` rise again, a balance credit is taken
 * back with a `credit_note` balance transaction), `credit_note.voided`, `invoice.updated`. 400
 * for a credit note already void, one that refunded money, or one whose pre-payment credit is on
 * an invoice that is no longer open.
 */
export function voidCreditNote(op: BillingOp, note: Stripe.CreditNote): Stripe.CreditNote {
  const { ctx } = op;
  if (note.status !== 'issued') throw invalidRequest(`Credit note ${note.id} has already been voided.`);
  if (note.refunds.length > 0) throw invalidRequest(`Credit note ${note.id} refunded a payment and cannot be voided.`);
  const invoice = ctx.store.invoices.get(String(idOf(note.invoice as string)));
  if (!invoice) throw resourceMissing('invoice', String(idOf(note.invoice as string)), 'invoice');
  if (note.pre_payment_amount > 0 && invoice.status !== 'open') {
    throw invalidRequest(`Credit note ${note.id} reduced the amount due of invoice ${invoice.id}, which is now \`${invoice.status}\`; it cannot be voided.`);
  }
  const voided = ctx.store.creditNotes.put({ ...note, status: 'void', voided_at: op.now });
  emit(op, 'credit_note.voided', voided);
  const credited = note.customer_balance_transaction ? ctx.store.customerBalanceTransactions.get(String(idOf(note.customer_balance_transaction as string))) : undefined;
  const customer = ctx.store.customers.get(String(note.customer));
  if (credited && customer) {
    changeCustomerBalance(op, customer, { amount: -credited.amount, currency: note.currency, type: 'credit_note', creditNote: note.id, invoice: invoice.id });
  }
  syncOpenPaymentIntent(op, adjustInvoice(op, invoice, note, -1));
  return voided;
}
