import type Stripe from 'stripe';
import type { Identified } from '../core/collection';
import type { EmulatorContext } from '../core/context';

/**
 * A meter event as the emulator keeps it: the `billing.meter_event` object Stripe returned
 * (https://docs.stripe.com/api/billing/meter-event/object, which has no `id`) plus what the
 * event resolved to when it was accepted. `id` is internal (`mtrevt_...`, never shown).
 *
 * Like Stripe, an event is attributed when it is ingested: to the meter that was active for its
 * `event_name` at that moment, with the customer and value read from the payload keys that
 * meter's `customer_mapping.event_payload_key` / `value_settings.event_payload_key` name.
 */
export interface MeterEventRecord extends Identified {
  /** The `billing.meter` the event counts towards (`mtr_...`); `null` when it counts nowhere (see `error`). */
  meterId: string | null;
  /** Stripe customer id from the payload (`cus_...`); `null` when the event counts nowhere. */
  customer: string | null;
  /** Numeric value from the payload; `null` for `count` meters whose event carried none. */
  value: number | null;
  /** The event time, unix seconds (the request's `timestamp`, default: when it was received). */
  timestamp: number;
  /** Order of ingestion (tie-breaker for `last` among events with the same `timestamp`). */
  sequence: number;
  /** The object answered by `POST /v1/billing/meter_events`. */
  event: Stripe.Billing.MeterEvent;
  /** Why the event counts towards no meter, as Stripe reports it asynchronously; `null` when it counts. */
  error: MeterEventError | null;
  /** Whether `error` was already reported as a v2 thin event (see `meter-error-reports.ts`); absent in state saved before. */
  errorReported?: boolean;
  /** How the event arrived: `POST /v1/billing/meter_events` (absent) or the v2 meter event stream. */
  source?: 'v1' | 'v2_stream';
}

/**
 * A meter event Stripe accepted (200) but could not attribute. `code` is one of Stripe's error
 * report codes (`v1.billing.meter.error_report_triggered` / `v1.billing.meter.no_meter_found`):
 * `no_meter`, `archived_meter`, `meter_event_no_customer_defined`, `meter_event_customer_not_found`,
 * `meter_event_invalid_value`.
 */
export interface MeterEventError {
  code: string;
  message: string;
  /**
   * The meter the error report is about (`mtr_...`): the active meter for the event's name, or
   * else the inactive one (`archived_meter`); `null`/absent when no meter has that name
   * (reported as `v1.billing.meter.no_meter_found`).
   */
  meter?: string | null;
}

/** A v2 meter event session (`id` is the session's `id`, e.g. `bmes_test_...`). Times are unix seconds. */
export interface MeterEventSessionRecord extends Identified {
  authenticationToken: string;
  created: number;
  expiresAt: number;
}

/** What {@link meterUsage} aggregates. */
export interface MeterUsageQuery {
  /** The meter, `mtr_...`. Unknown ids throw. */
  meterId: string;
  /** The Stripe customer, `cus_...` (the value of the meter's customer mapping payload key). */
  stripeCustomerId: string;
  /** Start of the period, unix seconds, inclusive. */
  start: number;
  /** End of the period, unix seconds, exclusive. */
  end: number;
}

/** The events of `meterId` for `customer` with `start <= timestamp < end` (unix seconds), in ingestion order. */
export function meterEventsIn(ctx: EmulatorContext, query: MeterUsageQuery): MeterEventRecord[] {
  return ctx.store.meterEvents
    .all()
    .filter(
      (record) =>
        record.meterId === query.meterId &&
        record.customer === query.stripeCustomerId &&
        record.timestamp >= query.start &&
        record.timestamp < query.end,
    );
}

/**
 * Aggregates a list of meter events with a meter's formula
 * (https://docs.stripe.com/api/billing/meter/create#create_billing_meter-default_aggregation-formula):
 * `sum` adds the values, `count` counts the events, `last` takes the value of the event with the
 * latest `timestamp` (ties: the one ingested last). No events → `0` for every formula.
 */
export function aggregateMeterEvents(formula: Stripe.Billing.Meter.DefaultAggregation.Formula, records: readonly MeterEventRecord[]): number {
  if (records.length === 0) return 0;
  switch (formula) {
    case 'count':
      return records.length;
    case 'last': {
      const last = records.reduce((latest, record) =>
        record.timestamp > latest.timestamp || (record.timestamp === latest.timestamp && record.sequence > latest.sequence) ? record : latest,
      );
      return last.value ?? 0;
    }
    default:
      // `sum` (the only other formula Stripe has). Rounded to hide binary float noise of decimal values.
      return roundValue(records.reduce((total, record) => total + (record.value ?? 0), 0));
  }
}

const roundValue = (value: number) => Math.round(value * 1e12) / 1e12;

/**
 * A meter's aggregated usage for one Stripe customer over `[start, end)` (unix seconds), as Stripe
 * bills it for a metered price with `recurring[meter]` and as `GET /v1/billing/meters/{id}/event_summaries`
 * reports it: the meter's `default_aggregation.formula` (`sum` | `count` | `last`) applied to the
 * meter events attributed to that meter and customer (see {@link MeterEventRecord}) whose
 * `timestamp` falls in the period. The result is in the meter's own unit (e.g. API calls), not money.
 *
 * Meter status does not matter: events accepted while the meter was active still count after it
 * is deactivated (a deactivated meter just stops accepting new events).
 *
 * @throws Error if `meterId` is not a meter of the emulator.
 */
export function meterUsage(ctx: EmulatorContext, query: MeterUsageQuery): number {
  const meter = ctx.store.billingMeters.get(query.meterId);
  if (!meter) throw new Error(`No such billing meter: '${query.meterId}'`);
  return aggregateMeterEvents(meter.default_aggregation.formula, meterEventsIn(ctx, query));
}
