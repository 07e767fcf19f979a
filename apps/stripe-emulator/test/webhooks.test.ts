import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeliveryAttempt, StripeEmulator } from '../src/index';
import { WEBHOOK_SECRET, createSession, startTestEmulator, startWebhookReceiver } from './helpers';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup(statuses: number[] = [], retryScheduleMs = [50, 100, 200]) {
  const receiver = await startWebhookReceiver(WEBHOOK_SECRET, statuses);
  const { emulator, stripe } = await startTestEmulator({ webhookEndpoints: [{ url: receiver.url, secret: WEBHOOK_SECRET }], retryScheduleMs });
  cleanups.push(() => emulator.close(), receiver.close);
  return { receiver, emulator, stripe };
}

const attemptsFor = (emulator: StripeEmulator, eventId: string) => emulator.deliveries().filter((attempt) => attempt.eventId === eventId);

describe('webhook delivery', () => {
  it('signs every event so that stripe.webhooks.constructEvent accepts it', async () => {
    const { receiver, emulator, stripe } = await setup();
    const session = await createSession(stripe, { customer_email: 'hook@example.com' });
    await emulator.completeCheckoutSession(session.id);
    await emulator.waitForIdle();

    const events = emulator.events();
    expect(receiver.received).toHaveLength(events.length);
    for (const delivery of receiver.received) {
      expect(delivery.event, delivery.body).not.toBeNull();
      expect(delivery.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(delivery.headers['user-agent']).toBe('Stripe/1.0 (+https://stripe.com/docs/webhooks)');
      expect(delivery.headers['stripe-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    }
    expect(new Set(receiver.received.map((delivery) => delivery.event!.type))).toEqual(new Set(events.map((event) => event.type)));
    const completed = receiver.received.find((delivery) => delivery.event?.type === 'checkout.session.completed')!.event!;
    expect(completed).toMatchObject({ object: 'event', api_version: '2026-10-28.endive', livemode: false, pending_webhooks: 1, data: { object: { id: session.id, status: 'complete' } } });
    expect((completed.data.object as Stripe.Checkout.Session).customer).toMatch(/^cus_/);

    const stored = emulator.events().find((event) => event.id === completed.id);
    expect(stored?.pending_webhooks).toBe(0);
  });

  it('retries an endpoint answering 500 twice, then logs the accepted attempt', async () => {
    const { receiver, emulator, stripe } = await setup([500, 500]);
    const customer = await stripe.customers.create({ email: 'retry@example.com' });
    await emulator.waitForIdle();

    const event = emulator.events().find((e) => e.type === 'customer.created')!;
    expect((event.data.object as Stripe.Customer).id).toBe(customer.id);
    const attempts = attemptsFor(emulator, event.id);
    expect(attempts.map((attempt) => [attempt.attempt, attempt.status, attempt.ok])).toEqual([
      [1, 500, false],
      [2, 500, false],
      [3, 200, true],
    ]);
    expect(attempts.map((attempt) => attempt.nextRetryInMs)).toEqual([50, 100, null]);
    expect(attempts[0]).toMatchObject<Partial<DeliveryAttempt>>({ eventType: 'customer.created', endpointUrl: receiver.url, error: null });
    expect(receiver.received.map((delivery) => delivery.event?.id)).toEqual([event.id, event.id, event.id]);
  });

  it('gives up after the last scheduled retry of an unreachable endpoint', async () => {
    const { emulator, stripe } = await startTestEmulator({ webhookEndpoints: [{ url: 'http://127.0.0.1:9/unreachable', secret: WEBHOOK_SECRET }], retryScheduleMs: [20, 20] });
    cleanups.push(() => emulator.close());
    await stripe.customers.create({});
    await emulator.waitForIdle();
    const attempts = emulator.deliveries();
    expect(attempts.map((attempt) => attempt.attempt)).toEqual([1, 2, 3]);
    expect(attempts.every((attempt) => attempt.status === null && attempt.error !== null && !attempt.ok)).toBe(true);
  });

  it('never blocks API responses on deliveries', async () => {
    const hanging = createServer(() => {
      // Accepts the delivery and never answers.
    });
    await new Promise<void>((done) => hanging.listen(0, '127.0.0.1', done));
    const { port } = hanging.address() as AddressInfo;
    const { emulator, stripe } = await startTestEmulator({ webhookEndpoints: [{ url: `http://127.0.0.1:${port}/`, secret: WEBHOOK_SECRET }] });
    cleanups.push(
      () => emulator.close(),
      () => new Promise<void>((done) => {
        hanging.closeAllConnections();
        hanging.close(() => done());
      }),
    );
    const customer = await stripe.customers.create({ email: 'fast@example.com' });
    expect(customer.object).toBe('customer');
    expect(emulator.deliveries()).toEqual([]);
  });

  it('serves the delivery log as JSON and a dashboard page', async () => {
    const { emulator, stripe } = await setup();
    await stripe.customers.create({ email: 'log@example.com' });
    await emulator.waitForIdle();

    const json = (await (await fetch(`${emulator.url}/_emulator/deliveries`)).json()) as DeliveryAttempt[];
    expect(json).toEqual(emulator.deliveries());
    expect(json[0]).toMatchObject({ eventType: 'customer.created', attempt: 1, status: 200, ok: true });
    expect(typeof json[0]!.durationMs).toBe('number');
    expect(Date.parse(json[0]!.timestamp)).not.toBeNaN();

    const dashboard = await (await fetch(`${emulator.url}/_emulator`)).text();
    expect(dashboard).toContain('customer.created');
    expect(dashboard).toContain(json[0]!.eventId);
  });

  it('adds endpoints at runtime', async () => {
    const { emulator, stripe } = await startTestEmulator({ retryScheduleMs: [] });
    cleanups.push(() => emulator.close());
    await stripe.customers.create({});
    const receiver = await startWebhookReceiver(WEBHOOK_SECRET);
    cleanups.push(receiver.close);
    emulator.addWebhookEndpoint({ url: receiver.url, secret: WEBHOOK_SECRET });
    await stripe.customers.create({ email: 'later@example.com' });
    await emulator.waitForIdle();
    expect(receiver.received.map((delivery) => (delivery.event?.data.object as Stripe.Customer).email)).toEqual(['later@example.com']);
  });
});
