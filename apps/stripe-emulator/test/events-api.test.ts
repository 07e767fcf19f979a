import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { matchesCreated, matchesType } from '../src/resources/events';
import { WEBHOOK_SECRET, startTestEmulator, startWebhookReceiver } from './helpers';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup(options: Parameters<typeof startTestEmulator>[0] = {}) {
  const started = await startTestEmulator(options);
  cleanups.push(() => started.emulator.close());
  return started;
}

async function stripeError(call: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  const error = await call.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(Stripe.errors.StripeError);
  return error as Stripe.errors.StripeError;
}

describe('GET /v1/events', () => {
  it('lists newest first and paginates with limit, starting_after and ending_before', async () => {
    const { stripe, emulator } = await setup();
    for (let i = 0; i < 5; i++) await stripe.customers.create({ email: `c${i}@example.com` });
    const all = emulator.events().reverse();
    const first = await stripe.events.list({ limit: 2 });
    expect(first.data.map((event) => event.id)).toEqual(all.slice(0, 2).map((event) => event.id));
    expect(first).toMatchObject({ object: 'list', has_more: true, url: '/v1/events' });
    const second = await stripe.events.list({ limit: 2, starting_after: first.data[1]!.id });
    expect(second.data.map((event) => event.id)).toEqual(all.slice(2, 4).map((event) => event.id));
    const back = await stripe.events.list({ limit: 2, ending_before: second.data[0]!.id });
    expect(back.data.map((event) => event.id)).toEqual(all.slice(0, 2).map((event) => event.id));
    const everything: string[] = [];
    for await (const event of stripe.events.list({ limit: 2 })) everything.push(event.id);
    expect(everything).toEqual(all.map((event) => event.id));
  });

  it('filters by type (exact and wildcard) and types[]', async () => {
    const { stripe } = await setup();
    const customer = await stripe.customers.create({ email: 'a@example.com' });
    await stripe.customers.update(customer.id, { name: 'A' });
    await stripe.products.create({ name: 'P' });
    const types = async (params: Stripe.EventListParams) => (await stripe.events.list(params)).data.map((event) => event.type);
    expect(await types({ type: 'customer.created' })).toEqual(['customer.created']);
    expect(await types({ type: 'customer.*' })).toEqual(['customer.updated', 'customer.created']);
    expect(await types({ type: '*.created' })).toEqual(['product.created', 'customer.created']);
    expect(await types({ types: ['product.created', 'customer.updated'] })).toEqual(['product.created', 'customer.updated']);
    expect(await types({ type: 'invoice.paid' })).toEqual([]);
    expect(await stripeError(stripe.events.list({ type: 'customer.created', types: ['product.created'] }))).toMatchObject({ statusCode: 400, param: 'types' });
  });

  it('filters by created (exact and gt/gte/lt/lte, unix seconds)', async () => {
    const { stripe, emulator } = await setup();
    await stripe.customers.create();
    const created = emulator.events()[0]!.created;
    const count = async (params: Stripe.EventListParams) => (await stripe.events.list(params)).data.length;
    expect(await count({ created })).toBe(1);
    expect(await count({ created: created + 1 })).toBe(0);
    expect(await count({ created: { gte: created } })).toBe(1);
    expect(await count({ created: { gt: created } })).toBe(0);
    expect(await count({ created: { lte: created, gt: created - 10 } })).toBe(1);
    expect(await count({ created: { lt: created } })).toBe(0);
    expect(await stripeError(stripe.events.list({ created: { gt: 'yesterday' as unknown as number } }))).toMatchObject({ statusCode: 400, param: 'created[gt]' });
    expect(await stripeError(stripe.events.list({ created: { after: 1 } as Stripe.RangeQueryParam }))).toMatchObject({ statusCode: 400 });
  });

  it('filters by delivery_success', async () => {
    const receiver = await startWebhookReceiver(WEBHOOK_SECRET, [500, 500, 500, 500]);
    cleanups.push(receiver.close);
    const { stripe, emulator } = await setup({ webhookEndpoints: [{ url: receiver.url, secret: WEBHOOK_SECRET }], retryScheduleMs: [10] });
    await stripe.customers.create({ email: 'fails@example.com' }); // 500, 500: never delivered
    await emulator.waitForIdle();
    await stripe.products.create({ name: 'delivered' }); // 500, 500 again (4 scripted failures in all)
    await emulator.waitForIdle();
    await stripe.products.create({ name: 'ok' }); // 200
    await emulator.waitForIdle();
    const ok = await stripe.events.list({ delivery_success: true });
    const failed = await stripe.events.list({ delivery_success: false });
    expect(ok.data.map((event) => event.type)).toEqual(['product.created']);
    expect(ok.data[0]!.pending_webhooks).toBe(0);
    expect(failed.data.map((event) => event.type)).toEqual(['product.created', 'customer.created']);
  });

  it('rejects unknown parameters and bad limits', async () => {
    const { stripe } = await setup();
    expect(await stripeError(stripe.events.list({ colour: 'red' } as Stripe.EventListParams))).toMatchObject({
      statusCode: 400,
      code: 'parameter_unknown',
      param: 'colour',
      message: 'Received unknown parameter: colour',
    });
    expect(await stripeError(stripe.events.list({ limit: 0 }))).toMatchObject({ statusCode: 400, param: 'limit' });
    expect(await stripeError(stripe.events.list({ limit: 101 }))).toMatchObject({ statusCode: 400, param: 'limit' });
    expect(await stripeError(stripe.events.list({ starting_after: 'evt_nope' }))).toMatchObject({ statusCode: 400, param: 'starting_after' });
  });
});

describe('GET /v1/events/:id', () => {
  it('retrieves an event and answers 404 for unknown ids', async () => {
    const { stripe, emulator } = await setup();
    await stripe.customers.create();
    const event = emulator.events()[0]!;
    expect(await stripe.events.retrieve(event.id)).toEqual(event);
    expect(await stripeError(stripe.events.retrieve('evt_nope'))).toMatchObject({ statusCode: 404, code: 'resource_missing', message: "No such event: 'evt_nope'" });
  });
});

describe('filters', () => {
  it('matches wildcards anywhere and escapes dots', () => {
    expect(matchesType('customer.subscription.updated', 'customer.*')).toBe(true);
    expect(matchesType('customer.subscription.updated', '*')).toBe(true);
    expect(matchesType('customerXsubscription', 'customer.subscription')).toBe(false);
    expect(matchesType('invoice.paid', 'customer.*')).toBe(false);
    expect(matchesCreated(10, { gte: 10, lt: 11 })).toBe(true);
    expect(matchesCreated(11, { gte: 10, lt: 11 })).toBe(false);
  });
});
