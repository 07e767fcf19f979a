import type { EmulatorContext } from '../core/context';
import type { V2EventRecord } from '../core/events';
import { randomToken } from '../core/ids';
import type { MeterEventRecord } from './meter-usage';

/**
 * Stripe reports meter events it accepted but could not attribute (v1 `POST /v1/billing/meter_events`
 * and the v2 meter event stream alike) asynchronously, as v2 thin events
 * (https://docs.stripe.com/billing/subscriptions/usage-based/recording-usage#error-handling):
 * - `v1.billing.meter.error_report_triggered` for events of a meter (customer not found or missing,
 *   invalid value, inactive meter, timestamp out of the window), with `related_object` = the meter;
 * - `v1.billing.meter.no_meter_found` for events whose `event_name` no meter has (no `related_object`).
 *
 * The emulator reports on its next sweep (about a second after the events arrive): one event per
 * meter with errors since the last sweep, and one `no_meter_found` for all events without a meter.
 * `data` (shown by `GET /v2/core/events/{id}`, not in the delivered notification) follows the SDK's
 * `V1BillingMeterErrorReportTriggeredEvent.Data`: `developer_message_summary`, `reason.error_count`,
 * `reason.error_types[]` (`code`, `error_count`, up to {@link MAX_SAMPLES} `sample_errors` with
 * `error_message` and `request.identifier`), `validation_start` / `validation_end`.
 */

/** Sample errors listed per error code. */
const MAX_SAMPLES = 5;

/** A v2 event id like Stripe's test-mode ones (`evt_test_65R9Ijk8Yt0ZpAFRNQ4Ssy3xtzRRvkbWVyJQ3ZHtnfqBr`). */
export const newV2EventId = () => `evt_test_65${randomToken(43)}`;

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

function reportData(records: readonly MeterEventRecord[], now: number): Record<string, unknown> {
  const byCode = new Map<string, MeterEventRecord[]>();
  for (const record of records) {
    const code = record.error?.code ?? 'unknown';
    byCode.set(code, [...(byCode.get(code) ?? []), record]);
  }
  const count = records.length;
  return {
    developer_message_summary: count === 1 ? 'There is 1 invalid event' : `There are ${count} invalid events`,
    reason: {
      error_count: count,
      error_types: [...byCode.entries()].map(([code, inCode]) => ({
        code,
        error_count: inCode.length,
        sample_errors: inCode.slice(0, MAX_SAMPLES).map((record) => ({
          error_message: record.error?.message ?? '',
          request: { identifier: record.event.identifier },
        })),
      })),
    },
    validation_start: iso(Math.min(...records.map((record) => record.event.created))),
    validation_end: iso(now),
  };
}

/**
 * Publishes the thin events for every meter event error not reported yet and marks those errors
 * reported. Called by the emulator's sweep; returns the events published.
 */
export function reportMeterEventErrors(ctx: EmulatorContext, now = Date.now()): V2EventRecord[] {
  const pending = ctx.store.meterEvents.all().filter((record) => record.error !== null && record.errorReported === false);
  if (pending.length === 0) return [];
  const nowSeconds = Math.floor(now / 1000);
  const groups = new Map<string | null, MeterEventRecord[]>();
  for (const record of pending) {
    const meter = record.error?.meter ?? null;
    groups.set(meter, [...(groups.get(meter) ?? []), record]);
    ctx.store.meterEvents.put({ ...record, errorReported: true });
  }
  const published: V2EventRecord[] = [];
  for (const [meter, records] of groups) {
    const event: V2EventRecord = {
      id: newV2EventId(),
      object: 'v2.core.event',
      type: meter === null ? 'v1.billing.meter.no_meter_found' : 'v1.billing.meter.error_report_triggered',
      created: new Date(now).toISOString(),
      livemode: false,
      ...(meter === null ? {} : { related_object: { id: meter, type: 'billing.meter', url: `/v1/billing/meters/${meter}` } }),
      data: reportData(records, nowSeconds),
    };
    published.push(ctx.events.publishThin(event));
  }
  return published;
}
