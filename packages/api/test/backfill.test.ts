/**
 * Backfill from Stripe (issue 10 item 4) against the in-process Stripe emulator (one account per
 * key) with the real SDK, both dialects: top-ups paid while the account's webhook endpoint is
 * disabled reach Stripe's event log only; `backfillStripeEvents` finds them, stores and processes
 * them through the delivery path (ledger credited once), a second backfill finds nothing, a dry
 * run stores nothing, a workspace with its own keys is read under its own scope, and bad input
 * is refused before anything is read.
 */
import { randomBytes } from 'node:crypto';
import { eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { startStripeEmulator, type StripeEmulator } from '@tally/stripe-emulator';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfillStripeEvents, type BackfillSummary } from '../src/events/backfill';
import type { EventProcessingDeps } from '../src/events/replay';
import { recordingLogger } from '../src/logger';
import { encryptSecret } from '../src/secrets/encryption';
import type { StripeAccounts } from '../src/stripe/accounts';
import { processStoredEvent, storeStripeEvent } from '../src/webhooks/receive';
import { callerFor, seedTenants, TEST_KEYRING, testConfig, testStripeAccounts } from './helpers';

const newKey = () => `sk_test_backfill_${randomBytes(10).toString('hex')}`;

describe.each(testDialects)('backfillStripeEvents ($name)', ({ create }) => {
  let db: TestDatabase;
  let emulator: StripeEmulator;
  let api: { host: string; port: number };
  let deploymentKey: string;
  let stripeAccounts: StripeAccounts;
  let deps: EventProcessingDeps;
  const logger = recordingLogger();
  const sdk = (key: string) => new Stripe(key, { host: api.host, port: api.port, protocol: 'http', maxNetworkRetries: 0 });

  beforeAll(async () => {
    db = await create();
    emulator = await startStripeEmulator({ port: 0, statePath: null, accountPerKey: true });
    const url = new URL(emulator.url);
    api = { host: url.hostname, port: Number(url.port) };
    deploymentKey = newKey();
    stripeAccounts = testStripeAccounts(sdk(deploymentKey), { api });
    deps = { db, logger, stripeAccounts, publicUrl: testConfig.publicUrl, graceDays: 7, webUrl: testConfig.webUrl };
  });
  afterAll(async () => {
    await emulator.close();
    await db.destroy();
  });

  /** A webhook endpoint on `key`'s account, disabled at once: Stripe logs events but delivers none. */
  async function disabledEndpoint(key: string) {
    const stripe = sdk(key);
    const endpoint = await stripe.webhookEndpoints.create({ url: 'http://127.0.0.1:9/api/stripe/webhook', enabled_events: ['*'] });
    await stripe.webhookEndpoints.update(endpoint.id, { disabled: true });
    return endpoint;
  }

  /** A top-up of `amountMinor` started by `who` and paid on the emulator. */
  async function paidTopup(who: { userId: string; email: string; customerId: string }, amountMinor: number) {
    const caller = callerFor(db, stripeAccounts, { userId: who.userId, email: who.email });
    const started = await caller.topup.createCheckout({ amountMinor, customerId: who.customerId });
    expect(await emulator.completeCheckoutSession(started.checkoutSessionId)).toEqual({ ok: true });
    return started;
  }

  const ledgerOf = (customerId: string) => db.q.select().from(db.t.ledgerEntries).where(eq(db.t.ledgerEntries.customerId, customerId));
  const loggedUnder = async (scope: string) => (await db.q.select().from(db.t.stripeEvents).where(eq(db.t.stripeEvents.scope, scope))).length;
  const since = () => new Date(Date.now() - 3_600_000);
  const account = (s: BackfillSummary, scope: string) => s.accounts.find((a) => a.scope === scope);

  it('refuses a since beyond 30 days, in the future or invalid, and a malformed workspace id, reading nothing', async () => {
    const now = new Date();
    await expect(backfillStripeEvents(deps, { since: new Date(now.getTime() - 31 * 86_400_000), now })).rejects.toThrow(/more than 30 days ago: Stripe's Events API keeps only the last 30 days/);
    await expect(backfillStripeEvents(deps, { since: new Date(now.getTime() + 60_000), now })).rejects.toThrow(/is in the future/);
    await expect(backfillStripeEvents(deps, { since: new Date('nope') })).rejects.toThrow('since must be a valid date');
    await expect(backfillStripeEvents(deps, { since: since(), workspaceId: 'acme' })).rejects.toThrow('workspaceId must be a Tally id (a UUID)');
    await expect(backfillStripeEvents(deps, { since: since(), workspaceId: '00000000-0000-4000-8000-000000000000' })).rejects.toThrow(/No workspace/);
    expect(await loggedUnder('deployment')).toBe(0);
  });

  it('events made while the endpoint was disabled: a dry run stores nothing, the backfill processes them once, a second finds nothing', async () => {
    await disabledEndpoint(deploymentKey);
    const tenants = await seedTenants(db);
    const started = await paidTopup(tenants.alice, 700);
    await emulator.waitForIdle();
    const onStripe = emulator.events(deploymentKey);
    expect(onStripe.map((e) => e.type)).toContain('checkout.session.completed');
    // Nothing was delivered: the endpoint is disabled.
    expect(emulator.deliveries(deploymentKey)).toEqual([]);
    expect(await loggedUnder('deployment')).toBe(0);

    const dry = await backfillStripeEvents(deps, { since: since(), dryRun: true });
    expect(account(dry, 'deployment')).toMatchObject({ scanned: onStripe.length, missing: onStripe.length, processed: 0, failed: 0, error: null });
    expect(account(dry, 'deployment')!.events.map((e) => e.id).sort()).toEqual(onStripe.map((e) => e.id).sort());
    expect(await loggedUnder('deployment')).toBe(0);
    expect(await ledgerOf(tenants.alice.customerId)).toEqual([]);

    const progress: Array<[string, number, number]> = [];
    const real = await backfillStripeEvents(deps, { since: since(), onProgress: (label, done, total) => progress.push([label, done, total]) });
    const dep = account(real, 'deployment')!;
    expect(dep).toMatchObject({ scanned: onStripe.length, missing: onStripe.length, failed: 0, anomaly: 0, arrivedMeanwhile: 0, error: null });
    expect(dep.processed + dep.ignored).toBe(onStripe.length);
    expect(dep.events.find((e) => e.type === 'checkout.session.completed')?.status).toBe('processed');
    expect(progress[0]).toEqual(['deployment', 0, onStripe.length]);
    expect(progress.at(-1)).toEqual(['deployment', onStripe.length, onStripe.length]);
    // Oldest first, as they happened.
    const created = new Map(onStripe.map((e) => [e.id, e.created]));
    const order = dep.events.map((e) => created.get(e.id)!);
    expect(order).toEqual([...order].sort((a, b) => a - b));

    const ledger = await ledgerOf(tenants.alice.customerId);
    expect(ledger.map((l) => [l.amountMinor, l.reference])).toEqual([[700, `topup:${started.topupId}`]]);
    const [topup] = await db.q.select().from(db.t.topups).where(eq(db.t.topups.id, started.topupId));
    expect(topup).toMatchObject({ status: 'paid', creditedAmountMinor: 700 });
    const rows = await db.q.select().from(db.t.stripeEvents).where(eq(db.t.stripeEvents.scope, 'deployment'));
    expect(rows).toHaveLength(onStripe.length);
    expect(rows.every((r) => r.status === 'processed' || r.status === 'ignored')).toBe(true);
    const completed = rows.find((r) => r.type === 'checkout.session.completed')!;
    expect(JSON.parse(completed.payload)).toMatchObject({ id: completed.id, type: 'checkout.session.completed' });
    expect(completed).toMatchObject({ workspaceId: tenants.workspaceId, attempts: 1 });

    const again = await backfillStripeEvents(deps, { since: since() });
    expect(account(again, 'deployment')).toMatchObject({ scanned: onStripe.length, missing: 0, processed: 0, events: [] });
    expect(await ledgerOf(tenants.alice.customerId)).toHaveLength(1);
  });

  it('only what the log is missing: an event a delivery already logged is skipped', async () => {
    const tenants = await seedTenants(db);
    const before = new Set(emulator.events(deploymentKey).map((e) => e.id));
    await paidTopup(tenants.alice, 300);
    await emulator.waitForIdle();
    const fresh = emulator.events(deploymentKey).filter((e) => !before.has(e.id));
    const completed = fresh.find((e) => e.type === 'checkout.session.completed')!;
    // As if the webhook had delivered this one before the endpoint went down.
    const receipt = { scope: 'deployment', workspaceId: null };
    await storeStripeEvent(db, { receipt, event: completed, payload: JSON.stringify(completed), now: new Date() });
    await processStoredEvent({ db, event: completed, receipt, logger, expected: { livemode: false } });
    expect(await ledgerOf(tenants.alice.customerId)).toHaveLength(1);

    const result = account(await backfillStripeEvents(deps, { since: since() }), 'deployment')!;
    expect(result.missing).toBe(fresh.length - 1);
    expect(result.events.map((e) => e.id)).not.toContain(completed.id);
    expect(await ledgerOf(tenants.alice.customerId)).toHaveLength(1);
  });

  it("a workspace with its own keys is read under its own scope; --workspace reads only its account", async () => {
    const tenants = await seedTenants(db);
    const ownKey = newKey();
    await db.q.insert(db.t.workspaceStripeAccounts).values({
      workspaceId: tenants.workspaceId,
      secretKeySealed: encryptSecret({ keyring: TEST_KEYRING, workspaceId: tenants.workspaceId, plaintext: ownKey }),
      keyKind: 'secret',
      mode: 'test',
      keyLast4: ownKey.slice(-4),
      stripeAccountId: emulator.accountIdForKey(ownKey),
      verifiedAt: new Date(),
      savedByUserId: tenants.admin.userId,
      savedAt: new Date(),
    });
    await disabledEndpoint(ownKey);
    const started = await paidTopup(tenants.bob, 900);
    await emulator.waitForIdle();
    const onOwn = emulator.events(ownKey);
    expect(onOwn.length).toBeGreaterThan(0);

    const result = await backfillStripeEvents(deps, { since: since(), workspaceId: tenants.workspaceId });
    expect(result.accounts.map((a) => a.scope)).toEqual([tenants.workspaceId]);
    expect(result.accounts[0]).toMatchObject({ workspaceId: tenants.workspaceId, label: expect.stringMatching(/^acme-/), scanned: onOwn.length, missing: onOwn.length, failed: 0 });
    expect(await loggedUnder(tenants.workspaceId)).toBe(onOwn.length);
    expect((await ledgerOf(tenants.bob.customerId)).map((l) => l.reference)).toEqual([`topup:${started.topupId}`]);

    // Without --workspace: the deployment's account and this one, both already complete.
    const all = await backfillStripeEvents(deps, { since: since() });
    expect(all.accounts.map((a) => a.scope)).toContain('deployment');
    expect(account(all, tenants.workspaceId)).toMatchObject({ missing: 0 });
    expect(account(all, 'deployment')).toMatchObject({ missing: 0 });
  });

  it('an account Stripe refuses is reported with its error; no account at all is a CONFLICT', async () => {
    const unreachable = testStripeAccounts(new Stripe('sk_test_unreachable_000000', { host: '127.0.0.1', port: 9, protocol: 'http', maxNetworkRetries: 0 }), { api });
    const onlyOwn = await backfillStripeEvents({ ...deps, stripeAccounts: unreachable }, { since: since() });
    expect(account(onlyOwn, 'deployment')?.error).toMatch(/^Could not list Stripe events: /);
    const emptyDb = await create();
    try {
      await expect(backfillStripeEvents({ ...deps, db: emptyDb, stripeAccounts: testStripeAccounts(null) }, { since: since() })).rejects.toThrow(/No Stripe account to read/);
    } finally {
      await emptyDb.destroy();
    }
  });
});
