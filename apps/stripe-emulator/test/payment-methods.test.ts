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

const failure = (promise: Promise<unknown>) => promise.then(() => { throw new Error('expected the call to fail'); }, (error: Stripe.errors.StripeError) => error);

describe('attach, detach, list', () => {
  it('attaching a pm_card_* alias makes a new concrete PaymentMethod attached to the customer', async () => {
    const customer = await stripe.customers.create();
    const attached = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    expect(attached).toMatchObject({ id: expect.stringMatching(/^pm_(?!card_)/), customer: customer.id, type: 'card', card: { last4: '4242', brand: 'visa' } });
    const event = emulator.events().at(-1)!;
    expect(event).toMatchObject({ type: 'payment_method.attached', data: { object: { id: attached.id, customer: customer.id } } });
    const again = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    expect(again.id).not.toBe(attached.id);
    expect((await stripe.customers.listPaymentMethods(customer.id)).data.map((pm) => pm.id)).toEqual([again.id, attached.id]);
    expect((await stripe.paymentMethods.list({ customer: customer.id, type: 'card' })).data).toHaveLength(2);
    expect((await stripe.paymentMethods.list({ customer: customer.id, type: 'sepa_debit' })).data).toHaveLength(0);
    expect(await stripe.customers.retrievePaymentMethod(customer.id, attached.id)).toMatchObject({ id: attached.id });
  });

  it('refuses to attach a PaymentMethod of another customer, and changes nothing', async () => {
    const first = await stripe.customers.create();
    const second = await stripe.customers.create();
    const paymentMethod = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: first.id });
    const events = emulator.events().length;
    expect(await failure(stripe.paymentMethods.attach(paymentMethod.id, { customer: second.id }))).toMatchObject({
      statusCode: 400,
      type: 'StripeInvalidRequestError',
      message: 'The payment method you provided has already been attached to a customer.',
    });
    expect((await stripe.paymentMethods.retrieve(paymentMethod.id)).customer).toBe(first.id);
    expect(emulator.events().length).toBe(events);
    // Attaching again to its own customer is a no-op.
    expect(await stripe.paymentMethods.attach(paymentMethod.id, { customer: first.id })).toMatchObject({ customer: first.id });
    expect(emulator.events().length).toBe(events);
  });

  it('pm_card_chargeCustomerFail attaches, then every charge is declined', async () => {
    const customer = await stripe.customers.create({ payment_method: 'pm_card_chargeCustomerFail' });
    const [paymentMethod] = (await stripe.customers.listPaymentMethods(customer.id)).data;
    const error = await failure(stripe.paymentIntents.create({ amount: 1000, currency: 'usd', customer: customer.id, payment_method: paymentMethod!.id, confirm: true, off_session: true }));
    expect(error).toMatchObject({ statusCode: 402, code: 'card_declined', decline_code: 'generic_decline' });
  });

  it('detach publishes payment_method.detached and clears the default payment method', async () => {
    const customer = await stripe.customers.create({ payment_method: 'pm_card_visa' });
    const [paymentMethod] = (await stripe.customers.listPaymentMethods(customer.id)).data;
    const since = emulator.events().length;
    const updated = await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: paymentMethod!.id } });
    expect(updated.invoice_settings.default_payment_method).toBe(paymentMethod!.id);
    expect(emulator.events()[since]).toMatchObject({
      type: 'customer.updated',
      data: { previous_attributes: { invoice_settings: { default_payment_method: null } } },
    });
    const detached = await stripe.paymentMethods.detach(paymentMethod!.id);
    expect(detached.customer).toBeNull();
    expect(eventTypes(emulator).slice(-2)).toEqual(['payment_method.detached', 'customer.updated']);
    expect((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).toMatchObject({ invoice_settings: { default_payment_method: null } });
    expect(await failure(stripe.paymentMethods.detach(paymentMethod!.id))).toMatchObject({ statusCode: 400 });
  });

  it('rejects unknown ids, missing and wrong parameters', async () => {
    const customer = await stripe.customers.create();
    const events = emulator.events().length;
    const other = await stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_visa' } });
    const cases: [() => Promise<unknown>, Record<string, unknown>][] = [
      [() => stripe.paymentMethods.attach('pm_missing', { customer: customer.id }), { statusCode: 404, code: 'resource_missing' }],
      [() => stripe.paymentMethods.attach('pm_card_visa', { customer: 'cus_missing' }), { statusCode: 400, code: 'resource_missing', param: 'customer' }],
      [() => stripe.rawRequest('POST', '/v1/payment_methods/pm_card_visa/attach', {}), { statusCode: 400, code: 'parameter_missing', param: 'customer' }],
      [() => stripe.customers.listPaymentMethods('cus_missing'), { statusCode: 404, code: 'resource_missing' }],
      [() => stripe.rawRequest('GET', '/v1/payment_methods?type=bitcoin'), { statusCode: 400, param: 'type' }],
      [() => stripe.customers.retrievePaymentMethod(customer.id, other.id), { statusCode: 404, code: 'resource_missing' }],
      [() => stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: other.id } }), { statusCode: 400, param: 'invoice_settings[default_payment_method]' }],
      [() => stripe.rawRequest('POST', '/v1/payment_methods', { type: 'sepa_debit', sepa_debit: { iban: 'AT611904300234573201' } }), { statusCode: 400, param: 'billing_details[name]' }],
    ];
    for (const [call, expected] of cases) expect(await failure(call())).toMatchObject(expected);
    expect((await stripe.customers.listPaymentMethods(customer.id)).data).toEqual([]);
    expect(emulator.events().length).toBe(events);
  });
});

describe('customers', () => {
  it('delete publishes customer.deleted; the customer is gone', async () => {
    const customer = await stripe.customers.create({ email: 'gone@example.com' });
    expect(await stripe.customers.del(customer.id)).toEqual({ id: customer.id, object: 'customer', deleted: true });
    expect(emulator.events().at(-1)).toMatchObject({ type: 'customer.deleted', data: { object: { id: customer.id } } });
    expect(await failure(stripe.customers.retrieve(customer.id))).toMatchObject({ statusCode: 404 });
  });
});
