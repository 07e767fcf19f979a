/**
 * Issue 7, item 3: Settings -> Stripe (`settings.stripe.get | save | clear |
 * registerWebhookEndpoint`) against a real Stripe emulator (one account per key) with the real
 * SDK: keys are checked with `GET /v1/account`, stored sealed, never returned, logged or
 * audited; the webhook endpoint is created through the API. Both dialects.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { startStripeEmulator, type StripeEmulator } from '@tally/stripe-emulator';
import { EMULATOR_SECOND_API_KEY } from '@tally/stripe-emulator/defaults';
import { TRPCError } from '@trpc/server';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInnerContext, type Actor } from '../src/context';
import { newId } from '../src/ids';
import { recordingLogger, type LogRecord } from '../src/logger';
import { appRouter } from '../src/router/index';
import { decryptSecret } from '../src/secrets/encryption';
import { registeredEventTypes } from '../src/settings/register-webhook-endpoint';
import { createStripeAccounts, type StripeAccounts } from '../src/stripe/accounts';
import { createCallerFactory } from '../src/trpc';
import { stripeEventHandlers } from '../src/webhooks/handlers/index';
import { countingStripe, ORIGIN, seedTenants, TEST_KEYRING, testConfig, testStripeAccounts, WEBHOOK_SECRET } from './helpers';

const code = (e: unknown) => (e instanceof TRPCError ? e.code : `not a TRPCError: ${String(e)}`);
/** A fresh test key: with `accountPerKey`, its own emulator account. */
const newKey = (prefix: 'sk_test' | 'rk_test' | 'sk_live' = 'sk_test') => `${prefix}_settings_${randomBytes(10).toString('hex')}`;
const newWhsec = () => `whsec_pasted_${randomBytes(12).toString('hex')}`;

/** A TCP port on loopback with nothing listening (a Stripe that cannot be reached). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.each(testDialects)('settings.stripe ($name)', ({ create }) => {
  let db: TestDatabase;
  let emulator: StripeEmulator;
  let api: { host: string; port: number };
  let deploymentStripe: Stripe;
  beforeAll(async () => {
    db = await create();
    emulator = await startStripeEmulator({ port: 0, statePath: null, accountPerKey: true });
    const url = new URL(emulator.url);
    api = { host: url.hostname, port: Number(url.port) };
    deploymentStripe = countingStripe(api).stripe;
  });
  afterAll(async () => {
    await emulator.close();
    await db.destroy();
  });

  /** The SDK as an operator would use it on the emulator, for checking what Tally did there. */
  const sdk = (key: string) => new Stripe(key, { host: api.host, port: api.port, protocol: 'http', maxNetworkRetries: 0 });

  function callerFor(actor: Actor, { accounts, logger = recordingLogger(), workspaceId = null }: { accounts?: StripeAccounts; logger?: ReturnType<typeof recordingLogger>; workspaceId?: string | null } = {}) {
    const ctx = createInnerContext({
      db,
      stripeAccounts: accounts ?? testStripeAccounts(deploymentStripe, { api }),
      config: testConfig,
      logger,
      actor,
      origin: ORIGIN,
      requestId: 'req-settings-test',
      selectedWorkspaceId: workspaceId,
    });
    return createCallerFactory(appRouter)(ctx);
  }
  const rowOf = async (workspaceId: string) => (await db.q.select().from(db.t.workspaceStripeAccounts).where(eq(db.t.workspaceStripeAccounts.workspaceId, workspaceId)))[0];
  const auditOf = (workspaceId: string) => db.q.select().from(db.t.auditLog).where(eq(db.t.auditLog.workspaceId, workspaceId));

  it('saves a key the emulator accepts: verified, sealed, and shown only as mode, kind and last 4', async () => {
    const { workspaceId, admin } = await seedTenants(db);
    const key = newKey();
    const caller = callerFor(admin);
    const before = await caller.settings.stripe.get();
    expect(before).toMatchObject({ encryptionAvailable: true, source: 'deployment', deploymentMode: 'emulator', key: null, webhookSecret: null, webhookEndpoint: null, lastEventAt: null });

    const saved = await caller.settings.stripe.save({ secretKey: `  ${key}\n` });
    expect(saved.verification).toBe('verified');
    const webhookUrl = `${testConfig.publicUrl}/api/stripe/webhook/${workspaceId}`;
    expect(saved).toMatchObject({
      source: 'workspace',
      key: { mode: 'test', kind: 'secret', last4: key.slice(-4), savedByEmail: admin.email, verified: true, stripeAccountId: emulator.accountIdForKey(key) },
      webhookSecret: null,
      webhookUrl,
      listenCommand: `stripe listen --forward-to ${webhookUrl}`,
    });
    expect(saved.key?.verifiedAt).toBeInstanceOf(Date);
    expect(JSON.stringify(saved)).not.toContain(key);
    const got = await caller.settings.stripe.get();
    expect(got).toMatchObject({ source: 'workspace', key: { last4: key.slice(-4), verified: true } });
    expect(JSON.stringify(got)).not.toContain(key);

    // Stored sealed for this workspace only, and the workspace's Stripe is now that key's account.
    const row = await rowOf(workspaceId);
    expect(row).toMatchObject({ keyKind: 'secret', mode: 'test', keyLast4: key.slice(-4), savedByUserId: admin.userId, stripeAccountId: emulator.accountIdForKey(key) });
    expect(row!.secretKeySealed).not.toContain(key.slice(8));
    expect(decryptSecret({ keyring: TEST_KEYRING, workspaceId, sealed: row!.secretKeySealed })).toBe(key);
    const accounts = testStripeAccounts(deploymentStripe, { api });
    const stripe = await accounts.forWorkspace(db, workspaceId);
    expect(stripe).toMatchObject({ configured: true, source: 'workspace', stripeAccountId: emulator.accountIdForKey(key) });
    if (stripe.configured) expect((await stripe.client.accounts.retrieveCurrent()).id).toBe(emulator.accountIdForKey(key));

    // A restricted key is a `restricted` kind.
    const rk = newKey('rk_test');
    expect((await caller.settings.stripe.save({ secretKey: rk })).key).toMatchObject({ kind: 'restricted', last4: rk.slice(-4), verified: true });

    // The last signed event of the workspace (either URL) is shown.
    const receivedAt = new Date('2026-03-01T12:00:00.000Z');
    await db.q.insert(db.t.stripeEvents).values({ scope: workspaceId, id: `evt_${newId().replace(/-/g, '')}`, type: 'customer.created', livemode: false, stripeCreatedAt: receivedAt, payload: '{}', status: 'ignored', workspaceId, receivedAt, updatedAt: receivedAt });
    expect((await caller.settings.stripe.get()).lastEventAt?.toISOString()).toBe(receivedAt.toISOString());

    const audit = await auditOf(workspaceId);
    expect(audit.map((a) => a.action)).toEqual(['stripe_settings.save', 'stripe_settings.save']);
    expect(JSON.parse(audit[0]!.after!)).toMatchObject({ mode: 'test', kind: 'secret', last4: key.slice(-4), verified: true, stripeAccountId: emulator.accountIdForKey(key), webhookSecretLast4: null, webhookEndpointId: null });
    expect(audit[0]!.actorLabel).toBe(admin.email);
  });

  it('a key Stripe refuses (live on the emulator, expired) is not saved, and the error says why without the key', async () => {
    const { workspaceId, admin } = await seedTenants(db);
    const logger = recordingLogger();
    const caller = callerFor(admin, { logger });
    for (const [key, why] of [
      [newKey('sk_live'), /^Stripe refused this key: Invalid API Key provided: sk_live_\*+[0-9a-f]{4}$/],
      [`sk_test_${randomBytes(6).toString('hex')}_revoked_${randomBytes(6).toString('hex')}`, /^Stripe refused this key: Expired API Key provided: sk_test_\*+[0-9a-f]{4}$/],
    ] as const) {
      const err = await caller.settings.stripe.save({ secretKey: key, webhookSecret: newWhsec() }).catch((e: unknown) => e);
      expect(code(err)).toBe('BAD_REQUEST');
      expect((err as TRPCError).message).toMatch(why);
      expect((err as TRPCError).message).not.toContain(key.slice(8));
      expect(JSON.stringify(logger.records)).not.toContain(key.slice(8));
    }
    expect(await rowOf(workspaceId)).toBeUndefined();
    expect(await auditOf(workspaceId)).toEqual([]);
    expect((await caller.settings.stripe.get()).source).toBe('deployment');
  });

  it('an unreachable Stripe saves the key as not verified (and says so in the log, without the key)', async () => {
    const { workspaceId, admin } = await seedTenants(db);
    const logger = recordingLogger();
    const accounts = testStripeAccounts(deploymentStripe, { api: { host: '127.0.0.1', port: await closedPort() } });
    const caller = callerFor(admin, { accounts, logger });
    const key = newKey();
    const saved = await caller.settings.stripe.save({ secretKey: key });
    expect(saved.verification).toBe('unverified');
    expect(saved.key).toMatchObject({ last4: key.slice(-4), verified: false, verifiedAt: null, stripeAccountId: null });
    expect(saved.source).toBe('workspace');
    expect(await rowOf(workspaceId)).toMatchObject({ verifiedAt: null, stripeAccountId: null, keyLast4: key.slice(-4) });
    const warning = logger.records.find((r) => r.level === 'warn');
    expect(warning?.message).toContain('saved as not verified');
    expect(warning?.fields).toMatchObject({ workspaceId, stripeErrorClass: 'StripeConnectionError' });
    expect(JSON.stringify(logger.records)).not.toContain(key.slice(8));
    expect(JSON.parse((await auditOf(workspaceId))[0]!.after!)).toMatchObject({ verified: false });

    // Registering needs Stripe: BAD_GATEWAY, nothing changed.
    const err = await caller.settings.stripe.registerWebhookEndpoint().catch((e: unknown) => e);
    expect(code(err)).toBe('BAD_GATEWAY');
    expect((err as TRPCError).message).toContain('Stripe could not be reached');
    expect(await rowOf(workspaceId)).toMatchObject({ webhookEndpointId: null, webhookSecretSealed: null });
  });

  it('without TALLY_SECRET_ENCRYPTION_KEY: PRECONDITION_FAILED naming it, nothing stored, and the page knows', async () => {
    const { workspaceId, admin } = await seedTenants(db);
    const { stripe: spy, calls } = countingStripe(api);
    const accounts = testStripeAccounts(spy, { api, keyring: null });
    const caller = callerFor(admin, { accounts });
    expect((await caller.settings.stripe.get()).encryptionAvailable).toBe(false);
    const err = await caller.settings.stripe.save({ secretKey: newKey(), webhookSecret: newWhsec() }).catch((e: unknown) => e);
    expect(code(err)).toBe('PRECONDITION_FAILED');
    expect((err as TRPCError).message).toMatch(/^TALLY_SECRET_ENCRYPTION_KEY is not set on this server: /);
    expect(code(await caller.settings.stripe.registerWebhookEndpoint().catch((e: unknown) => e))).toBe('PRECONDITION_FAILED');
    expect(await rowOf(workspaceId)).toBeUndefined();
    expect(await auditOf(workspaceId)).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('refuses malformed keys and secrets with BAD_REQUEST that never echoes them, before calling Stripe', async () => {
    const { workspaceId, admin } = await seedTenants(db);
    const { stripe: spy, calls } = countingStripe(api);
    const caller = callerFor(admin, { accounts: testStripeAccounts(spy, { api }) });
    const secretKeys = ['pk_test_abcdefgh12345678', '', 'sk_test_short', 'sk_test_' + 'a'.repeat(10_000), 'sk_test_abcdef\u0000ghijklmnop', 'sk_prod_abcdefghijkl', 'whsec_abcdefghijkl', 'sk_test_abc def ghi jkl'];
    for (const secretKey of secretKeys) {
      const err = await caller.settings.stripe.save({ secretKey }).catch((e: unknown) => e);
      expect(code(err), JSON.stringify(secretKey.slice(0, 30))).toBe('BAD_REQUEST');
      expect((err as TRPCError).message).toContain('secretKey must be a Stripe secret key');
      if (secretKey.length > 12) expect(JSON.stringify((err as TRPCError).message)).not.toContain(secretKey.slice(8, 20));
    }
    for (const webhookSecret of ['nope_abcdefghijkl', 'whsec_', 'whsec_' + 'b'.repeat(10_000), 'whsec_abc\u0000defghijk', 'sk_test_abcdefghijkl']) {
      const err = await caller.settings.stripe.save({ secretKey: newKey(), webhookSecret }).catch((e: unknown) => e);
      expect(code(err)).toBe('BAD_REQUEST');
      expect((err as TRPCError).message).toContain('webhookSecret must be a Stripe webhook signing secret');
    }
    for (const bad of [{}, { secretKey: 42 }, { secretKey: null }, { secretKey: ['sk_test_abcdefghijkl'] }]) {
      expect(code(await caller.settings.stripe.save(bad as never).catch((e: unknown) => e))).toBe('BAD_REQUEST');
    }
    expect(calls).toEqual([]);
    expect(await rowOf(workspaceId)).toBeUndefined();
  });

  it('registers the webhook endpoint on the workspace account (every handled type), stores its secret sealed, and never leaves two', async () => {
    const { workspaceId, admin } = await seedTenants(db);
    const caller = callerFor(admin);
    const noKeys = await caller.settings.stripe.registerWebhookEndpoint().catch((e: unknown) => e);
    expect(code(noKeys)).toBe('PRECONDITION_FAILED');
    expect((noKeys as TRPCError).message).toContain("paste this workspace's keys first");

    const key = newKey();
    await caller.settings.stripe.save({ secretKey: key });
    const view = await caller.settings.stripe.registerWebhookEndpoint();
    const webhookUrl = `${testConfig.publicUrl}/api/stripe/webhook/${workspaceId}`;
    const endpoints = (await sdk(key).webhookEndpoints.list()).data;
    expect(endpoints).toHaveLength(1);
    const [endpoint] = endpoints;
    expect(endpoint).toMatchObject({ url: webhookUrl, status: 'enabled', description: 'Tally workspace Acme', metadata: { tally_workspace_id: workspaceId }, api_version: Stripe.API_VERSION });
    expect([...endpoint!.enabled_events].sort()).toEqual(Object.keys(stripeEventHandlers).sort());
    expect(registeredEventTypes()).toEqual(Object.keys(stripeEventHandlers).sort());
    expect(view.webhookEndpoint).toMatchObject({ id: endpoint!.id });
    expect(view.webhookEndpoint?.registeredAt).toBeInstanceOf(Date);

    const row = await rowOf(workspaceId);
    const secret = decryptSecret({ keyring: TEST_KEYRING, workspaceId, sealed: row!.webhookSecretSealed! });
    expect(secret).toMatch(/^whsec_/);
    expect(row!.webhookSecretSealed).not.toContain(secret.slice(6));
    expect(view.webhookSecret).toEqual({ last4: secret.slice(-4) });
    expect(JSON.stringify(view)).not.toContain(secret);
    // The stored secret is what the workspace's URL verifies with.
    const stripe = await testStripeAccounts(deploymentStripe, { api }).forWorkspace(db, workspaceId);
    expect(stripe.webhookSecret).toBe(secret);

    // Again: a new endpoint and secret replace the old ones, at Stripe too.
    const again = await caller.settings.stripe.registerWebhookEndpoint();
    const after = (await sdk(key).webhookEndpoints.list()).data;
    expect(after).toHaveLength(1);
    expect(after[0]!.id).not.toBe(endpoint!.id);
    expect(again.webhookEndpoint?.id).toBe(after[0]!.id);
    expect(decryptSecret({ keyring: TEST_KEYRING, workspaceId, sealed: (await rowOf(workspaceId))!.webhookSecretSealed! })).not.toBe(secret);
    // Another workspace's account is untouched.
    expect((await sdk(EMULATOR_SECOND_API_KEY).webhookEndpoints.list()).data.filter((e) => e.metadata?.tally_workspace_id === workspaceId)).toEqual([]);

    const audit = (await auditOf(workspaceId)).filter((a) => a.action === 'stripe_settings.register_webhook_endpoint');
    expect(audit).toHaveLength(2);
    expect(JSON.parse(audit[1]!.after!)).toMatchObject({ webhookEndpointId: after[0]!.id, webhookSecretLast4: again.webhookSecret?.last4 });
    expect(JSON.parse(audit[1]!.before!)).toMatchObject({ webhookEndpointId: endpoint!.id });

    // Re-saving the same key without a secret keeps the endpoint and its secret.
    const resaved = await caller.settings.stripe.save({ secretKey: key });
    expect(resaved).toMatchObject({ webhookEndpoint: { id: after[0]!.id }, webhookSecret: again.webhookSecret });
  });

  it('clear: the workspace falls back to the deployment (or none), its endpoint is deleted at Stripe, and it is audited', async () => {
    const { workspaceId, admin } = await seedTenants(db);
    const caller = callerFor(admin);
    const key = newKey();
    await caller.settings.stripe.save({ secretKey: key });
    await caller.settings.stripe.registerWebhookEndpoint();
    expect((await sdk(key).webhookEndpoints.list()).data).toHaveLength(1);

    const cleared = await caller.settings.stripe.clear();
    expect(cleared).toMatchObject({ source: 'deployment', key: null, webhookSecret: null, webhookEndpoint: null });
    expect(await rowOf(workspaceId)).toBeUndefined();
    expect((await sdk(key).webhookEndpoints.list()).data).toEqual([]);
    const stripe = await testStripeAccounts(deploymentStripe, { api }).forWorkspace(db, workspaceId);
    expect(stripe).toMatchObject({ configured: true, source: 'deployment', webhookSecret: WEBHOOK_SECRET });
    const entry = (await auditOf(workspaceId)).find((a) => a.action === 'stripe_settings.clear');
    expect(JSON.parse(entry!.before!)).toMatchObject({ last4: key.slice(-4), mode: 'test' });
    expect(JSON.parse(entry!.after!)).toMatchObject({ fallsBackTo: 'deployment', webhookEndpointDeleted: true });

    // Clearing again changes nothing and writes no entry.
    await caller.settings.stripe.clear();
    expect((await auditOf(workspaceId)).filter((a) => a.action === 'stripe_settings.clear')).toHaveLength(1);

    // On a deployment without Stripe, clearing leaves the workspace with none.
    const none = testStripeAccounts(null, { api });
    const noneCaller = callerFor(admin, { accounts: none });
    await noneCaller.settings.stripe.save({ secretKey: newKey() });
    expect((await noneCaller.settings.stripe.clear())).toMatchObject({ source: 'none', deploymentMode: 'none', key: null });
    expect((await noneCaller.settings.stripe.get()).unavailableReason).toContain('Stripe is not configured for this workspace');
  });

  it('another Stripe account clears the customers\' Stripe ids and a stored webhook secret; the same one keeps them', async () => {
    const { workspaceId, admin, alice, bob } = await seedTenants(db);
    const setIds = () =>
      Promise.all([alice, bob].map((c, i) => db.q.update(db.t.customers).set({ stripeCustomerId: `cus_${i}${newId().replace(/-/g, '')}` }).where(eq(db.t.customers.id, c.customerId))));
    const idsOf = async () => (await db.q.select({ id: db.t.customers.stripeCustomerId }).from(db.t.customers).where(eq(db.t.customers.workspaceId, workspaceId))).map((r) => r.id);
    const caller = callerFor(admin);

    // First own key: the ids were the deployment account's.
    await setIds();
    const whsec = newWhsec();
    const first = await caller.settings.stripe.save({ secretKey: EMULATOR_SECOND_API_KEY, webhookSecret: whsec });
    expect(first.webhookSecret).toEqual({ last4: whsec.slice(-4) });
    expect(await idsOf()).toEqual([null, null]);

    // The same account again (same key), no secret given: ids and secret kept.
    await setIds();
    const kept = await idsOf();
    const same = await caller.settings.stripe.save({ secretKey: EMULATOR_SECOND_API_KEY });
    expect(same.webhookSecret).toEqual({ last4: whsec.slice(-4) });
    expect(await idsOf()).toEqual(kept);
    const sameEntry = (await auditOf(workspaceId)).at(-1)!;
    expect(JSON.parse(sameEntry.after!)).toMatchObject({ accountChanged: false, stripeCustomerIdsCleared: 0 });

    // Another account: ids (of the old account) and the old account's secret are dropped, and the entry says so.
    const other = newKey();
    const moved = await caller.settings.stripe.save({ secretKey: other });
    expect(moved).toMatchObject({ webhookSecret: null, key: { stripeAccountId: emulator.accountIdForKey(other) } });
    expect(await idsOf()).toEqual([null, null]);
    const entry = (await auditOf(workspaceId)).at(-1)!;
    expect(JSON.parse(entry.before!)).toMatchObject({ stripeAccountId: emulator.accountIdForKey(EMULATOR_SECOND_API_KEY), webhookSecretLast4: whsec.slice(-4) });
    expect(JSON.parse(entry.after!)).toMatchObject({ stripeAccountId: emulator.accountIdForKey(other), webhookSecretLast4: null, accountChanged: true, stripeCustomerIdsCleared: 2 });

    // Another workspace's customers are untouched.
    const elsewhere = await seedTenants(db);
    await db.q.update(db.t.customers).set({ stripeCustomerId: `cus_keep${newId().replace(/-/g, '')}` }).where(eq(db.t.customers.id, elsewhere.alice.customerId));
    await caller.settings.stripe.save({ secretKey: newKey() });
    expect((await db.q.select().from(db.t.customers).where(eq(db.t.customers.id, elsewhere.alice.customerId)))[0]!.stripeCustomerId).toMatch(/^cus_keep/);
  });

  it('only admins of the selected workspace: a customer member and an admin of another workspace get FORBIDDEN', async () => {
    const { workspaceId, alice } = await seedTenants(db);
    const other = await seedTenants(db);
    const calls = (caller: ReturnType<typeof callerFor>) => [
      () => caller.settings.stripe.get(),
      () => caller.settings.stripe.save({ secretKey: newKey() }),
      () => caller.settings.stripe.clear(),
      () => caller.settings.stripe.registerWebhookEndpoint(),
    ];
    for (const call of [...calls(callerFor(alice)), ...calls(callerFor(other.admin, { workspaceId }))]) {
      expect(code(await call().catch((e: unknown) => e))).toBe('FORBIDDEN');
    }
    expect(await rowOf(workspaceId)).toBeUndefined();
    // The other admin's own workspace is theirs to change.
    expect((await callerFor(other.admin).settings.stripe.save({ secretKey: newKey() })).verification).toBe('verified');
    expect(await rowOf(workspaceId)).toBeUndefined();
  });

  it('no key, webhook secret or endpoint secret in any response, log record or audit row (save, get, register, clear, failures)', async () => {
    const { workspaceId, admin } = await seedTenants(db);
    const logger = recordingLogger();
    // The SDK's own transport, recording what Stripe returns when the endpoint is created.
    const endpointSecrets: string[] = [];
    const recordingFetch: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if ((init?.method ?? 'GET') === 'POST' && String(input).includes('/v1/webhook_endpoints')) {
        const body = (await res.clone().json()) as { secret?: string };
        if (body.secret) endpointSecrets.push(body.secret);
      }
      return res;
    };
    const accounts = createStripeAccounts({
      deployment: { mode: 'emulator', client: deploymentStripe, webhookSecret: WEBHOOK_SECRET },
      keyring: TEST_KEYRING,
      createClient: (key) => new Stripe(key, { host: api.host, port: api.port, protocol: 'http', maxNetworkRetries: 0, httpClient: Stripe.createFetchHttpClient(recordingFetch) }),
    });
    const unreachable = testStripeAccounts(deploymentStripe, { api: { host: '127.0.0.1', port: await closedPort() } });
    const caller = callerFor(admin, { accounts, logger });
    const offline = callerFor(admin, { accounts: unreachable, logger });
    const key = newKey();
    const liveKey = newKey('sk_live');
    const whsec = newWhsec();
    const unverifiedKey = newKey('rk_test');

    const responses: unknown[] = [];
    const keep = async (p: Promise<unknown>) => responses.push(await p.catch((e: unknown) => ({ code: code(e), message: (e as Error).message, shape: (e as TRPCError).cause })));
    await keep(caller.settings.stripe.save({ secretKey: key, webhookSecret: whsec }));
    await keep(caller.settings.stripe.get());
    await keep(caller.settings.stripe.registerWebhookEndpoint());
    await keep(caller.settings.stripe.get());
    await keep(caller.settings.stripe.registerWebhookEndpoint());
    await keep(caller.settings.stripe.save({ secretKey: liveKey, webhookSecret: whsec }));
    await keep(caller.settings.stripe.save({ secretKey: `${key}\u0000`, webhookSecret: whsec }));
    await keep(offline.settings.stripe.save({ secretKey: unverifiedKey, webhookSecret: whsec }));
    await keep(offline.settings.stripe.registerWebhookEndpoint());
    await keep(offline.settings.stripe.get());
    await keep(caller.settings.stripe.save({ secretKey: key }));
    await keep(caller.settings.stripe.registerWebhookEndpoint());
    await keep(caller.settings.stripe.clear());
    await keep(caller.settings.stripe.get());

    expect(endpointSecrets).toHaveLength(3);
    const secrets = [key, liveKey, whsec, unverifiedKey, ...endpointSecrets];
    const audit = await auditOf(workspaceId);
    expect(audit.map((a) => a.action)).toEqual([
      'stripe_settings.save',
      'stripe_settings.register_webhook_endpoint',
      'stripe_settings.register_webhook_endpoint',
      'stripe_settings.save',
      'stripe_settings.save',
      'stripe_settings.register_webhook_endpoint',
      'stripe_settings.clear',
    ]);
    expect(logger.records.length).toBeGreaterThan(5);
    const haystacks: [string, string][] = [
      ['responses', JSON.stringify(responses)],
      ['log records', JSON.stringify(logger.records satisfies LogRecord[])],
      ['audit log', JSON.stringify(audit)],
    ];
    for (const [where, text] of haystacks) {
      for (const secret of secrets) {
        // The whole value, and the part after the prefix (the secret material).
        expect(text.includes(secret), `${where} contain a secret`).toBe(false);
        expect(text.includes(secret.slice(secret.indexOf('_', 6) + 1)), `${where} contain secret material`).toBe(false);
      }
    }
  });
});
