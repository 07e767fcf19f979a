import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { aggregateMeterEvents, meterUsage, type MeterEventRecord } from '../src/billing/meter-usage';
import type { EmulatorContext } from '../src/core/context';
import { EventPublisher } from '../src/core/events';
import { Store } from '../src/core/store';
import { startTestEmulator, TEST_KEY } from './helpers';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup() {
  const started = await startTestEmulator();
  cleanups.push(() => started.emulator.close());
  return started;
}

const now = () => Math.floor(Date.now() / 1000);

/** The body of a rejected SDK call (or fails the test if the call succeeds). */
async function stripeError(call: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  const error = await call.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(Stripe.errors.StripeError);
  return error as Stripe.errors.StripeError;
}

describe('billing meters', () => {
  it('creates a meter with Stripe defaults, publishes billing.meter.created, retrieves and lists it', async () => {
    const { stripe, emulator } = await setup();
    const meter = await stripe.billing.meters.create({ display_name: 'API calls', event_name: 'api_call', default_aggregation: { formula: 'sum' } });
    expect(meter).toMatchObject({
      object: 'billing.meter',
      display_name: 'API calls',
      event_name: 'api_call',
      default_aggregation: { formula: 'sum' },
      customer_mapping: { event_payload_key: 'stripe_customer_id', type: 'by_id' },
      value_settings: { event_payload_key: 'value' },
      event_time_window: null,
      status: 'active',
      status_transitions: { deactivated_at: null },
      livemode: false,
    });
    expect(meter.id).toMatch(/^mtr_test_/);
    expect(await stripe.billing.meters.retrieve(meter.id)).toEqual(meter);
    expect((await stripe.billing.meters.list()).data.map((m) => m.id)).toEqual([meter.id]);
    expect(emulator.events().map((event) => event.type)).toEqual(['billing.meter.created']);
  });

  it('honours custom payload keys and event_time_window', async () => {
    const { stripe } = await setup();
    const meter = await stripe.billing.meters.create({
      display_name: 'Tokens',
      event_name: 'tokens',
      default_aggregation: { formula: 'last' },
      customer_mapping: { event_payload_key: 'account', type: 'by_id' },
      value_settings: { event_payload_key: 'tokens' },
      event_time_window: 'hour',
    });
    expect(meter).toMatchObject({ customer_mapping: { event_payload_key: 'account' }, value_settings: { event_payload_key: 'tokens' }, event_time_window: 'hour' });
  });

  it('rejects a second active meter with the same event_name, and bad inputs, without creating anything', async () => {
    const { stripe } = await setup();
    await stripe.billing.meters.create({ display_name: 'A', event_name: 'dup', default_aggregation: { formula: 'count' } });
    const duplicate = await stripeError(stripe.billing.meters.create({ display_name: 'B', event_name: 'dup', default_aggregation: { formula: 'count' } }));
    expect(duplicate).toMatchObject({ statusCode: 400, type: 'StripeInvalidRequestError', param: 'event_name' });

    const missing = await stripeError(stripe.billing.meters.create({ display_name: 'C', event_name: 'x' } as Stripe.Billing.MeterCreateParams));
    expect(missing).toMatchObject({ statusCode: 400, param: 'default_aggregation', message: 'Missing required param: default_aggregation.' });
    const badFormula = await stripeError(
      stripe.billing.meters.create({ display_name: 'C', event_name: 'x', default_aggregation: { formula: 'max' } }),
    );
    expect(badFormula).toMatchObject({ statusCode: 400, param: 'default_aggregation[formula]' });
    expect(badFormula.message).toBe('Invalid default_aggregation[formula]: must be one of count, last, or sum');
    const unknown = await stripeError(
      stripe.billing.meters.create({ display_name: 'C', event_name: 'x', default_aggregation: { formula: 'sum' }, colour: 'red' } as Stripe.Billing.MeterCreateParams),
    );
    expect(unknown).toMatchObject({ statusCode: 400, param: 'colour', code: 'parameter_unknown', message: 'Received unknown parameter: colour' });
    const badMapping = await stripeError(
      stripe.billing.meters.create({
        display_name: 'C',
        event_name: 'x',
        default_aggregation: { formula: 'sum' },
        customer_mapping: { event_payload_key: 'k', type: 'by_email' as 'by_id' },
      }),
    );
    expect(badMapping).toMatchObject({ param: 'customer_mapping[type]' });
    expect((await stripe.billing.meters.list()).data).toHaveLength(1);
  });

  it('updates display_name only, deactivates and reactivates with events and status filter', async () => {
    const { stripe, emulator } = await setup();
    const meter = await stripe.billing.meters.create({ display_name: 'Old', event_name: 'ev', default_aggregation: { formula: 'sum' } });
    const updated = await stripe.billing.meters.update(meter.id, { display_name: 'New' });
    expect(updated.display_name).toBe('New');
    const unknown = await stripeError(stripe.billing.meters.update(meter.id, { event_name: 'other' } as Stripe.Billing.MeterUpdateParams));
    expect(unknown).toMatchObject({ param: 'event_name', code: 'parameter_unknown' });

    const inactive = await stripe.billing.meters.deactivate(meter.id);
    expect(inactive.status).toBe('inactive');
    expect(inactive.status_transitions.deactivated_at).toBeGreaterThan(0);
    expect((await stripe.billing.meters.list({ status: 'inactive' })).data.map((m) => m.id)).toEqual([meter.id]);
    expect((await stripe.billing.meters.list({ status: 'active' })).data).toEqual([]);
    expect(await stripeError(stripe.billing.meters.deactivate(meter.id))).toMatchObject({ statusCode: 400 });

    // The event name is free again while the meter is inactive; reactivating then conflicts.
    const replacement = await stripe.billing.meters.create({ display_name: 'R', event_name: 'ev', default_aggregation: { formula: 'sum' } });
    expect(await stripeError(stripe.billing.meters.reactivate(meter.id))).toMatchObject({ statusCode: 400, param: 'event_name' });
    await stripe.billing.meters.deactivate(replacement.id);
    const active = await stripe.billing.meters.reactivate(meter.id);
    expect(active).toMatchObject({ status: 'active', status_transitions: { deactivated_at: null } });

    const types = emulator.events().map((event) => event.type);
    expect(types).toEqual([
      'billing.meter.created',
      'billing.meter.updated',
      'billing.meter.deactivated',
      'billing.meter.created',
      'billing.meter.deactivated',
      'billing.meter.reactivated',
    ]);
    const updatedEvent = emulator.events()[1]!;
    expect(updatedEvent.data.previous_attributes).toMatchObject({ display_name: 'Old' });
  });

  it('answers 404 resource_missing for unknown meter ids', async () => {
    const { stripe } = await setup();
    for (const call of [
      stripe.billing.meters.retrieve('mtr_nope'),
      stripe.billing.meters.update('mtr_nope', { display_name: 'x' }),
      stripe.billing.meters.deactivate('mtr_nope'),
      stripe.billing.meters.listEventSummaries('mtr_nope', { customer: 'cus_x', start_time: 0, end_time: 60 }),
    ]) {
      expect(await stripeError(call)).toMatchObject({ statusCode: 404, code: 'resource_missing', message: "No such billing.meter: 'mtr_nope'" });
    }
  });
});

describe('meter events and event summaries', () => {
  async function withMeter(formula: 'sum' | 'count' | 'last') {
    const started = await setup();
    const customer = await started.stripe.customers.create({ email: 'usage@example.com' });
    const meter = await started.stripe.billing.meters.create({ display_name: 'Calls', event_name: `calls_${formula}`, default_aggregation: { formula } });
    return { ...started, customer, meter };
  }

  it('records events and sums them in event summaries over [start, end)', async () => {
    const { stripe, customer, meter } = await withMeter('sum');
    const hour = Math.floor(now() / 3600) * 3600 - 3 * 3600;
    const sent = await stripe.billing.meterEvents.create({
      event_name: meter.event_name,
      payload: { stripe_customer_id: customer.id, value: '5' },
      timestamp: hour + 10,
      identifier: 'evt-a',
    });
    expect(sent).toEqual({
      object: 'billing.meter_event',
      created: expect.any(Number),
      event_name: meter.event_name,
      identifier: 'evt-a',
      livemode: false,
      payload: { stripe_customer_id: customer.id, value: '5' },
      timestamp: hour + 10,
    });
    await stripe.billing.meterEvents.create({ event_name: meter.event_name, payload: { stripe_customer_id: customer.id, value: '7' }, timestamp: hour + 3700 });
    await stripe.billing.meterEvents.create({ event_name: meter.event_name, payload: { stripe_customer_id: customer.id, value: '100' }, timestamp: hour + 7200 });

    const whole = await stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: hour, end_time: hour + 7200 });
    expect(whole.data).toEqual([
      { id: expect.stringMatching(/^mtrusg_/), object: 'billing.meter_event_summary', aggregated_value: 12, start_time: hour, end_time: hour + 7200, livemode: false, meter: meter.id },
    ]);
    const hourly = await stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: hour, end_time: hour + 3 * 3600, value_grouping_window: 'hour' });
    expect(hourly.data.map((summary) => [summary.start_time - hour, summary.aggregated_value])).toEqual([
      [7200, 100],
      [3600, 7],
      [0, 5],
    ]);
    const page = await stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: hour, end_time: hour + 3 * 3600, value_grouping_window: 'hour', limit: 1, starting_after: hourly.data[0]!.id });
    expect(page.data.map((summary) => summary.aggregated_value)).toEqual([7]);
    expect(page.has_more).toBe(true);
  });

  it('ignores nothing silently: a duplicate identifier within 24 h is a 400 and is counted once', async () => {
    const { stripe, customer, meter, emulator } = await withMeter('sum');
    const params = { event_name: meter.event_name, payload: { stripe_customer_id: customer.id, value: '3' }, identifier: 'once' };
    await stripe.billing.meterEvents.create(params);
    const duplicate = await stripeError(stripe.billing.meterEvents.create(params));
    expect(duplicate).toMatchObject({ statusCode: 400, type: 'StripeInvalidRequestError', code: 'resource_already_exists', param: 'identifier', message: 'An event already exists with identifier once.' });
    const minute = Math.floor(now() / 60) * 60;
    const summary = await stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: minute - 3600, end_time: minute + 3600 });
    expect(summary.data[0]!.aggregated_value).toBe(3);
    expect(emulator.events().filter((event) => event.type.startsWith('billing.meter_event'))).toEqual([]);
  });

  it('rejects timestamps older than 35 days or more than 5 minutes ahead, and missing/unknown params', async () => {
    const { stripe, customer, meter } = await withMeter('sum');
    const payload = { stripe_customer_id: customer.id, value: '1' };
    expect(await stripeError(stripe.billing.meterEvents.create({ event_name: meter.event_name, payload, timestamp: now() - 36 * 86400 }))).toMatchObject({
      statusCode: 400,
      param: 'timestamp',
    });
    expect(await stripeError(stripe.billing.meterEvents.create({ event_name: meter.event_name, payload, timestamp: now() + 600 }))).toMatchObject({
      statusCode: 400,
      param: 'timestamp',
    });
    await stripe.billing.meterEvents.create({ event_name: meter.event_name, payload, timestamp: now() - 34 * 86400 });
    await stripe.billing.meterEvents.create({ event_name: meter.event_name, payload, timestamp: now() + 60 });
    expect(await stripeError(stripe.billing.meterEvents.create({ event_name: meter.event_name } as Stripe.Billing.MeterEventCreateParams))).toMatchObject({
      param: 'payload',
      message: 'Missing required param: payload.',
    });
    expect(await stripeError(stripe.billing.meterEvents.create({ payload } as unknown as Stripe.Billing.MeterEventCreateParams))).toMatchObject({ param: 'event_name' });
    expect(
      await stripeError(stripe.billing.meterEvents.create({ event_name: meter.event_name, payload, value: 3 } as Stripe.Billing.MeterEventCreateParams)),
    ).toMatchObject({ param: 'value', code: 'parameter_unknown' });
    expect(
      await stripeError(stripe.billing.meterEvents.create({ event_name: meter.event_name, payload, timestamp: 'soon' as unknown as number })),
    ).toMatchObject({ param: 'timestamp', message: 'Invalid integer: soon' });
  });

  it('accepts events it cannot attribute (as Stripe does, asynchronously) but counts them nowhere', async () => {
    const { stripe, customer, meter, emulator } = await withMeter('sum');
    const accepted: Stripe.Billing.MeterEventCreateParams[] = [
      { event_name: 'no_such_meter', payload: { stripe_customer_id: customer.id, value: '1' } },
      { event_name: meter.event_name, payload: { stripe_customer_id: 'cus_unknown', value: '1' } },
      { event_name: meter.event_name, payload: { value: '1' } },
      { event_name: meter.event_name, payload: { stripe_customer_id: customer.id, value: '1.5' } },
      { event_name: meter.event_name, payload: { stripe_customer_id: customer.id } },
    ];
    for (const params of accepted) expect((await stripe.billing.meterEvents.create(params)).object).toBe('billing.meter_event');
    const minute = Math.floor(now() / 60) * 60;
    const summary = await stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: minute - 3600, end_time: minute + 3600 });
    expect(summary.data[0]!.aggregated_value).toBe(0);

    const report = (await (await fetch(`${emulator.url}/_emulator/meter_event_errors`)).json()) as { code: string }[];
    expect(report.map((entry) => entry.code)).toEqual([
      'no_meter',
      'meter_event_customer_not_found',
      'meter_event_no_customer_defined',
      'meter_event_invalid_value',
      'meter_event_invalid_value',
    ]);
  });

  it('reports archived_meter for events of a deactivated meter, whose earlier usage still counts', async () => {
    const { stripe, customer, meter } = await withMeter('count');
    await stripe.billing.meterEvents.create({ event_name: meter.event_name, payload: { stripe_customer_id: customer.id } });
    await stripe.billing.meters.deactivate(meter.id);
    await stripe.billing.meterEvents.create({ event_name: meter.event_name, payload: { stripe_customer_id: customer.id } });
    const minute = Math.floor(now() / 60) * 60;
    const summary = await stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: minute - 3600, end_time: minute + 3600 });
    expect(summary.data[0]!.aggregated_value).toBe(1);
  });

  // Needs the billing module's test clocks to be registered in `resources/index.ts`.
  it('checks and defaults timestamps in test-clock time for customers on a test clock', async () => {
    const { stripe, meter } = await withMeter('sum');
    const frozen = Math.floor(now() / 60) * 60 - 60 * 86400; // 60 days ago: outside the real-time window
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: frozen });
    const customer = await stripe.customers.create({ test_clock: clock.id });
    const defaulted = await stripe.billing.meterEvents.create({ event_name: meter.event_name, payload: { stripe_customer_id: customer.id, value: '2' } });
    expect(defaulted.timestamp).toBe(frozen);
    await stripe.billing.meterEvents.create({ event_name: meter.event_name, payload: { stripe_customer_id: customer.id, value: '3' }, timestamp: frozen - 86400 });
    expect(
      await stripeError(stripe.billing.meterEvents.create({ event_name: meter.event_name, payload: { stripe_customer_id: customer.id, value: '1' }, timestamp: now() })),
    ).toMatchObject({ statusCode: 400, param: 'timestamp' });
    const summary = await stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: frozen - 2 * 86400, end_time: frozen + 60 });
    expect(summary.data[0]!.aggregated_value).toBe(5);
  });

  it('validates event summary parameters', async () => {
    const { stripe, customer, meter } = await withMeter('sum');
    const missing = await stripeError(stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: 0 } as Stripe.Billing.MeterListEventSummariesParams));
    expect(missing).toMatchObject({ statusCode: 400, param: 'end_time', message: 'Missing required param: end_time.' });
    expect(await stripeError(stripe.billing.meters.listEventSummaries(meter.id, { customer: 'cus_nope', start_time: 0, end_time: 60 }))).toMatchObject({
      statusCode: 400,
      code: 'resource_missing',
      param: 'customer',
    });
    expect(await stripeError(stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: 30, end_time: 120 }))).toMatchObject({
      param: 'start_time',
    });
    expect(await stripeError(stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: 120, end_time: 60 }))).toMatchObject({
      param: 'start_time',
    });
    expect(
      await stripeError(stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: 0, end_time: 60, value_grouping_window: 'week' })),
    ).toMatchObject({ param: 'value_grouping_window' });
  });
});

describe('meterUsage', () => {
  /** A context with only a store (meterUsage reads nothing else). */
  function context(): EmulatorContext {
    const store = new Store();
    return { store, events: new EventPublisher(store, { endpointCountFor: () => 0, enqueue: () => {} }), baseUrl: () => '' };
  }

  function meter(ctx: EmulatorContext, id: string, formula: 'sum' | 'count' | 'last') {
    ctx.store.billingMeters.put({
      id,
      object: 'billing.meter',
      created: 0,
      customer_mapping: { event_payload_key: 'stripe_customer_id', type: 'by_id' },
      default_aggregation: { formula },
      display_name: id,
      event_name: id,
      event_time_window: null,
      livemode: false,
      status: 'active',
      status_transitions: { deactivated_at: null },
      updated: 0,
      value_settings: { event_payload_key: 'value' },
    });
  }

  let sequence = 0;
  function record(ctx: EmulatorContext, meterId: string | null, customer: string, timestamp: number, value: number | null) {
    const entry: MeterEventRecord = {
      id: `mtrevt_${sequence}`,
      meterId,
      customer,
      value,
      timestamp,
      sequence: sequence++,
      error: meterId ? null : { code: 'no_meter', message: '' },
      event: { object: 'billing.meter_event', created: timestamp, event_name: 'x', identifier: `i${sequence}`, livemode: false, payload: {}, timestamp },
    };
    ctx.store.meterEvents.put(entry);
  }

  it('sums, counts and takes the last value per customer over [start, end)', () => {
    const ctx = context();
    meter(ctx, 'mtr_sum', 'sum');
    meter(ctx, 'mtr_count', 'count');
    meter(ctx, 'mtr_last', 'last');
    for (const id of ['mtr_sum', 'mtr_count', 'mtr_last']) {
      record(ctx, id, 'cus_a', 100, 5);
      record(ctx, id, 'cus_a', 150, 7);
      record(ctx, id, 'cus_a', 120, 9); // ingested last, but not the latest timestamp
      record(ctx, id, 'cus_a', 200, 1000); // at `end`: excluded
      record(ctx, id, 'cus_a', 99, 1000); // before `start`: excluded
      record(ctx, id, 'cus_b', 150, 1000); // other customer
    }
    record(ctx, null, 'cus_a', 150, 1000); // attributed nowhere
    const query = { stripeCustomerId: 'cus_a', start: 100, end: 200 };
    expect(meterUsage(ctx, { meterId: 'mtr_sum', ...query })).toBe(21);
    expect(meterUsage(ctx, { meterId: 'mtr_count', ...query })).toBe(3);
    expect(meterUsage(ctx, { meterId: 'mtr_last', ...query })).toBe(7);
    expect(meterUsage(ctx, { meterId: 'mtr_sum', stripeCustomerId: 'cus_a', start: 300, end: 400 })).toBe(0);
    expect(meterUsage(ctx, { meterId: 'mtr_last', stripeCustomerId: 'cus_c', start: 0, end: 1000 })).toBe(0);
    expect(() => meterUsage(ctx, { meterId: 'mtr_nope', ...query })).toThrow(/No such billing meter/);
  });

  it('breaks `last` ties on equal timestamps by ingestion order', () => {
    expect(
      aggregateMeterEvents('last', [
        { sequence: 2, timestamp: 10, value: 4 },
        { sequence: 1, timestamp: 10, value: 3 },
      ] as MeterEventRecord[]),
    ).toBe(4);
  });

  it('event summaries read the meter\'s own payload keys (customer_mapping, value_settings)', async () => {
    const { emulator } = await setup();
    const stripe = new Stripe(TEST_KEY, { host: '127.0.0.1', port: emulator.port, protocol: 'http', maxNetworkRetries: 0 });
    const customer = await stripe.customers.create();
    const meter = await stripe.billing.meters.create({
      display_name: 'Seats',
      event_name: 'seats',
      default_aggregation: { formula: 'sum' },
      customer_mapping: { event_payload_key: 'account', type: 'by_id' },
      value_settings: { event_payload_key: 'n' },
    });
    const t = Math.floor(now() / 60) * 60 - 600;
    await stripe.billing.meterEvents.create({ event_name: 'seats', payload: { account: customer.id, n: '4' }, timestamp: t });
    await stripe.billing.meterEvents.create({ event_name: 'seats', payload: { account: customer.id, n: '-1' }, timestamp: t + 1 });
    await stripe.billing.meterEvents.create({ event_name: 'seats', payload: { stripe_customer_id: customer.id, value: '50' }, timestamp: t + 2 });
    const summary = await stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: t, end_time: t + 60 });
    expect(summary.data[0]!.aggregated_value).toBe(3);
  });
});
