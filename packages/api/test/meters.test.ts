/**
 * Meters and usage settings (issue 9 item 1), through the admin procedures (`meter.*`): create,
 * update, archive; every field validated (bad input -> BAD_REQUEST, nothing stored, Stripe not
 * called); duplicate keys, key changes, other workspaces; audit rows; the demo seed; workspace
 * and customer usage settings; `stripe_meter` checked against the emulator's Billing Meters.
 * Real SDK against the emulator, both dialects.
 */
import { and, eq, type Meter } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { startStripeEmulator, type StripeEmulator } from '@tally/stripe-emulator';
import { TRPCError } from '@trpc/server';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_METERS, saveMeter, seedDemoMeters } from '../src/meters/index';
import { meterPriceLabel, pluralUnit, formatMinor } from '../src/schemas';
import { recordUsage } from '../src/usage/index';
import { silentLogger } from '../src/logger';
import { callerFor, countingStripe, seedTenants, testStripeAccounts } from './helpers';

const failure = (e: unknown) => (e instanceof TRPCError ? `${e.code}: ${e.message}` : `not a TRPCError: ${String(e)}`);
const fail = (p: Promise<unknown>) => p.then(() => 'succeeded', (e: unknown) => failure(e));

const base = { key: 'stt_words', displayName: 'Speech-to-text', unit: 'word', aggregation: 'sum', priceMinor: 100, blockSize: 1000, billingMode: 'invoice', stripeMeterEventName: null } as const;

describe('meter price labels', () => {
  it('names the block and pluralizes the unit', () => {
    const usd = (n: number) => formatMinor(n, 'usd', 'en-US');
    expect(meterPriceLabel({ priceMinor: 100, blockSize: 1000, unit: 'word' }, usd)).toBe('$1.00 per 1,000 words');
    expect(meterPriceLabel({ priceMinor: 5, blockSize: 1, unit: 'call' }, usd)).toBe('$0.05 per call');
    expect(meterPriceLabel({ priceMinor: 10, blockSize: 100, unit: 'query' }, usd)).toBe('$0.10 per 100 queries');
    expect(['box', 'day', 'token', 'inch'].map(pluralUnit)).toEqual(['boxes', 'days', 'tokens', 'inches']);
  });
});

describe.each(testDialects)('meters ($name)', ({ create }) => {
  let db: TestDatabase;
  let emulator: StripeEmulator;
  let stripe: Stripe;
  let calls: string[];
  beforeAll(async () => {
    db = await create();
    emulator = await startStripeEmulator({ port: 0, statePath: null });
    const url = new URL(emulator.url);
    ({ stripe, calls } = countingStripe({ host: url.hostname, port: Number(url.port) }));
  });
  afterAll(async () => {
    await emulator.close();
    await db.destroy();
  });

  const metersOf = (workspaceId: string) => db.q.select().from(db.t.meters).where(eq(db.t.meters.workspaceId, workspaceId));
  const auditOf = (workspaceId: string) => db.q.select().from(db.t.auditLog).where(eq(db.t.auditLog.workspaceId, workspaceId)).orderBy(db.t.auditLog.id);

  it('creates, updates, archives and unarchives meters, each change audited with before and after', async () => {
    const acme = await seedTenants(db);
    const admin = callerFor(db, stripe, acme.admin, undefined, acme.workspaceId);
    const created = await admin.meter.save({ ...base, displayName: '  Speech-to-text  ' });
    expect(created).toMatchObject({ key: 'stt_words', displayName: 'Speech-to-text', unit: 'word', aggregation: 'sum', priceMinor: 100, blockSize: 1000, billingMode: 'invoice', stripeMeterEventName: null, archivedAt: null, workspaceId: acme.workspaceId });
    await admin.meter.save({ ...base, key: 'api_calls', displayName: 'API calls', unit: 'call', aggregation: 'count', priceMinor: 10, blockSize: 100, billingMode: 'prepaid' });
    expect((await admin.meter.list()).map((m) => m.key)).toEqual(['api_calls', 'stt_words']);

    const updated = await admin.meter.save({ ...base, meterId: created.id, displayName: 'STT', priceMinor: 150, blockSize: 500, aggregation: 'max', billingMode: 'prepaid' });
    expect(updated).toMatchObject({ id: created.id, key: 'stt_words', displayName: 'STT', priceMinor: 150, blockSize: 500, aggregation: 'max', billingMode: 'prepaid' });
    expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());

    const archived = await admin.meter.archive({ meterId: created.id, archived: true });
    expect(archived.archivedAt).toBeInstanceOf(Date);
    expect((await admin.meter.list()).map((m) => m.key)).toEqual(['api_calls']);
    expect((await admin.meter.list({ includeArchived: true })).map((m) => m.key)).toEqual(['api_calls', 'stt_words']);
    // Archiving twice changes nothing and writes no second entry.
    expect((await admin.meter.archive({ meterId: created.id, archived: true })).archivedAt).toEqual(archived.archivedAt);
    expect((await admin.meter.archive({ meterId: created.id, archived: false })).archivedAt).toBeNull();

    const audit = await auditOf(acme.workspaceId);
    expect(audit.map((a) => a.action)).toEqual(['meter.create', 'meter.create', 'meter.update', 'meter.archive', 'meter.unarchive']);
    expect(audit.every((a) => a.actorUserId === acme.admin.userId && a.targetType === 'meter')).toBe(true);
    const update = audit[2]!;
    expect(update.targetId).toBe(created.id);
    expect(JSON.parse(update.before!)).toMatchObject({ displayName: 'Speech-to-text', priceMinor: 100, blockSize: 1000, aggregation: 'sum', billingMode: 'invoice' });
    expect(JSON.parse(update.after!)).toMatchObject({ displayName: 'STT', priceMinor: 150, blockSize: 500, aggregation: 'max', billingMode: 'prepaid' });
    expect(audit[0]!.before).toBeNull();
    expect(JSON.parse(audit[3]!.after!).archivedAt).toBe(archived.archivedAt!.toISOString());
  });

  it('refuses every bad field with a clear BAD_REQUEST, storing nothing and never calling Stripe', async () => {
    const acme = await seedTenants(db);
    const admin = callerFor(db, stripe, acme.admin, undefined, acme.workspaceId);
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ key: '' }, /key must be 1 to 64 of a-z, 0-9 and _/],
      [{ key: 'STT' }, /key must be 1 to 64/],
      [{ key: 'stt-words' }, /key must be 1 to 64/],
      [{ key: 'a'.repeat(65) }, /key must be 1 to 64/],
      [{ key: 42 }, /key/],
      [{ displayName: '   ' }, /displayName must not be empty/],
      [{ displayName: 'x'.repeat(101) }, /displayName must be at most 100 characters/],
      [{ displayName: 'a\u0000b' }, /displayName must not contain control characters/],
      [{ unit: '' }, /unit must not be empty/],
      [{ unit: 'w'.repeat(33) }, /unit must be at most 32 characters/],
      [{ aggregation: 'avg' }, /aggregation must be sum, count or max/],
      [{ priceMinor: -1 }, /priceMinor must be 0 to 99,999,999 minor units/],
      [{ priceMinor: 100_000_000 }, /priceMinor must be 0 to 99,999,999/],
      [{ priceMinor: 1.5 }, /priceMinor must be a whole number of minor units/],
      [{ priceMinor: '100' }, /priceMinor must be a number/],
      [{ blockSize: 0 }, /blockSize must be 1 to 1,000,000,000 units/],
      [{ blockSize: 1_000_000_001 }, /blockSize must be 1 to 1,000,000,000/],
      [{ blockSize: 2.5 }, /blockSize must be a whole number of units/],
      [{ billingMode: 'monthly' }, /billingMode must be prepaid, invoice or stripe_meter/],
      [{ billingMode: 'stripe_meter', stripeMeterEventName: null }, /stripeMeterEventName is required for the stripe_meter billing mode/],
      [{ billingMode: 'invoice', stripeMeterEventName: 'stt_words' }, /stripeMeterEventName is only for the stripe_meter billing mode/],
      [{ billingMode: 'stripe_meter', stripeMeterEventName: 'has space' }, /stripeMeterEventName must be a Stripe meter event name/],
      [{ billingMode: 'stripe_meter', stripeMeterEventName: 'e'.repeat(101) }, /stripeMeterEventName must be at most 100 characters/],
      [{ billingMode: 'stripe_meter', stripeMeterEventName: 'tokens', aggregation: 'max' }, /Stripe Billing Meters have no max/],
      [{ meterId: 'not-a-uuid' }, /meterId must be a Tally id/],
    ];
    calls.length = 0;
    for (const [change, message] of bad) {
      const got = await fail(admin.meter.save({ ...base, ...change } as never));
      expect(got, JSON.stringify(change)).toMatch(/^BAD_REQUEST: /);
      expect(got, JSON.stringify(change)).toMatch(message);
    }
    // The domain function checks its input too (for callers other than tRPC).
    const ctx = { db, stripeAccounts: testStripeAccounts(stripe), logger: silentLogger, actor: acme.admin, workspaceId: acme.workspaceId };
    await expect(saveMeter({ ctx, input: { ...base, priceMinor: -5 } })).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/priceMinor/) });
    // Archive and settings inputs.
    for (const input of [{ meterId: 'x', archived: true }, { meterId: '0190a0c0-0000-7000-8000-000000000000', archived: 'yes' }]) {
      expect(await fail(admin.meter.archive(input as never))).toMatch(/^BAD_REQUEST/);
    }
    expect(await fail(admin.meter.saveUsageSettings({ allowNegativeBalance: 'true' } as never))).toMatch(/^BAD_REQUEST: allowNegativeBalance must be true or false/);
    expect(calls).toEqual([]);
    expect(await metersOf(acme.workspaceId)).toEqual([]);
    expect(await auditOf(acme.workspaceId)).toEqual([]);
  });

  it('refuses a duplicate key (CONFLICT) and a changed key, leaving the meter as it was', async () => {
    const acme = await seedTenants(db);
    const admin = callerFor(db, stripe, acme.admin, undefined, acme.workspaceId);
    const first = await admin.meter.save(base);
    expect(await fail(admin.meter.save({ ...base, displayName: 'Again' }))).toBe('CONFLICT: Another meter already has the key stt_words');
    // An archived meter keeps its key.
    await admin.meter.archive({ meterId: first.id, archived: true });
    expect(await fail(admin.meter.save({ ...base, displayName: 'Again' }))).toBe('CONFLICT: Another meter already has the key stt_words');
    expect(await fail(admin.meter.save({ ...base, meterId: first.id, key: 'speech_words', displayName: 'Renamed' }))).toMatch(/^BAD_REQUEST: key cannot change after a meter is created/);
    const rows = await metersOf(acme.workspaceId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ key: 'stt_words', displayName: 'Speech-to-text' });
    // The same key in another workspace is fine.
    const globex = await seedTenants(db);
    await callerFor(db, stripe, globex.admin, undefined, globex.workspaceId).meter.save(base);
    expect((await auditOf(acme.workspaceId)).map((a) => a.action)).toEqual(['meter.create', 'meter.archive']);
  });

  it("keeps meters and customers to their workspace: another workspace's ids are NOT_FOUND and nothing changes", async () => {
    const acme = await seedTenants(db);
    const globex = await seedTenants(db);
    const own = callerFor(db, stripe, acme.admin, undefined, acme.workspaceId);
    const other = callerFor(db, stripe, globex.admin, undefined, globex.workspaceId);
    const meter = await own.meter.save(base);
    await own.meter.saveCustomerUsageSettings({ customerId: acme.alice.customerId, externalId: 'cus-1', lowBalanceThresholdMinor: 500 });
    expect(await other.meter.list({ includeArchived: true })).toEqual([]);
    expect(await fail(other.meter.save({ ...base, meterId: meter.id, displayName: 'Hijack' }))).toBe('NOT_FOUND: Meter not found');
    expect(await fail(other.meter.archive({ meterId: meter.id, archived: true }))).toBe('NOT_FOUND: Meter not found');
    expect(await fail(other.meter.customerUsageSettings({ customerId: acme.alice.customerId }))).toBe('NOT_FOUND: Customer not found');
    expect(await fail(other.meter.saveCustomerUsageSettings({ customerId: acme.alice.customerId, externalId: 'x', lowBalanceThresholdMinor: null }))).toBe('NOT_FOUND: Customer not found');
    expect(await fail(callerFor(db, stripe, acme.alice).meter.list())).toMatch(/^FORBIDDEN/);
    expect(await fail(callerFor(db, stripe, acme.admin, undefined, globex.workspaceId).meter.list())).toMatch(/^FORBIDDEN/);
    const [row] = await metersOf(acme.workspaceId);
    expect(row).toMatchObject({ displayName: 'Speech-to-text', archivedAt: null });
    expect(await own.meter.customerUsageSettings({ customerId: acme.alice.customerId })).toEqual({ customerId: acme.alice.customerId, externalId: 'cus-1', lowBalanceThresholdMinor: 500, currency: 'usd' });
    expect(await auditOf(globex.workspaceId)).toEqual([]);
  });

  it('an archived meter refuses new events; unarchived, it takes them again', async () => {
    const acme = await seedTenants(db);
    const admin = callerFor(db, stripe, acme.admin, undefined, acme.workspaceId);
    const meter = await admin.meter.save(base);
    await admin.meter.archive({ meterId: meter.id, archived: true });
    const event = (key: string) => ({ customerId: acme.alice.customerId, meter: 'stt_words', quantity: 10, idempotencyKey: key });
    const refused = await recordUsage({ db, workspaceId: acme.workspaceId, events: [event('a1')] });
    expect(refused.results[0]).toMatchObject({ status: 'rejected', code: 'unknown_meter' });
    await admin.meter.archive({ meterId: meter.id, archived: false });
    expect((await recordUsage({ db, workspaceId: acme.workspaceId, events: [event('a2')] })).accepted).toBe(1);
  });

  it('seeds the demo meters once', async () => {
    const acme = await seedTenants(db);
    const first = await seedDemoMeters({ db, workspaceId: acme.workspaceId });
    expect(first.map((m) => [m.key, m.displayName, m.unit, m.aggregation, m.priceMinor, m.blockSize, m.billingMode])).toEqual([
      ['stt_words', 'Speech-to-text', 'word', 'sum', 100, 1000, 'invoice'],
      ['tts_words', 'Text-to-speech', 'word', 'sum', 100, 1000, 'invoice'],
      ['api_calls', 'API calls', 'call', 'count', 10, 100, 'prepaid'],
    ]);
    // An admin's edit survives a second seed; no row is added.
    const admin = callerFor(db, stripe, acme.admin, undefined, acme.workspaceId);
    await admin.meter.save({ ...base, meterId: first[0]!.id, priceMinor: 120 });
    const again = await seedDemoMeters({ db, workspaceId: acme.workspaceId });
    expect(again.map((m) => m.id)).toEqual(first.map((m) => m.id));
    expect(again[0]!.priceMinor).toBe(120);
    expect(await metersOf(acme.workspaceId)).toHaveLength(DEMO_METERS.length);
    // Seeding one workspace leaves the others alone.
    const globex = await seedTenants(db);
    expect(await metersOf(globex.workspaceId)).toEqual([]);
  });

  it('saves the workspace and customer usage settings, audited, with unique external ids', async () => {
    const acme = await seedTenants(db);
    const admin = callerFor(db, stripe, acme.admin, undefined, acme.workspaceId);
    expect(await admin.meter.usageSettings()).toEqual({ allowNegativeBalance: false, currency: 'usd' });
    expect(await admin.meter.saveUsageSettings({ allowNegativeBalance: true })).toEqual({ allowNegativeBalance: true, currency: 'usd' });
    await admin.meter.saveUsageSettings({ allowNegativeBalance: true }); // unchanged: no second entry
    expect(await admin.meter.usageSettings()).toEqual({ allowNegativeBalance: true, currency: 'usd' });

    const alice = acme.alice.customerId;
    const bob = acme.bob.customerId;
    expect(await admin.meter.customerUsageSettings({ customerId: alice })).toEqual({ customerId: alice, externalId: null, lowBalanceThresholdMinor: null, currency: 'usd' });
    await admin.meter.saveCustomerUsageSettings({ customerId: alice, externalId: '  crm-42 ', lowBalanceThresholdMinor: 1000 });
    expect(await admin.meter.customerUsageSettings({ customerId: alice })).toMatchObject({ externalId: 'crm-42', lowBalanceThresholdMinor: 1000 });
    expect(await fail(admin.meter.saveCustomerUsageSettings({ customerId: bob, externalId: 'crm-42', lowBalanceThresholdMinor: null }))).toBe(
      'CONFLICT: Another customer of this workspace already has the external id "crm-42"',
    );
    const badCustomer: [Record<string, unknown>, RegExp][] = [
      [{ externalId: '' }, /externalId must not be empty/],
      [{ externalId: 'x'.repeat(256) }, /externalId must be at most 255 characters/],
      [{ externalId: 'a\tb' }, /externalId must not contain control characters/],
      [{ lowBalanceThresholdMinor: -1 }, /lowBalanceThresholdMinor must be 0 to/],
      [{ lowBalanceThresholdMinor: 1.5 }, /lowBalanceThresholdMinor must be a whole number/],
      [{ customerId: 'nope' }, /customerId must be a Tally id/],
    ];
    for (const [change, message] of badCustomer) {
      expect(await fail(admin.meter.saveCustomerUsageSettings({ customerId: bob, externalId: 'bob-1', lowBalanceThresholdMinor: 10, ...change } as never))).toMatch(message);
    }
    const [bobRow] = await db.q.select().from(db.t.customers).where(eq(db.t.customers.id, bob));
    expect(bobRow).toMatchObject({ externalId: null, lowBalanceThresholdMinor: null });
    // An external id names the customer in usage events.
    await admin.meter.save(base);
    expect((await recordUsage({ db, workspaceId: acme.workspaceId, events: [{ customerExternalId: 'crm-42', meter: 'stt_words', quantity: 3, idempotencyKey: 'ext-1' }] })).accepted).toBe(1);
    // Cleared: the id is free for bob.
    await admin.meter.saveCustomerUsageSettings({ customerId: alice, externalId: null, lowBalanceThresholdMinor: null });
    await admin.meter.saveCustomerUsageSettings({ customerId: bob, externalId: 'crm-42', lowBalanceThresholdMinor: 0 });
    expect(await admin.meter.customerUsageSettings({ customerId: bob })).toMatchObject({ externalId: 'crm-42', lowBalanceThresholdMinor: 0 });

    const audit = (await auditOf(acme.workspaceId)).filter((a) => a.action !== 'meter.create');
    expect(audit.map((a) => [a.action, a.targetId])).toEqual([
      ['workspace.usage_settings', acme.workspaceId],
      ['customer.usage_settings', alice],
      ['customer.usage_settings', alice],
      ['customer.usage_settings', bob],
    ]);
    expect(JSON.parse(audit[0]!.before!)).toEqual({ allowNegativeBalance: false });
    expect(JSON.parse(audit[0]!.after!)).toEqual({ allowNegativeBalance: true });
    expect(JSON.parse(audit[1]!.after!)).toEqual({ externalId: 'crm-42', lowBalanceThresholdMinor: 1000 });
  });

  it('checks a stripe_meter meter against the Billing Meters of the workspace Stripe account', async () => {
    const acme = await seedTenants(db);
    const admin = callerFor(db, stripe, acme.admin, undefined, acme.workspaceId);
    const suffix = acme.workspaceId.slice(-12).replace(/-/g, '');
    const name = (n: string) => `${n}_${suffix}`;
    await stripe.billing.meters.create({ display_name: 'Tokens', event_name: name('tokens'), default_aggregation: { formula: 'sum' } });
    await stripe.billing.meters.create({ display_name: 'Requests', event_name: name('requests'), default_aggregation: { formula: 'count' } });
    await stripe.billing.meters.create({ display_name: 'Custom', event_name: name('custom'), default_aggregation: { formula: 'sum' }, value_settings: { event_payload_key: 'amount' } });
    const old = await stripe.billing.meters.create({ display_name: 'Old', event_name: name('old'), default_aggregation: { formula: 'sum' } });
    await stripe.billing.meters.deactivate(old.id);
    const stripeMeter = { ...base, key: 'tokens', unit: 'token', billingMode: 'stripe_meter' } as const;

    expect(await fail(admin.meter.save({ ...stripeMeter, stripeMeterEventName: name('missing') }))).toBe(
      `BAD_REQUEST: stripeMeterEventName: this workspace's Stripe account has no Billing Meter with event name "${name('missing')}"`,
    );
    expect(await fail(admin.meter.save({ ...stripeMeter, stripeMeterEventName: name('old') }))).toMatch(new RegExp(`^BAD_REQUEST: .*"${name('old')}" \\(${old.id}\\) is inactive`));
    expect(await fail(admin.meter.save({ ...stripeMeter, stripeMeterEventName: name('requests') }))).toMatch(/^BAD_REQUEST: .*aggregates by count, this meter by sum/);
    expect(await fail(admin.meter.save({ ...stripeMeter, stripeMeterEventName: name('custom') }))).toMatch(/^BAD_REQUEST: .*must read the customer from "stripe_customer_id" and the value from "value"/);
    expect(await metersOf(acme.workspaceId)).toEqual([]);

    const saved = await admin.meter.save({ ...stripeMeter, stripeMeterEventName: name('tokens') });
    expect(saved).toMatchObject({ billingMode: 'stripe_meter', stripeMeterEventName: name('tokens') });
    const counted = await admin.meter.save({ ...stripeMeter, key: 'requests', aggregation: 'count', stripeMeterEventName: name('requests') });
    expect(counted.aggregation).toBe('count');
    // One Tally meter per Stripe meter.
    expect(await fail(admin.meter.save({ ...stripeMeter, key: 'tokens_twice', stripeMeterEventName: name('tokens') }))).toBe(
      `CONFLICT: Meter tokens already forwards to the Stripe meter event name "${name('tokens')}"; one Tally meter per Stripe meter`,
    );
    // A rename does not need Stripe; a switch away from stripe_meter clears the event name.
    calls.length = 0;
    await admin.meter.save({ ...stripeMeter, meterId: saved.id, displayName: 'LLM tokens', stripeMeterEventName: name('tokens') });
    expect(calls).toEqual([]);
    expect(await admin.meter.save({ ...stripeMeter, meterId: saved.id, displayName: 'LLM tokens', billingMode: 'invoice', stripeMeterEventName: null })).toMatchObject({ billingMode: 'invoice', stripeMeterEventName: null });

    // No Stripe for the workspace: CONFLICT with the reason, as for plans; nothing stored.
    const noStripe = callerFor(db, testStripeAccounts(null), acme.admin, undefined, acme.workspaceId);
    expect(await fail(noStripe.meter.save({ ...stripeMeter, key: 'nostripe', stripeMeterEventName: name('tokens') }))).toMatch(/^CONFLICT: Stripe is not configured for this workspace/);
    // Stripe unreachable: BAD_GATEWAY, Stripe's text not shown.
    const down = callerFor(db, countingStripe().stripe, acme.admin, undefined, acme.workspaceId);
    expect(await fail(down.meter.save({ ...stripeMeter, key: 'down', stripeMeterEventName: name('tokens') }))).toBe('BAD_GATEWAY: Stripe could not be reached to check the Billing Meter; try again');
    const keys = (await metersOf(acme.workspaceId)).map((m: Meter) => m.key).sort();
    expect(keys).toEqual(['requests', 'tokens']);
    const rows = await db.q.select().from(db.t.meters).where(and(eq(db.t.meters.workspaceId, acme.workspaceId), eq(db.t.meters.key, 'tokens')));
    expect(rows[0]).toMatchObject({ displayName: 'LLM tokens', billingMode: 'invoice' });
  });
});
