/**
 * Issue 6, item 9: Stripe's error text never reaches customers ("Invalid API Key provided:
 * sk_live_****9876"); the server logs it with the request id instead.
 */
import { eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { TRPCError } from '@trpc/server';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInnerContext, type Actor } from '../src/context';
import { recordingLogger } from '../src/logger';
import { appRouter } from '../src/router/index';
import { createCallerFactory } from '../src/trpc';
import { ORIGIN, seedTenants, testConfig, testStripeAccounts } from './helpers';

const STRIPE_MESSAGE = 'Invalid API Key provided: sk_live_****9876';

/** A real SDK client whose every HTTP call gets Stripe's 401 answer for a bad key (stripe.com/docs/error-codes). */
function refusingStripe() {
  const calls: string[] = [];
  const stripe = new Stripe('sk_live_unit_tests_0000009876', {
    maxNetworkRetries: 0,
    httpClient: Stripe.createFetchHttpClient(async (input) => {
      calls.push(String(input));
      return new Response(JSON.stringify({ error: { type: 'invalid_request_error', message: STRIPE_MESSAGE } }), {
        status: 401,
        headers: { 'content-type': 'application/json', 'request-id': 'req_stripe_side_123' },
      });
    }),
  });
  return { stripe, calls };
}

describe.each(testDialects)('a Stripe failure while starting a checkout ($name)', ({ create }) => {
  let db: TestDatabase;
  let tenants: Awaited<ReturnType<typeof seedTenants>>;
  beforeAll(async () => {
    db = await create();
    tenants = await seedTenants(db);
  });
  afterAll(() => db.destroy());

  function callerFor(stripe: Stripe, actor: Actor) {
    const logger = recordingLogger();
    const ctx = createInnerContext({ db, stripeAccounts: testStripeAccounts(stripe), config: testConfig, logger, actor, origin: ORIGIN, requestId: 'req-tally-42' });
    return { caller: createCallerFactory(appRouter)(ctx), logger };
  }

  it('answers BAD_GATEWAY "Payments are unavailable right now" with no Stripe text; the log has it with both request ids', async () => {
    const { stripe, calls } = refusingStripe();
    const { caller, logger } = callerFor(stripe, tenants.alice);
    const err = await caller.topup.createCheckout({ amountMinor: 500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCError);
    expect((err as TRPCError).code).toBe('BAD_GATEWAY');
    expect((err as TRPCError).message).toBe('Payments are unavailable right now');
    expect(JSON.stringify(err)).not.toMatch(/sk_live|Invalid API Key/);
    expect(calls).toHaveLength(1); // customers.create: the first Stripe call of a new customer

    expect(logger.records).toEqual([
      {
        level: 'error',
        message: 'Stripe call customers.create failed',
        fields: expect.objectContaining({
          requestId: 'req-tally-42',
          step: 'customers.create',
          customerId: tenants.alice.customerId,
          stripeErrorClass: 'StripeAuthenticationError',
          stripeErrorType: 'invalid_request_error',
          stripeStatusCode: 401,
          stripeRequestId: 'req_stripe_side_123',
          err: STRIPE_MESSAGE,
        }),
      },
    ]);
    const [topup] = await db.q.select().from(db.t.topups).where(eq(db.t.topups.customerId, tenants.alice.customerId));
    expect(topup?.status).toBe('failed');
  });

  it('the same for a failing checkout.sessions.create once the Stripe customer exists', async () => {
    await db.q.update(db.t.customers).set({ stripeCustomerId: 'cus_Existing123' }).where(eq(db.t.customers.id, tenants.bob.customerId));
    const { stripe, calls } = refusingStripe();
    const { caller, logger } = callerFor(stripe, tenants.bob);
    await expect(caller.topup.createCheckout({ amountMinor: 500 })).rejects.toMatchObject({ code: 'BAD_GATEWAY', message: 'Payments are unavailable right now' });
    expect(calls).toEqual([expect.stringContaining('/v1/checkout/sessions')]);
    expect(logger.records.map((r) => [r.fields.step, r.fields.requestId, r.fields.err])).toEqual([['checkout.sessions.create', 'req-tally-42', STRIPE_MESSAGE]]);
  });
});
