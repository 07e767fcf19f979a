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

/** The Stripe error a rejected SDK call threw. */
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: Stripe.errors.StripeError) => error,
  );

/** Types of the events published since `since` (an index into the event log). */
const typesSince = (since: number) => eventTypes(emulator).slice(since);

/** Ends the 3-D Secure challenge of a SetupIntent on the emulator's page. */
const authenticate = (id: string, action: 'complete' | 'fail') =>
  fetch(`${emulator.url}/3ds/${id}`, { method: 'POST', body: new URLSearchParams({ action }), redirect: 'manual' });

describe('SetupIntents', () => {
  it('create → update → confirm: requires_payment_method, requires_confirmation, succeeded; the card is attached to the customer', async () => {
    const customer = await stripe.customers.create({ email: 'setup@example.com' });
    const since = emulator.events().length;
    const created = await stripe.setupIntents.create({ customer: customer.id, description: 'Save card', metadata: { plan: 'pro' } });
    expect(created).toMatchObject({
      object: 'setup_intent',
      status: 'requires_payment_method',
      usage: 'off_session',
      payment_method_types: ['card'],
      customer: customer.id,
      description: 'Save card',
      metadata: { plan: 'pro' },
      payment_method: null,
      livemode: false,
      client_secret: expect.stringMatching(new RegExp(`^${created.id}_secret_`)),
    });
    expect(created.id).toMatch(/^seti_/);
    const updated = await stripe.setupIntents.update(created.id, { payment_method: 'pm_card_visa', metadata: { step: '2' } });
    expect(updated).toMatchObject({ status: 'requires_confirmation', payment_method: expect.stringMatching(/^pm_(?!card_)/), metadata: { plan: 'pro', step: '2' } });
    const confirmed = await stripe.setupIntents.confirm(created.id, { expand: ['payment_method'] });
    expect(confirmed).toMatchObject({ status: 'succeeded', last_setup_error: null, payment_method: { id: updated.payment_method, customer: customer.id } });
    expect(typesSince(since)).toEqual(['setup_intent.created', 'payment_method.attached', 'setup_intent.succeeded']);
    expect((await stripe.customers.listPaymentMethods(customer.id)).data.map((method) => method.id)).toEqual([updated.payment_method]);
    expect(await stripe.setupIntents.retrieve(created.id, { client_secret: created.client_secret! })).toMatchObject({ status: 'succeeded' });

    const error = await failure(stripe.setupIntents.update(created.id, { description: 'later' }));
    expect(error).toMatchObject({ statusCode: 400, code: 'setup_intent_unexpected_state' });
    expect(await failure(stripe.setupIntents.confirm(created.id))).toMatchObject({ statusCode: 400, code: 'setup_intent_unexpected_state' });
  });

  it('confirm=true at creation; list filters by customer and payment_method', async () => {
    const customer = await stripe.customers.create();
    const first = await stripe.setupIntents.create({ customer: customer.id, payment_method: 'pm_card_visa', confirm: true, usage: 'on_session' });
    expect(first).toMatchObject({ status: 'succeeded', usage: 'on_session' });
    const second = await stripe.setupIntents.create({ customer: customer.id });
    const other = await stripe.setupIntents.create({ payment_method: 'pm_card_visa', confirm: true });
    expect(other).toMatchObject({ status: 'succeeded', customer: null });
    expect((await stripe.paymentMethods.retrieve(String(other.payment_method))).customer).toBeNull();
    expect((await stripe.setupIntents.list({ customer: customer.id })).data.map((intent) => intent.id)).toEqual([second.id, first.id]);
    expect((await stripe.setupIntents.list({ payment_method: String(first.payment_method) })).data.map((intent) => intent.id)).toEqual([first.id]);
    const page = await stripe.setupIntents.list({ limit: 1 });
    expect(page).toMatchObject({ object: 'list', has_more: true, url: '/v1/setup_intents', data: [{ id: other.id }] });
  });

  it('3-D Secure: requires_action with next_action; completing the challenge succeeds, and an off_session setup makes authenticationRequiredOnSetup chargeable off session', async () => {
    const customer = await stripe.customers.create();
    const since = emulator.events().length;
    const intent = await stripe.setupIntents.create({ customer: customer.id, payment_method: 'pm_card_authenticationRequiredOnSetup', confirm: true });
    expect(intent.status).toBe('requires_action');
    expect(intent.next_action).toMatchObject({ type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: `${emulator.url}/3ds/${intent.id}` } });
    const page = await fetch(`${emulator.url}/3ds/${intent.id}`);
    expect(await page.text()).toContain('Complete authentication');
    expect((await authenticate(intent.id, 'complete')).status).toBe(200);
    const done = await stripe.setupIntents.retrieve(intent.id);
    expect(done).toMatchObject({ status: 'succeeded', next_action: null });
    expect(typesSince(since)).toEqual(['setup_intent.created', 'setup_intent.requires_action', 'payment_method.attached', 'setup_intent.succeeded']);

    const paymentMethod = String(done.payment_method);
    expect((await stripe.paymentMethods.retrieve(paymentMethod)).customer).toBe(customer.id);
    const offSession = await stripe.paymentIntents.create({ amount: 1200, currency: 'usd', customer: customer.id, payment_method: paymentMethod, confirm: true, off_session: true });
    expect(offSession.status).toBe('succeeded');

    // The same card saved without a SetupIntent still needs authentication off session.
    const unsaved = await stripe.customers.create({ payment_method: 'pm_card_authenticationRequiredOnSetup' });
    const [attached] = (await stripe.customers.listPaymentMethods(unsaved.id)).data;
    const declined = await failure(stripe.paymentIntents.create({ amount: 1200, currency: 'usd', customer: unsaved.id, payment_method: attached!.id, confirm: true, off_session: true }));
    expect(declined).toMatchObject({ statusCode: 402, code: 'authentication_required' });
  });

  it('an off_session SetupIntent also lets billing charge the card off session', async () => {
    const customer = await stripe.customers.create();
    const intent = await stripe.setupIntents.create({ customer: customer.id, payment_method: 'pm_card_authenticationRequiredOnSetup', confirm: true, usage: 'off_session' });
    await authenticate(intent.id, 'complete');
    const paymentMethod = String((await stripe.setupIntents.retrieve(intent.id)).payment_method);
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: paymentMethod } });
    await stripe.invoiceItems.create({ customer: customer.id, amount: 3000, currency: 'usd' });
    const invoice = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
    expect(await stripe.invoices.pay(invoice.id)).toMatchObject({ status: 'paid', amount_paid: 3000 });
  });

  it('an on_session setup does not make the card chargeable off session; threeDSecure2Required never is', async () => {
    for (const [card, usage] of [
      ['pm_card_authenticationRequiredOnSetup', 'on_session'],
      ['pm_card_threeDSecure2Required', 'off_session'],
    ] as const) {
      const customer = await stripe.customers.create();
      const intent = await stripe.setupIntents.create({ customer: customer.id, payment_method: card, confirm: true, usage });
      expect(intent.status).toBe('requires_action');
      await authenticate(intent.id, 'complete');
      const paymentMethod = String((await stripe.setupIntents.retrieve(intent.id)).payment_method);
      const error = await failure(stripe.paymentIntents.create({ amount: 800, currency: 'usd', customer: customer.id, payment_method: paymentMethod, confirm: true, off_session: true }));
      expect(error).toMatchObject({ statusCode: 402, code: 'authentication_required' });
    }
  });

  it('a failed challenge returns to requires_payment_method (setup_intent.setup_failed); return_url gets a redirect', async () => {
    const customer = await stripe.customers.create();
    const intent = await stripe.setupIntents.create({
      customer: customer.id,
      payment_method: 'pm_card_threeDSecure2Required',
      confirm: true,
      return_url: 'https://merchant.test/setup-done',
    });
    expect(intent.next_action).toMatchObject({ type: 'redirect_to_url', redirect_to_url: { url: `${emulator.url}/3ds/${intent.id}`, return_url: 'https://merchant.test/setup-done' } });
    const since = emulator.events().length;
    const response = await authenticate(intent.id, 'fail');
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(`https://merchant.test/setup-done?setup_intent=${intent.id}&setup_intent_client_secret=${intent.client_secret}`);
    const failed = await stripe.setupIntents.retrieve(intent.id);
    expect(failed).toMatchObject({ status: 'requires_payment_method', payment_method: null, last_setup_error: { code: 'setup_intent_authentication_failure', type: 'invalid_request_error' } });
    expect(typesSince(since)).toEqual(['setup_intent.setup_failed']);
    expect((await stripe.customers.listPaymentMethods(customer.id)).data).toEqual([]);
    expect(await stripe.setupIntents.confirm(intent.id, { payment_method: 'pm_card_visa' })).toMatchObject({ status: 'succeeded' });
  });

  it('a declining card: 402 card_error with the SetupIntent, last_setup_error, setup_intent.setup_failed, nothing attached', async () => {
    const customer = await stripe.customers.create();
    const since = emulator.events().length;
    const error = await failure(stripe.setupIntents.create({ customer: customer.id, payment_method: 'pm_card_chargeDeclined', confirm: true }));
    expect(error).toMatchObject({ type: 'StripeCardError', statusCode: 402, code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' });
    const intent = error.setup_intent!;
    expect(intent).toMatchObject({ status: 'requires_payment_method', payment_method: null, last_setup_error: { code: 'card_declined', decline_code: 'generic_decline', type: 'card_error' } });
    expect(typesSince(since)).toEqual(['setup_intent.created', 'setup_intent.setup_failed']);
    expect((await stripe.customers.listPaymentMethods(customer.id)).data).toEqual([]);
    expect(await stripe.setupIntents.retrieve(intent.id)).toMatchObject({ status: 'requires_payment_method' });

    // `pm_card_chargeCustomerFail` attaches; only later charges fail.
    expect(await stripe.setupIntents.confirm(intent.id, { payment_method: 'pm_card_chargeCustomerFail' })).toMatchObject({ status: 'succeeded' });
  });

  it('cancel → setup_intent.canceled; a canceled or succeeded SetupIntent cannot be canceled', async () => {
    const intent = await stripe.setupIntents.create({ payment_method: 'pm_card_visa' });
    const since = emulator.events().length;
    expect(await stripe.setupIntents.cancel(intent.id, { cancellation_reason: 'abandoned' })).toMatchObject({ status: 'canceled', cancellation_reason: 'abandoned' });
    expect(typesSince(since)).toEqual(['setup_intent.canceled']);
    expect(await failure(stripe.setupIntents.cancel(intent.id))).toMatchObject({ statusCode: 400, code: 'setup_intent_unexpected_state' });
    expect(await failure(stripe.setupIntents.confirm(intent.id))).toMatchObject({ statusCode: 400, code: 'setup_intent_unexpected_state' });
  });

  it('bad inputs are Stripe-shaped errors and change nothing', async () => {
    const owner = await stripe.customers.create();
    const other = await stripe.customers.create();
    const attached = await stripe.paymentMethods.attach('pm_card_visa', { customer: owner.id });
    const before = { events: emulator.events().length, intents: (await stripe.setupIntents.list({ limit: 100 })).data.length, methods: (await stripe.paymentMethods.list({ limit: 100 })).data.length };

    const cases: [Promise<unknown>, Record<string, unknown>][] = [
      [stripe.setupIntents.create({ foo: 'bar' } as Stripe.SetupIntentCreateParams), { statusCode: 400, code: 'parameter_unknown', param: 'foo' }],
      [stripe.setupIntents.create({ usage: 'sometimes' as 'on_session' }), { statusCode: 400, param: 'usage' }],
      [stripe.setupIntents.create({ customer: 'cus_missing' }), { statusCode: 400, code: 'resource_missing', param: 'customer', message: "No such customer: 'cus_missing'" }],
      [stripe.setupIntents.create({ payment_method: 'pm_card_nope', confirm: true }), { statusCode: 400, code: 'resource_missing', param: 'payment_method' }],
      [stripe.setupIntents.create({ confirm: true }), { statusCode: 400, code: 'setup_intent_unexpected_state' }],
      [stripe.setupIntents.create({ payment_method: 'pm_card_visa', return_url: 'https://merchant.test/r' }), { statusCode: 400, param: 'return_url' }],
      [stripe.setupIntents.create({ customer: other.id, payment_method: attached.id, confirm: true }), { statusCode: 400, code: 'setup_intent_invalid_parameter', param: 'payment_method' }],
      [stripe.setupIntents.create({ payment_method: attached.id }), { statusCode: 400, code: 'setup_intent_invalid_parameter', param: 'payment_method' }],
      [stripe.setupIntents.retrieve('seti_missing'), { statusCode: 404, code: 'resource_missing', message: "No such setupintent: 'seti_missing'" }],
      [stripe.setupIntents.confirm('seti_missing'), { statusCode: 404, code: 'resource_missing' }],
      [stripe.setupIntents.cancel('seti_missing'), { statusCode: 404, code: 'resource_missing' }],
      [stripe.setupIntents.update('seti_missing', { description: 'x' }), { statusCode: 404, code: 'resource_missing' }],
    ];
    for (const [call, expected] of cases) expect(await failure(call)).toMatchObject({ type: 'StripeInvalidRequestError', ...expected });

    expect(emulator.events().length).toBe(before.events);
    expect((await stripe.setupIntents.list({ limit: 100 })).data).toHaveLength(before.intents);
    expect((await stripe.paymentMethods.list({ limit: 100 })).data).toHaveLength(before.methods);

    const intent = await stripe.setupIntents.create({ customer: owner.id });
    expect(await failure(stripe.setupIntents.confirm(intent.id))).toMatchObject({ statusCode: 400, code: 'setup_intent_unexpected_state' });
    expect(await failure(stripe.setupIntents.retrieve(intent.id, { client_secret: 'seti_x_secret_y' }))).toMatchObject({ statusCode: 400, param: 'client_secret' });
    expect(await stripe.setupIntents.retrieve(intent.id)).toMatchObject({ status: 'requires_payment_method' });
  });
});
