import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { DAY, HOUR, T0, advanceClock, clockCustomer, eventTypesFor } from './billing-helpers';
import { startTestEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(() => emulator.close());

async function draftWithItem(customer: string, amount = 2000) {
  const item = await stripe.invoiceItems.create({ customer, amount, currency: 'usd', description: 'Consulting' });
  const invoice = await stripe.invoices.create({ customer, pending_invoice_items_behavior: 'include', description: 'March work' });
  return { item, invoice };
}

describe('invoice items and drafts', () => {
  it('pending items go on an invoice created with include; exclude (the default) leaves them pending', async () => {
    const { customer } = await clockCustomer(stripe);
    const item = await stripe.invoiceItems.create({ customer: customer.id, amount: 2000, currency: 'usd', description: 'Setup fee' });
    expect(item).toMatchObject({ object: 'invoiceitem', amount: 2000, invoice: null, proration: false, date: T0, quantity: 1 });
    expect(eventTypesFor(emulator, item.id)).toEqual(['invoiceitem.created']);

    const empty = await stripe.invoices.create({ customer: customer.id });
    expect(empty).toMatchObject({ status: 'draft', amount_due: 0, lines: { data: [] }, auto_advance: false, billing_reason: 'manual', parent: null });
    expect((await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data).toHaveLength(1);

    const invoice = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
    expect(invoice).toMatchObject({ status: 'draft', currency: 'usd', amount_due: 2000, subtotal: 2000, total: 2000, amount_remaining: 2000, created: T0 });
    expect(invoice.lines.data[0]).toMatchObject({
      object: 'line_item',
      amount: 2000,
      description: 'Setup fee',
      parent: { type: 'invoice_item_details', invoice_item_details: { invoice_item: item.id, proration: false } },
    });
    expect((await stripe.invoiceItems.retrieve(item.id)).invoice).toBe(invoice.id);

    const price = await stripe.prices.create({ currency: 'usd', unit_amount: 700, product_data: { name: 'Sticker' } });
    const priced = await stripe.invoiceItems.create({ customer: customer.id, pricing: { price: price.id }, quantity: 3, invoice: invoice.id });
    expect(priced).toMatchObject({ amount: 2100, invoice: invoice.id, pricing: { price_details: { price: price.id } } });
    const lines = await stripe.invoices.listLineItems(invoice.id);
    expect(lines.data.map((line) => line.amount)).toEqual([2000, 2100]);
    expect((await stripe.invoices.retrieve(invoice.id)).amount_due).toBe(4100);

    await stripe.invoiceItems.del(priced.id);
    expect((await stripe.invoices.retrieve(invoice.id)).amount_due).toBe(2000);
  });

  it('deleting a draft returns its items to pending', async () => {
    const { customer } = await clockCustomer(stripe);
    const { item, invoice } = await draftWithItem(customer.id);
    expect(await stripe.invoices.del(invoice.id)).toEqual({ id: invoice.id, object: 'invoice', deleted: true });
    expect((await stripe.invoiceItems.retrieve(item.id)).invoice).toBeNull();
    expect(await stripe.invoices.retrieve(invoice.id).catch((error: unknown) => error)).toMatchObject({ statusCode: 404 });
  });
});

describe('lifecycle', () => {
  it('finalize → open with number and hosted URL; pay → paid with a payment', async () => {
    const { customer } = await clockCustomer(stripe);
    const { invoice } = await draftWithItem(customer.id);
    const finalized = await stripe.invoices.finalizeInvoice(invoice.id);
    expect(finalized).toMatchObject({ status: 'open', amount_due: 2000, attempt_count: 0, status_transitions: { finalized_at: T0 }, effective_at: T0 });
    expect(finalized.number).toMatch(/^[0-9A-F]{8}-0001$/);
    expect(finalized.hosted_invoice_url).toBe(`${emulator.url}/i/${invoice.id}`);

    const paid = await stripe.invoices.pay(invoice.id, { expand: ['payments'] });
    expect(paid).toMatchObject({ status: 'paid', amount_paid: 2000, amount_remaining: 0, attempted: true, attempt_count: 1, status_transitions: { paid_at: T0 } });
    expect(paid.payments!.data[0]).toMatchObject({ status: 'paid', amount_paid: 2000, invoice: invoice.id });
    expect(eventTypesFor(emulator, invoice.id)).toEqual(['invoice.created', 'invoice.finalized', 'invoice.paid', 'invoice.payment_succeeded']);
  });

  it('a decline answers 402, counts the attempt and sends invoice.payment_failed; the invoice stays open', async () => {
    const { customer } = await clockCustomer(stripe, 'pm_card_chargeCustomerFail');
    const { invoice } = await draftWithItem(customer.id);
    const error = await stripe.invoices.pay(invoice.id).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(error).toMatchObject({ statusCode: 402, code: 'card_declined', decline_code: 'generic_decline' });
    expect(await stripe.invoices.retrieve(invoice.id)).toMatchObject({ status: 'open', attempt_count: 1, amount_paid: 0 });
    expect(eventTypesFor(emulator, invoice.id)).toContain('invoice.payment_failed');
  });

  it('a 3-D Secure card answers 402 invoice_payment_intent_requires_action and sends invoice.payment_action_required', async () => {
    const { customer } = await clockCustomer(stripe, 'pm_card_threeDSecure2Required');
    const { invoice } = await draftWithItem(customer.id);
    const error = await stripe.invoices.pay(invoice.id).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ statusCode: 402, type: 'StripeCardError', code: 'invoice_payment_intent_requires_action' });
    expect(eventTypesFor(emulator, invoice.id)).toContain('invoice.payment_action_required');
    const open = await stripe.invoices.retrieve(invoice.id, { expand: ['payments'] });
    expect(open).toMatchObject({ status: 'open', attempt_count: 1 });
    const intent = await stripe.paymentIntents.retrieve(open.payments!.data[0]!.payment.payment_intent as string);
    expect(intent.status).toBe('requires_action');
  });

  it('paid_out_of_band, void and mark_uncollectible', async () => {
    const { customer } = await clockCustomer(stripe);
    const first = (await draftWithItem(customer.id)).invoice;
    await stripe.invoices.finalizeInvoice(first.id);
    expect(await stripe.invoices.pay(first.id, { paid_out_of_band: true })).toMatchObject({ status: 'paid', amount_paid: 2000 });
    expect(eventTypesFor(emulator, first.id)).not.toContain('invoice.payment_succeeded');

    const second = (await draftWithItem(customer.id)).invoice;
    await stripe.invoices.finalizeInvoice(second.id);
    const voided = await stripe.invoices.voidInvoice(second.id);
    expect(voided).toMatchObject({ status: 'void', status_transitions: { voided_at: T0 } });
    expect(eventTypesFor(emulator, second.id).at(-1)).toBe('invoice.voided');

    const third = (await draftWithItem(customer.id)).invoice;
    await stripe.invoices.finalizeInvoice(third.id);
    expect(await stripe.invoices.markUncollectible(third.id)).toMatchObject({ status: 'uncollectible' });
    expect(eventTypesFor(emulator, third.id).at(-1)).toBe('invoice.marked_uncollectible');
    expect(await stripe.invoices.pay(third.id)).toMatchObject({ status: 'paid' });

    const listed = await stripe.invoices.list({ customer: customer.id, status: 'paid' });
    expect(listed.data.map((invoice) => invoice.id).sort()).toEqual([first.id, third.id].sort());
  });

  it('update sends invoice.updated with previous_attributes', async () => {
    const { customer } = await clockCustomer(stripe);
    const { invoice } = await draftWithItem(customer.id);
    const updated = await stripe.invoices.update(invoice.id, { metadata: { order: '42' }, description: 'April work' });
    expect(updated).toMatchObject({ metadata: { order: '42' }, description: 'April work' });
    const event = emulator.events().filter((entry) => entry.type === 'invoice.updated' && (entry.data.object as Stripe.Invoice).id === invoice.id)[0]!;
    expect(event.data.previous_attributes).toEqual({ metadata: { order: null }, description: 'March work' });
  });

  it('send_invoice gets a due date; auto_advance drafts finalize an hour later and are charged an hour after that', async () => {
    const { clock, customer } = await clockCustomer(stripe);
    await stripe.invoiceItems.create({ customer: customer.id, amount: 500, currency: 'usd' });
    const sent = await stripe.invoices.create({ customer: customer.id, collection_method: 'send_invoice', days_until_due: 14, pending_invoice_items_behavior: 'include' });
    expect(sent.due_date).toBe(T0 + 14 * DAY);

    await stripe.invoiceItems.create({ customer: customer.id, amount: 800, currency: 'usd' });
    const auto = await stripe.invoices.create({ customer: customer.id, auto_advance: true, pending_invoice_items_behavior: 'include' });
    expect(auto).toMatchObject({ auto_advance: true, automatically_finalizes_at: T0 + HOUR });
    await advanceClock(stripe, clock.id, T0 + HOUR + 60);
    expect(await stripe.invoices.retrieve(auto.id)).toMatchObject({ status: 'paid', amount_paid: 800 });
    expect((await stripe.invoices.retrieve(sent.id)).status).toBe('draft');
  });
});

describe('bad requests change nothing', () => {
  it('answers Stripe-shaped errors', async () => {
    const { customer } = await clockCustomer(stripe);
    const { invoice } = await draftWithItem(customer.id);
    await stripe.invoices.pay(invoice.id);
    const before = emulator.events().length;
    const caught = (promise: Promise<unknown>) => promise.catch((error: unknown) => error);

    expect(await caught(stripe.invoices.finalizeInvoice(invoice.id))).toMatchObject({ statusCode: 400, message: expect.stringContaining('already finalized') });
    expect(await caught(stripe.invoices.pay(invoice.id))).toMatchObject({ statusCode: 400, message: 'Invoice is already paid' });
    expect(await caught(stripe.invoices.del(invoice.id))).toMatchObject({ statusCode: 400 });
    expect(await caught(stripe.invoices.voidInvoice(invoice.id))).toMatchObject({ statusCode: 400 });
    expect(await caught(stripe.invoices.retrieve('in_nope'))).toMatchObject({ statusCode: 404, code: 'resource_missing' });
    expect(await caught(stripe.invoices.create({ customer: 'cus_nope' }))).toMatchObject({ statusCode: 400, code: 'resource_missing', param: 'customer' });
    expect(await caught(stripe.invoiceItems.create({ customer: customer.id, amount: 100 } as Stripe.InvoiceItemCreateParams))).toMatchObject({
      statusCode: 400,
      code: 'parameter_missing',
      param: 'currency',
    });
    expect(await caught(stripe.invoiceItems.create({ customer: customer.id, amount: 100, currency: 'usd', invoice: invoice.id }))).toMatchObject({ statusCode: 400, param: 'invoice' });

    const other = (await draftWithItem(customer.id)).invoice;
    await stripe.invoices.finalizeInvoice(other.id);
    await stripe.invoices.voidInvoice(other.id);
    const afterVoid = emulator.events().length;
    expect(await caught(stripe.invoices.pay(other.id))).toMatchObject({ statusCode: 400, message: 'Voided invoices cannot be paid.' });
    expect(emulator.events().length).toBe(afterVoid);
    expect(afterVoid).toBeGreaterThan(before);
    expect((await stripe.invoices.retrieve(invoice.id)).status).toBe('paid');
  });
});
