/**
 * Issue 8, item 2, bad input: every input the subscription and portal procedures refuse is a
 * clear error (code and message) and makes no Stripe call: the Stripe client here counts its
 * HTTP calls and fails every one. Unknown or inactive plans, seats 0 / 10^6 / 1.5, trial days
 * -1 / 731, seats on a flat plan, a longer trial than the plan's, checkout while subscribed,
 * change/cancel/resume without a subscription, another customer's or workspace's customer, a
 * disallowed origin. Both dialects.
 */
import { eq, type Subscription } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/context';
import { newId } from '../src/ids';
import { redirectOrigin } from '../src/subscriptions/create-checkout';
import { callerFor, countingStripe, ORIGIN, seedTenants, testConfig } from './helpers';

const failure = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return e instanceof TRPCError ? { code: e.code, message: e.message } : { code: `not a TRPCError: ${String(e)}`, message: '' };
  }
  return { code: 'resolved', message: '' };
};

describe.each(testDialects)('subscription procedures: bad input ($name)', ({ create }) => {
  let db: TestDatabase;
  const { stripe, calls } = countingStripe();
  beforeAll(async () => {
    db = await create();
  });
  afterAll(() => db.destroy());

  const caller = (actor: Actor, origin: string | null = ORIGIN, workspaceId: string | null = null) => callerFor(db, stripe, actor, origin, workspaceId);

  async function setup() {
    const tenants = await seedTenants(db);
    const plan = async (code: string, extra: Record<string, unknown> = {}) => {
      const id = newId();
      await db.q.insert(db.t.plans).values({ id, workspaceId: tenants.workspaceId, code, name: code[0]!.toUpperCase() + code.slice(1), stripePriceId: `price_${code}Fake1`, ...extra });
      return id;
    };
    const plans = {
      solo: await plan('solo', { trialDays: 14 }),
      team: await plan('team', { perSeat: true, trialDays: 14 }),
      enterprise: await plan('enterprise', { issuesLicenses: true }),
      legacy: await plan('legacy', { active: false }),
    };
    return { ...tenants, plans };
  }
  async function mirror(t: Awaited<ReturnType<typeof setup>>, customerId: string, fields: Partial<Subscription> = {}) {
    const id = newId();
    const now = Date.now();
    await db.q.insert(db.t.subscriptions).values({
      id,
      workspaceId: t.workspaceId,
      customerId,
      stripeSubscriptionId: `sub_fake${id.replace(/-/g, '')}`,
      stripeCustomerId: 'cus_fake1',
      planId: t.plans.team,
      stripePriceId: 'price_teamFake1',
      status: 'active',
      seats: 3,
      currency: 'usd',
      currentPeriodStart: new Date(now - 86_400_000),
      currentPeriodEnd: new Date(now + 29 * 86_400_000),
      stripeCreated: new Date(now - 86_400_000),
      ...fields,
    });
    return id;
  }

  it('createCheckout: malformed plan, seats and trial days are BAD_REQUEST with a message naming the field', async () => {
    const t = await setup();
    const c = caller(t.alice);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ plan: '' }, /plan must be a plan code/],
      [{ plan: 'Team' }, /plan must be a plan code/],
      [{ plan: 'a'.repeat(41) }, /plan must be a plan code/],
      [{ plan: 'team\u0000' }, /plan must be a plan code/],
      [{ plan: 7 }, /plan must be a plan code/],
      [{ plan: 'team', seats: 0 }, /seats must be 1 to 1000/],
      [{ plan: 'team', seats: 1_000_000 }, /seats must be 1 to 1000/],
      [{ plan: 'team', seats: 1001 }, /seats must be 1 to 1000/],
      [{ plan: 'team', seats: 1.5 }, /seats must be a whole number/],
      [{ plan: 'team', seats: -2 }, /seats must be 1 to 1000/],
      [{ plan: 'team', seats: '3' }, /seats must be a number/],
      [{ plan: 'team', seats: Number.NaN }, /seats must be a number/],
      [{ plan: 'solo', trialDays: -1 }, /trialDays must be 0 to 730/],
      [{ plan: 'solo', trialDays: 731 }, /trialDays must be 0 to 730/],
      [{ plan: 'solo', trialDays: 1.5 }, /trialDays must be a whole number/],
      [{ plan: 'solo', customerId: 'not-a-uuid' }, /customerId must be a Tally id/],
      [{ plan: 'team', interval: 'week' }, /interval must be "month" or "year"/],
      [{ plan: 'team', interval: 'yearly' }, /interval must be "month" or "year"/],
    ];
    for (const [input, message] of cases) {
      const f = await failure(c.subscription.createCheckout(input as never));
      expect(f.code, JSON.stringify(input)).toBe('BAD_REQUEST');
      expect(f.message, JSON.stringify(input)).toMatch(message);
    }
    expect(calls).toEqual([]);
  });

  it('createCheckout: unknown and retired plans, seats on a flat plan, a longer trial than the plan offers: clear errors, no Stripe call', async () => {
    const t = await setup();
    const c = caller(t.alice);
    expect(await failure(c.subscription.createCheckout({ plan: 'platinum' }))).toEqual({ code: 'NOT_FOUND', message: 'Plan "platinum" not found' });
    expect(await failure(c.subscription.createCheckout({ plan: 'legacy' }))).toEqual({ code: 'BAD_REQUEST', message: 'Plan "legacy" is no longer offered' });
    expect(await failure(c.subscription.createCheckout({ plan: 'solo', seats: 3 }))).toEqual({ code: 'BAD_REQUEST', message: 'Solo is not priced per seat: seats must be 1 or omitted' });
    expect(await failure(c.subscription.createCheckout({ plan: 'solo', trialDays: 30 }))).toEqual({ code: 'BAD_REQUEST', message: 'Solo has a trial of at most 14 days' });
    expect(await failure(c.subscription.createCheckout({ plan: 'enterprise', trialDays: 7 }))).toEqual({ code: 'BAD_REQUEST', message: 'Enterprise has no trial' });
    expect(await failure(c.subscription.createCheckout({ plan: 'solo', interval: 'year' }))).toEqual({ code: 'BAD_REQUEST', message: 'Solo has no yearly billing: choose monthly billing' });
    // A plan of another workspace is unknown here.
    const other = await setup();
    await db.q.update(db.t.plans).set({ code: 'othersonly' }).where(eq(db.t.plans.id, other.plans.solo));
    expect((await failure(c.subscription.createCheckout({ plan: 'othersonly' }))).code).toBe('NOT_FOUND');
    expect(calls).toEqual([]);
  });

  it('createCheckout while subscribed (active, trialing, past_due, unpaid) is CONFLICT, pointing to change plan; ended subscriptions do not block', async () => {
    const t = await setup();
    const c = caller(t.alice);
    const id = await mirror(t, t.alice.customerId, { status: 'trialing', trialEnd: new Date(Date.now() + 86_400_000) });
    for (const status of ['trialing', 'active', 'past_due', 'unpaid']) {
      await db.q.update(db.t.subscriptions).set({ status }).where(eq(db.t.subscriptions.id, id));
      const f = await failure(c.subscription.createCheckout({ plan: 'team', seats: 2 }));
      expect(f.code, status).toBe('CONFLICT');
      expect(f.message, status).toMatch(/^Already subscribed \(\w+\): change the plan or seats/);
    }
    expect(calls).toEqual([]);
    // Canceled: a new checkout is allowed and goes to Stripe (which fails here: BAD_GATEWAY, generic message).
    await db.q.update(db.t.subscriptions).set({ status: 'canceled' }).where(eq(db.t.subscriptions.id, id));
    expect(await failure(c.subscription.createCheckout({ plan: 'team', seats: 2 }))).toEqual({ code: 'BAD_GATEWAY', message: 'Payments are unavailable right now' });
    expect(calls.length).toBeGreaterThan(0);
    calls.length = 0;
  });

  it('previewChange / changePlan: no subscription is NOT_FOUND; bad plan, seats, proration date, nothing to change: clear errors, no Stripe call', async () => {
    const t = await setup();
    const c = caller(t.alice);
    for (const op of [() => c.subscription.previewChange({ plan: 'enterprise' }), () => c.subscription.changePlan({ plan: 'enterprise' })]) {
      expect(await failure(op())).toEqual({ code: 'NOT_FOUND', message: 'No subscription to change: subscribe to a plan first' });
    }
    // Only an ended subscription: still nothing to change.
    const ended = await mirror(t, t.alice.customerId, { status: 'canceled', endedAt: new Date() });
    expect((await failure(c.subscription.changePlan({ plan: 'enterprise' }))).code).toBe('NOT_FOUND');
    await db.q.delete(db.t.subscriptions).where(eq(db.t.subscriptions.id, ended));
    await mirror(t, t.alice.customerId);
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ plan: 'platinum' }, 'NOT_FOUND', /Plan "platinum" not found/],
      [{ plan: 'legacy' }, 'BAD_REQUEST', /no longer offered/],
      [{ plan: 'team', seats: 0 }, 'BAD_REQUEST', /seats must be 1 to 1000/],
      [{ plan: 'team', seats: 1_000_000 }, 'BAD_REQUEST', /seats must be 1 to 1000/],
      [{ plan: 'team', seats: 1.5 }, 'BAD_REQUEST', /seats must be a whole number/],
      [{ plan: 'solo', seats: 2 }, 'BAD_REQUEST', /Solo is not priced per seat/],
      [{ plan: 'team' }, 'BAD_REQUEST', /Already on team with 3 seats: nothing to change/i],
      [{ plan: 'team', seats: 3 }, 'BAD_REQUEST', /nothing to change/],
      [{ plan: 'team', interval: 'month' }, 'BAD_REQUEST', /nothing to change/],
      [{ plan: 'team', interval: 'year' }, 'BAD_REQUEST', /Team has no yearly billing: choose monthly billing/],
      [{ plan: 'team', interval: 'week' }, 'BAD_REQUEST', /interval must be "month" or "year"/],
    ];
    for (const [input, code, message] of cases) {
      for (const op of ['previewChange', 'changePlan'] as const) {
        const f = await failure(c.subscription[op](input as never));
        expect(f.code, `${op} ${JSON.stringify(input)}`).toBe(code);
        expect(f.message, `${op} ${JSON.stringify(input)}`).toMatch(message);
      }
    }
    for (const prorationDate of [1.5, -1, 0, 1e15, '1700000000']) {
      const f = await failure(c.subscription.changePlan({ plan: 'enterprise', prorationDate } as never));
      expect(f.code, String(prorationDate)).toBe('BAD_REQUEST');
      expect(f.message).toMatch(/prorationDate must be/);
    }
    expect(calls).toEqual([]);
  });

  it('cancel and resume without a subscription are NOT_FOUND with a clear message; bad atPeriodEnd is BAD_REQUEST; no Stripe call', async () => {
    const t = await setup();
    const c = caller(t.alice);
    expect(await failure(c.subscription.cancel({ atPeriodEnd: true }))).toEqual({ code: 'NOT_FOUND', message: 'No subscription to cancel: subscribe to a plan first' });
    expect(await failure(c.subscription.cancel({ atPeriodEnd: false }))).toEqual({ code: 'NOT_FOUND', message: 'No subscription to cancel: subscribe to a plan first' });
    expect(await failure(c.subscription.resume())).toEqual({ code: 'NOT_FOUND', message: 'No subscription to resume: subscribe to a plan first' });
    await mirror(t, t.alice.customerId, { status: 'incomplete_expired' });
    expect((await failure(c.subscription.cancel({ atPeriodEnd: false }))).code).toBe('NOT_FOUND');
    for (const input of [{}, { atPeriodEnd: 'yes' }, { atPeriodEnd: 1 }, undefined]) {
      const f = await failure(c.subscription.cancel(input as never));
      expect(f.code, JSON.stringify(input)).toBe('BAD_REQUEST');
    }
    expect(calls).toEqual([]);
  });

  it("another customer's subscription is unreachable: NOT_FOUND for every customer procedure, and get shows only one's own", async () => {
    const t = await setup();
    await mirror(t, t.alice.customerId);
    const bob = caller(t.bob);
    const alices = { customerId: t.alice.customerId };
    const ops: Array<[string, () => Promise<unknown>]> = [
      ['get', () => bob.subscription.get(alices)],
      ['createCheckout', () => bob.subscription.createCheckout({ ...alices, plan: 'team' })],
      ['previewChange', () => bob.subscription.previewChange({ ...alices, plan: 'enterprise' })],
      ['changePlan', () => bob.subscription.changePlan({ ...alices, plan: 'enterprise' })],
      ['cancel', () => bob.subscription.cancel({ ...alices, atPeriodEnd: true })],
      ['resume', () => bob.subscription.resume(alices)],
      ['openPortal', () => bob.billing.openPortal(alices)],
    ];
    for (const [name, op] of ops) expect(await failure(op()), name).toEqual({ code: 'NOT_FOUND', message: 'Customer not found' });
    // Bob's own view: no subscription, no access.
    const own = await bob.subscription.get();
    expect(own.subscription).toBeNull();
    expect(own.access).toMatchObject({ access: 'none', reason: 'no_subscription' });
    expect(own.pastDue).toBeNull();
    // Bob's own cancel does not reach Alice's subscription.
    expect((await failure(bob.subscription.cancel({ atPeriodEnd: false }))).code).toBe('NOT_FOUND');
    expect(calls).toEqual([]);
  });

  it('admin procedures: a customer of another workspace is NOT_FOUND, a non-admin FORBIDDEN, bad input BAD_REQUEST; no Stripe call', async () => {
    const t = await setup();
    const other = await setup();
    await mirror(other, other.alice.customerId);
    const admin = caller(t.admin);
    const foreign = { customerId: other.alice.customerId };
    const ops: Array<[string, (c: ReturnType<typeof caller>) => Promise<unknown>]> = [
      ['getForCustomer', (c) => c.subscription.getForCustomer(foreign)],
      ['createCheckoutForCustomer', (c) => c.subscription.createCheckoutForCustomer({ ...foreign, plan: 'team' })],
      ['previewChangeForCustomer', (c) => c.subscription.previewChangeForCustomer({ ...foreign, plan: 'enterprise' })],
      ['changePlanForCustomer', (c) => c.subscription.changePlanForCustomer({ ...foreign, plan: 'enterprise' })],
      ['cancelForCustomer', (c) => c.subscription.cancelForCustomer({ ...foreign, atPeriodEnd: true })],
      ['resumeForCustomer', (c) => c.subscription.resumeForCustomer(foreign)],
      ['openPortalForCustomer', (c) => c.billing.openPortalForCustomer(foreign)],
    ];
    for (const [name, op] of ops) {
      expect(await failure(op(admin)), name).toEqual({ code: 'NOT_FOUND', message: 'Customer not found' });
      expect((await failure(op(caller(t.alice)))).code, `${name} as a customer`).toBe('FORBIDDEN');
      // Selecting the other workspace is not allowed either.
      expect((await failure(op(caller(t.admin, ORIGIN, other.workspaceId)))).code, `${name} selecting another workspace`).toBe('FORBIDDEN');
    }
    const mine = { customerId: t.alice.customerId };
    expect((await failure(admin.subscription.createCheckoutForCustomer({ ...mine, plan: 'solo', trialDays: 731 }))).code).toBe('BAD_REQUEST');
    expect((await failure(admin.subscription.changePlanForCustomer({ ...mine, plan: 'team', seats: 0 }))).code).toBe('BAD_REQUEST');
    expect((await failure(admin.subscription.getForCustomer({} as never))).code).toBe('BAD_REQUEST');
    expect(await failure(admin.subscription.cancelForCustomer({ ...mine, atPeriodEnd: true }))).toEqual({ code: 'NOT_FOUND', message: 'No subscription to cancel: subscribe to a plan first' });
    expect(calls).toEqual([]);
  });

  it('a checkout or portal from a page not in ALLOWED_FRONTEND_ORIGINS is FORBIDDEN before Stripe', async () => {
    const t = await setup();
    const c = caller(t.alice, 'https://evil.example');
    expect((await failure(c.subscription.createCheckout({ plan: 'team', seats: 2 }))).code).toBe('FORBIDDEN');
    expect((await failure(c.billing.openPortal())).code).toBe('FORBIDDEN');
    expect(calls).toEqual([]);
    // Without an Origin (an in-process caller), the web URL, when it is an allowed origin.
    expect(redirectOrigin({ origin: null, config: testConfig })).toBe(ORIGIN);
    expect(redirectOrigin({ origin: ORIGIN, config: testConfig })).toBe(ORIGIN);
    expect(() => redirectOrigin({ origin: null, config: { ...testConfig, webUrl: 'https://elsewhere.example' } })).toThrow(/not in ALLOWED_FRONTEND_ORIGINS/);
    expect(() => redirectOrigin({ origin: `${ORIGIN}.evil.example`, config: testConfig })).toThrow(/origin not in ALLOWED_FRONTEND_ORIGINS/);
  });
});
