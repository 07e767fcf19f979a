import Stripe from 'stripe';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { startTestEmulator, TEST_KEY } from './helpers';
import { startThinEventReceiver } from './thin-events';

const SECRET = 'whsec_thin_event_receiver_secret';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** An emulator whose thin events go to a `parseEventNotification` receiver (configured endpoint). */
async function setup() {
  const { emulator, stripe } = await startTestEmulator({ retryScheduleMs: [50] });
  const receiver = await startThinEventReceiver(stripe, SECRET);
  emulator.addWebhookEndpoint({ url: receiver.url, secret: SECRET });
  cleanups.push(async () => {
    await emulator.close();
    await receiver.close();
  });
  return { emulator, stripe, receiver };
}

/** A client authenticated with a meter event session token, as Stripe's docs use it for the stream. */
const streamClient = (emulator: StripeEmulator, token: string) =>
  new Stripe(token, { host: '127.0.0.1', port: emulator.port, protocol: 'http', maxNetworkRetries: 0 });

const minuteFloor = (seconds: number) => Math.floor(seconds / 60) * 60;
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function rejection(call: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  const error = await call.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(Stripe.errors.StripeError);
  return error as Stripe.errors.StripeError;
}

async function meterErrors(emulator: StripeEmulator) {
  return (await (await fetch(`${emulator.url}/_emulator/meter_event_errors`)).json()) as { code: string; event: Stripe.Billing.MeterEvent }[];
}

describe('v2 meter event stream', () => {
  it('creates a 15-minute session and records stream events like v1 meter events (same aggregates, same identifier dedupe)', async () => {
    const { emulator, stripe } = await setup();
    const customer = await stripe.customers.create({ email: 'stream@example.com' });
    const meter = await stripe.billing.meters.create({ display_name: 'API calls', event_name: 'api_call', default_aggregation: { formula: 'sum' } });

    const session = await stripe.v2.billing.meterEventSession.create();
    expect(session).toMatchObject({ object: 'v2.billing.meter_event_session', livemode: false });
    expect(session.id).toMatch(/^bmes_test_/);
    expect(session.authentication_token).toEqual(expect.any(String));
    expect(Date.parse(session.expires_at) - Date.parse(session.created)).toBe(15 * 60 * 1000);
    expect(session.created).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    const stream = streamClient(emulator, session.authentication_token);
    const result = await stream.v2.billing.meterEventStream.create({
      events: [
        { event_name: 'api_call', payload: { stripe_customer_id: customer.id, value: '5' }, identifier: 'stream-1' },
        { event_name: 'api_call', payload: { stripe_customer_id: customer.id, value: '7' }, timestamp: new Date().toISOString() },
        // Same identifier again in the batch: counted once, no error.
        { event_name: 'api_call', payload: { stripe_customer_id: customer.id, value: '100' }, identifier: 'stream-1' },
      ],
    });
    expect(result).toEqual({});

    // A v1 event with an identifier the stream used is a duplicate too.
    await expect(
      stripe.billing.meterEvents.create({ event_name: 'api_call', payload: { stripe_customer_id: customer.id, value: '1' }, identifier: 'stream-1' }),
    ).rejects.toMatchObject({ code: 'resource_already_exists' });

    const start = minuteFloor(nowSeconds() - 3600);
    const summaries = await stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: start, end_time: start + 7200 });
    expect(summaries.data[0]?.aggregated_value).toBe(12);
    expect(await meterErrors(emulator)).toEqual([]);
  });

  it('records invalid stream events in the error list and reports them as thin events a receiver verifies with parseEventNotification', async () => {
    const { emulator, stripe, receiver } = await setup();
    const customer = await stripe.customers.create();
    const meter = await stripe.billing.meters.create({ display_name: 'Tokens', event_name: 'tokens', default_aggregation: { formula: 'sum' } });
    const { authentication_token: token } = await stripe.v2.billing.meterEventSession.create();

    await streamClient(emulator, token).v2.billing.meterEventStream.create({
      events: [
        { event_name: 'nobody_listens', payload: { stripe_customer_id: customer.id, value: '1' }, identifier: 'no-meter-1' },
        { event_name: 'tokens', payload: { stripe_customer_id: 'cus_unknown', value: '1' }, identifier: 'unknown-customer' },
        { event_name: 'tokens', payload: { stripe_customer_id: customer.id, value: 'lots' }, identifier: 'bad-value' },
        { event_name: 'tokens', payload: { stripe_customer_id: customer.id, value: '3' }, timestamp: new Date(Date.now() - 40 * 86_400_000).toISOString(), identifier: 'too-old' },
      ],
    });
    expect((await meterErrors(emulator)).map((error) => [error.event.identifier, error.code])).toEqual([
      ['no-meter-1', 'no_meter'],
      ['unknown-customer', 'meter_event_customer_not_found'],
      ['bad-value', 'meter_event_invalid_value'],
      ['too-old', 'timestamp_too_far_in_past'],
    ]);

    // Reported on the emulator's next sweep (about a second later).
    const noMeter = await receiver.waitFor('v1.billing.meter.no_meter_found');
    const report = await receiver.waitFor('v1.billing.meter.error_report_triggered');
    expect(noMeter).toMatchObject({ object: 'v2.core.event', livemode: false });
    expect(noMeter.id).toMatch(/^evt_test_/);
    expect(Number.isNaN(Date.parse(noMeter.created))).toBe(false);
    expect('related_object' in noMeter).toBe(false);
    expect(report).toMatchObject({ related_object: { id: meter.id, type: 'billing.meter', url: `/v1/billing/meters/${meter.id}` } });

    // The receiver fetches the full event (GET /v2/core/events/{id}) and the related meter.
    const full = await report.fetchEvent();
    expect(full).toMatchObject({
      id: report.id,
      type: 'v1.billing.meter.error_report_triggered',
      data: {
        developer_message_summary: 'There are 3 invalid events',
        reason: {
          error_count: 3,
          error_types: [
            { code: 'meter_event_customer_not_found', error_count: 1, sample_errors: [{ request: { identifier: 'unknown-customer' } }] },
            { code: 'meter_event_invalid_value', error_count: 1, sample_errors: [{ request: { identifier: 'bad-value' } }] },
            { code: 'timestamp_too_far_in_past', error_count: 1, sample_errors: [{ request: { identifier: 'too-old' } }] },
          ],
        },
      },
    });
    expect(await report.fetchRelatedObject()).toMatchObject({ id: meter.id, object: 'billing.meter' });
    const fullNoMeter = await stripe.v2.core.events.retrieve(noMeter.id);
    expect(fullNoMeter).toMatchObject({ type: 'v1.billing.meter.no_meter_found', data: { reason: { error_count: 1, error_types: [{ code: 'no_meter' }] } } });

    // Listed too (newest first), filterable by related object.
    const listed = await stripe.v2.core.events.list({ object_id: meter.id });
    expect(listed.data.map((event) => event.id)).toEqual([report.id]);
    const all: string[] = [];
    for await (const event of stripe.v2.core.events.list({ limit: 1 })) all.push(event.id);
    expect(new Set(all)).toEqual(new Set([report.id, noMeter.id]));

    // Thin events are not v1 events, and each error is reported once.
    expect(emulator.events().map((event) => event.type)).not.toContain('v1.billing.meter.no_meter_found');
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(receiver.notifications).toHaveLength(2);
  });

  it('reports v1 meter events that fail asynchronously too', async () => {
    const { stripe, receiver } = await setup();
    await stripe.billing.meterEvents.create({ event_name: 'unmetered', payload: { stripe_customer_id: 'cus_x', value: '1' } });
    const notification = await receiver.waitFor('v1.billing.meter.no_meter_found');
    expect(await stripe.v2.core.events.retrieve(notification.id)).toMatchObject({ data: { reason: { error_types: [{ code: 'no_meter' }] } } });
  });

  it('delivers thin events to API webhook endpoints only when enabled_events name them or `*`', async () => {
    const { emulator, stripe } = await setup();
    // The SDK's v1 `EnabledEvent` type has no thin event types (Stripe sends those to event
    // destinations only); the emulator, which has no event destinations, accepts them here.
    const thin = (type: string) => type as Stripe.WebhookEndpointCreateParams.EnabledEvent;
    const wanted = await stripe.webhookEndpoints.create({ url: 'http://127.0.0.1:9/placeholder', enabled_events: [thin('v1.billing.meter.no_meter_found')] });
    const wantedReceiver = await startThinEventReceiver(stripe, wanted.secret!); // verified with the endpoint's own secret
    cleanups.push(() => wantedReceiver.close());
    await stripe.webhookEndpoints.update(wanted.id, { url: wantedReceiver.url });
    const other = await stripe.webhookEndpoints.create({ url: 'http://127.0.0.1:9/other', enabled_events: ['customer.created', thin('v1.billing.meter.error_report_triggered')] });

    await stripe.billing.meterEvents.create({ event_name: 'nobody', payload: { stripe_customer_id: 'cus_x', value: '1' } });
    await wantedReceiver.waitFor('v1.billing.meter.no_meter_found');
    await emulator.waitForIdle();
    expect(emulator.deliveries().filter((attempt) => attempt.endpointId === other.id)).toEqual([]);
  });

  describe('bad requests', () => {
    async function v2Post(emulator: StripeEmulator, path: string, body: unknown, authorization?: string) {
      const response = await fetch(`${emulator.url}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Stripe-Version': '2026-10-28.endive', ...(authorization ? { Authorization: authorization } : {}) },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as { error?: { type: string; code: string; message: string; param?: string } } };
    }

    it('refuses a missing or unknown token with 401 and an API key on the stream', async () => {
      const { emulator } = await setup();
      const events = [{ event_name: 'x', payload: { value: '1' } }];
      for (const authorization of [undefined, 'Bearer not_a_session_token', `Bearer ${TEST_KEY}`]) {
        const answer = await v2Post(emulator, '/v2/billing/meter_event_stream', { events }, authorization);
        expect(answer.status).toBe(401);
        expect(answer.body.error).toMatchObject({ type: 'invalid_request_error', code: expect.any(String), message: expect.any(String) });
      }
      const error = await rejection(streamClient(emulator, 'not_a_session_token').v2.billing.meterEventStream.create({ events }));
      expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
      expect(error.statusCode).toBe(401);
    });

    it('answers an expired token with 401 temporary_session_expired (TemporarySessionExpiredError)', async () => {
      const { emulator, stripe } = await setup();
      const { authentication_token: token } = await stripe.v2.billing.meterEventSession.create();
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + 15 * 60 * 1000 + 1000);
      const error = await rejection(streamClient(emulator, token).v2.billing.meterEventStream.create({ events: [{ event_name: 'x', payload: { value: '1' } }] }));
      expect(error.type).toBe('TemporarySessionExpiredError');
      expect(error.statusCode).toBe(401);
      expect(error.code).toBe('billing_meter_event_session_expired');
    });

    it('rejects more than 100 events, no events, malformed timestamps and missing fields with a v2 400, recording nothing', async () => {
      const { emulator, stripe } = await setup();
      const { authentication_token: token } = await stripe.v2.billing.meterEventSession.create();
      const stream = streamClient(emulator, token).v2.billing.meterEventStream;
      const event = { event_name: 'x', payload: { value: '1' } };

      const tooMany = await rejection(stream.create({ events: Array.from({ length: 101 }, () => event) }));
      expect(tooMany).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(tooMany.statusCode).toBe(400);
      expect(tooMany.param).toBe('events');
      await expect(stream.create({ events: [] })).rejects.toMatchObject({ statusCode: 400, param: 'events' });
      await expect(stream.create({ events: [{ ...event, timestamp: '2024-13-45 nonsense' }] })).rejects.toMatchObject({ statusCode: 400, param: 'events[0][timestamp]' });
      await expect(stream.create({ events: [{ ...event, timestamp: '1718000000' }] })).rejects.toMatchObject({ statusCode: 400 });
      await expect(stream.create({ events: [{ payload: { value: '1' } } as never] })).rejects.toMatchObject({ statusCode: 400, param: 'events[0][event_name]' });

      const raw = await v2Post(emulator, '/v2/billing/meter_event_stream', { events: [{ ...event, timestamp: 'yesterday' }] }, `Bearer ${token}`);
      expect(raw.status).toBe(400);
      expect(Object.keys(raw.body.error ?? {}).sort()).toEqual(['code', 'message', 'param', 'type']);
      expect(raw.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_fields', param: 'events[0][timestamp]' });

      expect(await meterErrors(emulator)).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect(await stripe.v2.core.events.list()).toMatchObject({ data: [] });
    });

    it('answers v2-shaped errors for unknown v2 URLs, unknown events, session parameters and bad Stripe-Version', async () => {
      const { emulator, stripe } = await setup();
      const unknownUrl = await v2Post(emulator, '/v2/billing/nothing_here', {}, `Bearer ${TEST_KEY}`);
      expect(unknownUrl.status).toBe(404);
      expect(unknownUrl.body.error).toMatchObject({ type: 'invalid_request_error', code: 'not_found' });

      const noKey = await v2Post(emulator, '/v2/billing/meter_event_session', {});
      expect(noKey.status).toBe(401);

      const unknownParam = await v2Post(emulator, '/v2/billing/meter_event_session', { foo: 'bar' }, `Bearer ${TEST_KEY}`);
      expect(unknownParam.status).toBe(400);
      expect(unknownParam.body.error).toMatchObject({ type: 'invalid_request_error', code: 'parameter_unknown', param: 'foo' });

      const badVersion = await fetch(`${emulator.url}/v2/billing/meter_event_session`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TEST_KEY}`, 'Stripe-Version': 'latest please' },
      });
      expect(badVersion.status).toBe(400);

      const missing = await rejection(stripe.v2.core.events.retrieve('evt_test_65nope'));
      expect(missing.statusCode).toBe(404);
      expect(missing).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    });
  });
});
