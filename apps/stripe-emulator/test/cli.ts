import type Stripe from 'stripe';
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
