import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { DAY, HOUR, T0, advanceClock, clockCustomer, recurringPrice, subscriptionInvoices } from './billing-helpers';
import { startTestEmulator } from './helpers';

/**
 * `POST /v1/invoices/create_preview` (`stripe.invoices.createPreview`) and `proration_date` on
 * `POST /v1/subscriptions/:id`, through the real SDK: the preview's prorations are the ones an
 * update with the same `proration_date` creates, and the renewal bills what was previewed; the
 * preview stores nothing and sends no event; Stripe's 400s and 404s.
 */

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(() => emulator.close());

const FEB_15 = Date.UTC(2026, 1, 15, 12) / 1000;
const MAR_15 = Date.UTC(2026, 2, 15, 12) / 1000;
const JAN_15_2027 = Date.UTC(2027, 0, 15, 12) / 1000;

/** Stripe's proration of `amount` for the whole Jan 15 → Feb 15 period, for the time left after `at`, rounded. */
const prorated = (amount: number, at: number) => Math.round((amount * (FEB_15 - at)) / (FEB_15 - T0));

/** A customer on a test clock at T0 with a card, subscribed to `price` × `quantity`. */
async function subscribed(price: Stripe.Price, quantity = 1, extra: Partial<Stripe.SubscriptionCreateParams> = {}) {
  const { clock, customer } = await clockCustomer(stripe);
  const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id, quantity }], ...extra });
  return { clock, customer, subscription, item: subscription.items.data[0]! };
}

/** Basic ($10) and Premium ($30) monthly prices of one product, and a yearly Premium ($300). */
async function prices() {
  const basic = await recurringPrice(stripe, 1000);
  const premium = await recurringPrice(stripe, 3000, { interval: 'month' }, String(basic.product));
  const yearly = await recurringPrice(stripe, 30000, { interval: 'year' }, String(basic.product));
  return { basic, premium, yearly };
}

const isProration = (line: Stripe.InvoiceLineItem) => line.parent?.subscription_item_details?.proration ?? line.parent?.invoice_item_details?.proration ?? false;
const amounts = (lines: readonly { amount: number }[]) => lines.map((line) => line.amount).sort((a, b) => a - b);
const pendingItems = async (customer: string) => (await stripe.invoiceItems.list({ customer, pending: true, limit: 100 })).data.reverse();

/** Everything a preview must leave alone: events, invoices, invoice items, the subscription. */
async function snapshot(customer: string, subscription: string) {
  return {
    events: emulator.events().length,
    invoices: (await stripe.invoices.list({ customer, limit: 100 })).data,
    items: (await stripe.invoiceItems.list({ customer, limit: 100 })).data,
    subscription: await stripe.subscriptions.retrieve(subscription),
  };
}

async function stripeError(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Stripe.errors.StripeError) return err;
    throw err;
  }
  throw new Error('expected a Stripe error');
}

describe('POST /v1/invoices/create_preview', () => {
  it('previews a price and quantity change at proration_date; the update with the same date creates those prorations; the renewal bills the preview', async () => {
    const { basic, premium } = await prices();
    const { clock, customer, subscription, item } = await subscribed(basic);
    await advanceClock(stripe, clock.id, T0 + 10 * DAY);
    const prorationDate = T0 + 10 * DAY - HOUR;
    const before = await snapshot(customer.id, subscription.id);

    const preview = await stripe.invoices.createPreview({
      customer: customer.id,
      subscription: subscription.id,
      subscription_details: { items: [{ id: item.id, price: premium.id, quantity: 2 }], proration_behavior: 'create_prorations', proration_date: prorationDate },
    });
    const credit = -prorated(1000, prorationDate);
    const debit = prorated(6000, prorationDate);
    expect(preview.id).toMatch(/^upcoming_in_/);
    expect(preview).toMatchObject({
      object: 'invoice',
      status: 'draft',
      billing_reason: 'upcoming',
      customer: customer.id,
      currency: 'usd',
      period_start: T0,
      period_end: FEB_15,
      created: FEB_15,
      next_payment_attempt: FEB_15,
      subtotal: credit + debit + 6000,
      total: credit + debit + 6000,
      amount_due: credit + debit + 6000,
      amount_paid: 0,
      parent: { type: 'subscription_details', subscription_details: { subscription: subscription.id, subscription_proration_date: prorationDate } },
    });
    expect(preview.lines.data.map((line) => ({ amount: line.amount, proration: isProration(line), period: line.period, quantity: line.quantity }))).toEqual([
      { amount: 6000, proration: false, period: { start: FEB_15, end: MAR_15 }, quantity: 2 },
      { amount: credit, proration: true, period: { start: prorationDate, end: FEB_15 }, quantity: 1 },
      { amount: debit, proration: true, period: { start: prorationDate, end: FEB_15 }, quantity: 2 },
    ]);
    expect(preview.lines.data.every((line) => line.id.startsWith('il_tmp_'))).toBe(true);
    expect(preview.lines.data[1]!.description).toBe('Unused time on Pro plan after 25 Jan 2026');
    expect(preview.lines.data[2]!.description).toBe('Remaining time on 2 × Pro plan after 25 Jan 2026');

    // Nothing was stored or sent; the preview is no invoice.
    expect(await snapshot(customer.id, subscription.id)).toEqual(before);
    expect((await stripeError(stripe.invoices.retrieve(preview.id))).statusCode).toBe(404);

    // Two hours later, the update at the preview's proration_date creates exactly the previewed prorations.
    await advanceClock(stripe, clock.id, T0 + 10 * DAY + HOUR);
    expect(prorated(1000, T0 + 10 * DAY + HOUR)).not.toBe(-credit); // at "now" they would differ
    await stripe.subscriptions.update(subscription.id, { items: [{ id: item.id, price: premium.id, quantity: 2 }], proration_date: prorationDate });
    const pending = await pendingItems(customer.id);
    expect(pending.map((entry) => ({ amount: entry.amount, description: entry.description, period: entry.period, proration: entry.proration }))).toEqual(
      preview.lines.data.filter(isProration).map((line) => ({ amount: line.amount, description: line.description, period: line.period, proration: true })),
    );

    await advanceClock(stripe, clock.id, FEB_15 + 2 * HOUR);
    const [, renewal] = await subscriptionInvoices(stripe, subscription.id);
    expect(amounts(renewal!.lines.data)).toEqual(amounts(preview.lines.data));
    expect(renewal).toMatchObject({ status: 'paid', total: preview.total, amount_paid: preview.amount_due, period_start: T0, period_end: FEB_15 });
  });

  it('without proration_date the prorations are computed at the customer\'s time; earlier pending prorations are on the preview too', async () => {
    const { basic, premium } = await prices();
    const { clock, customer, subscription, item } = await subscribed(basic, 3);
    const at = T0 + 4 * DAY;
    await advanceClock(stripe, clock.id, at);
    await stripe.subscriptions.update(subscription.id, { items: [{ id: item.id, quantity: 5 }] });
    const earlier = await pendingItems(customer.id);
    expect(earlier.map((entry) => entry.amount)).toEqual([-prorated(3000, at), prorated(5000, at)]);

    const preview = await stripe.invoices.createPreview({ subscription: subscription.id, subscription_details: { items: [{ id: item.id, price: premium.id }] } });
    expect(preview.parent?.subscription_details?.subscription_proration_date).toBe(at);
    expect(preview.lines.data.map((line) => [line.amount, isProration(line)])).toEqual([
      [15000, false],
      [earlier[0]!.amount, true],
      [earlier[1]!.amount, true],
      [-prorated(5000, at), true],
      [prorated(15000, at), true],
    ]);
    expect(preview.lines.data[1]!.parent).toMatchObject({ type: 'invoice_item_details', invoice_item_details: { invoice_item: earlier[0]!.id } });
    expect(preview.amount_due).toBe(preview.lines.data.reduce((sum, line) => sum + line.amount, 0));

    // The same request with proration_behavior=none: the next period at the new price and the earlier items only.
    const none = await stripe.invoices.createPreview({ subscription: subscription.id, subscription_details: { items: [{ id: item.id, price: premium.id }], proration_behavior: 'none' } });
    expect(none.lines.data.map((line) => line.amount)).toEqual([15000, earlier[0]!.amount, earlier[1]!.amount]);
    expect(none.parent?.subscription_details?.subscription_proration_date).toBeUndefined();

    // No changes at all: the renewal as it stands.
    const asIs = await stripe.invoices.createPreview({ customer: customer.id, subscription: subscription.id });
    expect(asIs.lines.data.map((line) => line.amount)).toEqual([5000, earlier[0]!.amount, earlier[1]!.amount]);
  });

  it('always_invoice previews the invoice made at once, which the update then charges', async () => {
    const { basic, premium } = await prices();
    const { clock, subscription, item } = await subscribed(basic);
    await advanceClock(stripe, clock.id, T0 + 20 * DAY);
    const prorationDate = T0 + 19 * DAY;
    const params = { items: [{ id: item.id, price: premium.id }], proration_behavior: 'always_invoice' as const, proration_date: prorationDate };
    const preview = await stripe.invoices.createPreview({ subscription: subscription.id, subscription_details: params });
    expect(preview).toMatchObject({ created: T0 + 20 * DAY, period_start: T0 + 20 * DAY, period_end: T0 + 20 * DAY });
    expect(preview.lines.data.map((line) => line.amount)).toEqual([-prorated(1000, prorationDate), prorated(3000, prorationDate)]);

    const updated = await stripe.subscriptions.update(subscription.id, params);
    const invoice = await stripe.invoices.retrieve(updated.latest_invoice as string);
    expect(invoice).toMatchObject({ billing_reason: 'subscription_update', status: 'paid', amount_paid: preview.amount_due, total: preview.total });
    expect(amounts(invoice.lines.data)).toEqual(amounts(preview.lines.data));
  });

  it('adding and removing items, and a change of billing interval, preview what the update invoices', async () => {
    const { basic, premium, yearly } = await prices();
    const { clock, subscription, item } = await subscribed(basic);
    const at = T0 + 5 * DAY;
    await advanceClock(stripe, clock.id, at);
    const swap = { items: [{ id: item.id, deleted: true }, { price: premium.id, quantity: 2 }] };
    const preview = await stripe.invoices.createPreview({ subscription: subscription.id, subscription_details: swap });
    expect(preview.lines.data.map((line) => line.amount)).toEqual([6000, -prorated(1000, at), prorated(6000, at)]);
    const swapped = await stripe.subscriptions.update(subscription.id, swap);
    expect(swapped.items.data.map((entry) => [entry.price.id, entry.quantity])).toEqual([[premium.id, 2]]);
    expect(amounts(await pendingItems(String(subscription.customer)))).toEqual(amounts(preview.lines.data.filter(isProration)));

    // Monthly → yearly restarts the cycle now: the credit for the unused month and the whole year, invoiced at once.
    const premiumItem = swapped.items.data[0]!;
    const toYearly = { items: [{ id: premiumItem.id, price: yearly.id, quantity: 1 }] };
    const yearPreview = await stripe.invoices.createPreview({ subscription: subscription.id, subscription_details: toYearly });
    expect(yearPreview).toMatchObject({ created: at, period_start: at, period_end: at });
    expect(yearPreview.lines.data.map((line) => [line.amount, isProration(line)])).toEqual([
      [30000, false],
      [-prorated(1000, at), true],
      [prorated(6000, at), true],
      [-prorated(6000, at), true],
    ]);
    expect(yearPreview.lines.data[0]!.period).toEqual({ start: at, end: at + (JAN_15_2027 - T0) });
    const moved = await stripe.subscriptions.update(subscription.id, toYearly);
    const invoice = await stripe.invoices.retrieve(moved.latest_invoice as string);
    expect(amounts(invoice.lines.data)).toEqual(amounts(yearPreview.lines.data));
    expect(invoice).toMatchObject({ status: 'paid', amount_paid: yearPreview.amount_due });
  });

  it('during a trial nothing is prorated: the first invoice at the trial end, at the new price', async () => {
    const { basic, premium } = await prices();
    const { subscription, item } = await subscribed(basic, 1, { trial_period_days: 14 });
    const trialEnd = T0 + 14 * DAY;
    const preview = await stripe.invoices.createPreview({ subscription: subscription.id, subscription_details: { items: [{ id: item.id, price: premium.id }] } });
    expect(preview).toMatchObject({ created: trialEnd, period_start: trialEnd, period_end: trialEnd, amount_due: 3000 });
    expect(preview.lines.data.map((line) => [line.amount, isProration(line), line.period])).toEqual([[3000, false, { start: trialEnd, end: Date.UTC(2026, 1, 28, 12) / 1000 }]]);
  });

  it('no upcoming invoice when the subscription cancels at the period end or has ended: 404 invoice_upcoming_none', async () => {
    const { basic, premium } = await prices();
    const { customer, subscription, item } = await subscribed(basic);
    const cancelling = await stripeError(
      stripe.invoices.createPreview({ subscription: subscription.id, subscription_details: { items: [{ id: item.id, price: premium.id }], cancel_at_period_end: true } }),
    );
    expect(cancelling).toMatchObject({ statusCode: 404, type: 'StripeInvalidRequestError', code: 'invoice_upcoming_none', message: `No upcoming invoices for customer: ${customer.id}` });

    await stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
    expect((await stripeError(stripe.invoices.createPreview({ subscription: subscription.id }))).code).toBe('invoice_upcoming_none');
    // Resuming in the preview shows the renewal again.
    const resumed = await stripe.invoices.createPreview({ subscription: subscription.id, subscription_details: { cancel_at_period_end: false } });
    expect(resumed.lines.data.map((line) => line.amount)).toEqual([1000]);

    await stripe.subscriptions.cancel(subscription.id);
    expect((await stripeError(stripe.invoices.createPreview({ subscription: subscription.id }))).code).toBe('invoice_upcoming_none');
  });

  it('bad parameters are 400s naming the parameter, and change nothing', async () => {
    const { basic, premium } = await prices();
    const { customer, subscription, item } = await subscribed(basic);
    const other = await subscribed(basic);
    const before = await snapshot(customer.id, subscription.id);
    const cases: Array<[Stripe.InvoiceCreatePreviewParams, string, string | undefined, RegExp]> = [
      [{}, 'subscription', 'parameter_missing', /Missing required param: subscription/],
      [{ customer: customer.id }, 'subscription', 'parameter_missing', /Missing required param: subscription/],
      [{ customer: customer.id, subscription_details: { items: [{ price: premium.id }] } }, 'subscription', undefined, /existing subscriptions only/],
      [{ subscription: 'sub_doesNotExist' }, 'subscription', 'resource_missing', /No such subscription: 'sub_doesNotExist'/],
      [{ customer: 'cus_doesNotExist', subscription: subscription.id }, 'customer', 'resource_missing', /No such customer/],
      [{ customer: other.customer.id, subscription: subscription.id }, 'subscription', undefined, /does not belong to the customer/],
      [{ subscription: subscription.id, subscription_details: { items: [{ id: 'si_doesNotExist', price: premium.id }] } }, 'subscription_details[items][0][id]', 'resource_missing', /No such subscription item/],
      [{ subscription: subscription.id, subscription_details: { items: [{ id: item.id, price: 'price_doesNotExist' }] } }, 'subscription_details[items][0][price]', 'resource_missing', /No such price/],
      [{ subscription: subscription.id, subscription_details: { items: [{ quantity: 2 }] } }, 'subscription_details[items][0][price]', 'parameter_missing', /Missing required param/],
      [
        { subscription: subscription.id, subscription_details: { items: [{ id: item.id, price: premium.id }], proration_date: T0 - 1 } },
        'subscription_details[proration_date]',
        undefined,
        /must be within the current billing period/,
      ],
      [
        { subscription: subscription.id, subscription_details: { items: [{ id: item.id, price: premium.id }], proration_date: FEB_15 + 1 } },
        'subscription_details[proration_date]',
        undefined,
        /must be within the current billing period/,
      ],
      [
        { subscription: subscription.id, subscription_details: { items: [{ id: item.id, price: premium.id }], proration_behavior: 'none', proration_date: T0 + 1 } },
        'subscription_details[proration_date]',
        undefined,
        /cannot be used with/,
      ],
      [{ subscription: subscription.id, subscription_details: { proration_date: T0 + 1 } }, 'subscription_details[items]', 'parameter_missing', /Missing required param/],
      [{ subscription: subscription.id, subscription_details: { proration_behavior: 'sometimes' as never } }, 'subscription_details[proration_behavior]', undefined, /must be one of/],
      [{ subscription: subscription.id, subscription_details: { cancel_now: true } }, 'subscription_details[cancel_now]', 'parameter_unknown', /Received unknown parameter/],
    ];
    for (const [params, param, code, message] of cases) {
      const err = await stripeError(stripe.invoices.createPreview(params));
      const label = JSON.stringify(params);
      expect(err.statusCode, label).toBe(400);
      expect(err.type, label).toBe('StripeInvalidRequestError');
      expect(err.param, label).toBe(param);
      expect(err.code, label).toBe(code);
      expect(err.message, label).toMatch(message);
    }
    expect(await snapshot(customer.id, subscription.id)).toEqual(before);
  });
});

describe('proration_date on POST /v1/subscriptions/:id', () => {
  it('is accepted within the current period and refused outside it (400 naming proration_date, nothing changed)', async () => {
    const { basic, premium } = await prices();
    const { clock, customer, subscription, item } = await subscribed(basic);
    await advanceClock(stripe, clock.id, T0 + 2 * DAY);
    const before = await snapshot(customer.id, subscription.id);
    for (const prorationDate of [T0 - 1, FEB_15 + 1]) {
      const err = await stripeError(stripe.subscriptions.update(subscription.id, { items: [{ id: item.id, price: premium.id }], proration_date: prorationDate }));
      expect(err).toMatchObject({ statusCode: 400, type: 'StripeInvalidRequestError', param: 'proration_date' });
      expect(err.message).toMatch(/must be within the current billing period/);
    }
    const invalid = await stripeError(stripe.subscriptions.update(subscription.id, { items: [{ id: item.id, price: premium.id }], proration_date: 'soon' as never }));
    expect(invalid).toMatchObject({ statusCode: 400, param: 'proration_date', code: 'parameter_invalid_integer' });
    expect(await snapshot(customer.id, subscription.id)).toEqual(before);

    // At the period start: the whole period is credited and charged, whatever the time now.
    const updated = await stripe.subscriptions.update(subscription.id, { items: [{ id: item.id, price: premium.id }], proration_date: T0 });
    expect(updated.items.data[0]!.price.id).toBe(premium.id);
    expect((await pendingItems(customer.id)).map((entry) => [entry.amount, entry.period.start])).toEqual([
      [-1000, T0],
      [3000, T0],
    ]);
  });
});
