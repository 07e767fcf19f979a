import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { startTestEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(() => emulator.close());

describe('customers', () => {
  it('creates a customer shaped like Stripe’s and publishes customer.created', async () => {
    const customer = await stripe.customers.create({ email: 'ada@example.com', name: 'Ada', metadata: { tally_id: 'u_1' } });
    expect(customer).toMatchObject({
      object: 'customer',
      email: 'ada@example.com',
      name: 'Ada',
      metadata: { tally_id: 'u_1' },
      livemode: false,
      balance: 0,
      delinquent: false,
      address: null,
      invoice_settings: { default_payment_method: null },
    });
    expect(customer.id).toMatch(/^cus_[A-Za-z0-9]{14}$/);
    expect(customer.lastResponse.requestId).toMatch(/^req_/);
    const created = emulator.events().find((event) => event.type === 'customer.created' && (event.data.object as Stripe.Customer).id === customer.id);
    expect(created).toMatchObject({ object: 'event', api_version: '2026-10-28.endive', livemode: false, request: { id: customer.lastResponse.requestId } });
    expect(created?.id).toMatch(/^evt_/);
  });

  it('retrieves, and updates with merged metadata and previous_attributes', async () => {
    const customer = await stripe.customers.create({ email: 'grace@example.com', metadata: { a: '1', b: '2' } });
    expect((await stripe.customers.retrieve(customer.id)).id).toBe(customer.id);

    const updated = await stripe.customers.update(customer.id, { name: 'Grace', metadata: { b: '', c: '3' } });
    expect(updated.name).toBe('Grace');
    expect(updated.metadata).toEqual({ a: '1', c: '3' });

    const event = emulator.events().findLast((e) => e.type === 'customer.updated');
    expect(event?.data.object).toMatchObject({ id: customer.id, name: 'Grace' });
    expect(event?.data.previous_attributes).toEqual({ name: null, metadata: { b: '2', c: null } });
  });

  it('publishes no customer.updated when nothing changes', async () => {
    const customer = await stripe.customers.create({ email: 'same@example.com' });
    const before = emulator.events().length;
    await stripe.customers.update(customer.id, { email: 'same@example.com' });
    expect(emulator.events().length).toBe(before);
  });

  it('deletes a customer', async () => {
    const customer = await stripe.customers.create({ email: 'gone@example.com' });
    expect(await stripe.customers.del(customer.id)).toMatchObject({ id: customer.id, deleted: true });
    await expect(stripe.customers.retrieve(customer.id)).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });

  it('lists newest first, filters by email, and paginates with starting_after / ending_before', async () => {
    const created: Stripe.Customer[] = [];
    for (let index = 0; index < 5; index += 1) created.push(await stripe.customers.create({ email: 'page@example.com', name: `P${index}` }));
    const newestFirst = created.map((customer) => customer.id).reverse();

    const first = await stripe.customers.list({ email: 'page@example.com', limit: 2 });
    expect(first).toMatchObject({ object: 'list', url: '/v1/customers', has_more: true });
    expect(first.data.map((customer) => customer.id)).toEqual(newestFirst.slice(0, 2));

    const second = await stripe.customers.list({ email: 'page@example.com', limit: 2, starting_after: first.data[1]!.id });
    expect(second.data.map((customer) => customer.id)).toEqual(newestFirst.slice(2, 4));
    expect(second.has_more).toBe(true);

    const last = await stripe.customers.list({ email: 'page@example.com', limit: 2, starting_after: second.data[1]!.id });
    expect(last.data.map((customer) => customer.id)).toEqual(newestFirst.slice(4));
    expect(last.has_more).toBe(false);

    const back = await stripe.customers.list({ email: 'page@example.com', limit: 2, ending_before: last.data[0]!.id });
    expect(back.data.map((customer) => customer.id)).toEqual(newestFirst.slice(2, 4));

    const all = await stripe.customers.list({ email: 'page@example.com', limit: 2 }).autoPagingToArray({ limit: 100 });
    expect(all.map((customer) => customer.id)).toEqual(newestFirst);

    expect((await stripe.customers.list({ email: 'nobody@example.com' })).data).toEqual([]);
  });
});
