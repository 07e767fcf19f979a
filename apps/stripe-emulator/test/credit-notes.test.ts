import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { eventTypes, startTestEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(() => emulator.close());

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: Stripe.errors.StripeError) => error,
  );

const typesSince = (since: number) => eventTypes(emulator).slice(since);

/** A customer with `pm_card_visa` as default and a finalized (`open`) invoice of a 2000 item and a 3 × 700 priced item. */
async function openInvoice(card = 'pm_card_visa') {
  const customer = await stripe.customers.create({ email: 'credit@example.com', payment_method: card, invoice_settings: { default_payment_method: card } });
  await stripe.invoiceItems.create({ customer: customer.id, amount: 2000, currency: 'usd', description: 'Consulting' });
  const price = await stripe.prices.create({ currency: 'usd', unit_amount: 700, product_data: { name: 'Seat' } });
  await stripe.invoiceItems.create({ customer: customer.id, pricing: { price: price.id }, quantity: 3 });
  const draft = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
  const invoice = await stripe.invoices.finalizeInvoice(draft.id);
  const [consulting, seats] = invoice.lines.data;
  return { customer, invoice, consulting: consulting!, seats: seats! };
}

async function paidInvoice() {
  const setup = await openInvoice();
  const invoice = await stripe.invoices.pay(setup.invoice.id);
  expect(invoice).toMatchObject({ status: 'paid', amount_paid: 4100 });
  return { ...setup, invoice };
}

describe('credit notes on open invoices', () => {
  it('lower amount_due and amount_remaining (pre-payment), numbered after the invoice', async () => {
    const { customer, invoice, consulting, seats } = await openInvoice();
    expect(invoice).toMatchObject({ status: 'open', total: 4100, amount_due: 4100 });
    const since = emulator.events().length;
    const note = await stripe.creditNotes.create({
      invoice: invoice.id,
      lines: [
        { type: 'invoice_line_item', invoice_line_item: seats.id, quantity: 1 },
        { type: 'invoice_line_item', invoice_line_item: consulting.id, amount: 500 },
        { type: 'custom_line_item', unit_amount: 250, quantity: 2, description: 'Goodwill' },
      ],
      reason: 'order_change',
      memo: 'Sorry',
      metadata: { ticket: '42' },
    });
    expect(note).toMatchObject({
      object: 'credit_note',
      status: 'issued',
      invoice: invoice.id,
      customer: customer.id,
      currency: 'usd',
      amount: 1700,
      subtotal: 1700,
      total: 1700,
      pre_payment_amount: 1700,
      post_payment_amount: 0,
      type: 'pre_payment',
      reason: 'order_change',
      memo: 'Sorry',
      metadata: { ticket: '42' },
      customer_balance_transaction: null,
      out_of_band_amount: null,
      refunds: [],
      voided_at: null,
      number: `${invoice.number}-CN-01`,
      lines: {
        object: 'list',
        url: `/v1/credit_notes/${note.id}/lines`,
        data: [
          { object: 'credit_note_line_item', type: 'invoice_line_item', invoice_line_item: seats.id, quantity: 1, amount: 700, unit_amount: 700, description: seats.description },
          { type: 'invoice_line_item', invoice_line_item: consulting.id, amount: 500, description: 'Consulting' },
          { type: 'custom_line_item', amount: 500, unit_amount: 250, quantity: 2, description: 'Goodwill' },
        ],
      },
    });
    expect(note.id).toMatch(/^cn_/);
    expect(typesSince(since)).toEqual(['credit_note.created', 'invoice.updated']);
    const updated = emulator.events().find((event) => event.type === 'invoice.updated' && (event.data.object as Stripe.Invoice).id === invoice.id)!;
    expect(updated.data.previous_attributes).toEqual({ amount_due: 4100, amount_remaining: 4100, pre_payment_credit_notes_amount: 0 });
    expect(await stripe.invoices.retrieve(invoice.id)).toMatchObject({ status: 'open', total: 4100, amount_due: 2400, amount_remaining: 2400, pre_payment_credit_notes_amount: 1700, post_payment_credit_notes_amount: 0 });

    const second = await stripe.creditNotes.create({ invoice: invoice.id, amount: 400 });
    expect(second).toMatchObject({ number: `${invoice.number}-CN-02`, total: 400, lines: { data: [] } });
    expect((await stripe.creditNotes.list({ invoice: invoice.id })).data.map((listed) => listed.id)).toEqual([second.id, note.id]);
    expect((await stripe.creditNotes.list({ customer: customer.id, limit: 1 })).data.map((listed) => listed.id)).toEqual([second.id]);
    expect((await stripe.creditNotes.listLineItems(note.id, { limit: 2 })).data.map((line) => line.amount)).toEqual([700, 500]);
    expect(await stripe.creditNotes.retrieve(note.id, { expand: ['invoice'] })).toMatchObject({ invoice: { id: invoice.id, amount_due: 2000 } });

    // The invoice is then charged what remains.
    expect(await stripe.invoices.pay(invoice.id)).toMatchObject({ status: 'paid', amount_paid: 2000 });
  });

  it('crediting all that remains pays the invoice (invoice.paid), without a charge', async () => {
    const { invoice } = await openInvoice();
    const since = emulator.events().length;
    const note = await stripe.creditNotes.create({ invoice: invoice.id, amount: 4100 });
    expect(note).toMatchObject({ pre_payment_amount: 4100, post_payment_amount: 0 });
    expect(typesSince(since)).toEqual(['credit_note.created', 'invoice.updated', 'invoice.paid']);
    expect(await stripe.invoices.retrieve(invoice.id)).toMatchObject({ status: 'paid', amount_due: 0, amount_remaining: 0, amount_paid: 0, pre_payment_credit_notes_amount: 4100 });
    expect(await failure(stripe.creditNotes.voidCreditNote(note.id))).toMatchObject({ statusCode: 400 });
  });

  it('void restores the amount due (credit_note.voided, invoice.updated); a void credit note no longer counts', async () => {
    const { invoice } = await openInvoice();
    const note = await stripe.creditNotes.create({ invoice: invoice.id, amount: 4000 });
    expect(await failure(stripe.creditNotes.create({ invoice: invoice.id, amount: 200 }))).toMatchObject({ statusCode: 400, param: 'amount' });
    const since = emulator.events().length;
    const voided = await stripe.creditNotes.voidCreditNote(note.id);
    expect(voided).toMatchObject({ status: 'void', voided_at: expect.any(Number) });
    expect(typesSince(since)).toEqual(['credit_note.voided', 'invoice.updated']);
    expect(await stripe.invoices.retrieve(invoice.id)).toMatchObject({ status: 'open', amount_due: 4100, amount_remaining: 4100, pre_payment_credit_notes_amount: 0 });
    expect(await failure(stripe.creditNotes.voidCreditNote(note.id))).toMatchObject({ statusCode: 400 });
    expect(await stripe.creditNotes.create({ invoice: invoice.id, amount: 4100 })).toMatchObject({ number: `${invoice.number}-CN-02` });
  });

  it('an invoice waiting for 3-D Secure: its PaymentIntent follows the new amount', async () => {
    const { invoice } = await openInvoice('pm_card_threeDSecure2Required');
    const error = await failure(stripe.invoices.pay(invoice.id));
    expect(error).toMatchObject({ statusCode: 402, code: 'invoice_payment_intent_requires_action' });
    await stripe.creditNotes.create({ invoice: invoice.id, amount: 1100 });
    expect(await stripe.paymentIntents.retrieve(error.payment_intent!.id)).toMatchObject({ status: 'requires_action', amount: 3000 });
    await stripe.creditNotes.create({ invoice: invoice.id, amount: 3000 });
    expect(await stripe.paymentIntents.retrieve(error.payment_intent!.id)).toMatchObject({ status: 'canceled' });
    expect((await stripe.invoices.retrieve(invoice.id)).status).toBe('paid');
  });
});

describe('credit notes on paid invoices', () => {
  it('credit the customer balance by default (balance transaction, customer.updated); the next invoice uses it', async () => {
    const { customer, invoice, seats } = await paidInvoice();
    const since = emulator.events().length;
    const note = await stripe.creditNotes.create({ invoice: invoice.id, lines: [{ type: 'invoice_line_item', invoice_line_item: seats.id, quantity: 2 }] });
    expect(note).toMatchObject({ total: 1400, pre_payment_amount: 0, post_payment_amount: 1400, type: 'post_payment', customer_balance_transaction: expect.stringMatching(/^cbtxn_/) });
    expect(typesSince(since)).toEqual(['customer.updated', 'credit_note.created', 'invoice.updated']);
    expect(await stripe.customers.retrieve(customer.id)).toMatchObject({ balance: -1400 });
    expect(await stripe.invoices.retrieve(invoice.id)).toMatchObject({ status: 'paid', amount_paid: 4100, amount_remaining: 0, post_payment_credit_notes_amount: 1400 });
    const transaction = await stripe.customers.retrieveBalanceTransaction(customer.id, String(note.customer_balance_transaction));
    expect(transaction).toMatchObject({ object: 'customer_balance_transaction', type: 'credit_note', amount: -1400, ending_balance: -1400, credit_note: note.id, invoice: invoice.id, currency: 'usd' });
    expect(await stripe.creditNotes.retrieve(note.id, { expand: ['customer_balance_transaction'] })).toMatchObject({ customer_balance_transaction: { id: transaction.id, amount: -1400 } });

    // Only one more seat can be credited by quantity.
    expect(await failure(stripe.creditNotes.create({ invoice: invoice.id, lines: [{ type: 'invoice_line_item', invoice_line_item: seats.id, quantity: 2 }] }))).toMatchObject({
      statusCode: 400,
      param: 'lines[0][quantity]',
    });

    await stripe.invoiceItems.create({ customer: customer.id, amount: 1000, currency: 'usd' });
    const next = await stripe.invoices.finalizeInvoice((await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' })).id);
    expect(next).toMatchObject({ status: 'paid', total: 1000, amount_due: 0, starting_balance: -1400, ending_balance: -400 });
    expect(await stripe.customers.retrieve(customer.id)).toMatchObject({ balance: -400 });
    const transactions = await stripe.customers.listBalanceTransactions(customer.id);
    expect(transactions.data.map((listed) => [listed.type, listed.amount, listed.ending_balance])).toEqual([
      ['applied_to_invoice', 1000, -400],
      ['credit_note', -1400, -1400],
    ]);
  });

  it('refund_amount refunds the invoice charge; amounts must add up to the post-payment amount', async () => {
    const { customer, invoice } = await paidInvoice();
    expect(await failure(stripe.creditNotes.create({ invoice: invoice.id, amount: 1000, refund_amount: 600 }))).toMatchObject({ statusCode: 400, param: 'refund_amount' });
    const since = emulator.events().length;
    const note = await stripe.creditNotes.create({ invoice: invoice.id, amount: 1000, refund_amount: 600, credit_amount: 300, out_of_band_amount: 100 });
    expect(note).toMatchObject({ total: 1000, out_of_band_amount: 100, refunds: [{ amount_refunded: 600, type: 'refund', refund: expect.stringMatching(/^re_/) }] });
    expect(typesSince(since)).toEqual(['charge.refunded', 'refund.created', 'refund.updated', 'charge.refund.updated', 'customer.updated', 'credit_note.created', 'invoice.updated']);
    const refund = await stripe.refunds.retrieve(String(note.refunds[0]!.refund));
    expect(refund).toMatchObject({ amount: 600, status: 'succeeded' });
    expect(await stripe.charges.retrieve(String(refund.charge))).toMatchObject({ amount_refunded: 600, refunded: false });
    expect(await stripe.customers.retrieve(customer.id)).toMatchObject({ balance: -300 });
    expect(await failure(stripe.creditNotes.voidCreditNote(note.id))).toMatchObject({ statusCode: 400 });

    const creditOnly = await stripe.creditNotes.create({ invoice: invoice.id, amount: 500, credit_amount: 500 });
    const voided = await stripe.creditNotes.voidCreditNote(creditOnly.id);
    expect(voided.status).toBe('void');
    expect(await stripe.customers.retrieve(customer.id)).toMatchObject({ balance: -300 });
    expect((await stripe.customers.listBalanceTransactions(customer.id, { limit: 2 })).data.map((listed) => listed.amount)).toEqual([500, -500]);
    expect(await stripe.invoices.retrieve(invoice.id)).toMatchObject({ post_payment_credit_notes_amount: 1000 });
  });
});

describe('preview, update', () => {
  it('preview shows the credit note without issuing it; preview lines paginate', async () => {
    const { invoice, consulting } = await openInvoice();
    const since = emulator.events().length;
    const preview = await stripe.creditNotes.preview({ invoice: invoice.id, lines: [{ type: 'invoice_line_item', invoice_line_item: consulting.id, amount: 1500 }, { type: 'custom_line_item', unit_amount: 100 }] });
    expect(preview).toMatchObject({ object: 'credit_note', total: 1600, pre_payment_amount: 1600, status: 'issued', number: `${invoice.number}-CN-01` });
    const lines = await stripe.creditNotes.listPreviewLineItems({ invoice: invoice.id, lines: [{ type: 'custom_line_item', unit_amount: 100, quantity: 3 }], limit: 1 });
    expect(lines).toMatchObject({ object: 'list', has_more: false, data: [{ amount: 300, quantity: 3 }] });
    expect(emulator.events().length).toBe(since);
    expect((await stripe.creditNotes.list({ invoice: invoice.id })).data).toEqual([]);
    expect((await stripe.invoices.retrieve(invoice.id)).amount_due).toBe(4100);
  });

  it('update sets memo and metadata (credit_note.updated)', async () => {
    const { invoice } = await openInvoice();
    const note = await stripe.creditNotes.create({ invoice: invoice.id, amount: 100, metadata: { a: '1' } });
    const since = emulator.events().length;
    expect(await stripe.creditNotes.update(note.id, { memo: 'Adjusted', metadata: { b: '2' } })).toMatchObject({ memo: 'Adjusted', metadata: { a: '1', b: '2' } });
    expect(typesSince(since)).toEqual(['credit_note.updated']);
  });
});

describe('bad inputs', () => {
  it('are Stripe-shaped errors and change nothing', async () => {
    const { customer, invoice, consulting } = await openInvoice();
    const draft = await stripe.invoices.create({ customer: customer.id });
    await stripe.invoiceItems.create({ customer: customer.id, amount: 900, currency: 'usd' });
    const toVoid = await stripe.invoices.finalizeInvoice((await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' })).id);
    const voidedInvoice = await stripe.invoices.voidInvoice(toVoid.id);
    expect(voidedInvoice.status).toBe('void');
    const before = { events: emulator.events().length, invoice: await stripe.invoices.retrieve(invoice.id), customer: await stripe.customers.retrieve(customer.id) };
    const cases: [Promise<unknown>, Record<string, unknown>][] = [
      [stripe.creditNotes.create({ invoice: invoice.id, amount: 100, foo: 'bar' } as Stripe.CreditNoteCreateParams), { statusCode: 400, code: 'parameter_unknown', param: 'foo' }],
      [stripe.creditNotes.create({ amount: 100 } as Stripe.CreditNoteCreateParams), { statusCode: 400, code: 'parameter_missing', param: 'invoice' }],
      [stripe.creditNotes.create({ invoice: 'in_missing', amount: 100 }), { statusCode: 400, code: 'resource_missing', param: 'invoice', message: "No such invoice: 'in_missing'" }],
      [stripe.creditNotes.create({ invoice: draft.id, amount: 100 }), { statusCode: 400, param: 'invoice' }],
      [stripe.creditNotes.create({ invoice: invoice.id }), { statusCode: 400, param: 'lines' }],
      [stripe.creditNotes.create({ invoice: invoice.id, amount: 4101 }), { statusCode: 400, param: 'amount' }],
      [stripe.creditNotes.create({ invoice: invoice.id, lines: [{ type: 'custom_line_item', unit_amount: 4101 }] }), { statusCode: 400, param: 'lines' }],
      [stripe.creditNotes.create({ invoice: invoice.id, lines: [{ type: 'invoice_line_item', invoice_line_item: consulting.id, amount: 2001 }] }), { statusCode: 400, param: 'lines[0][amount]' }],
      [stripe.creditNotes.create({ invoice: invoice.id, amount: 100, lines: [{ type: 'custom_line_item', unit_amount: 100 }] }), { statusCode: 400, param: 'amount' }],
      [stripe.creditNotes.create({ invoice: invoice.id, lines: [{ type: 'invoice_line_item', invoice_line_item: 'il_missing', amount: 1 }] }), { statusCode: 400, code: 'resource_missing', param: 'lines[0][invoice_line_item]' }],
      [stripe.creditNotes.create({ invoice: invoice.id, lines: [{ type: 'custom_line_item', quantity: 1 }] }), { statusCode: 400, code: 'parameter_missing', param: 'lines[0][unit_amount]' }],
      [stripe.creditNotes.create({ invoice: invoice.id, lines: [{ type: 'invoice_line_item', invoice_line_item: consulting.id }] }), { statusCode: 400, param: 'lines[0][amount]' }],
      [stripe.creditNotes.create({ invoice: invoice.id, lines: [{ type: 'bogus' as 'custom_line_item', unit_amount: 1 }] }), { statusCode: 400, param: 'lines[0][type]' }],
      [stripe.creditNotes.create({ invoice: invoice.id, amount: 100, credit_amount: 100 }), { statusCode: 400, param: 'credit_amount' }],
      [stripe.creditNotes.create({ invoice: invoice.id, amount: 100, refund_amount: 100 }), { statusCode: 400, param: 'refund_amount' }],
      [stripe.creditNotes.create({ invoice: invoice.id, amount: 0 }), { statusCode: 400, param: 'amount' }],
      [stripe.creditNotes.create({ invoice: voidedInvoice.id, amount: 100 }), { statusCode: 400, param: 'invoice' }],
      [stripe.creditNotes.preview({ invoice: draft.id, amount: 100 }), { statusCode: 400, param: 'invoice' }],
      [stripe.creditNotes.retrieve('cn_missing'), { statusCode: 404, code: 'resource_missing', message: "No such credit_note: 'cn_missing'" }],
      [stripe.creditNotes.voidCreditNote('cn_missing'), { statusCode: 404, code: 'resource_missing' }],
      [stripe.creditNotes.listLineItems('cn_missing'), { statusCode: 404, code: 'resource_missing' }],
      [stripe.customers.retrieveBalanceTransaction(customer.id, 'cbtxn_missing'), { statusCode: 404, code: 'resource_missing' }],
    ];
    for (const [call, expected] of cases) expect(await failure(call)).toMatchObject({ type: 'StripeInvalidRequestError', ...expected });

    expect(emulator.events().length).toBe(before.events);
    expect(await stripe.invoices.retrieve(invoice.id)).toEqual(before.invoice);
    expect(await stripe.customers.retrieve(customer.id)).toEqual(before.customer);
    expect((await stripe.creditNotes.list({ customer: customer.id })).data).toEqual([]);
  });
});
