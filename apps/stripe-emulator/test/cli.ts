import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { runStripeTrigger, type StripeTriggerResult } from '../src/stripe-cli';
import { WEBHOOK_SECRET, startTestEmulator, startWebhookReceiver, type ReceivedWebhook } from './helpers';

/** The API key the CLI is given (any `sk_test_` key of 12+ characters works). */
export const CLI_API_KEY = 'sk_test_1234567890ab';

/** An in-memory emulator whose events go to a local, signature-checking webhook receiver, driven by the official Stripe CLI. */
export interface CliHarness {
  emulator: StripeEmulator;
  stripe: Stripe;
  received: ReceivedWebhook[];
  /** Runs `stripe trigger <event>` against the emulator (60 s timeout). */
  trigger(event: string): Promise<StripeTriggerResult>;
  /**
   * Resolves with the verified events received since `since` (an index into `received`) once
   * every type in `types` is among them; rejects after `timeoutMs` (default 5 s) listing what came.
   */
  waitForEvents(types: readonly string[], since: number, timeoutMs?: number): Promise<Stripe.Event[]>;
  close(): Promise<void>;
}

export async function startCliHarness(): Promise<CliHarness> {
  const receiver = await startWebhookReceiver(WEBHOOK_SECRET);
  const { emulator, stripe } = await startTestEmulator({ webhookEndpoints: [{ url: receiver.url, secret: WEBHOOK_SECRET }], retryScheduleMs: [50] });
  const verified = (since: number) => receiver.received.slice(since).flatMap((webhook) => (webhook.event ? [webhook.event] : []));
  return {
    emulator,
    stripe,
    received: receiver.received,
    trigger: (event) => runStripeTrigger(event, { apiBase: emulator.url, apiKey: CLI_API_KEY, timeoutMs: 60_000 }),
    async waitForEvents(types, since, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const events = verified(since);
        if (types.every((type) => events.some((event) => event.type === type))) return events;
        if (Date.now() > deadline) throw new Error(`expected ${types.join(', ')}; received ${events.map((event) => event.type).join(', ') || 'nothing'}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async close() {
      await emulator.close();
      await receiver.close();
    },
  };
}

/** One `stripe trigger` case: the events it must deliver (signed, in Stripe's order) and checks on them. */
export interface TriggerCase {
  event: string;
  expected: string[];
  check?: (events: Stripe.Event[]) => void;
}

/** The object of the first event of `type` among `events`. */
export const objectOf = <T>(events: Stripe.Event[], type: string) => events.find((event) => event.type === type)?.data.object as T;

/**
 * Runs each case with the official CLI against one harness: exit 0, "Trigger succeeded!", every
 * webhook verified by `constructEvent`, the expected events in Stripe's order, then `check`.
 */
export function describeTriggers(title: string, cases: readonly TriggerCase[]): void {
  let harness: CliHarness;
  beforeAll(async () => {
    harness = await startCliHarness();
  });
  afterAll(() => harness.close());

  describe(title, () => {
    it.each(cases)('$event', async ({ event, expected, check }) => {
      const since = harness.received.length;
      const result = await harness.trigger(event);
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      expect(result.stdout).toContain('Trigger succeeded!');
      const events = await harness.waitForEvents(expected, since);
      expect(harness.received.slice(since).every((webhook) => webhook.event !== null)).toBe(true);
      // Stripe's order within one trigger, for the events this trigger names.
      const order = events.map((received) => received.type).filter((type) => expected.includes(type));
      expect([...new Set(order)]).toEqual(expected);
      check?.(events);
    }, 90_000);
  });
}
