import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAuth, createStripeAccounts, recordingLogger, type ApiConfig, type AuthOptions, type Logger, type SecretKeyring, type StripeAccounts } from '@tally/api';
import { newId } from '../../../packages/api/src/ids';
import { and, desc, eq, type Database } from '@tally/db';
import Stripe from 'stripe';
import { createApp, type CreateAppOptions } from '../src/app';

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
  webUrl: 'http://127.0.0.1',
  signUp: 'open',
  maxOpenTopups: 5,
  dunningGraceDays: 7,
  topup: { minMinor: 50, maxMinor: 1_000_000, currency: 'usd' },
  allowedFrontendOrigins: [ORIGIN],
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

/** A fixed 32-byte key sealing workspace secrets in server tests. */
export const TEST_KEYRING: SecretKeyring = { current: Buffer.alloc(32, 9) };

/**
 * Per-workspace Stripe as the server builds it: the deployment is `stripe` (mode from
 * `config.stripeMode`, secret WEBHOOK_SECRET); workspaces' own keys get real SDK clients
 * pointed at `api` (an emulator), or failing ones.
 */
export function serverStripeAccounts(opts: { stripe?: Stripe; mode?: ApiConfig['stripeMode']; api?: { host: string; port: number }; keyring?: SecretKeyring | null; webhookSecret?: string } = {}): StripeAccounts {
  const mode = opts.mode ?? 'emulator';
  return createStripeAccounts({
    deployment: { mode, client: mode === 'none' ? null : (opts.stripe ?? offlineStripe), webhookSecret: mode === 'none' ? null : (opts.webhookSecret ?? WEBHOOK_SECRET) },
    keyring: opts.keyring === undefined ? TEST_KEYRING : opts.keyring,
    createClient: (key) =>
      opts.api ? new Stripe(key, { maxNetworkRetries: 0, host: opts.api.host, port: opts.api.port, protocol: 'http' }) : new Stripe(key, { maxNetworkRetries: 0, httpClient: Stripe.createFetchHttpClient(async () => { throw new Error('no Stripe API calls expected'); }) }),
  });
}

/** Start the real Express app on an ephemeral loopback port. */
export async function startServer(
  db: Database,
  opts: { stripe?: Stripe; stripeAccounts?: StripeAccounts; config?: Partial<ApiConfig>; logger?: Logger; authRateLimits?: AuthOptions['rateLimits'] } & Pick<CreateAppOptions, 'trustProxy' | 'publicUrl' | 'limits' | 'webDistDir'> = {},
) {
  const config = { ...testApiConfig, ...opts.config };
  const logger = opts.logger ?? recordingLogger();
  const auth = createAuth({ db, secret: 'x'.repeat(32), baseURL: 'http://127.0.0.1', trustedOrigins: config.allowedFrontendOrigins, adminEmails: config.adminEmails, signUp: config.signUp, rateLimits: opts.authRateLimits, logger });
  const app = createApp({
    services: { db, stripeAccounts: opts.stripeAccounts ?? serverStripeAccounts({ stripe: opts.stripe, mode: config.stripeMode }), config, logger },
    auth,
    trustProxy: opts.trustProxy,
    publicUrl: opts.publicUrl,
    limits: opts.limits,
    webDistDir: opts.webDistDir,
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    logger,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The first link in the newest outbox email of `kind` to `to`, pointed at `serverUrl` (the
 * test server's baseURL has no port). Throws when there is none.
 */
export async function emailLink(db: Database, serverUrl: string, to: string, kind: 'verify_email' | 'reset_password' | 'confirm_admin'): Promise<string> {
  const { emailOutbox: o } = db.t;
  const [mail] = await db.q.select().from(o).where(and(eq(o.toAddress, to.toLowerCase()), eq(o.kind, kind))).orderBy(desc(o.createdAt), desc(o.id)).limit(1);
  const link = mail?.textBody.match(/https?:\/\/\S+/)?.[0];
  if (!link) throw new Error(`no ${kind} email with a link to ${to} in the outbox`);
  const u = new URL(link);
  return `${serverUrl}${u.pathname}${u.search}`;
}

/** `name=value; ...` of a response's Set-Cookie headers. */
export const cookieOf = (res: Response) => res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');

/**
 * Sign up over HTTP and confirm the address as the mailbox's owner would; returns the
 * session cookie. An ordinary address follows the verification link (better-auth signs in
 * after it); an address that becomes an admin gets a `confirm_admin` link instead, where the
 * owner chooses the password (here: the same one) and then signs in.
 */
export async function signUpVerified(serverUrl: string, db: Database, who: { email: string; password: string; name?: string }, headers: Record<string, string> = {}) {
  const post = (path: string, body: unknown) =>
    fetch(`${serverUrl}/api/auth/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: ORIGIN, ...headers }, body: JSON.stringify(body) });
  const res = await post('sign-up/email', { name: who.name ?? 'Test User', email: who.email, password: who.password, callbackURL: '/' });
  if (res.status !== 200) throw new Error(`sign-up answered ${res.status}: ${await res.text()}`);
  const { emailOutbox: o } = db.t;
  const kinds = (await db.q.select({ kind: o.kind }).from(o).where(eq(o.toAddress, who.email.toLowerCase()))).map((m) => m.kind);
  if (kinds.includes('confirm_admin')) {
    const toPage = await fetch(await emailLink(db, serverUrl, who.email, 'confirm_admin'), { redirect: 'manual', headers });
    const token = new URL(toPage.headers.get('location') ?? '', serverUrl).searchParams.get('token');
    const reset = await post('reset-password', { newPassword: who.password, token });
    if (reset.status !== 200) throw new Error(`reset-password answered ${reset.status}: ${await reset.text()}`);
    const signIn = await post('sign-in/email', { email: who.email, password: who.password });
    if (signIn.status !== 200) throw new Error(`sign-in answered ${signIn.status}: ${await signIn.text()}`);
    return cookieOf(signIn);
  }
  const verified = await fetch(await emailLink(db, serverUrl, who.email, 'verify_email'), { redirect: 'manual', headers });
  const cookie = cookieOf(verified);
  if (verified.status !== 302 || !cookie.includes('session_token')) throw new Error(`verification link answered ${verified.status} without a session`);
  return cookie;
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
