/**
 * Every request sequence the official CLI ships (`../shared/stripe/triggers/*.json`, 42 files)
 * runs against the emulator without error, and where the fixture is named after a v1 event
 * type, that event is published. The per-area trigger tests check the delivered events and
 * their objects in detail; this one keeps the whole set honest as fixtures are added.
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCliHarness, type CliHarness } from './cli';
import { SHARED_STRIPE_DIR } from './helpers';

const fixtures = readdirSync(`${SHARED_STRIPE_DIR}/triggers`)
  .filter((file) => file.endsWith('.json'))
  .map((file) => file.slice(0, -'.json'.length))
  .sort();

/** Fixture names that are not the type of a v1 event the trigger publishes. */
const NOT_V1_EVENT_TYPES: Readonly<Record<string, string>> = {
  'subscription.payment_succeeded': 'a CLI alias; publishes invoice.payment_succeeded',
  'subscription.payment_failed': 'a CLI alias; publishes invoice.payment_failed',
  'v1.billing.meter.no_meter_found': 'a v2 thin event (test/cli-triggers-meter-stream.test.ts)',
  'v1.billing.meter.error_report_triggered': 'a v2 thin event (test/cli-triggers-meter-stream.test.ts)',
};

let harness: CliHarness;
beforeAll(async () => {
  harness = await startCliHarness();
});
afterAll(() => harness.close());

describe('stripe trigger: every fixture the official CLI ships', () => {
  it('finds the fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(42);
  });

  it.each(fixtures)('%s', async (name) => {
    const before = harness.emulator.events().length;
    const result = await harness.trigger(name);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    if (!(name in NOT_V1_EVENT_TYPES)) {
      // Some effects land on the emulator's next sweep (about 1 s), e.g. SEPA settlement.
      const published = (): string[] => harness.emulator.events().slice(before).map((event) => event.type);
      for (const deadline = Date.now() + 5_000; !published().includes(name) && Date.now() < deadline; ) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(published()).toContain(name);
    }
  });
});
