import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EMULATOR_DEV_API_KEY, EMULATOR_SECOND_API_KEY } from '../src/defaults';
import { accountIdFromKey, startStripeEmulator, type StripeEmulator, type StripeEmulatorOptions } from '../src/index';
import { FUTURE_EXPIRY, WEBHOOK_SECRET, createSession, postForm, startWebhookReceiver } from './helpers';

/** The real SDK with `key` against `emulator`, one request per call. */
const client = (emulator: StripeEmulator, key: string) => new Stripe(key, { host: '127.0.0.1', port: emulator.port, protocol: 'http', maxNetworkRetries: 0 });

/** What a failed SDK call rejected with. */
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: unknown) => error as Stripe.errors.StripeError,
  );

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: StripeEmulatorOptions): Promise<StripeEmulator> {
  const emulator = await startStripeEmulator({ port: 0, retryScheduleMs: [50], ...options });
  cleanups.push(() => emulator.close());
  return emulator;
}

function temporaryStatePath(): string {
  const directory = mkdtempSync(join(tmpdir(), 'stripe-emulator-accounts-'));
  cleanups.push(async () => rmSync(directory, { recursive: true, force: true }));
  return join(directory, 'state.json');
}

describe('one account per key (accountPerKey)', () => {
  let emulator: StripeEmulator;
  let configured: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let a: Stripe;
  let b: Stripe;

  beforeAll(async () => {
    configured = await startWebhookReceiver(WEBHOOK_SECRET);
    emulator = await startStripeEmulator({ port: 0, accountPerKey: true, webhookEndpoints: [{ url: configured.url, secret: WEBHOOK_SECRET }], retryScheduleMs: [50] });
    a = client(emulator, EMULATOR_DEV_API_KEY);
    b = client(emulator, EMULATOR_SECOND_API_KEY);
  });
  afterAll(async () => {
    await emulator.close();
    await configured.close();
  });

  it('gives each key its own account, the same one every time (GET /v1/account)', async () => {
    // stripe 23.x: `retrieve(null)` (typed) and `retrieveCurrent()` both call GET /v1/account, as `retrieve()` does at run time.
    const accountA = await a.accounts.retrieve(null);
    const accountB = await b.accounts.retrieveCurrent();
    expect((await b.accounts.retrieve(undefined as unknown as null)).id).toBe(accountB.id);
    expect(accountA.id).not.toBe(accountB.id);
    expect(accountA.id).toBe(emulator.defaultAccountId);
    expect(accountB.id).toMatch(/^acct_1[0-9A-Za-z]{16}$/);
    expect(accountB.id).toBe(emulator.accountIdForKey(EMULATOR_SECOND_API_KEY));
    expect(accountB.id).toBe(accountIdFromKey(EMULATOR_SECOND_API_KEY)); // deterministic: the same across restarts
    expect((await client(emulator, EMULATOR_SECOND_API_KEY).accounts.retrieveCurrent()).id).toBe(accountB.id);
    expect(accountB).toMatchObject({
      object: 'account',
      type: 'standard',
      charges_enabled: true,
      payouts_enabled: true,
      details_submitted: true,
      country: 'US',
      default_currency: 'usd',
      email: expect.stringContaining('@'),
      settings: { dashboard: { display_name: expect.any(String), timezone: 'Etc/UTC' } },
      business_profile: { name: expect.any(String) },
    });

    // GET /v1/accounts/{id}: one's own account; another one is Stripe's 403.
    expect((await b.accounts.retrieve(accountB.id)).id).toBe(accountB.id);
    const other = await failure(b.accounts.retrieve(accountA.id));
    expect(other).toBeInstanceOf(Stripe.errors.StripePermissionError);
    expect(other).toMatchObject({ statusCode: 403, code: 'account_invalid', message: expect.stringContaining(`does not have access to account '${accountA.id}'`) });

    expect(emulator.accounts().map((account) => account.id)).toEqual([accountA.id, accountB.id]);
  });

  it("keeps each account's objects to itself (resource_missing with the other key)", async () => {
    const customer = await a.customers.create({ email: 'only-a@example.com' });
    const session = await createSession(a);
    for (const call of [b.customers.retrieve(customer.id), b.checkout.sessions.retrieve(session.id)]) {
      expect(await failure(call)).toMatchObject({ statusCode: 404, code: 'resource_missing' });
    }
    expect((await b.customers.list({ limit: 100 })).data.map((c) => c.id)).not.toContain(customer.id);
    expect(await a.customers.retrieve(customer.id)).toMatchObject({ email: 'only-a@example.com' });

    // Idempotency keys are per account too: the same key with other parameters is fine in another account.
    await a.customers.create({ email: 'idem-a@example.com' }, { idempotencyKey: 'shared-idempotency-key' });
    expect(await b.customers.create({ email: 'idem-b@example.com' }, { idempotencyKey: 'shared-idempotency-key' })).toMatchObject({ email: 'idem-b@example.com' });
  });

  it("delivers an account's events only to its own endpoints, signed with their secrets", async () => {
    const receiverB = await startWebhookReceiver('whsec_placeholder');
    cleanups.push(receiverB.close);
    const endpointB = await b.webhookEndpoints.create({ url: receiverB.url, enabled_events: ['*'] });
    const receiverA = await startWebhookReceiver('whsec_placeholder');
    cleanups.push(receiverA.close);
    const endpointA = await a.webhookEndpoints.create({ url: receiverA.url, enabled_events: ['checkout.session.completed'] });
    expect((await b.webhookEndpoints.list()).data.map((endpoint) => endpoint.id)).toEqual([endpointB.id]);

    const sessionA = await createSession(a);
    const sessionB = await createSession(b);
    expect(await emulator.completeCheckoutSession(sessionB.id)).toEqual({ ok: true });
    expect(await emulator.completeCheckoutSession(sessionA.id)).toEqual({ ok: true });
    await emulator.waitForIdle();

    const verify = (body: string, header: unknown, secret: string) => Stripe.webhooks.constructEvent(body, String(header), secret);
    const eventsB = receiverB.received.map((webhook) => verify(webhook.body, webhook.headers['stripe-signature'], endpointB.secret!));
    const completedB = eventsB.filter((event) => event.type === 'checkout.session.completed');
    expect(completedB.map((event) => (event.data.object as Stripe.Checkout.Session).id)).toEqual([sessionB.id]);
    const idsB = new Set(emulator.events(EMULATOR_SECOND_API_KEY).map((event) => event.id));
    expect(eventsB.every((event) => idsB.has(event.id))).toBe(true);
    expect(() => verify(receiverB.received[0]!.body, receiverB.received[0]!.headers['stripe-signature'], WEBHOOK_SECRET)).toThrow();

    // A's events: to the configured endpoints and A's own API endpoint, never B's.
    const eventsA = receiverA.received.map((webhook) => verify(webhook.body, webhook.headers['stripe-signature'], endpointA.secret!));
    expect(eventsA.map((event) => (event.data.object as Stripe.Checkout.Session).id)).toEqual([sessionA.id]);
    const configuredCompleted = configured.received
      .filter((webhook) => webhook.event?.type === 'checkout.session.completed')
      .map((webhook) => (webhook.event!.data.object as Stripe.Checkout.Session).id);
    expect(configuredCompleted).toEqual([sessionA.id]);
    const idsA = new Set(emulator.events().map((event) => event.id));
    expect(configured.received.every((webhook) => webhook.event !== null && idsA.has(webhook.event.id))).toBe(true);
    expect([...idsA].some((id) => idsB.has(id))).toBe(false);

    // The event log and delivery helpers speak for one account at a time.
    expect((await b.events.list({ type: 'checkout.session.completed' })).data.map((event) => event.id)).toEqual(completedB.map((event) => event.id));
    expect(emulator.deliveries(EMULATOR_SECOND_API_KEY).every((attempt) => attempt.endpointId === endpointB.id && attempt.ok)).toBe(true);
    expect(emulator.deliveries().some((attempt) => attempt.endpointId === endpointB.id)).toBe(false);
    expect((await b.events.list({ limit: 1 })).data[0]!.pending_webhooks).toBe(0);
  });

  it("serves hosted pages with the owning account's state", async () => {
    const sessionB = await createSession(b);
    expect((await fetch(`${emulator.url}/c/pay/${sessionB.id}`)).status).toBe(200);
    const paid = await postForm(`${emulator.url}/c/pay/${sessionB.id}`, { email: 'jenny@example.com', cardNumber: '4242 4242 4242 4242', cardExpiry: FUTURE_EXPIRY, cardCvc: '123' });
    expect(paid.status).toBe(303);
    expect(await b.checkout.sessions.retrieve(sessionB.id)).toMatchObject({ status: 'complete', payment_status: 'paid' });
    const completed = emulator.events(EMULATOR_SECOND_API_KEY).filter((event) => event.type === 'checkout.session.completed');
    expect(completed.map((event) => (event.data.object as Stripe.Checkout.Session).id)).toContain(sessionB.id);
    expect(emulator.events().some((event) => (event.data.object as { id?: string }).id === sessionB.id)).toBe(false);
    expect((await fetch(`${emulator.url}/c/pay/cs_test_nope`)).status).toBe(404);
  });

  it("runs the sweeps for every account (SEPA settles in B's account)", async () => {
    const session = (await b.rawRequest('POST', '/v1/checkout/sessions', {
      mode: 'payment',
      payment_method_types: ['sepa_debit'],
      line_items: [{ price_data: { currency: 'eur', unit_amount: 1500, product_data: { name: 'Credits' } }, quantity: 1 }],
      success_url: 'https://merchant.test/ok',
    })) as unknown as Stripe.Checkout.Session;
    const paymentMethod = await b.paymentMethods.create({ type: 'sepa_debit', sepa_debit: { iban: 'AT611904300234573201' }, billing_details: { name: 'Jenny Rosen', email: 'jenny@example.com' } });
    await b.rawRequest('POST', `/v1/payment_pages/${session.id}/confirm`, { payment_method: paymentMethod.id });
    await expect
      .poll(() => emulator.events(EMULATOR_SECOND_API_KEY).some((event) => event.type === 'checkout.session.async_payment_succeeded'), { timeout: 4000 })
      .toBe(true);
    expect(await b.checkout.sessions.retrieve(session.id)).toMatchObject({ payment_status: 'paid' });
  });

  it('lists the accounts on the dashboard and shows one with ?account=', async () => {
    const idB = emulator.accountIdForKey(EMULATOR_SECOND_API_KEY);
    const page = await (await fetch(`${emulator.url}/_emulator`)).text();
    expect(page).toContain(emulator.defaultAccountId);
    expect(page).toContain(idB);
    expect(page).toContain('sk_test_');
    expect(page).not.toContain(EMULATOR_SECOND_API_KEY); // keys are masked
    const lastB = emulator.events(EMULATOR_SECOND_API_KEY).at(-1)!;
    expect(page).not.toContain(`id="${lastB.id}"`);
    expect(await (await fetch(`${emulator.url}/_emulator?account=${idB}`)).text()).toContain(`id="${lastB.id}"`);
    expect((await fetch(`${emulator.url}/_emulator?account=acct_nope`)).status).toBe(404);
    const deliveries = (await (await fetch(`${emulator.url}/_emulator/deliveries?account=${idB}`)).json()) as { account: string }[];
    expect(deliveries.length).toBeGreaterThan(0);
    expect(deliveries.every((attempt) => attempt.account === idB)).toBe(true);
  });
});

describe('API keys', () => {
  it('answers a revoked key with 401 api_key_expired, as Stripe does for an expired key', async () => {
    const emulator = await start({ accountPerKey: true });
    const revoked = 'sk_test_tally_revoked_key_0001';
    const error = await failure(client(emulator, revoked).customers.list());
    expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(error).toMatchObject({ statusCode: 401, code: 'api_key_expired', type: 'StripeAuthenticationError' });
    const response = await fetch(`${emulator.url}/v1/account`, { headers: { Authorization: `Bearer ${revoked}` } });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: {
        type: 'invalid_request_error',
        code: 'api_key_expired',
        doc_url: 'https://stripe.com/docs/error-codes/api-key-expired',
        message: 'Expired API Key provided: sk_test_******************0001',
      },
    });
    // Live, malformed and short keys stay invalid (no code), revoked or not.
    for (const key of ['sk_live_tally_revoked_0001', 'sk_test_1', 'pk_test_123456789012']) {
      const refused = await failure(client(emulator, key).customers.list());
      expect(refused, key).toMatchObject({ statusCode: 401, message: expect.stringMatching(/^Invalid API Key provided|You did not provide/) });
      expect(refused.code, key).toBeUndefined();
    }
    expect(emulator.accounts()).toHaveLength(1); // refused keys make no account
  });

  it('without accountPerKey, every key reaches the default account unless `accounts` ties it to another', async () => {
    const secret = 'sk_test_workspace_c_secret';
    const restricted = 'rk_test_workspace_c_restricted';
    const emulator = await start({ accounts: [{ keys: [secret, restricted], displayName: 'Workspace C' }] });
    const one = await client(emulator, 'sk_test_anything_12').accounts.retrieveCurrent();
    const two = await client(emulator, 'rk_test_123456789012').accounts.retrieveCurrent();
    expect(one.id).toBe(emulator.defaultAccountId);
    expect(two.id).toBe(emulator.defaultAccountId);
    expect(emulator.accountIdForKey('sk_test_anything_12')).toBe(emulator.defaultAccountId);

    const viaSecret = await client(emulator, secret).accounts.retrieveCurrent();
    expect(viaSecret).toMatchObject({ id: accountIdFromKey(secret), settings: { dashboard: { display_name: 'Workspace C' } } });
    expect((await client(emulator, restricted).accounts.retrieveCurrent()).id).toBe(viaSecret.id);
    const customer = await client(emulator, secret).customers.create({ email: 'c@example.com' });
    expect((await client(emulator, restricted).customers.retrieve(customer.id)).id).toBe(customer.id);
    expect(await failure(client(emulator, 'sk_test_anything_12').customers.retrieve(customer.id))).toMatchObject({ statusCode: 404 });
  });

  it("sends a configured account's events to its own configured endpoints", async () => {
    const defaultReceiver = await startWebhookReceiver(WEBHOOK_SECRET);
    cleanups.push(defaultReceiver.close);
    const ownReceiver = await startWebhookReceiver('whsec_workspace_d');
    cleanups.push(ownReceiver.close);
    const key = 'sk_test_workspace_d_secret';
    const emulator = await start({
      webhookEndpoints: [{ url: defaultReceiver.url, secret: WEBHOOK_SECRET }],
      accounts: [{ id: 'acct_1WorkspaceD', keys: [key], webhookEndpoints: [{ url: ownReceiver.url, secret: 'whsec_workspace_d' }] }],
    });
    expect((await client(emulator, key).accounts.retrieveCurrent()).id).toBe('acct_1WorkspaceD');
    await client(emulator, key).customers.create({ email: 'd@example.com' });
    await client(emulator, EMULATOR_DEV_API_KEY).customers.create({ email: 'default@example.com' });
    await emulator.waitForIdle();
    expect(ownReceiver.received.map((webhook) => (webhook.event?.data.object as Stripe.Customer | undefined)?.email)).toEqual(['d@example.com']);
    expect(defaultReceiver.received.map((webhook) => (webhook.event?.data.object as Stripe.Customer | undefined)?.email)).toEqual(['default@example.com']);
  });
});

describe('state file with accounts', () => {
  it('saves and reloads every account', async () => {
    const statePath = temporaryStatePath();
    const first = await startStripeEmulator({ port: 0, accountPerKey: true, statePath });
    const customerA = await client(first, EMULATOR_DEV_API_KEY).customers.create({ email: 'a@example.com' });
    const customerB = await client(first, EMULATOR_SECOND_API_KEY).customers.create({ email: 'b@example.com' });
    const endpointB = await client(first, EMULATOR_SECOND_API_KEY).webhookEndpoints.create({ url: 'http://127.0.0.1:9/hook', enabled_events: ['*'] });
    const eventsB = first.events(EMULATOR_SECOND_API_KEY).length;
    await first.close();

    const saved = JSON.parse(readFileSync(statePath, 'utf8')) as { version: number; tables: { customers: { id: string }[] }; accounts: { id: string; tables: { customers: { id: string }[] } }[] };
    expect(saved.version).toBe(1);
    expect(saved.tables.customers.map((customer) => customer.id)).toEqual([customerA.id]); // the default account, as before accounts
    expect(saved.accounts.map((account) => [account.id, account.tables.customers.map((customer) => customer.id)])).toEqual([[accountIdFromKey(EMULATOR_SECOND_API_KEY), [customerB.id]]]);
    expect(readFileSync(statePath, 'utf8')).not.toContain(EMULATOR_SECOND_API_KEY);

    const second = await start({ accountPerKey: true, statePath });
    const a = client(second, EMULATOR_DEV_API_KEY);
    const b = client(second, EMULATOR_SECOND_API_KEY);
    expect(await a.customers.retrieve(customerA.id)).toMatchObject({ email: 'a@example.com' });
    expect(await b.customers.retrieve(customerB.id)).toMatchObject({ email: 'b@example.com' });
    expect(await failure(b.customers.retrieve(customerA.id))).toMatchObject({ statusCode: 404 });
    expect((await b.webhookEndpoints.list()).data.map((endpoint) => endpoint.id)).toEqual([endpointB.id]);
    expect((await a.webhookEndpoints.list()).data).toEqual([]);
    expect(second.events(EMULATOR_SECOND_API_KEY)).toHaveLength(eventsB);
    expect(second.accounts().map((account) => account.id)).toEqual([second.defaultAccountId, accountIdFromKey(EMULATOR_SECOND_API_KEY)]);
  });

  it('loads a state file of the single-account emulator as the default account', async () => {
    const statePath = temporaryStatePath();
    const old = await startStripeEmulator({ port: 0, statePath });
    const customer = await client(old, 'sk_test_anything_12').customers.create({ email: 'old@example.com' });
    await old.close();
    // What the single-account emulator wrote: `version` and the tables, nothing else.
    const { version, tables } = JSON.parse(readFileSync(statePath, 'utf8')) as { version: 1; tables: unknown };
    writeFileSync(statePath, JSON.stringify({ version, tables }));

    const emulator = await start({ accountPerKey: true, statePath });
    expect(await client(emulator, EMULATOR_DEV_API_KEY).customers.retrieve(customer.id)).toMatchObject({ email: 'old@example.com' });
    expect(await failure(client(emulator, EMULATOR_SECOND_API_KEY).customers.retrieve(customer.id))).toMatchObject({ statusCode: 404 });
    expect(emulator.events().map((event) => event.type)).toEqual(['customer.created']);
  });
});
