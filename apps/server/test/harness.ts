import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAuth, recordingLogger, type ApiConfig, type Logger } from '@tally/api';
import { newId } from '../../../packages/api/src/ids';
import type { Database } from '@tally/db';
import Stripe from 'stripe';
import { createApp } from '../src/app';

export const WEBHOOK_SECRET = 'whsec_server_tests_only_0123456789';
export const ORIGIN = 'http://localhost:5173';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** Stripe's own data beside the project (never copied into it). */
export const sharedStripeDir = path.resolve(repoRoot, '../shared/stripe');

let fixtureCache: Record<string, Record<string, unknown>> | undefined;
/** Stripe's example object for a resource, e.g. `checkout.session`, from fixtures3.json. */
export function stripeFixtures(): Record<string, Record<string, unknown>> {
  fixtureCache ??= JSON.parse(readFileSync(path.join(sharedStripeDir, 'fixtures3.json'), 'utf8')).resources;
  return fixtureCache!;
}

export const testApiConfig: ApiConfig = {
  environment: 'test',
  publicUrl: 'http://127.0.0.1',
  signUp: 'open',
  maxOpenTopups: 5,
  topup: { minMinor: 50, maxMinor: 1_000_000, currency: 'usd' },
  allowedFrontendOrigins: [ORIGIN],
  stripeWebhookSecret: WEBHOOK_SECRET,
  stripeMode: 'emulator',
  adminEmails: [],
};

/** A Stripe client that fails on any API call: webhooks never call Stripe. */
export const offlineStripe = new Stripe('sk_test_server_tests_123', {
  httpClient: Stripe.createFetchHttpClient(async () => {
    throw new Error('no Stripe API calls expected');
  }),
  maxNetworkRetries: 0,
});

/** Start the real Express app on an ephemeral loopback port. */
export async function startServer(db: Database, opts: { stripe?: Stripe; config?: Partial<ApiConfig>; logger?: Logger } = {}) {
  const config = { ...testApiConfig, ...opts.config };
  const logger = opts.logger ?? recordingLogger();
  const auth = createAuth({ db, secret: 'x'.repeat(32), baseURL: 'http://127.0.0.1', trustedOrigins: config.allowedFrontendOrigins, adminEmails: config.adminEmails });
  const app = createApp({ services: { db, stripe: opts.stripe ?? offlineStripe, config, logger }, auth });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    logger,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Sign a payload exactly as Stripe does (the SDK's own test helper). */
export function sign(payload: string, { secret = WEBHOOK_SECRET, timestamp }: { secret?: string; timestamp?: number } = {}) {
  return offlineStripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp ? { timestamp } : {}) });
}

export async function deliver(baseUrl: string, payload: string, signature?: string) {
  const res = await fetch(`${baseUrl}/api/stripe/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', ...(signature ? { 'stripe-signature': signature } : {}) },
    body: payload,
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
}

/** A Stripe event envelope (from Stripe's fixture) around `object`. */
export function stripeEvent(type: string, object: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
  const envelope = structuredClone(stripeFixtures().event!);
  return {
    ...envelope,
    id: `evt_${newId().replace(/-/g, '')}`,
    type,
    api_version: '2026-10-28.endive',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    data: { object },
    ...overrides,
  };
}

/** Stripe's example Checkout Session, made to belong to one of our top-ups. */
export function checkoutSession(overrides: Record<string, unknown>) {
  return {
    ...structuredClone(stripeFixtures()['checkout.session']!),
    mode: 'payment',
    status: 'complete',
    payment_status: 'paid',
    currency: 'usd',
    payment_intent: 'pi_test_123',
    ...overrides,
  };
}

/** Seed a workspace, customer and a pending top-up linked to a Checkout Session id. */
export async function seedPendingTopup(db: Database, amountMinor = 500) {
  const t = db.t;
  const workspaceId = newId();
  const customerId = newId();
  const topupId = newId();
  const sessionId = `cs_test_${newId().replace(/-/g, '')}`;
  await db.q.insert(t.workspaces).values({ id: workspaceId, name: 'W', slug: `w-${workspaceId}`, currency: 'usd' });
  await db.q.insert(t.customers).values({ id: customerId, workspaceId, name: 'C' });
  await db.q.insert(t.topups).values({ id: topupId, workspaceId, customerId, amountMinor, currency: 'usd', status: 'pending', stripeCheckoutSessionId: sessionId });
  return { workspaceId, customerId, topupId, sessionId };
}
