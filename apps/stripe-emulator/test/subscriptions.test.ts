import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { DAY, HOUR, T0, advanceClock, clockCustomer, eventTypesFor, eventsOf, recurringPrice, subscriptionInvoices, switchDefaultCard } from './billing-helpers';
import { startTestEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(() => emulator.close());

/** Feb 15 12:00 UTC, one month after T0. */
const FEB_15 = Date.UTC(2026, 1, 15, 12) / 1000;
const MAR_15 = Date.UTC(2026, 2, 15, 12) / 1000;

describe('subscription creation', () => {
  it('charges the first invoice and starts active, with periods on the items', async () => {
    const price = await recurringPrice(stripe, 1500);
    const { customer } = await clockCustomer(stripe);
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id, quantity: 2 }], metadata: { plan: 'pro' } });

    expect(subscription).toMatchObject({ status: 'active', customer: customer.id, currency: 'usd', start_date: T0, billing_cycle_anchor: T0, metadata: { plan: 'pro' } });
    expect(subscription).not.toHaveProperty('current_period_start');
    expect(subscription.items.data[0]).toMatchObject({ object: 'subscription_item', quantity: 2, current_period_start: T0, current_period_end: FEB_15, price: { id: price.id } });

    const invoice = await stripe.invoices.retrieve(subscription.latest_invoice as string, { expand: ['payments'] });
    expect(invoice).toMatchObject({
      status: 'paid',
      billing_reason: 'subscription_create',
      amount_due: 3000,
      amount_paid: 3000,
      amount_remaining: 0,
      subtotal: 3000,
      total: 3000,
      attempt_count: 1,
      customer: customer.id,
      parent: { type: 'subscription_details', subscription_details: { subscription: subscription.id } },
    });
    expect(invoice.hosted_invoice_url).toMatch(/\/i\/in_/);
    expect(invoice.lines.data[0]).toMatchObject({
      amount: 3000,
      quantity: 2,
      description: '2 × Pro plan (at $15.00 / month)',
      period: { start: T0, end: FEB_15 },
      pricing: { type: 'price_details', price_details: { price: price.id } },
      parent: { type: 'subscription_item_details', subscription_item_details: { subscription: subscription.id, subscription_item: subscription.items.data[0]!.id, proration: false } },
    });
    const payment = invoice.payments!.data[0]!;
    expect(payment).toMatchObject({ object: 'invoice_payment', status: 'paid', amount_paid: 3000, payment: { type: 'payment_intent' } });
    const intent = await stripe.paymentIntents.retrieve(payment.payment.payment_intent as string);
    expect(intent).toMatchObject({ status: 'succeeded', amount: 3000, customer: customer.id });

    expect(eventTypesFor(emulator, subscription.id)).toEqual(['customer.subscription.created']);
    expect(eventTypesFor(emulator, invoice.id)).toEqual(['invoice.created', 'invoice.finalized', 'invoice.paid', 'invoice.payment_succeeded']);
    const created = eventsOf(emulator, 'customer.subscription.created').find((event) => (event.data.object as Stripe.Subscription).id === subscription.id)!;
    expect(created.data.object).toMatchObject({ status: 'active' });
  });

  it('a declined first payment leaves it incomplete, then incomplete_expired after 23 hours with the invoice voided', async () => {
    const price = await recurringPrice(stripe);
    const { clock, customer } = await clockCustomer(stripe, 'pm_card_chargeDeclined');
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    expect(subscription.status).toBe('incomplete');
    const invoice = await stripe.invoices.retrieve(subscription.latest_invoice as string);
    expect(invoice).toMatchObject({ status: 'open', attempt_count: 1, next_payment_attempt: null });
    expect(eventTypesFor(emulator, invoice.id)).toContain('invoice.payment_failed');

    await advanceClock(stripe, clock.id, T0 + 22 * HOUR);
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('incomplete');
    await advanceClock(stripe, clock.id, T0 + 24 * HOUR);
    expect(await stripe.subscriptions.retrieve(subscription.id)).toMatchObject({ status: 'incomplete_expired', ended_at: T0 + 23 * HOUR });
    expect((await stripe.invoices.retrieve(invoice.id)).status).toBe('void');
  });

  it('default_incomplete does not charge: incomplete with a PaymentIntent to confirm', async () => {
    const price = await recurringPrice(stripe);
    const { customer } = await clockCustomer(stripe, null);
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      payment_behavior: 'default_incomplete',
      expand: ['latest_invoice.confirmation_secret'],
    });
    expect(subscription.status).toBe('incomplete');
    const invoice = subscription.latest_invoice as Stripe.Invoice;
    expect(invoice).toMatchObject({ status: 'open', attempt_count: 0, amount_due: 1500 });
    expect(invoice.confirmation_secret).toMatchObject({ type: 'payment_intent', client_secret: expect.stringMatching(/^pi_.+_secret_/) });
  });

  it('error_if_incomplete answers 402 on a decline and creates no subscription', async () => {
    const price = await recurringPrice(stripe);
    const { customer } = await clockCustomer(stripe, 'pm_card_chargeDeclined');
    const error = await stripe.subscriptions
      .create({ customer: customer.id, items: [{ price: price.id }], payment_behavior: 'error_if_incomplete' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(error).toMatchObject({ statusCode: 402, code: 'card_declined' });
    expect((await stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data).toEqual([]);
    expect((await stripe.invoices.list({ customer: customer.id })).data).toEqual([]);
  });
});

describe('trials and renewals (test clock)', () => {
  it('trial → trial_will_end 3 days before → active at trial end → renewal paid a month later', async () => {
    const price = await recurringPrice(stripe, 2000);
    const { clock, customer } = await clockCustomer(stripe);
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], trial_period_days: 14 });
    const trialEnd = T0 + 14 * DAY;
    expect(subscription).toMatchObject({ status: 'trialing', trial_start: T0, trial_end: trialEnd });
    expect(subscription.items.data[0]).toMatchObject({ current_period_start: T0, current_period_end: trialEnd });
    const trialInvoice = await stripe.invoices.retrieve(subscription.latest_invoice as string);
    expect(trialInvoice).toMatchObject({ status: 'paid', amount_due: 0, billing_reason: 'subscription_create' });
    expect(trialInvoice.lines.data[0]).toMatchObject({ amount: 0, description: 'Trial period for Pro plan' });
    expect(eventTypesFor(emulator, subscription.id)).toEqual(['customer.subscription.created']);

    await advanceClock(stripe, clock.id, trialEnd - 3 * DAY - 60);
    expect(eventTypesFor(emulator, subscription.id)).not.toContain('customer.subscription.trial_will_end');
    await advanceClock(stripe, clock.id, trialEnd - 3 * DAY);
    expect(eventTypesFor(emulator, subscription.id)).toContain('customer.subscription.trial_will_end');

    await advanceClock(stripe, clock.id, trialEnd + 2 * HOUR);
    const active = await stripe.subscriptions.retrieve(subscription.id);
    expect(active).toMatchObject({ status: 'active', billing_cycle_anchor: trialEnd });
    // Jan 29 + 1 month = Feb 28 (no Feb 29 in 2026): 30 days.
    const nextEnd = Date.UTC(2026, 1, 28, 12) / 1000;
    expect(active.items.data[0]).toMatchObject({ current_period_start: trialEnd, current_period_end: nextEnd });
    const [, first] = await subscriptionInvoices(stripe, subscription.id);
    expect(first).toMatchObject({ status: 'paid', amount_paid: 2000, billing_reason: 'subscription_cycle', created: trialEnd });
    expect(first!.status_transitions.finalized_at).toBe(trialEnd + HOUR);
    const updated = eventsOf(emulator, 'customer.subscription.updated').filter((event) => (event.data.object as Stripe.Subscription).id === subscription.id);
    expect(updated[0]!.data.previous_attributes).toMatchObject({ status: 'trialing' });

    await advanceClock(stripe, clock.id, nextEnd + 2 * HOUR);
    const invoices = await subscriptionInvoices(stripe, subscription.id);
    expect(invoices.map((invoice) => [invoice.billing_reason, invoice.status, invoice.amount_paid])).toEqual([
      ['subscription_create', 'paid', 0],
      ['subscription_cycle', 'paid', 2000],
      ['subscription_cycle', 'paid', 2000],
    ]);
  });

  it('a trial shorter than 3 days sends trial_will_end at once', async () => {
    const price = await recurringPrice(stripe);
    const { customer } = await clockCustomer(stripe, null);
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], trial_period_days: 1 });
    expect(eventTypesFor(emulator, subscription.id)).toEqual(['customer.subscription.created', 'customer.subscription.trial_will_end']);
  });

  it('a renewal draft waits an hour, then is finalized and charged', async () => {
    const price = await recurringPrice(stripe, 900);
    const { clock, customer } = await clockCustomer(stripe);
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    await advanceClock(stripe, clock.id, FEB_15 + 30 * 60);
    const [, renewal] = await subscriptionInvoices(stripe, subscription.id);
    expect(renewal).toMatchObject({ status: 'draft', billing_reason: 'subscription_cycle', automatically_finalizes_at: FEB_15 + HOUR, period_start: T0, period_end: FEB_15 });
    expect(renewal!.lines.data[0]!.period).toEqual({ start: FEB_15, end: MAR_15 });
    const current = await stripe.subscriptions.retrieve(subscription.id);
    expect(current.items.data[0]).toMatchObject({ current_period_start: FEB_15, current_period_end: MAR_15 });
    expect(current.latest_invoice).toBe(renewal!.id);

    await advanceClock(stripe, clock.id, FEB_15 + HOUR);
    expect(await stripe.invoices.retrieve(renewal!.id)).toMatchObject({ status: 'paid', amount_paid: 900 });
  });
});

describe('failed renewals (pm_card_chargeCustomerFail)', () => {
  async function failingSubscription(billing: StripeEmulator) {
    const client = new Stripe('sk_test_emulator_tests_key', { host: '127.0.0.1', port: billing.port, protocol: 'http', maxNetworkRetries: 0 });
    const price = await recurringPrice(client, 1500);
    const { clock, customer } = await clockCustomer(client);
    const subscription = await client.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    await switchDefaultCard(client, customer.id, 'pm_card_chargeCustomerFail');
    await advanceClock(client, clock.id, FEB_15 + HOUR);
    return { client, clock, customer, subscription };
  }

  it('renewal fails → invoice.payment_failed, past_due; retries 3, 5, 7 days later; then canceled', async () => {
    const { client, clock, subscription } = await failingSubscription(emulator);
    const [, renewal] = await subscriptionInvoices(client, subscription.id);
    expect(renewal).toMatchObject({ status: 'open', attempt_count: 1, next_payment_attempt: FEB_15 + HOUR + 3 * DAY });
    expect(await client.subscriptions.retrieve(subscription.id)).toMatchObject({ status: 'past_due' });
    const pastDue = eventsOf(emulator, 'customer.subscription.updated').filter((event) => (event.data.object as Stripe.Subscription).id === subscription.id).at(-1)!;
    expect(pastDue.data).toMatchObject({ object: { status: 'past_due' }, previous_attributes: { status: 'active' } });

    await advanceClock(client, clock.id, FEB_15 + HOUR + 3 * DAY);
    expect(await client.invoices.retrieve(renewal!.id)).toMatchObject({ attempt_count: 2, next_payment_attempt: FEB_15 + HOUR + 5 * DAY });
    await advanceClock(client, clock.id, FEB_15 + HOUR + 6 * DAY);
    expect(await client.invoices.retrieve(renewal!.id)).toMatchObject({ attempt_count: 3, next_payment_attempt: FEB_15 + HOUR + 7 * DAY });
    expect((await client.subscriptions.retrieve(subscription.id)).status).toBe('past_due');

    await advanceClock(client, clock.id, FEB_15 + HOUR + 8 * DAY);
    expect(await client.invoices.retrieve(renewal!.id)).toMatchObject({ status: 'open', attempt_count: 4, next_payment_attempt: null });
    expect(await client.subscriptions.retrieve(subscription.id)).toMatchObject({
      status: 'canceled',
      ended_at: FEB_15 + HOUR + 7 * DAY,
      cancellation_details: { reason: 'payment_failed' },
    });
    const failures = eventTypesFor(emulator, renewal!.id).filter((type) => type === 'invoice.payment_failed');
    expect(failures).toHaveLength(4);
    expect(eventTypesFor(emulator, subscription.id).at(-1)).toBe('customer.subscription.deleted');
  });

  it('with afterFinalFailure=unpaid the subscription becomes unpaid, and paying the invoice makes it active', async () => {
    const unpaidEmulator = (await startTestEmulator({ billing: { afterFinalFailure: 'unpaid', retryScheduleDays: [1] } })).emulator;
    try {
      const { client, clock, customer, subscription } = await failingSubscription(unpaidEmulator);
      await advanceClock(client, clock.id, FEB_15 + 2 * HOUR + DAY);
      expect((await client.subscriptions.retrieve(subscription.id)).status).toBe('unpaid');
      const [, renewal] = await subscriptionInvoices(client, subscription.id);
      expect(renewal).toMatchObject({ status: 'open', attempt_count: 2, next_payment_attempt: null });

      const card = await switchDefaultCard(client, customer.id, 'pm_card_visa');
      const paid = await client.invoices.pay(renewal!.id, { payment_method: card });
      expect(paid).toMatchObject({ status: 'paid', amount_paid: 1500, attempt_count: 3 });
      expect((await client.subscriptions.retrieve(subscription.id)).status).toBe('active');
    } finally {
      await unpaidEmulator.close();
    }
  });
});

describe('updates', () => {
  it('cancel_at_period_end → customer.subscription.deleted at period end; resume undoes it', async () => {
    const price = await recurringPrice(stripe);
    const { clock, customer } = await clockCustomer(stripe);
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    await advanceClock(stripe, clock.id, T0 + 5 * DAY);
    const scheduled = await stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
    expect(scheduled).toMatchObject({ status: 'active', cancel_at_period_end: true, cancel_at: FEB_15, canceled_at: T0 + 5 * DAY, cancellation_details: { reason: 'cancellation_requested' } });
    const update = eventsOf(emulator, 'customer.subscription.updated').filter((event) => (event.data.object as Stripe.Subscription).id === subscription.id).at(-1)!;
    expect(update.data.previous_attributes).toMatchObject({ cancel_at_period_end: false, cancel_at: null, canceled_at: null });

    const resumed = await stripe.subscriptions.update(subscription.id, { cancel_at_period_end: false });
    expect(resumed).toMatchObject({ cancel_at_period_end: false, cancel_at: null, canceled_at: null });
    await stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });

    await advanceClock(stripe, clock.id, FEB_15 - 60);
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('active');
    await advanceClock(stripe, clock.id, FEB_15 + 2 * HOUR);
    expect(await stripe.subscriptions.retrieve(subscription.id)).toMatchObject({ status: 'canceled', ended_at: FEB_15 });
    expect(eventTypesFor(emulator, subscription.id).at(-1)).toBe('customer.subscription.deleted');
    expect(await subscriptionInvoices(stripe, subscription.id)).toHaveLength(1);
    expect((await stripe.subscriptions.list({ customer: customer.id })).data).toEqual([]);
    expect((await stripe.subscriptions.list({ customer: customer.id, status: 'canceled' })).data).toHaveLength(1);
  });

  it('changing the price prorates: credit for unused time, charge for the remaining time, on the next invoice', async () => {
    const basic = await recurringPrice(stripe, 1000);
    const premium = await recurringPrice(stripe, 3000, { interval: 'month' }, String(basic.product));
    const { clock, customer } = await clockCustomer(stripe);
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }] });
    const half = T0 + Math.round((FEB_15 - T0) / 2);
    await advanceClock(stripe, clock.id, half);
    const item = subscription.items.data[0]!;
    const updated = await stripe.subscriptions.update(subscription.id, { items: [{ id: item.id, price: premium.id }] });
    expect(updated.items.data[0]).toMatchObject({ id: item.id, price: { id: premium.id }, current_period_end: FEB_15 });

    const pending = (await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data;
    expect(pending.map((entry) => [entry.amount, entry.proration]).sort()).toEqual([
      [-500, true],
      [1500, true],
    ]);
    await advanceClock(stripe, clock.id, FEB_15 + 2 * HOUR);
    const [, renewal] = await subscriptionInvoices(stripe, subscription.id);
    expect(renewal!.lines.data.map((line) => line.amount).sort((a, b) => a - b)).toEqual([-500, 1500, 3000]);
    expect(renewal).toMatchObject({ status: 'paid', amount_paid: 4000 });
  });

  it('always_invoice bills the proration at once; none creates no proration', async () => {
    const basic = await recurringPrice(stripe, 1000);
    const premium = await recurringPrice(stripe, 3000, { interval: 'month' }, String(basic.product));
    const { clock, customer } = await clockCustomer(stripe);
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }] });
    await advanceClock(stripe, clock.id, T0 + Math.round((FEB_15 - T0) / 2));
    const item = subscription.items.data[0]!;
    const updated = await stripe.subscriptions.update(subscription.id, { items: [{ id: item.id, price: premium.id }], proration_behavior: 'always_invoice' });
    const invoice = await stripe.invoices.retrieve(updated.latest_invoice as string);
    expect(invoice).toMatchObject({ billing_reason: 'subscription_update', status: 'paid', amount_paid: 1000 });

    await stripe.subscriptions.update(subscription.id, { items: [{ id: item.id, price: basic.id }], proration_behavior: 'none' });
    expect((await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data).toEqual([]);
  });

  it('trial_end=now ends the trial and invoices at once', async () => {
    const price = await recurringPrice(stripe, 1200);
    const { customer } = await clockCustomer(stripe);
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], trial_period_days: 30 });
    const ended = await stripe.subscriptions.update(subscription.id, { trial_end: 'now' });
    expect(ended).toMatchObject({ status: 'active', trial_end: T0 });
    expect(await stripe.invoices.retrieve(ended.latest_invoice as string)).toMatchObject({ status: 'paid', amount_paid: 1200, billing_reason: 'subscription_update' });
  });

  it('DELETE cancels now; list filters by customer, status and price', async () => {
    const price = await recurringPrice(stripe);
    const { customer } = await clockCustomer(stripe);
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    expect((await stripe.subscriptions.list({ price: price.id })).data.map((entry) => entry.id)).toEqual([subscription.id]);
    const canceled = await stripe.subscriptions.cancel(subscription.id, { cancellation_details: { comment: 'too pricey', feedback: 'too_expensive' } });
    expect(canceled).toMatchObject({ status: 'canceled', canceled_at: T0, ended_at: T0, cancellation_details: { reason: 'cancellation_requested', feedback: 'too_expensive' } });
    expect(eventTypesFor(emulator, subscription.id)).toEqual(['customer.subscription.created', 'customer.subscription.deleted']);
    expect((await stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data).toHaveLength(1);
    const items = await stripe.subscriptionItems.list({ subscription: subscription.id });
    expect(items.data.map((item) => item.id)).toEqual([subscription.items.data[0]!.id]);
    expect(await stripe.subscriptionItems.retrieve(items.data[0]!.id)).toMatchObject({ subscription: subscription.id });
  });
});

describe('metered prices', () => {
  it('bills the meter aggregate of the ended period on the renewal invoice', async () => {
    const meter = await stripe.billing.meters.create({
      display_name: 'API calls',
      event_name: `api_call_${Date.now()}`,
      default_aggregation: { formula: 'sum' },
    });
    const price = await stripe.prices.create({
      currency: 'usd',
      unit_amount: 5,
      recurring: { interval: 'month', usage_type: 'metered', meter: meter.id },
      product_data: { name: 'API' },
    });
    const start = T0;
    const { clock, customer } = await clockCustomer(stripe, 'pm_card_visa', start);
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    expect(subscription.items.data[0]).not.toHaveProperty('quantity');
    const periodEnd = subscription.items.data[0]!.current_period_end;
    const first = await stripe.invoices.retrieve(subscription.latest_invoice as string);
    expect(first).toMatchObject({ status: 'paid', amount_due: 0 });
    expect(first.lines.data[0]).toMatchObject({ amount: 0, quantity: 0 });

    // Meter event timestamps are checked against the customer's clock: send each when its time has come.
    const record = (value: number, at: number) =>
      stripe.billing.meterEvents.create({ event_name: meter.event_name, payload: { stripe_customer_id: customer.id, value: String(value) }, timestamp: at });
    await record(7, start - DAY);
    await advanceClock(stripe, clock.id, start + DAY);
    await record(10, start + DAY);
    await advanceClock(stripe, clock.id, start + 20 * DAY);
    await record(32, start + 20 * DAY);
    await advanceClock(stripe, clock.id, periodEnd + 2 * HOUR);
    const [, renewal] = await subscriptionInvoices(stripe, subscription.id);
    expect(renewal!.lines.data[0]).toMatchObject({ quantity: 42, amount: 210, period: { start, end: periodEnd }, description: '42 × API (at $0.05 / month)' });
    expect(renewal).toMatchObject({ status: 'paid', amount_paid: 210 });
  });

  it('applies transform_quantity once to the period aggregate (packages rounded up or down)', async () => {
    const meter = await stripe.billing.meters.create({ display_name: 'Words', event_name: `words_${Date.now()}`, default_aggregation: { formula: 'sum' } });
    const perThousand = (round: 'up' | 'down') =>
      stripe.prices.create({
        currency: 'usd',
        unit_amount: 100,
        recurring: { interval: 'month', usage_type: 'metered', meter: meter.id },
        transform_quantity: { divide_by: 1000, round },
        product_data: { name: 'Words' },
      });
    const up = await perThousand('up');
    expect(up).toMatchObject({ transform_quantity: { divide_by: 1000, round: 'up' }, billing_scheme: 'per_unit' });
    const bad = await stripe.prices
      .create({ currency: 'usd', unit_amount: 1, transform_quantity: { divide_by: 0, round: 'up' }, product_data: { name: 'x' } })
      .catch((error: unknown) => error);
    expect(bad).toMatchObject({ statusCode: 400, param: 'transform_quantity[divide_by]' });
    const down = await perThousand('down');
    const start = T0;
    const bill = async (price: Stripe.Price) => {
      const { clock, customer } = await clockCustomer(stripe, 'pm_card_visa', start);
      const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
      expect(subscription.items.data[0]!.plan).toMatchObject({ transform_usage: price.transform_quantity });
      const periodEnd = subscription.items.data[0]!.current_period_end;
      // 1,001 + 999 + 2,501 = 4,501 words: 5 packages up, 4 down (per event it would be 2 + 1 + 3 = 6).
      for (const value of [1001, 999, 2501]) await stripe.billing.meterEvents.create({ event_name: meter.event_name, payload: { stripe_customer_id: customer.id, value: String(value) }, timestamp: start + 60 });
      await advanceClock(stripe, clock.id, periodEnd + 2 * HOUR);
      const [, renewal] = await subscriptionInvoices(stripe, subscription.id);
      return renewal!;
    };
    expect((await bill(up)).lines.data[0]).toMatchObject({ quantity: 4501, amount: 500, description: '4501 × Words (at $1.00 per 1000 / month)' });
    expect((await bill(down)).lines.data[0]).toMatchObject({ quantity: 4501, amount: 400 });
  });
});

describe('bad requests change nothing', () => {
  it('answers Stripe-shaped errors', async () => {
    const price = await recurringPrice(stripe);
    const oneTime = await stripe.prices.create({ currency: 'usd', unit_amount: 100, product_data: { name: 'One-off' } });
    const { customer } = await clockCustomer(stripe, null);
    const before = emulator.events().length;
    const attempt = (params: Record<string, unknown>) => stripe.subscriptions.create(params as unknown as Stripe.SubscriptionCreateParams).catch((error: unknown) => error);

    expect(await attempt({ items: [{ price: price.id }] })).toMatchObject({ statusCode: 400, code: 'parameter_missing', param: 'customer' });
    expect(await attempt({ customer: 'cus_nope', items: [{ price: price.id }] })).toMatchObject({ statusCode: 400, code: 'resource_missing', param: 'customer' });
    expect(await attempt({ customer: customer.id, items: [{ price: 'price_nope' }] })).toMatchObject({ statusCode: 400, code: 'resource_missing', param: 'items[0][price]' });
    expect(await attempt({ customer: customer.id, items: [{ price: oneTime.id }] })).toMatchObject({ statusCode: 400, param: 'items[0][price]' });
    expect(await attempt({ customer: customer.id, items: [{ price: price.id }], colour: 'red' })).toMatchObject({ statusCode: 400, code: 'parameter_unknown', param: 'colour' });
    expect(await attempt({ customer: customer.id, items: [{ price: price.id }] })).toMatchObject({
      statusCode: 400,
      message: expect.stringContaining('no attached payment source or default payment method'),
    });
    expect(await stripe.subscriptions.retrieve('sub_nope').catch((error: unknown) => error)).toMatchObject({ statusCode: 404, code: 'resource_missing' });
    expect(emulator.events().length).toBe(before);
    expect((await stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data).toEqual([]);
  });
});
