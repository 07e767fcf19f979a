import { and, eq, type Database, type Plan, type Subscription } from '@tally/db';
import Stripe from 'stripe';
import { newId } from '../src/ids';
import { createInnerContext, type Actor } from '../src/context';
import { createCallerFactory } from '../src/trpc';
import { appRouter } from '../src/router/index';
import type { ApiConfig } from '../src/services';
import { silentLogger } from '../src/logger';
import { createStripeAccounts, type DeploymentStripeMode, type StripeAccounts } from '../src/stripe/accounts';
import type { SecretKeyring } from '../src/secrets/encryption';

export const WEBHOOK_SECRET = 'whsec_test_secret_for_unit_tests_only';
export const ORIGIN = 'http://localhost:5173';

export const testConfig: ApiConfig = {
  environment: 'test',
  publicUrl: 'http://127.0.0.1:3000',
  webUrl: 'http://localhost:5173',
  signUp: 'open',
  maxOpenTopups: 5,
  dunningGraceDays: 7,
  topup: { minMinor: 50, maxMinor: 1_000_000, currency: 'usd' },
  allowedFrontendOrigins: [ORIGIN],
  stripeMode: 'emulator',
  adminEmails: [],
};

/** A real `stripe` SDK client whose HTTP calls are counted; with no `api`, every call fails. */
export function countingStripe(api?: { host: string; port: number }) {
  const calls: string[] = [];
  const fetchFn: typeof fetch = async (input, init) => {
    calls.push(`${init?.method ?? 'GET'} ${String(input)}`);
    if (!api) throw new Error('Stripe must not be called in this test');
    return fetch(input, init);
  };
  const stripe = new Stripe('sk_test_unit_tests_123456', {
    httpClient: Stripe.createFetchHttpClient(fetchFn),
    maxNetworkRetries: 0,
    ...(api ? { host: api.host, port: api.port, protocol: 'http' as const } : {}),
  });
  return { stripe, calls };
}

/** Seed a workspace with an admin and two customers, each with one member user. */
export async function seedTenants(db: Database) {
  const t = db.t;
  const workspaceId = newId();
  const mkUser = async (label: string) => {
    const id = newId();
    const email = `${label}-${id}@example.test`;
    await db.q.insert(t.users).values({ id, name: label, email });
    return { userId: id, email } satisfies Actor;
  };
  await db.q.insert(t.workspaces).values({ id: workspaceId, name: 'Acme', slug: `acme-${workspaceId}`, currency: 'usd' });
  const admin = await mkUser('admin');
  await db.q.insert(t.workspaceMembers).values({ id: newId(), workspaceId, userId: admin.userId, role: 'admin' });
  const mkCustomer = async (label: string) => {
    const user = await mkUser(label);
    const customerId = newId();
    await db.q.insert(t.customers).values({ id: customerId, workspaceId, name: label, email: user.email });
    await db.q.insert(t.customerMemberships).values({ id: newId(), customerId, userId: user.userId, role: 'owner' });
    return { ...user, customerId };
  };
  return { workspaceId, admin, alice: await mkCustomer('alice'), bob: await mkCustomer('bob') };
}

/** A fixed 32-byte key sealing workspace secrets in tests. */
export const TEST_KEYRING: SecretKeyring = { current: Buffer.alloc(32, 7) };

/**
 * Per-workspace Stripe for tests: `stripe` is the deployment's client (emulator mode, secret
 * WEBHOOK_SECRET); workspaces' own keys get real SDK clients pointed at `api` (or failing).
 */
export function testStripeAccounts(
  stripe: Stripe | null,
  opts: { api?: { host: string; port: number }; keyring?: SecretKeyring | null; mode?: DeploymentStripeMode; webhookSecret?: string | null } = {},
): StripeAccounts {
  const mode = opts.mode ?? (stripe ? 'emulator' : 'none');
  return createStripeAccounts({
    deployment: { mode, client: mode === 'none' ? null : stripe, webhookSecret: mode === 'none' ? null : (opts.webhookSecret ?? WEBHOOK_SECRET) },
    keyring: opts.keyring === undefined ? TEST_KEYRING : opts.keyring,
    createClient: (key) =>
      new Stripe(key, { maxNetworkRetries: 0, ...(opts.api ? { host: opts.api.host, port: opts.api.port, protocol: 'http' as const } : { host: '127.0.0.1', port: 9, protocol: 'http' as const }) }),
  });
}

/** The services of a test: the deployment Stripe is `stripe` (see testStripeAccounts). */
export function testServices(db: Database, stripe: Stripe | null, opts: Parameters<typeof testStripeAccounts>[1] & { config?: Partial<ApiConfig> } = {}) {
  return { db, stripeAccounts: testStripeAccounts(stripe, opts), config: { ...testConfig, ...opts.config }, logger: silentLogger };
}

export function callerFor(db: Database, stripe: Stripe | StripeAccounts, actor: Actor | null, origin: string | null = ORIGIN, selectedWorkspaceId: string | null = null) {
  const stripeAccounts = stripe instanceof Stripe ? testStripeAccounts(stripe) : stripe;
  return createCallerFactory(appRouter)(createInnerContext({ db, stripeAccounts, config: testConfig, logger: silentLogger, actor, origin, selectedWorkspaceId }));
}

/**
 * What the webhook handlers would write for a Stripe subscription, for procedure tests that do
 * not run webhooks: the mirror row (insert or overwrite) read back from `stripe`, its plan the
 * one whose monthly or yearly price is the first item's.
 */
export async function mirrorSubscriptionRow(
  db: Database,
  stripe: Stripe,
  { workspaceId, customerId, stripeSubscriptionId, plans }: { workspaceId: string; customerId: string; stripeSubscriptionId: string; plans: readonly Plan[] },
): Promise<Subscription> {
  const sub = await stripe.subscriptions.retrieve(stripeSubscriptionId);
  const item = sub.items.data[0]!;
  const plan = plans.find((p) => p.stripePriceId === item.price.id || p.stripeYearlyPriceId === item.price.id) ?? null;
  const at = (s: number | null | undefined) => (typeof s === 'number' ? new Date(s * 1000) : null);
  const fields = {
    stripeCustomerId: String(sub.customer),
    planId: plan?.id ?? null,
    stripePriceId: item.price.id,
    status: sub.status,
    seats: item.quantity ?? 1,
    currency: sub.currency,
    currentPeriodStart: at(item.current_period_start),
    currentPeriodEnd: at(item.current_period_end),
    trialStart: at(sub.trial_start),
    trialEnd: at(sub.trial_end),
    cancelAtPeriodEnd: sub.cancel_at_period_end,
    cancelAt: at(sub.cancel_at),
    canceledAt: at(sub.canceled_at),
    endedAt: at(sub.ended_at),
    stripeCreated: at(sub.created),
    updatedAt: new Date(),
  };
  const s = db.t.subscriptions;
  const where = and(eq(s.workspaceId, workspaceId), eq(s.stripeSubscriptionId, sub.id));
  const [existing] = await db.q.select().from(s).where(where);
  if (existing) await db.q.update(s).set(fields).where(where);
  else await db.q.insert(s).values({ id: newId(), workspaceId, customerId, stripeSubscriptionId: sub.id, ...fields });
  return (await db.q.select().from(s).where(where))[0]!;
}
