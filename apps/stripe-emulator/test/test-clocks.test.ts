import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { DAY, T0, advanceClock, clockCustomer, eventTypesFor, recurringPrice } from './billing-helpers';
import { startTestEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(() => emulator.close());

describe('test clocks', () => {
  it('create, retrieve, list; advance is asynchronous: advancing, then ready', async () => {
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0, name: 'Annual renewal' });
    expect(clock).toMatchObject({ object: 'test_helpers.test_clock', frozen_time: T0, name: 'Annual renewal', status: 'ready', livemode: false });
    expect(clock.deletes_after - clock.created).toBe(30 * DAY);
    expect(clock.id).toMatch(/^clock_/);
    expect(await stripe.testHelpers.testClocks.retrieve(clock.id)).toEqual(clock);
    expect((await stripe.testHelpers.testClocks.list()).data.map((entry) => entry.id)).toContain(clock.id);

    const advancing = await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: T0 + DAY });
    expect(advancing).toMatchObject({ status: 'advancing', status_details: { advancing: { target_frozen_time: T0 + DAY } } });
    const ready = await advanceClock(stripe, clock.id, T0 + 2 * DAY);
    expect(ready).toMatchObject({ status: 'ready', frozen_time: T0 + 2 * DAY });
    expect(eventTypesFor(emulator, clock.id)).toEqual([
      'test_helpers.test_clock.created',
      'test_helpers.test_clock.advancing',
      'test_helpers.test_clock.ready',
      'test_helpers.test_clock.advancing',
      'test_helpers.test_clock.ready',
    ]);
  });

  it('customers live in their clock time', async () => {
    const { clock, customer } = await clockCustomer(stripe, null);
    expect(customer).toMatchObject({ test_clock: clock.id, created: T0 });
    const item = await stripe.invoiceItems.create({ customer: customer.id, amount: 100, currency: 'usd' });
    expect(item.date).toBe(T0);
    expect(item.test_clock).toBe(clock.id);
  });

  it('runs what falls due in time order within one advance', async () => {
    const price = await recurringPrice(stripe, 1000, { interval: 'week' });
    const { clock, customer } = await clockCustomer(stripe);
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    await advanceClock(stripe, clock.id, T0 + 3 * 7 * DAY + 2 * 3600);
    const invoices = (await stripe.invoices.list({ subscription: subscription.id })).data.reverse();
    expect(invoices.map((invoice) => invoice.created)).toEqual([T0, T0 + 7 * DAY, T0 + 14 * DAY, T0 + 21 * DAY]);
    expect(invoices.every((invoice) => invoice.status === 'paid')).toBe(true);
    expect(invoices.map((invoice) => invoice.number)).toEqual(invoices.map((_, index) => expect.stringMatching(new RegExp(`-000${index + 1}$`))));
  });

  it('delete removes the clock and its customers', async () => {
    const { clock, customer } = await clockCustomer(stripe, null);
    expect(await stripe.testHelpers.testClocks.del(clock.id)).toEqual({ id: clock.id, object: 'test_helpers.test_clock', deleted: true });
    expect(await stripe.customers.retrieve(customer.id).catch((error: unknown) => error)).toMatchObject({ statusCode: 404 });
    expect(eventTypesFor(emulator, clock.id).at(-1)).toBe('test_helpers.test_clock.deleted');
  });

  it('refuses bad requests without changing anything', async () => {
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
    const before = emulator.events().length;
    const caught = (promise: Promise<unknown>) => promise.catch((error: unknown) => error);
    expect(await caught(stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: T0 - 1 }))).toMatchObject({ statusCode: 400, param: 'frozen_time' });
    expect(await caught(stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: T0 }))).toMatchObject({ statusCode: 400, param: 'frozen_time' });
    expect(await caught(stripe.testHelpers.testClocks.advance('clock_nope', { frozen_time: T0 + 1 }))).toMatchObject({ statusCode: 404, code: 'resource_missing' });
    expect(await caught(stripe.testHelpers.testClocks.create({} as Stripe.TestHelpers.TestClockCreateParams))).toMatchObject({ statusCode: 400, code: 'parameter_missing', param: 'frozen_time' });
    expect(await caught(stripe.customers.create({ test_clock: 'clock_nope' }))).toMatchObject({ statusCode: 400, code: 'resource_missing', param: 'test_clock' });
    expect(emulator.events().length).toBe(before);
    expect(await stripe.testHelpers.testClocks.retrieve(clock.id)).toMatchObject({ status: 'ready', frozen_time: T0 });
  });
});
