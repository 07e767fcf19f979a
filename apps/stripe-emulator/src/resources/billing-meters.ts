import { createHash, randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { z } from 'zod';
import { aggregateMeterEvents, type MeterEventError, type MeterEventRecord } from '../billing/meter-usage';
import { customerNow } from '../billing/time';
import { nowSeconds } from '../core/clock';
import type { EmulatorContext } from '../core/context';
import { previousAttributes } from '../core/events';
import { randomToken } from '../core/ids';
import { invalidRequest, resourceMissing } from '../http/errors';
import { paginate } from '../http/lists';
import { listParams, p, parseParams } from '../http/params';
import type { ApiHandler, ResourceModule } from '../http/route';
import { noParams } from './shared';

/**
 * Billing meters, meter events and meter event summaries
 * (https://docs.stripe.com/api/billing/meter, https://docs.stripe.com/api/billing/meter-event,
 * https://docs.stripe.com/api/billing/meter-event-summary).
 *
 * Stripe validates a meter event's shape synchronously but attributes it to a meter and a
 * customer asynchronously, reporting failures later as `v1.billing.meter.error_report_triggered`
 * / `v1.billing.meter.no_meter_found` (v2 "thin" events, not part of `/v1/events`). The emulator
 * answers 200 in those cases too, keeps the event out of every aggregate, records the reason
 * on the event (see `GET /_emulator/meter_event_errors`) and publishes those thin events on its
 * next sweep (`billing/meter-error-reports.ts`). The v2 meter event stream
 * (`meter-event-stream.ts`) ingests through {@link ingestStreamMeterEvent}.
 */

const DAY = 24 * 60 * 60;
/** `timestamp` may be up to 35 calendar days in the past (https://docs.stripe.com/api/billing/meter-event/create). */
const MAX_PAST_SECONDS = 35 * DAY;
/** ... and up to 5 minutes in the future (clock drift allowance). */
const MAX_FUTURE_SECONDS = 5 * 60;
/** `identifier` uniqueness is enforced within a rolling 24 h window. */
const IDENTIFIER_WINDOW_SECONDS = DAY;

const payloadKey = p.string(100);
const createMeterParams = p.object({
  display_name: p.string(250),
  event_name: p.string(100),
  default_aggregation: p.object({ formula: p.oneOf(['count', 'last', 'sum']) }),
  customer_mapping: p.object({ event_payload_key: payloadKey, type: p.oneOf(['by_id']) }).optional(),
  value_settings: p.object({ event_payload_key: payloadKey }).optional(),
  event_time_window: p.oneOf(['day', 'hour']).optional(),
});
const updateMeterParams = p.object({ display_name: p.string(250).optional() });
const listMetersQuery = p.object({ ...listParams, status: p.oneOf(['active', 'inactive']).optional() });

/** Payload values are strings on the wire; JSON bodies may carry numbers, which are kept as their string form. */
export const payloadParam = z.record(
  z.string(),
  z.union([z.string(), z.number()], { error: (issue) => `Invalid string: ${JSON.stringify(issue.input)}` }).transform(String),
  { error: 'Invalid hash' },
);
const createMeterEventParams = p.object({
  event_name: p.string(100),
  payload: payloadParam,
  identifier: p.string(100).optional(),
  timestamp: p.integer().optional(),
});
const summariesQuery = p.object({
  ...listParams,
  customer: p.string(),
  start_time: p.integer(),
  end_time: p.integer(),
  value_grouping_window: p.oneOf(['day', 'hour']).optional(),
});

/** A meter id like Stripe's test-mode ones (`mtr_test_61Q8nQMqIFK9fRQmr41CMAXJrFdZ5MnA`). */
const newMeterId = () => `mtr_test_61${randomToken(30)}`;

/** The meter `id`, or a 404 `resource_missing`. */
export function requireMeter(ctx: EmulatorContext, id: string): Stripe.Billing.Meter {
  const meter = ctx.store.billingMeters.get(id);
  if (!meter) throw resourceMissing('billing.meter', id);
  return meter;
}

/** The active meter listening to `eventName`, if any (at most one: `event_name` is unique among active meters). */
export function activeMeterFor(ctx: EmulatorContext, eventName: string): Stripe.Billing.Meter | undefined {
  return ctx.store.billingMeters.all().find((meter) => meter.status === 'active' && meter.event_name === eventName);
}

function assertEventNameFree(ctx: EmulatorContext, eventName: string, exceptId?: string): void {
  const taken = activeMeterFor(ctx, eventName);
  if (taken && taken.id !== exceptId) {
    throw invalidRequest(`An active meter with event_name '${eventName}' already exists (${taken.id}). Event names must be unique among active meters.`, {
      param: 'event_name',
    });
  }
}

/** POST /v1/billing/meters — `customer_mapping` defaults to `stripe_customer_id`/`by_id`, `value_settings` to `value`; publishes `billing.meter.created`. */
const createMeter: ApiHandler = (req, ctx) => {
  const input = parseParams(createMeterParams, req.params);
  assertEventNameFree(ctx, input.event_name);
  const now = nowSeconds();
  const meter: Stripe.Billing.Meter = {
    id: newMeterId(),
    object: 'billing.meter',
    created: now,
    customer_mapping: input.customer_mapping ?? { event_payload_key: 'stripe_customer_id', type: 'by_id' },
    default_aggregation: { formula: input.default_aggregation.formula },
    display_name: input.display_name,
    event_name: input.event_name,
    event_time_window: input.event_time_window ?? null,
    livemode: false,
    status: 'active',
    status_transitions: { deactivated_at: null },
    updated: now,
    value_settings: input.value_settings ?? { event_payload_key: 'value' },
  };
  ctx.store.billingMeters.put(meter);
  ctx.events.publish({ type: 'billing.meter.created', object: meter, request: req.request });
  return meter;
};

/** GET /v1/billing/meters/:id */
const retrieveMeter: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  return requireMeter(ctx, req.path.id ?? '');
};

/** GET /v1/billing/meters — newest first, optional `status` filter. */
const listMeters: ApiHandler = (req, ctx) => {
  const query = parseParams(listMetersQuery, req.params);
  const all = ctx.store.billingMeters.newestFirst().filter((meter) => query.status === undefined || meter.status === query.status);
  return paginate(all, query, '/v1/billing/meters');
};

/** POST /v1/billing/meters/:id — only `display_name` can change; publishes `billing.meter.updated` when it does. */
const updateMeter: ApiHandler = (req, ctx) => {
  const before = requireMeter(ctx, req.path.id ?? '');
  const input = parseParams(updateMeterParams, req.params);
  if (input.display_name === undefined || input.display_name === before.display_name) return before;
  const after: Stripe.Billing.Meter = { ...before, display_name: input.display_name, updated: nowSeconds() };
  ctx.store.billingMeters.put(after);
  ctx.events.publish({
    type: 'billing.meter.updated',
    object: after,
    previousAttributes: previousAttributes(before, after),
    request: req.request,
  });
  return after;
};

/** The meter `id` switched to `status`, with `status_transitions.deactivated_at` set or cleared; publishes the matching event. */
function setStatus(status: 'active' | 'inactive'): ApiHandler {
  return (req, ctx) => {
    const before = requireMeter(ctx, req.path.id ?? '');
    parseParams(noParams, req.params);
    if (before.status === status) {
      throw invalidRequest(`This meter is already ${status}.`, { param: 'id' });
    }
    if (status === 'active') assertEventNameFree(ctx, before.event_name, before.id);
    const now = nowSeconds();
    const after: Stripe.Billing.Meter = {
      ...before,
      status,
      status_transitions: { deactivated_at: status === 'inactive' ? now : null },
      updated: now,
    };
    ctx.store.billingMeters.put(after);
    ctx.events.publish({ type: status === 'inactive' ? 'billing.meter.deactivated' : 'billing.meter.reactivated', object: after, request: req.request });
    return after;
  };
}

const WHOLE_NUMBER = /^-?\d+$/;

/** Why Stripe would reject `payload` for `meter` asynchronously, or `null` when the event counts. */
function attributionError(ctx: EmulatorContext, meter: Stripe.Billing.Meter, payload: Record<string, string>): MeterEventError | null {
  const customerKey = meter.customer_mapping.event_payload_key;
  const customer = payload[customerKey];
  if (customer === undefined || customer === '') {
    return { code: 'meter_event_no_customer_defined', message: `Missing customer mapping key '${customerKey}' in the payload.` };
  }
  if (!ctx.store.customers.get(customer)) {
    return { code: 'meter_event_customer_not_found', message: `No customer found for '${customerKey}': '${customer}'.` };
  }
  if (meter.default_aggregation.formula === 'count') return null;
  const valueKey = meter.value_settings.event_payload_key;
  const value = payload[valueKey];
  if (value === undefined || !WHOLE_NUMBER.test(value) || !Number.isSafeInteger(Number(value))) {
    return {
      code: 'meter_event_invalid_value',
      message: value === undefined ? `Missing value key '${valueKey}' in the payload.` : `Invalid value for '${valueKey}': '${value}' is not a whole number.`,
    };
  }
  return null;
}

/** A meter event as both APIs take it (v1 `POST /v1/billing/meter_events`, v2 meter event stream); `timestamp` in unix seconds. */
export interface MeterEventInput {
  event_name: string;
  payload: Record<string, string>;
  identifier?: string | undefined;
  timestamp?: number | undefined;
}

/** Where an event would be attributed now: the active meter for its name, the customer in its payload, and that customer's "now". */
function resolveMeterEvent(ctx: EmulatorContext, input: MeterEventInput) {
  const meter = activeMeterFor(ctx, input.event_name);
  const customerId = meter ? input.payload[meter.customer_mapping.event_payload_key] : undefined;
  // Test-clock customers live in clock time: the window is checked against the clock's frozen_time.
  const now = customerNow(ctx, customerId);
  return { meter, customerId, now, timestamp: input.timestamp ?? now };
}

/** Why `timestamp` is outside [now − 35 days, now + 5 min], with Stripe's error report code; `null` when inside. */
function timestampError(timestamp: number, now: number): MeterEventError | null {
  if (timestamp < now - MAX_PAST_SECONDS) return { code: 'timestamp_too_far_in_past', message: 'Timestamp must be within the past 35 calendar days.' };
  if (timestamp > now + MAX_FUTURE_SECONDS) return { code: 'timestamp_in_future', message: 'Timestamp must not be more than 5 minutes in the future.' };
  return null;
}

/** Whether a meter event with `identifier` was received in the 24 h before `received`. */
function identifierTaken(ctx: EmulatorContext, identifier: string, received: number): boolean {
  return ctx.store.meterEvents.all().some((record) => record.event.identifier === identifier && record.event.created > received - IDENTIFIER_WINDOW_SECONDS);
}

/** The meter an error report about `eventName` relates to: the active one, else the most recent inactive one, else none. */
function reportedMeterFor(ctx: EmulatorContext, eventName: string): string | null {
  const active = activeMeterFor(ctx, eventName);
  if (active) return active.id;
  return ctx.store.billingMeters.newestFirst().find((candidate) => candidate.event_name === eventName)?.id ?? null;
}

/**
 * Records an accepted meter event: attributed to `resolved.meter` and its customer, or with the
 * error Stripe would report asynchronously (`presetError`, e.g. a timestamp error of the stream,
 * or the attribution error). Returns the `billing.meter_event` object.
 */
function recordMeterEvent(
  ctx: EmulatorContext,
  input: MeterEventInput,
  resolved: ReturnType<typeof resolveMeterEvent>,
  received: number,
  source: 'v1' | 'v2_stream',
  presetError: MeterEventError | null = null,
): Stripe.Billing.MeterEvent {
  const { meter, customerId, timestamp } = resolved;
  const event: Stripe.Billing.MeterEvent = {
    object: 'billing.meter_event',
    created: received,
    event_name: input.event_name,
    identifier: input.identifier ?? randomUUID(),
    livemode: false,
    payload: input.payload,
    timestamp,
  };
  let error: MeterEventError | null = presetError;
  if (error === null) {
    if (meter) error = attributionError(ctx, meter, input.payload);
    else if (ctx.store.billingMeters.all().some((candidate) => candidate.event_name === input.event_name)) {
      error = { code: 'archived_meter', message: `The meter for event_name '${input.event_name}' is inactive.` };
    } else error = { code: 'no_meter', message: `No active meter found for event_name '${input.event_name}'.` };
  }
  if (error) error = { ...error, meter: reportedMeterFor(ctx, input.event_name) };

  const counted = meter !== undefined && error === null;
  const valueText = meter ? input.payload[meter.value_settings.event_payload_key] : undefined;
  const record: MeterEventRecord = {
    id: `mtrevt_${randomToken(24)}`,
    meterId: counted ? meter.id : null,
    customer: counted ? (customerId ?? null) : null,
    value: counted && valueText !== undefined && WHOLE_NUMBER.test(valueText) ? Number(valueText) : null,
    timestamp,
    sequence: ctx.store.meterEvents.all().length,
    event,
    error,
    ...(error ? { errorReported: false } : {}),
    ...(source === 'v2_stream' ? { source } : {}),
  };
  ctx.store.meterEvents.put(record);
  return event;
}

/**
 * POST /v1/billing/meter_events. Synchronous 400s: missing/unknown parameters, `timestamp`
 * outside [now − 35 days, now + 5 min], an `identifier` already used in the last 24 h
 * (`resource_already_exists`; nothing is recorded, so a retried event is counted once).
 * Everything else is accepted and attributed as described in the module comment.
 */
const createMeterEvent: ApiHandler = (req, ctx) => {
  const input = parseParams(createMeterEventParams, req.params);
  const resolved = resolveMeterEvent(ctx, input);
  const windowError = timestampError(resolved.timestamp, resolved.now);
  if (windowError) throw invalidRequest(windowError.message, { param: 'timestamp', code: windowError.code });
  const received = nowSeconds();
  if (input.identifier !== undefined && identifierTaken(ctx, input.identifier, received)) {
    // Stripe's own wording (observed in test mode; no retry helps: `Stripe-Should-Retry: false`).
    throw invalidRequest(`An event already exists with identifier ${input.identifier}.`, {
      param: 'identifier',
      code: 'resource_already_exists',
    });
  }
  return recordMeterEvent(ctx, input, resolved, received, 'v1');
};

/**
 * Ingests one event of the v2 meter event stream (`POST /v2/billing/meter_event_stream`), whose
 * validation is all asynchronous: a `timestamp` out of the window is recorded with
 * `timestamp_too_far_in_past` / `timestamp_in_future` (reported like attribution errors), and an
 * `identifier` already used in the last 24 h is dropped silently (the event counts once).
 * Otherwise exactly as `POST /v1/billing/meter_events`. Returns whether the event was recorded.
 */
export function ingestStreamMeterEvent(ctx: EmulatorContext, input: MeterEventInput): boolean {
  const received = nowSeconds();
  if (input.identifier !== undefined && identifierTaken(ctx, input.identifier, received)) return false;
  const resolved = resolveMeterEvent(ctx, input);
  recordMeterEvent(ctx, input, resolved, received, 'v2_stream', timestampError(resolved.timestamp, resolved.now));
  return true;
}

/** Deterministic summary id, so that pagination cursors stay valid across requests. */
const summaryId = (meterId: string, customer: string, start: number, end: number) =>
  `mtrusg_${createHash('sha256').update(`${meterId}|${customer}|${start}|${end}`).digest('base64url').slice(0, 24)}`;

/**
 * GET /v1/billing/meters/:id/event_summaries — the meter's aggregate for `customer` over
 * `[start_time, end_time)` (unix seconds, minute-aligned): one summary for the whole range, or
 * with `value_grouping_window=hour|day` one per UTC hour/day that has events, newest first.
 */
const listEventSummaries: ApiHandler = (req, ctx) => {
  const meter = requireMeter(ctx, req.path.id ?? '');
  const query = parseParams(summariesQuery, req.params);
  if (!ctx.store.customers.get(query.customer)) throw resourceMissing('customer', query.customer, 'customer');
  for (const param of ['start_time', 'end_time'] as const) {
    if (query[param] % 60 !== 0) throw invalidRequest(`${param} must be aligned with minute boundaries.`, { param });
  }
  if (query.start_time >= query.end_time) throw invalidRequest('start_time must be before end_time.', { param: 'start_time' });

  const records = ctx.store.meterEvents
    .all()
    .filter((record) => record.meterId === meter.id && record.customer === query.customer && record.timestamp >= query.start_time && record.timestamp < query.end_time);
  const summary = (start: number, end: number, inWindow: readonly MeterEventRecord[]): Stripe.Billing.MeterEventSummary => ({
    id: summaryId(meter.id, query.customer, start, end),
    object: 'billing.meter_event_summary',
    aggregated_value: aggregateMeterEvents(meter.default_aggregation.formula, inWindow),
    end_time: end,
    livemode: false,
    meter: meter.id,
    start_time: start,
  });

  let summaries: Stripe.Billing.MeterEventSummary[];
  if (query.value_grouping_window === undefined) {
    summaries = [summary(query.start_time, query.end_time, records)];
  } else {
    const size = query.value_grouping_window === 'hour' ? 3600 : DAY;
    const buckets = new Map<number, MeterEventRecord[]>();
    for (const record of records) {
      const bucket = Math.floor(record.timestamp / size) * size;
      buckets.set(bucket, [...(buckets.get(bucket) ?? []), record]);
    }
    summaries = [...buckets.entries()]
      .sort(([a], [b]) => b - a)
      .map(([bucket, inWindow]) => summary(Math.max(bucket, query.start_time), Math.min(bucket + size, query.end_time), inWindow));
  }
  return paginate(summaries, query, `/v1/billing/meters/${meter.id}/event_summaries`);
};

/** Billing meters, meter events and event summaries. */
export const billingMeters: ResourceModule = {
  routes: [
    { method: 'post', path: '/v1/billing/meters', returns: 'billing.meter', handler: createMeter },
    { method: 'get', path: '/v1/billing/meters', returns: 'billing.meter', list: true, handler: listMeters },
    { method: 'get', path: '/v1/billing/meters/:id', returns: 'billing.meter', handler: retrieveMeter },
    { method: 'post', path: '/v1/billing/meters/:id', returns: 'billing.meter', handler: updateMeter },
    { method: 'post', path: '/v1/billing/meters/:id/deactivate', returns: 'billing.meter', handler: setStatus('inactive') },
    { method: 'post', path: '/v1/billing/meters/:id/reactivate', returns: 'billing.meter', handler: setStatus('active') },
    { method: 'get', path: '/v1/billing/meters/:id/event_summaries', returns: 'billing.meter_event_summary', list: true, handler: listEventSummaries },
    { method: 'post', path: '/v1/billing/meter_events', returns: 'billing.meter_event', handler: createMeterEvent },
  ],
};
