/**
 * The `stripe` SDK against a stack's emulator, as the server itself is configured
 * (`apps/server/src/stripe-client.ts`): the deployment key the server uses when
 * STRIPE_SECRET_KEY is unset (the emulator's default account), and test-clock helpers.
 */
import { EMULATOR_DEV_API_KEY } from '@tally/stripe-emulator/defaults';
import { createStripeClient } from '@tally/server/src/stripe-client';
import type { Stack } from './stack';

export type StripeClient = ReturnType<typeof createStripeClient>;

/** An SDK client on the stack's emulator, on the account the server's deployment key reaches. */
export function stripeFor(stack: Pick<Stack, 'emulator'>, secretKey: string = EMULATOR_DEV_API_KEY): StripeClient {
  return createStripeClient(secretKey, new URL(stack.emulator.url));
}

/**
 * Advance a test clock to `frozenTime` (unix seconds) and wait until Stripe says it is
 * `ready` (advancing runs the billing it passes over), then until every webhook delivery of
 * the emulator settled.
 */
export async function advanceTestClock(stack: Pick<Stack, 'emulator'>, stripe: StripeClient, clockId: string, frozenTime: number, { timeoutMs = 60_000 } = {}): Promise<void> {
  await stripe.testHelpers.testClocks.advance(clockId, { frozen_time: frozenTime });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const clock = await stripe.testHelpers.testClocks.retrieve(clockId);
    if (clock.status === 'ready') break;
    if (clock.status === 'internal_failure') throw new Error(`test clock ${clockId} failed to advance`);
    if (Date.now() > deadline) throw new Error(`test clock ${clockId} still ${clock.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await stack.emulator.waitForIdle();
}
