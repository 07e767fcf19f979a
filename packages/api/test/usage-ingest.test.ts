/**
 * Usage ingestion (issue 9 item 3) through `recordUsage`, on both dialects: acceptance and the
 * rollups kept in step, idempotency (repeats, conflicts, repeats inside one batch, concurrent
 * copies on two connections), every rejection with its message and no state change, prepaid
 * draw-down with block rounding, 402 and negative balances, the low-balance notice, periods,
 * the Stripe meter outbox, and a property test of random batches with repeated keys.
 */
import { and, asc, eq, sql } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/ids';
import type { UsageEventResult } from '../src/schemas/usage';
import { costMinor } from '../src/usage/pricing';
import { recordUsage } from '../src/usage/ingest';
import { seedTenants } from './helpers';
import { creditBalance, insertMeter } from './usage-helpers';

const NOW = new Date('2026-11-20T12:00:00.000Z');

describe.each(testDialects)('usage ingestion ($name)', ({ create }) => {
  let db: TestDatabase;
  let acme: Awaited<ReturnType<typeof seedTenants>>;
  let globex: Awaited<ReturnType<typeof seedTenants>>;

  beforeAll(async () => {
    db = await create();
    acme = await seedTenants(db);
    globex = await seedTenants(db);
    await insertMeter(db, acme.workspaceId, { key: 'stt_words', displayName: 'Speech-to-text', unit: 'word' });
    await insertMeter(db, acme.workspaceId, { key: 'api_calls', billingMode: 'prepaid', aggregation: 'count', priceMinor: 10, blockSize: 100 });
    await insertMeter(db, acme.workspaceId, { key: 'archived', archivedAt: new Date('2026-01-01T00:00:00Z') });
    await insertMeter(db, globex.workspaceId, { key: 'stt_words' });
  });
  afterAll(() => db.destroy());

  const record = (events: unknown[], workspaceId = acme.workspaceId, now = NOW) => recordUsage({ db, workspaceId, events, now });
  const ev = (overrides: Record<string, unknown> = {}) => ({ customerId: acme.alice.customerId, meter: 'stt_words', quantity: 10, idempotencyKey: `k-${newId()}`, ...overrides });

  /** Everything ingestion may change, for "changes nothing" assertions. */
  async function snapshot() {
    const t = db.t;
    return {
      events: await db.q.select({ id: t.usageEvents.id, q: t.usageEvents.quantity, charged: t.usageEvents.chargedMinor }).from(t.usageEvents).orderBy(asc(t.usageEvents.id)),
      rollups: await db.q.select().from(t.usageDailyRollups).orderBy(asc(t.usageDailyRollups.customerId), asc(t.usageDailyRollups.meterId), asc(t.usageDailyRollups.day)),
      ledger: await db.q.select({ id: t.ledgerEntries.id, amount: t.ledgerEntries.amountMinor }).from(t.ledgerEntries).orderBy(asc(t.ledgerEntries.id)),
      balances: await db.q.select().from(t.customerBalances).orderBy(asc(t.customerBalances.customerId)),
      outbox: await db.q.select({ id: t.stripeMeterOutbox.id }).from(t.stripeMeterOutbox),
      emails: await db.q.select({ id: t.emailOutbox.id }).from(t.emailOutbox),
    };
  }
  const rollup = async (customerId: string, meterKey: string, workspaceId = acme.workspaceId) => {
    const t = db.t;
    const [meter] = await db.q.select().from(t.meters).where(and(eq(t.meters.workspaceId, workspaceId), eq(t.meters.key, meterKey)));
    const rows = await db.q.select().from(t.usageDailyRollups).where(and(eq(t.usageDailyRollups.customerId, customerId), eq(t.usageDailyRollups.meterId, meter!.id)));
    return rows.reduce((a, r) => ({ quantity: a.quantity + Number(r.quantity), eventCount: a.eventCount + Number(r.eventCount), charged: a.charged + Number(r.chargedMinor) }), { quantity: 0, eventCount: 0, charged: 0 });
  };
  const balanceOf = async (customerId: string) => {
    const [row] = await db.q.select().from(db.t.customerBalances).where(eq(db.t.customerBalances.customerId, customerId));
    return Number(row?.amountMinor ?? 0);
  };
  const ledgerSum = async (customerId: string) =>
    Number((await db.q.select({ s: sql<number>`coalesce(sum(${db.t.ledgerEntries.amountMinor}), 0)` }).from(db.t.ledgerEntries).where(eq(db.t.ledgerEntries.customerId, customerId)))[0]!.s);

  it('accepts a batch and keeps the daily rollups in step', async () => {
    const { bob } = acme;
    const before = await rollup(bob.customerId, 'stt_words');
    const res = await record([
      ev({ customerId: bob.customerId, quantity: 5, occurredAt: '2026-11-19T23:59:59Z' }),
      ev({ customerId: bob.customerId, quantity: 7, occurredAt: '2026-11-20T00:00:00Z' }),
      ev({ customerId: bob.customerId, quantity: 0 }),
    ]);
    expect(res).toMatchObject({ accepted: 3, duplicates: 0, rejected: 0 });
    expect(res.results.map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(await rollup(bob.customerId, 'stt_words')).toEqual({ quantity: before.quantity + 12, eventCount: before.eventCount + 3, charged: 0 });
    const t = db.t;
    const days = await db.q.select({ day: t.usageDailyRollups.day, q: t.usageDailyRollups.quantity }).from(t.usageDailyRollups).where(eq(t.usageDailyRollups.customerId, bob.customerId)).orderBy(t.usageDailyRollups.day);
    expect(days.map((d) => [d.day, Number(d.q)])).toEqual([
      ['2026-11-19', 5],
      ['2026-11-20', 7],
    ]);
  });

  it('the same batch twice: the second answers duplicate with the first ids and changes nothing', async () => {
    const batch = [ev(), ev({ quantity: 3 }), ev({ customerExternalId: undefined, properties: { lang: 'en', model: 'v2' } })];
    const first = await record(batch);
    expect(first.accepted).toBe(3);
    const snap = await snapshot();
    const second = await record(batch);
    expect(second).toMatchObject({ accepted: 0, duplicates: 3, rejected: 0 });
    expect(second.results.map((r) => (r as { eventId: string }).eventId)).toEqual(first.results.map((r) => (r as { eventId: string }).eventId));
    expect(await snapshot()).toEqual(snap);
  });

  it('properties in another key order are the same payload; another quantity, meter, time or customer is a 409 conflict', async () => {
    const base = ev({ properties: { a: 1, b: { c: 2, d: 3 } }, occurredAt: '2026-11-20T10:00:00Z' });
    expect((await record([base])).accepted).toBe(1);
    const reordered = { ...base, properties: { b: { d: 3, c: 2 }, a: 1 } };
    expect((await record([reordered])).results[0]).toMatchObject({ status: 'duplicate' });
    const snap = await snapshot();
    const variants = [
      { ...base, quantity: 11 },
      { ...base, meter: 'api_calls' },
      { ...base, occurredAt: '2026-11-20T10:00:01Z' },
      { ...base, customerId: acme.bob.customerId },
      { ...base, properties: { a: 2, b: { c: 2, d: 3 } } },
      { ...base, occurredAt: undefined },
    ];
    const res = await record(variants);
    for (const r of res.results) expect(r).toMatchObject({ status: 'rejected', code: 'conflict', error: 'This idempotencyKey was already used for a different usage event' });
    expect(await snapshot()).toEqual(snap);
  });

  it('a key repeated inside one batch: the same payload is a duplicate, another payload a conflict; counted once', async () => {
    const key = `dup-${newId()}`;
    const before = await rollup(acme.alice.customerId, 'stt_words');
    const res = await record([ev({ idempotencyKey: key, quantity: 4 }), ev({ idempotencyKey: key, quantity: 4 }), ev({ idempotencyKey: key, quantity: 5 })]);
    expect(res.results.map((r) => r.status)).toEqual(['accepted', 'duplicate', 'rejected']);
    expect((res.results[1] as { eventId: string }).eventId).toBe((res.results[0] as { eventId: string }).eventId);
    expect(res.results[2]).toMatchObject({ code: 'conflict' });
    expect(await rollup(acme.alice.customerId, 'stt_words')).toEqual({ ...before, quantity: before.quantity + 4, eventCount: before.eventCount + 1 });
  });

  it('idempotency keys are per workspace: the same key in two workspaces is two events', async () => {
    const key = `shared-${newId()}`;
    expect((await record([ev({ idempotencyKey: key })])).accepted).toBe(1);
    expect((await record([{ customerId: globex.alice.customerId, meter: 'stt_words', quantity: 1, idempotencyKey: key }], globex.workspaceId)).accepted).toBe(1);
  });

  it('20 concurrent copies of one event on two connections are counted once', async () => {
    const other = await db.connectAgain();
    const event = ev({ customerId: acme.bob.customerId, quantity: 13 });
    const before = await rollup(acme.bob.customerId, 'stt_words');
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => recordUsage({ db: i % 2 ? other : db, workspaceId: acme.workspaceId, events: [event], now: NOW })));
    const statuses = answers.map((a) => a.results[0]!.status).sort();
    expect(statuses.filter((s) => s === 'accepted')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'duplicate')).toHaveLength(19);
    expect(new Set(answers.map((a) => (a.results[0] as { eventId: string }).eventId)).size).toBe(1);
    expect(await rollup(acme.bob.customerId, 'stt_words')).toEqual({ ...before, quantity: before.quantity + 13, eventCount: before.eventCount + 1 });
  });

  it('names the customer by externalId', async () => {
    const customerId = newId();
    await db.q.insert(db.t.customers).values({ id: customerId, workspaceId: acme.workspaceId, name: 'External', externalId: 'org_42' });
    const res = await record([{ customerExternalId: 'org_42', meter: 'stt_words', quantity: 9, idempotencyKey: `x-${newId()}` }]);
    expect(res.accepted).toBe(1);
    expect((await rollup(customerId, 'stt_words')).quantity).toBe(9);
    // The same externalId in another workspace is not this customer.
    expect((await record([{ customerExternalId: 'org_42', meter: 'stt_words', quantity: 9, idempotencyKey: `x-${newId()}` }], globex.workspaceId)).results[0]).toMatchObject({
      code: 'unknown_customer',
      error: 'No customer with externalId "org_42" in this workspace',
    });
  });

  it('rejects each bad event with a clear message, keeps the good ones, and changes nothing for the bad', async () => {
    const k = () => `bad-${newId()}`;
    const cases: [unknown, string, RegExp][] = [
      [ev({ meter: 'nope' }), 'unknown_meter', /Unknown meter "nope"/],
      [ev({ meter: 'archived' }), 'unknown_meter', /Unknown meter "archived"/],
      [ev({ meter: 'Bad Key!' }), 'invalid', /meter must be a meter key/],
      [ev({ customerId: newId() }), 'unknown_customer', /Unknown customer/],
      [ev({ customerId: globex.alice.customerId }), 'unknown_customer', /Unknown customer/],
      [ev({ customerId: 'not-a-uuid' }), 'invalid', /customerId must be a Tally customer id/],
      [ev({ customerExternalId: 'x' }), 'invalid', /exactly one of customerId or customerExternalId/],
      [{ meter: 'stt_words', quantity: 1, idempotencyKey: k() }, 'invalid', /exactly one of customerId or customerExternalId/],
      [ev({ quantity: -1 }), 'invalid', /quantity must not be negative/],
      [ev({ quantity: 1.5 }), 'invalid', /quantity must be a whole number/],
      [ev({ quantity: '100' }), 'invalid', /quantity must be a number/],
      [ev({ quantity: null }), 'invalid', /quantity must be a number/],
      [ev({ quantity: undefined }), 'invalid', /quantity must be a number/],
      [ev({ quantity: 1e10 }), 'invalid', /quantity must be at most 1000000000/],
      [ev({ occurredAt: '2026-11-20T12:05:01Z' }), 'invalid', /more than 5 minutes in the future/],
      [ev({ occurredAt: '2026-09-30T23:59:59Z' }), 'period_closed', /before the open usage periods \(2026-10 and 2026-11\)/],
      [ev({ occurredAt: 'yesterday' }), 'invalid', /occurredAt must be an ISO 8601 date-time/],
      [ev({ occurredAt: '2026-11-20T10:00:00' }), 'invalid', /occurredAt must be an ISO 8601 date-time with a time zone/],
      [ev({ occurredAt: 1_763_640_000 }), 'invalid', /occurredAt/],
      [ev({ idempotencyKey: 'x'.repeat(256) }), 'invalid', /idempotencyKey must be at most 255 characters/],
      [ev({ idempotencyKey: '' }), 'invalid', /idempotencyKey must not be empty/],
      [ev({ idempotencyKey: 42 }), 'invalid', /idempotencyKey/],
      [ev({ idempotencyKey: undefined }), 'invalid', /idempotencyKey is required/],
      [ev({ properties: [1, 2] }), 'invalid', /properties must be a JSON object/],
      [ev({ properties: { blob: 'x'.repeat(5000) } }), 'invalid', /properties must be at most 4096 bytes/],
      [ev({ extra: true }), 'invalid', /Unknown field/],
      ['a string', 'invalid', /must be a JSON object/],
      [null, 'invalid', /must be a JSON object/],
      [[ev()], 'invalid', /must be a JSON object/],
    ];
    const good = ev({ quantity: 2 });
    const before = await rollup(acme.alice.customerId, 'stt_words');
    const eventsBefore = (await snapshot()).events.length;
    const res = await record([good, ...cases.map(([e]) => e)]);
    expect(res.results[0]).toMatchObject({ status: 'accepted' });
    cases.forEach(([, code, message], i) => {
      const r = res.results[i + 1]!;
      expect(r, `case ${i}: ${JSON.stringify(cases[i]![0]).slice(0, 80)}`).toMatchObject({ status: 'rejected', code, index: i + 1 });
      expect((r as { error: string }).error).toMatch(message);
    });
    expect(res).toMatchObject({ accepted: 1, rejected: cases.length });
    expect(await rollup(acme.alice.customerId, 'stt_words')).toEqual({ ...before, quantity: before.quantity + 2, eventCount: before.eventCount + 1 });
    expect((await snapshot()).events.length).toBe(eventsBefore + 1);
    // An over-long key is not echoed back.
    expect(res.results[20]).toMatchObject({ idempotencyKey: null });
  });

  it('a date that does not exist (2026-02-30) is refused', async () => {
    const res = await recordUsage({ db, workspaceId: acme.workspaceId, events: [ev({ occurredAt: '2026-02-30T00:00:00Z' })], now: new Date('2026-03-01T00:00:00Z') });
    expect(res.results[0]).toMatchObject({ status: 'rejected', code: 'invalid' });
  });

  it('late events: the previous period is open until it closes; a closed period or an invoiced customer refuses them', async () => {
    const late = ev({ occurredAt: '2026-10-31T23:59:59Z', customerId: acme.bob.customerId });
    expect((await record([late])).results[0]).toMatchObject({ status: 'accepted' });
    // An admin generated Bob's October usage invoice: Bob's late October events are refused, Alice's not yet.
    await db.q.insert(db.t.usageInvoices).values({ id: newId(), workspaceId: acme.workspaceId, customerId: acme.bob.customerId, period: '2026-10', status: 'draft', currency: 'usd', totalMinor: 0, lines: '[]', source: 'manual' });
    const snap = await snapshot();
    expect((await record([ev({ occurredAt: '2026-10-15T00:00:00Z', customerId: acme.bob.customerId })])).results[0]).toMatchObject({
      code: 'period_closed',
      error: "This customer's usage for 2026-10 is already invoiced; late events for it are refused",
    });
    expect(await snapshot()).toEqual(snap);
    expect((await record([ev({ occurredAt: '2026-10-15T00:00:00Z' })])).results[0]).toMatchObject({ status: 'accepted' });
    // The period closes: nobody's October events are accepted any more, November's are.
    await db.q.insert(db.t.usagePeriods).values({ workspaceId: acme.workspaceId, period: '2026-10', status: 'closed', closedAt: NOW });
    const snap2 = await snapshot();
    const res = await record([ev({ occurredAt: '2026-10-15T00:00:00Z' }), ev()]);
    expect(res.results[0]).toMatchObject({ code: 'period_closed', error: 'The usage period 2026-10 is closed; late events for it are refused' });
    expect(res.results[1]).toMatchObject({ status: 'accepted' });
    expect((await snapshot()).events.length).toBe(snap2.events.length + 1);
    // A retry of the accepted late event still answers duplicate (it was stored before the close).
    expect((await record([late])).results[0]).toMatchObject({ status: 'rejected', code: 'period_closed' });
  });

  describe('prepaid draw-down', () => {
    let customerId: string;
    let n = 0;
    beforeAll(async () => {
      customerId = newId();
      await db.q.insert(db.t.customers).values({ id: customerId, workspaceId: acme.workspaceId, name: 'Prepaid', email: 'prepaid@example.test' });
    });
    const call = (overrides: Record<string, unknown> = {}) => ({ customerId, meter: 'api_calls', quantity: 1, idempotencyKey: `call-${customerId}-${n++}`, ...overrides });

    it('refuses with payment_required (402) when the balance cannot cover a block, and stores nothing of it', async () => {
      const snap = await snapshot();
      const res = await record([call()]);
      expect(res.results[0]).toMatchObject({ status: 'rejected', code: 'payment_required' });
      expect((res.results[0] as { error: string }).error).toMatch(/prepaid balance \(0 usd minor units\) cannot cover this event's charge of 10; top up first/);
      const after = await snapshot();
      // The balance row may now exist at 0; nothing else changed.
      expect({ ...after, balances: [] }).toEqual({ ...snap, balances: [] });
      expect(await balanceOf(customerId)).toBe(0);
    });

    it('debits per block, rounded up per customer, meter and period, never per event', async () => {
      await creditBalance(db, { workspaceId: acme.workspaceId, customerId, amountMinor: 25 });
      // api_calls: count, 10 minor units per 100 calls. Call 1 opens block 1 (10), calls 2..100 are free, call 101 opens block 2.
      const first = await record([call()]);
      expect(first.results[0]).toMatchObject({ status: 'accepted', chargedMinor: 10 });
      const more = await record(Array.from({ length: 99 }, () => call()));
      expect(more.accepted).toBe(99);
      expect(more.results.every((r) => r.status === 'accepted' && r.chargedMinor === 0)).toBe(true);
      expect(await balanceOf(customerId)).toBe(15);
      const next = await record([call(), call()]);
      expect(next.results.map((r) => (r as { chargedMinor: number }).chargedMinor)).toEqual([10, 0]);
      expect(await balanceOf(customerId)).toBe(5);
      expect(await ledgerSum(customerId)).toBe(5);
      expect(await rollup(customerId, 'api_calls')).toEqual({ quantity: 102, eventCount: 102, charged: 20 });
      // Block 3 would cost 10 with 5 left: refused, block 2's remaining calls still accepted.
      const fill = await record(Array.from({ length: 99 }, () => call()));
      expect(fill.accepted).toBe(98);
      expect(fill.results[98]).toMatchObject({ status: 'rejected', code: 'payment_required' });
      expect(await rollup(customerId, 'api_calls')).toEqual({ quantity: 200, eventCount: 200, charged: 20 });
      const entries = await db.q.select().from(db.t.ledgerEntries).where(and(eq(db.t.ledgerEntries.customerId, customerId), eq(db.t.ledgerEntries.kind, 'usage_charge')));
      expect(entries.map((e) => Number(e.amountMinor))).toEqual([-10, -10]);
      expect(entries.every((e) => e.reference.startsWith('usage:'))).toBe(true);
    });

    it('a workspace that allows negative balances lets the debit through', async () => {
      await db.q.update(db.t.workspaces).set({ allowNegativeBalance: true }).where(eq(db.t.workspaces.id, acme.workspaceId));
      try {
        const res = await record([call()]);
        expect(res.results[0]).toMatchObject({ status: 'accepted', chargedMinor: 10 });
        expect(await balanceOf(customerId)).toBe(-5);
        expect(await ledgerSum(customerId)).toBe(-5);
      } finally {
        await db.q.update(db.t.workspaces).set({ allowNegativeBalance: false }).where(eq(db.t.workspaces.id, acme.workspaceId));
      }
    });

    it('sends one low-balance notice when a debit crosses the threshold, and one more after the next crossing', async () => {
      const id = newId();
      await db.q.insert(db.t.customers).values({ id, workspaceId: acme.workspaceId, name: 'Watched', email: 'watched@example.test', lowBalanceThresholdMinor: 15 });
      await creditBalance(db, { workspaceId: acme.workspaceId, customerId: id, amountMinor: 30 });
      const notices = () => db.q.select().from(db.t.emailOutbox).where(and(eq(db.t.emailOutbox.toAddress, 'watched@example.test'), eq(db.t.emailOutbox.kind, 'usage_low_balance')));
      let i = 0;
      const c = () => ({ customerId: id, meter: 'api_calls', quantity: 1, idempotencyKey: `w-${id}-${i++}` });
      await record([c()]); // 30 -> 20
      expect(await notices()).toHaveLength(0);
      await record([...Array.from({ length: 100 }, c)]); // block 2 at call 101: 20 -> 10, crosses 15
      expect(await notices()).toHaveLength(1);
      expect((await notices())[0]!.textBody).toMatch(/\$0\.10, below the \$0\.15/);
      await record([...Array.from({ length: 100 }, c)]); // 10 -> 0: still below, no second notice
      expect(await notices()).toHaveLength(1);
      await creditBalance(db, { workspaceId: acme.workspaceId, customerId: id, amountMinor: 100 }); // 100
      await record([...Array.from({ length: 100 }, c)]); // 100 -> 90
      expect(await notices()).toHaveLength(1);
      await db.q.update(db.t.customers).set({ lowBalanceThresholdMinor: 95 }).where(eq(db.t.customers.id, id));
      await record([...Array.from({ length: 100 }, c)]); // 90 -> 80: already below 95 before, no crossing
      expect(await notices()).toHaveLength(1);
      await db.q.update(db.t.customers).set({ lowBalanceThresholdMinor: 85 }).where(eq(db.t.customers.id, id));
      await record([...Array.from({ length: 100 }, c)]); // 80 -> 70: already below 85 before, no crossing
      await creditBalance(db, { workspaceId: acme.workspaceId, customerId: id, amountMinor: 20 }); // 90
      await record([...Array.from({ length: 100 }, c)]); // 90 -> 80 crosses 85
      expect(await notices()).toHaveLength(2);
    });

    it('max aggregation debits on the period maximum', async () => {
      await insertMeter(db, acme.workspaceId, { key: 'seats_max', billingMode: 'prepaid', aggregation: 'max', priceMinor: 100, blockSize: 1 });
      const id = newId();
      await db.q.insert(db.t.customers).values({ id, workspaceId: acme.workspaceId, name: 'Max' });
      await creditBalance(db, { workspaceId: acme.workspaceId, customerId: id, amountMinor: 1000 });
      let i = 0;
      const s = (quantity: number) => ({ customerId: id, meter: 'seats_max', quantity, idempotencyKey: `m-${id}-${i++}` });
      const res = await record([s(3), s(2), s(5), s(5), s(1)]);
      expect(res.results.map((r) => (r as { chargedMinor: number }).chargedMinor)).toEqual([300, 0, 200, 0, 0]);
      expect(await balanceOf(id)).toBe(500);
    });
  });

  describe('stripe_meter mode', () => {
    it('writes one outbox row per accepted event with the idempotency key as identifier; a duplicate writes none', async () => {
      const meter = await insertMeter(db, acme.workspaceId, { key: 'tokens', billingMode: 'stripe_meter', stripeMeterEventName: 'tokens_used' });
      await db.q.update(db.t.customers).set({ stripeCustomerId: `cus_${newId().slice(0, 8)}` }).where(eq(db.t.customers.id, acme.alice.customerId));
      const event = ev({ meter: 'tokens', quantity: 1234 });
      expect((await record([event])).accepted).toBe(1);
      expect((await record([event])).duplicates).toBe(1);
      const rows = await db.q.select().from(db.t.stripeMeterOutbox).where(eq(db.t.stripeMeterOutbox.identifier, event.idempotencyKey));
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ eventName: 'tokens_used', value: 1234, status: 'pending', workspaceId: acme.workspaceId });
      // Bob has no Stripe customer: refused before anything is stored.
      const snap = await snapshot();
      expect((await record([ev({ meter: 'tokens', customerId: acme.bob.customerId })])).results[0]).toMatchObject({
        code: 'no_stripe_customer',
        error: 'Meter "tokens" is billed by Stripe, and this customer has no Stripe customer yet',
      });
      expect(await snapshot()).toEqual(snap);
      expect(meter.key).toBe('tokens');
    });
  });

  it('property: random batches with repeated keys keep rollups = distinct events and balance = ledger sum', async () => {
    const ws = await seedTenants(db);
    await insertMeter(db, ws.workspaceId, { key: 'words', priceMinor: 100, blockSize: 1000 });
    await insertMeter(db, ws.workspaceId, { key: 'calls', billingMode: 'prepaid', aggregation: 'count', priceMinor: 7, blockSize: 3 });
    await insertMeter(db, ws.workspaceId, { key: 'chars', billingMode: 'prepaid', priceMinor: 5, blockSize: 10 });
    const customers = [ws.alice.customerId, ws.bob.customerId];
    for (const customerId of customers) await creditBalance(db, { workspaceId: ws.workspaceId, customerId, amountMinor: 400 });
    const accepted = new Map<string, { customerId: string; meter: string; quantity: number }>();
    let round = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.integer({ min: 0, max: 60 }), customer: fc.integer({ min: 0, max: 1 }), meter: fc.constantFrom('words', 'calls', 'chars'), quantity: fc.integer({ min: 0, max: 40 }) }), {
          minLength: 1,
          maxLength: 30,
        }),
        async (batch) => {
          round++;
          // A key names one payload: derive it from the key so repeats are true duplicates, except every 7th key, which gets a fresh payload each round (a conflict).
          const events = batch.map((b) => {
            const conflicting = b.key % 7 === 0;
            return {
              customerId: customers[conflicting ? b.customer : b.key % 2]!,
              meter: conflicting ? b.meter : (['words', 'calls', 'chars'] as const)[b.key % 3]!,
              quantity: conflicting ? b.quantity + round * 100 : b.key,
              idempotencyKey: `p-${ws.workspaceId}-${b.key}`,
            };
          });
          const res = await recordUsage({ db, workspaceId: ws.workspaceId, events, now: NOW });
          res.results.forEach((r: UsageEventResult, i) => {
            const e = events[i]!;
            const seen = accepted.get(e.idempotencyKey);
            if (r.status === 'accepted') {
              expect(seen).toBeUndefined();
              accepted.set(e.idempotencyKey, e);
            } else if (r.status === 'duplicate') {
              expect(seen).toMatchObject({ customerId: e.customerId, meter: e.meter, quantity: e.quantity });
            } else expect(['conflict', 'payment_required']).toContain(r.code);
          });
          for (const customerId of customers) {
            for (const meter of ['words', 'calls', 'chars']) {
              const distinct = [...accepted.values()].filter((e) => e.customerId === customerId && e.meter === meter);
              const r = await rollup(customerId, meter, ws.workspaceId);
              expect(r.quantity).toBe(distinct.reduce((s, e) => s + e.quantity, 0));
              expect(r.eventCount).toBe(distinct.length);
              if (meter !== 'words') {
                const m = meter === 'calls' ? { priceMinor: 7, blockSize: 3 } : { priceMinor: 5, blockSize: 10 };
                expect(r.charged).toBe(costMinor(meter === 'calls' ? distinct.length : r.quantity, m));
              }
            }
            expect(await balanceOf(customerId)).toBe(await ledgerSum(customerId));
            expect(await balanceOf(customerId)).toBeGreaterThanOrEqual(0);
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
