/**
 * A subscription test stack: an in-process Stripe emulator (one account, the deployment's),
 * the real Express app receiving the emulator's signed webhooks at `/api/stripe/webhook`, a
 * workspace with the demo plans (Solo, Team per seat, Enterprise with licenses) created in the
 * emulator, and helpers to make customers (optionally on a test clock), pay Checkout and move
 * time. Scenario tests drive it through the `stripe` SDK and tRPC callers.
 */
import { appRouter, createCallerFactory, createInnerContext, seedDemoPlans, type Actor, type ApiConfig } from '@tally/api';
import { eq, type Database, type Plan } from '@tally/db';
import { startStripeEmulator, type StripeEmulator, type StripeEmulatorOptions } from '@tally/stripe-emulator';
import Stripe from 'stripe';
import { newId } from '../../../packages/api/src/ids';
import { seedTenants } from '../../../packages/api/test/helpers';
import { ORIGIN, serverStripeAccounts, startServer, testApiConfig, TEST_KEYRING, WEBHOOK_SECRET } from './harness';

export interface SubscriptionStackOptions {
  billing?: StripeEmulatorOptions['billing'];
  /** TALLY_DUNNING_GRACE_DAYS of the server and callers. Default 7. */
  graceDays?: number;
}

export interface StackCustomer {
  actor: Actor;
  customerId: string;
  stripeCustomerId: string;
  /** `clock_...` when made with `testClock: true`. */
  testClockId: string | null;
  email: string;
}

export type SubscriptionStack = Awaited<ReturnType<typeof startSubscriptionStack>>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startSubscriptionStack(db: Database, opts: SubscriptionStackOptions = {}) {
  const emulator: StripeEmulator = await startStripeEmulator({ port: 0, statePath: null, retryScheduleMs: [50, 100, 200], ...(opts.billing ? { billing: opts.billing } : {}) });
  const api = new URL(emulator.url);
  const where = { host: api.hostname, port: Number(api.port) };
  const stripe = new Stripe('sk_test_subscription_stack_0001', { ...where, protocol: 'http', maxNetworkRetries: 0 });
  const stripeAccounts = serverStripeAccounts({ stripe, api: where, keyring: TEST_KEYRING });
  const configOverrides: Partial<ApiConfig> = { dunningGraceDays: opts.graceDays ?? 7 };
  const server = await startServer(db, { stripeAccounts, config: configOverrides });
  emulator.addWebhookEndpoint({ url: `${server.url}/api/stripe/webhook`, secret: WEBHOOK_SECRET });
  const config: ApiConfig = { ...testApiConfig, ...configOverrides, publicUrl: server.url };

  const tenants = await seedTenants(db);
  const { workspaceId } = tenants;
  const plans: Record<'solo' | 'team' | 'enterprise', Plan> = await seedDemoPlans({ db, stripe, workspaceId });

  /** A tRPC caller as `actor`; `selectedWorkspaceId` for admin procedures (defaults to the stack's workspace for the admin). */
  const caller = (actor: Actor | null, selectedWorkspaceId: string | null = actor?.userId === tenants.admin.userId ? workspaceId : null) =>
    createCallerFactory(appRouter)(createInnerContext({ db, stripeAccounts, config, logger: server.logger, actor, origin: ORIGIN, selectedWorkspaceId }));

  /** Every webhook delivery finished (retries included) and nothing is left in flight. */
  async function settle(): Promise<void> {
    await emulator.waitForIdle();
    // A delivery's handler may publish nothing more, but the engine may have queued events
    // while the last deliveries ran: wait until idle twice in a row.
    await sleep(20);
    await emulator.waitForIdle();
  }

  let seq = 0;
  /** A Tally customer (user, owner membership, customer row) with a Stripe customer, optionally on a new test clock at the current time. */
  async function newCustomer({ testClock = false, name }: { testClock?: boolean; name?: string } = {}): Promise<StackCustomer> {
    const t = db.t;
    const label = name ?? `customer-${++seq}`;
    const userId = newId();
    const email = `${label}-${userId}@example.test`;
    await db.q.insert(t.users).values({ id: userId, name: label, email, emailVerified: true });
    const customerId = newId();
    await db.q.insert(t.customers).values({ id: customerId, workspaceId, name: label, email });
    await db.q.insert(t.customerMemberships).values({ id: newId(), customerId, userId, role: 'owner' });
    const clock = testClock ? await stripe.testHelpers.testClocks.create({ frozen_time: Math.floor(Date.now() / 1000), name: label }) : null;
    const stripeCustomer = await stripe.customers.create({ email, name: label, metadata: { tally_customer_id: customerId }, ...(clock ? { test_clock: clock.id } : {}) });
    await db.q.update(t.customers).set({ stripeCustomerId: stripeCustomer.id }).where(eq(t.customers.id, customerId));
    return { actor: { userId, email }, customerId, stripeCustomerId: stripeCustomer.id, testClockId: clock?.id ?? null, email };
  }

  /** Pay an open Checkout Session with a test card (default 4242 4242 4242 4242), then settle. */
  async function completeCheckout(sessionId: string, card?: string) {
    const result = await emulator.completeCheckoutSession(sessionId, card ? { card } : {});
    await settle();
    return result;
  }

  /** Advance a test clock to `toUnixSeconds`, wait for it to be `ready`, then settle. */
  async function advanceClock(clockId: string, toUnixSeconds: number): Promise<void> {
    await stripe.testHelpers.testClocks.advance(clockId, { frozen_time: Math.floor(toUnixSeconds) });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const clock = await stripe.testHelpers.testClocks.retrieve(clockId);
      if (clock.status === 'ready') break;
      if (Date.now() > deadline) throw new Error(`test clock ${clockId} still ${clock.status} after 30 s`);
      await sleep(25);
    }
    await settle();
  }

  return {
    emulator,
    stripe,
    stripeAccounts,
    server,
    config,
    workspaceId,
    tenants,
    admin: tenants.admin,
    plans,
    caller,
    newCustomer,
    completeCheckout,
    advanceClock,
    settle,
    async close() {
      await server.close();
      await emulator.close();
    },
  };
}
