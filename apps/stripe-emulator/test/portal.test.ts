import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { DAY, HOUR, T0, advanceClock, clockCustomer, eventTypesFor, recurringPrice, subscriptionInvoices, switchDefaultCard } from './billing-helpers';
import { FUTURE_EXPIRY, alertText, postForm, startTestEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(() => emulator.close());

const FEB_15 = Date.UTC(2026, 1, 15, 12) / 1000;
const card = (cardNumber: string) => ({ cardNumber, cardExpiry: FUTURE_EXPIRY, cardCvc: '123' });
const statusText = (page: string) => /role="status">([^<]*)</.exec(page)?.[1] ?? null;

async function portalFor(customer: string) {
  const session = await stripe.billingPortal.sessions.create({ customer, return_url: 'https://merchant.test/account' });
  return session;
}

describe('billing portal sessions API', () => {
  it('creates a session with a url and sends billing_portal.session.created', async () => {
    const { customer } = await clockCustomer(stripe, null);
    const session = await portalFor(customer.id);
    expect(session).toMatchObject({
      object: 'billing_portal.session',
      customer: customer.id,
      return_url: 'https://merchant.test/account',
      livemode: false,
      flow: null,
      url: `${emulator.url}/p/session/${session.id}`,
    });
    expect(session.id).toMatch(/^bps_/);
    expect(session.configuration).toMatch(/^bpc_/);
    expect(eventTypesFor(emulator, session.id)).toEqual(['billing_portal.session.created']);
    const page = await (await fetch(session.url)).text();
    expect(page).toContain('Manage your subscriptions');
    expect(page).toContain('<a href="https://merchant.test/account">Return to the merchant</a>');
  });

  it('refuses unknown customers and flow subscriptions', async () => {
    expect(await stripe.billingPortal.sessions.create({ customer: 'cus_nope' }).catch((error: unknown) => error)).toMatchObject({ statusCode: 400, code: 'resource_missing', param: 'customer' });
    const { customer } = await clockCustomer(stripe, null);
    const error = await stripe.billingPortal.sessions
      .create({ customer: customer.id, flow_data: { type: 'subscription_cancel', subscription_cancel: { subscription: 'sub_nope' } } })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ statusCode: 400, code: 'resource_missing' });
  });

  it('configurations can be created and listed', async () => {
    const configuration = await stripe.billingPortal.configurations.create({
      business_profile: { headline: 'Tally' },
      features: { subscription_cancel: { enabled: true, mode: 'immediately' }, payment_method_update: { enabled: true } },
    });
    expect(configuration).toMatchObject({ object: 'billing_portal.configuration', is_default: false, features: { subscription_cancel: { enabled: true, mode: 'immediately' } } });
    expect((await stripe.billingPortal.configurations.list()).data.map((entry) => entry.id)).toContain(configuration.id);
  });
});

describe('portal page actions', () => {
  it('cancel at period end, resume, then cancel now', async () => {
    const price = await recurringPrice(stripe);
    const { customer } = await clockCustomer(stripe);
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    const session = await portalFor(customer.id);
    const page = await (await fetch(session.url)).text();
    expect(page).toContain('Pro plan');
    expect(page).toContain('Renews on February 15, 2026.');
    for (const label of ['Cancel at period end', 'Cancel now', 'Update payment method', 'Card number', 'Expiry', 'CVC']) expect(page).toContain(label);

    const action = (name: string) => `${session.url}/subscriptions/${subscription.id}/${name}`;
    const atEnd = await postForm(action('cancel'), { when: 'period_end' });
    expect(atEnd.status).toBe(303);
    expect(await stripe.subscriptions.retrieve(subscription.id)).toMatchObject({ cancel_at_period_end: true, cancel_at: FEB_15, status: 'active' });
    const followed = await (await fetch(new URL(atEnd.headers.get('location')!, emulator.url))).text();
    expect(statusText(followed)).toContain('will be canceled on 2026-02-15');
    expect(followed).toContain('Resume subscription');

    await postForm(action('resume'), {});
    expect(await stripe.subscriptions.retrieve(subscription.id)).toMatchObject({ cancel_at_period_end: false, cancel_at: null });

    await postForm(action('cancel'), { when: 'now' });
    expect(await stripe.subscriptions.retrieve(subscription.id)).toMatchObject({ status: 'canceled', cancellation_details: { reason: 'cancellation_requested' } });
    const events = emulator.events().filter((event) => (event.data.object as { id?: string }).id === subscription.id);
    expect(events.map((event) => event.type)).toEqual([
      'customer.subscription.created',
      'customer.subscription.updated',
      'customer.subscription.updated',
      'customer.subscription.deleted',
    ]);
    expect(events[1]!.request).toEqual({ id: null, idempotency_key: null });
  });

  it('switches to another price of the same product with prorations', async () => {
    const monthly = await recurringPrice(stripe, 1000);
    const bigger = await recurringPrice(stripe, 2000, { interval: 'month' }, String(monthly.product));
    const { customer } = await clockCustomer(stripe);
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
    const session = await portalFor(customer.id);
    const page = await (await fetch(session.url)).text();
    expect(page).toContain(`<label for="price-${subscription.id}">Switch plan</label>`);
    expect(page).toContain(`<option value="${bigger.id}">`);

    const response = await postForm(`${session.url}/subscriptions/${subscription.id}/switch`, { price: bigger.id });
    expect(response.status).toBe(303);
    const switched = await stripe.subscriptions.retrieve(subscription.id);
    expect(switched.items.data[0]!.price.id).toBe(bigger.id);
    expect((await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data.map((item) => item.amount).sort((a, b) => a - b)).toEqual([-1000, 2000]);

    const refused = await postForm(`${session.url}/subscriptions/${subscription.id}/switch`, { price: 'price_nope' });
    expect(refused.status).toBe(400);
    expect(alertText(await refused.text())).toBe('That plan is not available.');
  });

  it('replacing the card pays the past_due invoice and makes the subscription active again', async () => {
    const price = await recurringPrice(stripe, 1500);
    const { clock, customer } = await clockCustomer(stripe);
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    await switchDefaultCard(stripe, customer.id, 'pm_card_chargeCustomerFail');
    await advanceClock(stripe, clock.id, FEB_15 + HOUR);
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('past_due');
    const [, renewal] = await subscriptionInvoices(stripe, subscription.id);
    expect(renewal!.status).toBe('open');

    const session = await portalFor(customer.id);
    const page = await (await fetch(session.url)).text();
    expect(page).toContain('Past due');
    expect(page).toContain('Outstanding invoices');

    const declined = await postForm(`${session.url}/payment-method`, card('4242 4242 4242 4241'));
    expect(declined.status).toBe(400);
    expect(alertText(await declined.text())).toBe('Your card number is invalid.');

    const since = emulator.events().length;
    const response = await postForm(`${session.url}/payment-method`, card('4242 4242 4242 4242'));
    expect(response.status).toBe(303);
    const done = await (await fetch(new URL(response.headers.get('location')!, emulator.url))).text();
    expect(statusText(done)).toBe('Your payment method was updated and 1 outstanding invoice was paid.');

    expect(await stripe.invoices.retrieve(renewal!.id)).toMatchObject({ status: 'paid', amount_paid: 1500 });
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('active');
    const updatedCustomer = await stripe.customers.retrieve(customer.id);
    const newCard = (updatedCustomer as Stripe.Customer).invoice_settings.default_payment_method as string;
    expect(await stripe.paymentMethods.retrieve(newCard)).toMatchObject({ customer: customer.id, card: { last4: '4242' } });
    const types = emulator.events().slice(since).map((event) => event.type);
    for (const type of ['payment_method.attached', 'customer.updated', 'invoice.paid', 'invoice.payment_succeeded', 'customer.subscription.updated']) expect(types).toContain(type);

    // The next renewal is charged to the new card.
    await advanceClock(stripe, clock.id, Date.UTC(2026, 2, 15, 12) / 1000 + 2 * HOUR);
    expect((await subscriptionInvoices(stripe, subscription.id)).at(-1)).toMatchObject({ status: 'paid', amount_paid: 1500 });
    expect(DAY).toBe(86_400);
  });
});

describe('hosted invoice page', () => {
  it('shows an open invoice and pays it with a test card (3-D Secure step included)', async () => {
    const price = await recurringPrice(stripe, 2500);
    const { clock, customer } = await clockCustomer(stripe);
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    await switchDefaultCard(stripe, customer.id, 'pm_card_chargeCustomerFail');
    await advanceClock(stripe, clock.id, FEB_15 + HOUR);
    const [, renewal] = await subscriptionInvoices(stripe, subscription.id);
    const url = renewal!.hosted_invoice_url!;

    const page = await (await fetch(url)).text();
    expect(page).toContain(`Invoice ${renewal!.number}`);
    expect(page).toContain('1 × Pro plan (at $25.00 / month)');
    expect(page).toContain('<button type="submit">Pay $25.00</button>');

    const declined = await postForm(url, card('4000 0000 0000 0002'));
    expect(declined.status).toBe(402);
    expect(alertText(await declined.text())).toMatch(/declined/);

    const challenged = await postForm(url, card('4000 0000 0000 3220'));
    expect(challenged.status).toBe(303);
    expect(challenged.headers.get('location')).toBe(`/i/${renewal!.id}/authenticate`);
    const challenge = await (await fetch(`${url}/authenticate`)).text();
    expect(challenge).toContain('Complete authentication');
    const approved = await postForm(`${url}/authenticate`, { action: 'complete' });
    expect(approved.status).toBe(303);

    expect(await stripe.invoices.retrieve(renewal!.id)).toMatchObject({ status: 'paid', amount_paid: 2500 });
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('active');
    expect(await (await fetch(url)).text()).toContain('This invoice has been paid.');
    expect(T0).toBeLessThan(FEB_15);
  });
});
