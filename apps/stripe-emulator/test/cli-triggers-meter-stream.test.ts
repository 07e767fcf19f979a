import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCliHarness, type CliHarness } from './cli';
import { startThinEventReceiver, type ThinEventReceiver } from './thin-events';

/**
 * The `v1.billing.meter.*` triggers of the official CLI: a meter event session (`--api-base`),
 * then the meter event stream, which the CLI always sends to `https://meter-events.stripe.com`
 * (`runStripeTrigger` routes it to the emulator: `HTTPS_PROXY` + the emulator's certificate).
 * The invalid event is reported on the next sweep as a thin event, verified here with
 * `stripe.parseEventNotification`.
 */

const SECRET = 'whsec_cli_thin_event_receiver';

let harness: CliHarness;
let receiver: ThinEventReceiver;

beforeAll(async () => {
  harness = await startCliHarness();
  receiver = await startThinEventReceiver(harness.stripe, SECRET);
  harness.emulator.addWebhookEndpoint({ url: receiver.url, secret: SECRET });
});
afterAll(async () => {
  await harness.close();
  await receiver.close();
});

const errorsOf = async (harness: CliHarness) =>
  (await (await fetch(`${harness.emulator.url}/_emulator/meter_event_errors`)).json()) as { code: string; event: Stripe.Billing.MeterEvent }[];

describe('stripe trigger (official CLI): v2 meter event stream', () => {
  it('v1.billing.meter.no_meter_found', async () => {
    const since = receiver.notifications.length;
    const result = await harness.trigger('v1.billing.meter.no_meter_found');
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toContain('Trigger succeeded!');
    expect((await errorsOf(harness)).map((error) => error.code)).toContain('no_meter');

    const notification = await receiver.waitFor('v1.billing.meter.no_meter_found', since);
    expect(notification).toMatchObject({ object: 'v2.core.event', livemode: false });
    const event = await notification.fetchEvent();
    expect(event).toMatchObject({ id: notification.id, data: { reason: { error_count: 1, error_types: [{ code: 'no_meter', error_count: 1 }] } } });
  }, 90_000);

  it('v1.billing.meter.error_report_triggered', async () => {
    const since = receiver.notifications.length;
    const result = await harness.trigger('v1.billing.meter.error_report_triggered');
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toContain('Trigger succeeded!');

    // The fixture creates its meter (or finds it taken) and sends an event without a customer.
    const meters = await harness.stripe.billing.meters.list({ status: 'active' });
    const meter = meters.data.find((candidate) => candidate.event_name === 'stripe_cli_billing_meter_for_fixture');
    expect(meter).toBeDefined();
    const notification = await receiver.waitFor('v1.billing.meter.error_report_triggered', since);
    expect(notification).toMatchObject({ related_object: { id: meter!.id, type: 'billing.meter', url: `/v1/billing/meters/${meter!.id}` } });
    const event = await notification.fetchEvent();
    expect(event).toMatchObject({ data: { reason: { error_types: [{ code: 'meter_event_no_customer_defined' }] } } });
    expect(await notification.fetchRelatedObject()).toMatchObject({ id: meter!.id });

    // Running it again reuses the meter (the create step's 400 is expected by the fixture).
    const again = await harness.trigger('v1.billing.meter.error_report_triggered');
    expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
  }, 90_000);
});
