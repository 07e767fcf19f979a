import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeliveryAttempt } from '../src/index';
import { WEBHOOK_SECRET, startTestEmulator, startWebhookReceiver } from './helpers';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup(options: Parameters<typeof startTestEmulator>[0] = {}) {
  const started = await startTestEmulator({ retryScheduleMs: [20, 40], ...options });
  cleanups.push(() => started.emulator.close());
  return started;
}

async function receiver(secret: string, statuses: number[] = []) {
  const started = await startWebhookReceiver(secret, statuses);
  cleanups.push(started.close);
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

describe('webhook endpoints API', () => {
  it('returns the secret only on create; retrieve, list, update and delete', async () => {
    const { stripe } = await setup();
    const created = await stripe.webhookEndpoints.create({
      url: 'https://example.com/hook',
      enabled_events: ['customer.created', 'invoice.paid'],
      description: 'Tally',
      metadata: { env: 'test' },
      api_version: '2026-10-28.endive',
    });
    expect(created).toMatchObject({
      object: 'webhook_endpoint',
      url: 'https://example.com/hook',
      enabled_events: ['customer.created', 'invoice.paid'],
      description: 'Tally',
      metadata: { env: 'test' },
      api_version: '2026-10-28.endive',
      status: 'enabled',
      livemode: false,
      application: null,
    });
    expect(created.id).toMatch(/^we_/);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9]{32}$/);

    const retrieved = await stripe.webhookEndpoints.retrieve(created.id);
    expect(retrieved.secret).toBeUndefined();
    expect(retrieved).toEqual({ ...created, secret: undefined });
    expect((await stripe.webhookEndpoints.list()).data.map((endpoint) => [endpoint.id, endpoint.secret])).toEqual([[created.id, undefined]]);

    const updated = await stripe.webhookEndpoints.update(created.id, { url: 'https://example.com/v2', enabled_events: ['*'], disabled: true, metadata: { env: '' } });
    expect(updated).toMatchObject({ url: 'https://example.com/v2', enabled_events: ['*'], status: 'disabled', metadata: {} });
    expect(updated.secret).toBeUndefined();
    expect((await stripe.webhookEndpoints.update(created.id, { disabled: false })).status).toBe('enabled');

    expect(await stripe.webhookEndpoints.del(created.id)).toEqual({ id: created.id, object: 'webhook_endpoint', deleted: true });
    expect(await stripeError(stripe.webhookEndpoints.retrieve(created.id))).toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });

  it('rejects bad inputs with Stripe errors and creates nothing', async () => {
    const { stripe } = await setup();
    const cases: [Stripe.WebhookEndpointCreateParams, Partial<Stripe.errors.StripeError>][] = [
      [{ enabled_events: ['*'] } as Stripe.WebhookEndpointCreateParams, { param: 'url', message: 'Missing required param: url.' }],
      [{ url: 'https://example.com' } as Stripe.WebhookEndpointCreateParams, { param: 'enabled_events', message: 'Missing required param: enabled_events.' }],
      [{ url: 'not a url', enabled_events: ['*'] }, { param: 'url', code: 'url_invalid' }],
      [{ url: 'https://example.com', enabled_events: ['Customer Created' as '*'] }, { param: 'enabled_events[0]' }],
      [{ url: 'https://example.com', enabled_events: ['*'], secret: 'whsec_mine' } as Stripe.WebhookEndpointCreateParams, { param: 'secret', code: 'parameter_unknown' }],
      [{ url: 'https://example.com', enabled_events: ['*'], api_version: 'latest' as '2026-10-28.endive' }, { param: 'api_version' }],
    ];
    for (const [params, expected] of cases) {
      expect(await stripeError(stripe.webhookEndpoints.create(params))).toMatchObject({ statusCode: 400, type: 'StripeInvalidRequestError', ...expected });
    }
    expect((await stripe.webhookEndpoints.list()).data).toEqual([]);
    expect(await stripeError(stripe.webhookEndpoints.update('we_nope', { disabled: true }))).toMatchObject({ statusCode: 404, code: 'resource_missing' });
    expect(await stripeError(stripe.webhookEndpoints.del('we_nope'))).toMatchObject({ statusCode: 404 });
    const endpoint = await stripe.webhookEndpoints.create({ url: 'https://example.com', enabled_events: ['*'] });
    expect(await stripeError(stripe.webhookEndpoints.update(endpoint.id, { disabled: 'maybe' as unknown as boolean }))).toMatchObject({ param: 'disabled' });
    expect((await stripe.webhookEndpoints.retrieve(endpoint.id)).status).toBe('enabled');
  });
});

describe('deliveries to API-created endpoints', () => {
  it('delivers matching events signed with the endpoint secret, alongside configured endpoints', async () => {
    const configured = await receiver(WEBHOOK_SECRET);
    const { stripe, emulator } = await setup({ webhookEndpoints: [{ url: configured.url, secret: WEBHOOK_SECRET }] });
    const placeholder = await stripe.webhookEndpoints.create({ url: 'https://example.com/placeholder', enabled_events: ['customer.created'] });
    const target = await receiver(placeholder.secret!);
    await stripe.webhookEndpoints.update(placeholder.id, { url: target.url });

    const customer = await stripe.customers.create({ email: 'x@example.com' });
    await stripe.customers.update(customer.id, { name: 'X' }); // customer.updated: not enabled for the API endpoint
    await emulator.waitForIdle();

    expect(target.received.map((delivery) => delivery.event?.type)).toEqual(['customer.created']); // verified with the endpoint's own secret
    expect(configured.received.map((delivery) => delivery.event?.type)).toEqual(['customer.created', 'customer.updated']);
    const created = emulator.events().find((event) => event.type === 'customer.created')!;
    expect(created.pending_webhooks).toBe(0);
    const attempt = emulator.deliveries().find((entry) => entry.endpointId === placeholder.id)!;
    expect(attempt).toMatchObject<Partial<DeliveryAttempt>>({ eventId: created.id, endpointUrl: target.url, ok: true, manual: false });
  });

  it('`*` receives everything; disabling stops deliveries and pending retries; deleting too', async () => {
    const { stripe, emulator } = await setup({ retryScheduleMs: [150, 150] });
    const endpoint = await stripe.webhookEndpoints.create({ url: 'https://example.com/x', enabled_events: ['*'] });
    const target = await receiver(endpoint.secret!, [500]);
    await stripe.webhookEndpoints.update(endpoint.id, { url: target.url });

    await stripe.products.create({ name: 'first' });
    await new Promise((done) => setTimeout(done, 60)); // first attempt (500) done, retry scheduled in 150 ms
    await stripe.webhookEndpoints.update(endpoint.id, { disabled: true });
    await stripe.products.create({ name: 'while disabled' });
    await emulator.waitForIdle();
    expect(target.received).toHaveLength(1); // the retry was dropped, the second event never sent
    const [first, second] = emulator.events().filter((event) => event.type === 'product.created');
    expect(first!.pending_webhooks).toBe(1);
    expect(second!.pending_webhooks).toBe(0);

    await stripe.webhookEndpoints.update(endpoint.id, { disabled: false });
    await stripe.products.create({ name: 'enabled again' });
    await emulator.waitForIdle();
    expect(target.received.map((delivery) => (delivery.event?.data.object as Stripe.Product).name)).toEqual(['first', 'enabled again']);

    await stripe.webhookEndpoints.del(endpoint.id);
    await stripe.products.create({ name: 'after delete' });
    await emulator.waitForIdle();
    expect(target.received).toHaveLength(2);
  });

  it('keeps addWebhookEndpoint working', async () => {
    const { stripe, emulator } = await setup();
    const target = await receiver(WEBHOOK_SECRET);
    emulator.addWebhookEndpoint({ url: target.url, secret: WEBHOOK_SECRET });
    await stripe.customers.create();
    await emulator.waitForIdle();
    expect(target.received.map((delivery) => delivery.event?.type)).toEqual(['customer.created']);
  });
});

describe('delivery log and resend', () => {
  it('filters /_emulator/deliveries by event_id, endpoint and status', async () => {
    const failing = await receiver(WEBHOOK_SECRET, [500, 500, 500]);
    const fine = await receiver(WEBHOOK_SECRET);
    const { stripe, emulator } = await setup({
      webhookEndpoints: [
        { url: failing.url.replace('/webhook', '/failing'), secret: WEBHOOK_SECRET },
        { url: fine.url, secret: WEBHOOK_SECRET },
      ],
    });
    await stripe.customers.create();
    await stripe.products.create({ name: 'p' });
    await emulator.waitForIdle();
    const [customerEvent] = emulator.events();
    const get = async (query: string) => {
      const response = await fetch(`${emulator.url}/_emulator/deliveries${query}`);
      return { status: response.status, body: (await response.json()) as DeliveryAttempt[] };
    };
    const all = (await get('')).body;
    expect(all.length).toBe(emulator.deliveries().length);
    expect((await get(`?event_id=${customerEvent!.id}`)).body.every((attempt) => attempt.eventId === customerEvent!.id)).toBe(true);
    expect((await get(`?endpoint=${encodeURIComponent(fine.url)}`)).body.map((attempt) => attempt.endpointUrl)).toEqual([fine.url, fine.url]);
    const failed = (await get('?status=failed')).body;
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((attempt) => !attempt.ok)).toBe(true);
    expect((await get('?status=succeeded')).body.every((attempt) => attempt.ok)).toBe(true);
    expect((await get('?status=maybe')).status).toBe(400);
    expect((await get('?colour=red')).status).toBe(400);
  });

  it('resends an event once, counts it as delivered, and shows it on the dashboard', async () => {
    const target = await receiver(WEBHOOK_SECRET, [500, 500]);
    const { stripe, emulator } = await setup({ webhookEndpoints: [{ url: target.url, secret: WEBHOOK_SECRET }], retryScheduleMs: [10] });
    await stripe.customers.create({ email: 'resend@example.com' });
    await emulator.waitForIdle();
    const event = emulator.events()[0]!;
    expect(event.pending_webhooks).toBe(1);

    const response = await fetch(`${emulator.url}/_emulator/events/${event.id}/resend`, { method: 'POST' });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ scheduled: 1 });
    await emulator.waitForIdle();
    expect(target.received.map((delivery) => delivery.event?.id)).toEqual([event.id, event.id, event.id]);
    const attempts = emulator.deliveries().filter((attempt) => attempt.eventId === event.id);
    expect(attempts.map((attempt) => [attempt.attempt, attempt.status, attempt.manual])).toEqual([
      [1, 500, false],
      [2, 500, false],
      [3, 200, true],
    ]);
    expect(emulator.events()[0]!.pending_webhooks).toBe(0);

    // A browser form post goes back to the page.
    const form = await fetch(`${emulator.url}/_emulator/events/${event.id}/resend`, {
      method: 'POST',
      headers: { Accept: 'text/html' },
      body: new URLSearchParams({ endpoint: target.url }),
      redirect: 'manual',
    });
    expect(form.status).toBe(303);
    await emulator.waitForIdle();
    expect(emulator.events()[0]!.pending_webhooks).toBe(0); // a second success does not count twice

    const page = await (await fetch(`${emulator.url}/_emulator`)).text();
    expect(page).toContain(event.id);
    expect(page).toContain(`action="/_emulator/events/${event.id}/resend"`);
    expect(page).toContain('4 attempts');
    expect(page).toContain('(resend)');

    expect((await fetch(`${emulator.url}/_emulator/events/evt_nope/resend`, { method: 'POST' })).status).toBe(404);
  });

  it('shows the next retry time of a failing delivery', async () => {
    const target = await receiver(WEBHOOK_SECRET, [500]);
    const { stripe, emulator } = await setup({ webhookEndpoints: [{ url: target.url, secret: WEBHOOK_SECRET }], retryScheduleMs: [400] });
    await stripe.customers.create();
    await new Promise((done) => setTimeout(done, 100));
    const page = await (await fetch(`${emulator.url}/_emulator`)).text();
    expect(page).toMatch(/next retry \d{4}-\d{2}-\d{2}T/);
    await emulator.waitForIdle();
  });
});
