/**
 * Workspace isolation of every admin procedure (issue 7): an admin of workspace A calling with
 * workspace B's ids gets NOT_FOUND, selecting B gets FORBIDDEN, reads never show B's rows, and
 * a customer member gets FORBIDDEN. The procedures are walked from `appRouter._def.procedures`,
 * so one added later without an entry in `ADMIN_TABLE` fails this file.
 */
import { and, eq, sql, type Database } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { TRPCError, type AnyProcedure } from '@trpc/server';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/context';
import { createApiKey } from '../src/api-keys/index';
import { enqueueEmail } from '../src/email/enqueue';
import { newId } from '../src/ids';
import { postLedgerEntry } from '../src/ledger/credit';
import { appRouter } from '../src/router/index';
import { encryptSecret } from '../src/secrets/encryption';
import { adminProcedure } from '../src/trpc';
import { recordUsage } from '../src/usage/ingest';
import { callerFor, countingStripe, seedTenants, TEST_KEYRING } from './helpers';
import { insertMeter } from './usage-helpers';

const code = (e: unknown) => (e instanceof TRPCError ? e.code : `not a TRPCError: ${String(e)}`);

/** What one workspace holds, as the table's inputs use it. */
interface Tenant {
  workspaceId: string;
  admin: Actor;
  member: Actor & { customerId: string };
  customerId: string;
  customerName: string;
  recordId: string;
  payToken: string;
  entryId: string;
  invitationId: string;
  topupId: string;
  eventId: string;
  emailId: string;
  stripeAccountMarker: string;
  planId: string;
  apiKeyId: string;
  meterId: string;
}

interface AdminEntry {
  /** A valid input acting on `own`'s rows. */
  input: (own: Tenant) => unknown;
  /** The same call with `other`'s ids: must be NOT_FOUND. Omit for procedures that take no ids. */
  foreign?: (own: Tenant, other: Tenant) => unknown;
  /** Queries: inputs (own, other) called as own's admin; the answer must not contain any of other's ids. */
  reads?: Array<(own: Tenant, other: Tenant) => unknown>;
  /** Why a query's own input cannot succeed here (it needs a live subscription in Stripe): skips the "own ids succeed" check. */
  ownNeedsStripe?: string;
}

const today = () => new Date().toISOString().slice(0, 10);
const previousMonth = () => {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
};

/**
 * Every admin procedure, with inputs. Add an entry when you add an admin procedure: the test
 * "every admin procedure has an entry" fails until you do. Entries for procedures that do not
 * exist (yet) are reported as skipped.
 */
const ADMIN_TABLE: Record<string, AdminEntry> = {
  'admin.events': { input: () => ({}), reads: [() => ({ limit: 100 })] },
  'admin.topups': { input: () => ({}), reads: [() => ({ limit: 100 }), (_o, other) => ({ limit: 100, cursor: other.topupId })] },
  'admin.emails.list': { input: () => ({}), reads: [() => ({ limit: 100 }), (_o, other) => ({ limit: 100, cursor: other.emailId })] },
  'customers.list': { input: () => ({}), reads: [() => ({ limit: 100 }), (_o, other) => ({ search: other.customerName })] },
  'customers.create': { input: () => ({ name: 'Isolation check' }) },
  'customers.get': { input: (own) => ({ customerId: own.customerId }), foreign: (_o, other) => ({ customerId: other.customerId }), reads: [(own) => ({ customerId: own.customerId })] },
  'customers.ledger': {
    input: (own) => ({ customerId: own.customerId }),
    foreign: (_o, other) => ({ customerId: other.customerId }),
    reads: [(own) => ({ customerId: own.customerId, limit: 100 }), (own, other) => ({ customerId: own.customerId, cursor: other.entryId })],
  },
  'customers.invite': { input: (own) => ({ customerId: own.customerId, email: 'isolation@example.test' }), foreign: (_o, other) => ({ customerId: other.customerId, email: 'isolation@example.test' }) },
  'customers.adjustBalance': {
    input: (own) => ({ customerId: own.customerId, amountMinor: 100, reason: 'isolation' }),
    foreign: (_o, other) => ({ customerId: other.customerId, amountMinor: 100, reason: 'isolation' }),
  },
  'plan.adminList': { input: () => undefined, reads: [() => undefined] },
  'plan.save': {
    input: (own) => ({ planId: own.planId, code: 'isolation', name: 'Isolation', stripePriceId: 'price_isolation123' }),
    foreign: (_o, other) => ({ planId: other.planId, code: 'isolation', name: 'Isolation', stripePriceId: 'price_isolation123' }),
  },
  'subscription.getForCustomer': { input: (own) => ({ customerId: own.customerId }), foreign: (_o, other) => ({ customerId: other.customerId }), reads: [(own) => ({ customerId: own.customerId })] },
  'subscription.createCheckoutForCustomer': { input: (own) => ({ customerId: own.customerId, plan: 'isolation' }), foreign: (_o, other) => ({ customerId: other.customerId, plan: 'isolation' }) },
  'subscription.previewChangeForCustomer': {
    input: (own) => ({ customerId: own.customerId, plan: 'isolation' }),
    foreign: (_o, other) => ({ customerId: other.customerId, plan: 'isolation' }),
    ownNeedsStripe: 'previews an existing Stripe subscription (subscription-procedures.test.ts)',
  },
  'subscription.changePlanForCustomer': { input: (own) => ({ customerId: own.customerId, plan: 'isolation' }), foreign: (_o, other) => ({ customerId: other.customerId, plan: 'isolation' }) },
  'subscription.cancelForCustomer': { input: (own) => ({ customerId: own.customerId, atPeriodEnd: true }), foreign: (_o, other) => ({ customerId: other.customerId, atPeriodEnd: true }) },
  'subscription.resumeForCustomer': { input: (own) => ({ customerId: own.customerId }), foreign: (_o, other) => ({ customerId: other.customerId }) },
  'billing.openPortalForCustomer': { input: (own) => ({ customerId: own.customerId }), foreign: (_o, other) => ({ customerId: other.customerId }) },
  'invoice.listForCustomer': { input: (own) => ({ customerId: own.customerId }), foreign: (_o, other) => ({ customerId: other.customerId }), reads: [(own) => ({ customerId: own.customerId })] },
  'license.listForCustomer': { input: (own) => ({ customerId: own.customerId }), foreign: (_o, other) => ({ customerId: other.customerId }), reads: [(own) => ({ customerId: own.customerId })] },
  'apiKey.list': { input: () => undefined, reads: [() => undefined] },
  'apiKey.create': { input: () => ({ name: 'Isolation', mode: 'test' }) },
  'apiKey.revoke': { input: (own) => ({ keyId: own.apiKeyId }), foreign: (_o, other) => ({ keyId: other.apiKeyId }) },
  // usage.record answers another workspace's customer per event (`unknown_customer`), not with NOT_FOUND: usage-ingest.test.ts covers it.
  'usage.record': { input: (own) => ({ events: [{ customerId: own.customerId, meter: 'isolation_words', quantity: 1, idempotencyKey: `iso-${newId()}` }] }) },
  'usage.dashboardForCustomer': { input: (own) => ({ customerId: own.customerId }), foreign: (_o, other) => ({ customerId: other.customerId }), reads: [(own) => ({ customerId: own.customerId })] },
  'meter.list': { input: () => ({ includeArchived: true }), reads: [() => ({ includeArchived: true }), () => undefined] },
  'meter.save': {
    input: (own) => ({ meterId: own.meterId, key: 'isolation_words', displayName: 'Isolation', unit: 'word', aggregation: 'sum', priceMinor: 100, blockSize: 1000, billingMode: 'invoice', stripeMeterEventName: null }),
    foreign: (_o, other) => ({ meterId: other.meterId, key: 'isolation_words', displayName: 'Hijack', unit: 'word', aggregation: 'sum', priceMinor: 100, blockSize: 1000, billingMode: 'invoice', stripeMeterEventName: null }),
  },
  'meter.archive': { input: (own) => ({ meterId: own.meterId, archived: false }), foreign: (_o, other) => ({ meterId: other.meterId, archived: true }) },
  'meter.usageSettings': { input: () => undefined, reads: [() => undefined] },
  'meter.saveUsageSettings': { input: () => ({ allowNegativeBalance: false }) },
  'meter.customerUsageSettings': { input: (own) => ({ customerId: own.customerId }), foreign: (_o, other) => ({ customerId: other.customerId }), reads: [(own) => ({ customerId: own.customerId })] },
  'meter.saveCustomerUsageSettings': {
    input: (own) => ({ customerId: own.customerId, externalId: null, lowBalanceThresholdMinor: null }),
    foreign: (_o, other) => ({ customerId: other.customerId, externalId: 'isolation-x', lowBalanceThresholdMinor: 100 }),
  },
  'usage.overview': { input: () => undefined, reads: [() => undefined] },
  'usage.generateInvoice': { input: (own) => ({ customerId: own.customerId, period: previousMonth() }), foreign: (_o, other) => ({ customerId: other.customerId, period: previousMonth() }) },
  'audit.list': { input: () => ({}), reads: [() => ({ limit: 100 }), (_o, other) => ({ limit: 100, cursor: other.entryId })] },
  'billingRecord.create': {
    input: (own) => ({ customerId: own.customerId, description: 'Isolation', amountMinor: 100, dueDate: '2030-01-01' }),
    foreign: (_o, other) => ({ customerId: other.customerId, description: 'Isolation', amountMinor: 100, dueDate: '2030-01-01' }),
  },
  // Customer procedures with an admin audience: the table covers them too.
  'billingRecord.list': {
    input: () => ({ audience: 'admin' }),
    foreign: (_o, other) => ({ audience: 'admin', customerId: other.customerId }),
    reads: [() => ({ audience: 'admin', limit: 100 }), (_o, other) => ({ audience: 'admin', cursor: other.recordId })],
  },
  'billingRecord.get': {
    input: (own) => ({ recordId: own.recordId, audience: 'admin' }),
    foreign: (_o, other) => ({ recordId: other.recordId, audience: 'admin' }),
    reads: [(own) => ({ recordId: own.recordId, audience: 'admin' })],
  },
  'billingRecord.markPaid': {
    input: (own) => ({ recordId: own.recordId, method: 'cash', paidOn: today() }),
    foreign: (_o, other) => ({ recordId: other.recordId, method: 'bank_transfer', reference: 'isolation', paidOn: today() }),
  },
  'billingRecord.void': { input: (own) => ({ recordId: own.recordId, reason: 'isolation' }), foreign: (_o, other) => ({ recordId: other.recordId, reason: 'isolation' }) },
  'settings.stripe.get': { input: () => undefined, reads: [() => undefined] },
  'settings.stripe.save': { input: () => ({ secretKey: 'sk_test_isolation_check_0000' }) },
  'settings.stripe.clear': { input: () => undefined },
  'settings.stripe.registerWebhookEndpoint': { input: () => undefined },
  'event.get': {
    input: (own) => ({ eventId: own.eventId, scope: own.workspaceId }),
    foreign: (_o, other) => ({ eventId: other.eventId, scope: other.workspaceId }),
    reads: [(own) => ({ eventId: own.eventId }), (own) => ({ eventId: own.eventId, scope: own.workspaceId })],
  },
  // The seeded event is processed: own calls answer BAD_REQUEST (only failed or dead events replay; event-detail.test.ts); another workspace's is NOT_FOUND first.
  'event.replay': { input: (own) => ({ eventId: own.eventId, scope: own.workspaceId, dryRun: true }), foreign: (_o, other) => ({ eventId: other.eventId, scope: other.workspaceId }) },
};

/**
 * Procedures that are not admin procedures, and where their isolation is tested. A new
 * procedure must be added here or to ADMIN_TABLE.
 */
const NOT_ADMIN: Record<string, string> = {
  'stream.billing': 'own authorization (resolveStreamAudience); stream.test.ts: another workspace FORBIDDEN, another customer NOT_FOUND',
  'me.get': 'public; workspaces.test.ts',
  'balance.get': 'customer; tenancy.test.ts',
  'ledger.list': 'customer; tenancy.test.ts',
  'topup.presets': 'customer; tenancy.test.ts',
  'topup.createCheckout': 'customer; topup tests',
  'topup.bySession': 'customer; tenancy.test.ts',
  'billingRecord.pay': 'customer or admin of the record; tested below (a foreign record is NOT_FOUND)',
  'payLink.get': 'public, the token is the credential',
  'payLink.pay': 'public, the token is the credential',
  'plan.list': 'customer; plans-list.test.ts (another workspace\'s customer is NOT_FOUND)',
  'usage.dashboard': 'customer; usage-dashboard.test.ts (another customer is NOT_FOUND)',
  'subscription.get': 'customer; subscription-input.test.ts (another customer is NOT_FOUND)',
  'subscription.createCheckout': 'customer; subscription-input.test.ts',
  'subscription.previewChange': 'customer; subscription-input.test.ts',
  'subscription.changePlan': 'customer; subscription-input.test.ts',
  'subscription.cancel': 'customer; subscription-input.test.ts',
  'subscription.resume': 'customer; subscription-input.test.ts',
  'billing.openPortal': 'customer; subscription-procedures.test.ts',
  'invoice.list': 'customer; invoice-mirror.test.ts',
  'license.list': 'customer; licenses.test.ts (another customer is NOT_FOUND)',
  'license.resetFingerprint': 'customer; licenses.test.ts',
};

const procedures = appRouter._def.procedures as unknown as Record<string, AnyProcedure>;
const adminMiddleware = (adminProcedure as unknown as { _def: { middlewares: unknown[] } })._def.middlewares.at(-1);
const isAdminProcedure = (path: string) => (procedures[path]?._def as unknown as { middlewares: unknown[] } | undefined)?.middlewares.includes(adminMiddleware) ?? false;
const adminPaths = Object.keys(procedures).filter(isAdminProcedure);

/** Call `path` on a caller with `input` (the caller is a nested proxy: `caller.a.b(input)`). */
function invoke(caller: unknown, path: string, input: unknown): Promise<unknown> {
  const fn = path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller) as (input: unknown) => Promise<unknown>;
  return fn(input);
}
const outcome = (p: Promise<unknown>) => p.then((value) => ({ ok: true as const, value }), (e: unknown) => ({ ok: false as const, code: code(e) }));

async function seedTenant(db: Database, label: string): Promise<Tenant> {
  const s = await seedTenants(db);
  const t = db.t;
  const customerName = `${label}-customer-${newId()}`;
  await db.q.update(t.customers).set({ name: customerName }).where(eq(t.customers.id, s.alice.customerId));
  const recordId = newId();
  const payToken = randomBytes(32).toString('base64url');
  await db.q.insert(t.billingRecords).values({
    id: recordId,
    workspaceId: s.workspaceId,
    customerId: s.alice.customerId,
    description: `${label} retainer`,
    amountMinor: 120_000,
    currency: 'usd',
    dueDate: '2030-04-01',
    status: 'DUE',
    payToken,
  });
  const posted = await db.transaction((tx) =>
    postLedgerEntry(tx, t, { workspaceId: s.workspaceId, customerId: s.alice.customerId, currency: 'usd', amountMinor: 5_000, kind: 'adjustment', reference: `seed:${newId()}`, description: `${label} seed` }),
  );
  const invitationId = newId();
  await db.q.insert(t.invitations).values({ id: invitationId, workspaceId: s.workspaceId, email: `${label}-invitee-${newId()}@example.test`, role: 'member', customerId: s.alice.customerId });
  const topupId = newId();
  await db.q.insert(t.topups).values({ id: topupId, workspaceId: s.workspaceId, customerId: s.alice.customerId, amountMinor: 500, currency: 'usd', status: 'pending' });
  const eventId = `evt_${label}_${newId().replace(/-/g, '')}`;
  await db.q.insert(t.stripeEvents).values({ scope: s.workspaceId, id: eventId, type: 'checkout.session.completed', livemode: false, stripeCreatedAt: new Date(), payload: '{}', status: 'processed', workspaceId: s.workspaceId });
  const emailId = (await enqueueEmail(db, { kind: 'receipt', to: `billing-${label}@example.test`, subject: `${label} receipt`, text: 'Thanks', workspaceId: s.workspaceId })).id!;
  const stripeAccountMarker = `acct_${label}${newId().replace(/-/g, '').slice(0, 12)}`;
  await db.q.insert(t.workspaceStripeAccounts).values({
    workspaceId: s.workspaceId,
    secretKeySealed: encryptSecret({ keyring: TEST_KEYRING, workspaceId: s.workspaceId, plaintext: `sk_test_${label}_isolation_0000` }),
    keyKind: 'secret',
    mode: 'test',
    keyLast4: '0000',
    stripeAccountId: stripeAccountMarker,
    verifiedAt: new Date(),
    savedByUserId: s.admin.userId,
    savedAt: new Date(),
  });
  const apiKeyId = (await createApiKey(db, { workspaceId: s.workspaceId, name: `${label} backend`, mode: 'test' })).id;
  const meterId = (await insertMeter(db, s.workspaceId, { key: 'isolation_words' })).id;
  // Usage of this tenant's customer, so usage reads would show it if they leaked.
  const usage = await recordUsage({ db, workspaceId: s.workspaceId, events: [{ customerId: s.alice.customerId, meter: 'isolation_words', quantity: 1234, idempotencyKey: `iso-seed-${label}` }] });
  if (usage.accepted !== 1) throw new Error(`isolation seed usage not accepted: ${JSON.stringify(usage.results)}`);
  const planId = newId();
  await db.q.insert(t.plans).values({ id: planId, workspaceId: s.workspaceId, code: `${label}-plan`, name: `${label} plan`, stripePriceId: `price_${label}isolation` });
  return {
    apiKeyId,
    meterId,
    planId,
    workspaceId: s.workspaceId,
    admin: s.admin,
    member: s.alice,
    customerId: s.alice.customerId,
    customerName,
    recordId,
    payToken,
    entryId: posted.entryId!,
    invitationId,
    topupId,
    eventId,
    emailId,
    stripeAccountMarker,
  };
}

/** Everything of a tenant that must not change when the other tenant's admin calls things. */
async function stateOf(db: Database, tenant: Tenant) {
  const t = db.t;
  const ws = tenant.workspaceId;
  const rows = async <T>(q: PromiseLike<T[]>) => JSON.stringify(await q);
  return {
    customers: await rows(db.q.select().from(t.customers).where(eq(t.customers.workspaceId, ws)).orderBy(t.customers.id)),
    ledger: await rows(db.q.select().from(t.ledgerEntries).where(eq(t.ledgerEntries.workspaceId, ws)).orderBy(t.ledgerEntries.id)),
    balances: await rows(db.q.select().from(t.customerBalances).where(eq(t.customerBalances.customerId, tenant.customerId))),
    records: await rows(db.q.select().from(t.billingRecords).where(eq(t.billingRecords.workspaceId, ws)).orderBy(t.billingRecords.id)),
    invitations: await rows(db.q.select().from(t.invitations).where(eq(t.invitations.workspaceId, ws)).orderBy(t.invitations.id)),
    memberships: await rows(
      db.q
        .select({ id: t.customerMemberships.id, role: t.customerMemberships.role })
        .from(t.customerMemberships)
        .innerJoin(t.customers, eq(t.customers.id, t.customerMemberships.customerId))
        .where(eq(t.customers.workspaceId, ws))
        .orderBy(t.customerMemberships.id),
    ),
    audit: await rows(db.q.select().from(t.auditLog).where(eq(t.auditLog.workspaceId, ws)).orderBy(t.auditLog.id)),
    apiKeys: await rows(db.q.select().from(t.apiKeys).where(eq(t.apiKeys.workspaceId, ws)).orderBy(t.apiKeys.id)),
    meters: await rows(db.q.select().from(t.meters).where(eq(t.meters.workspaceId, ws)).orderBy(t.meters.id)),
    workspace: await rows(db.q.select({ n: t.workspaces.allowNegativeBalance }).from(t.workspaces).where(eq(t.workspaces.id, ws))),
    usageEvents: await rows(db.q.select().from(t.usageEvents).where(eq(t.usageEvents.workspaceId, ws)).orderBy(t.usageEvents.id)),
    usageRollups: await rows(db.q.select().from(t.usageDailyRollups).where(eq(t.usageDailyRollups.workspaceId, ws)).orderBy(t.usageDailyRollups.customerId, t.usageDailyRollups.meterId, t.usageDailyRollups.day)),
    usageInvoices: await rows(db.q.select().from(t.usageInvoices).where(eq(t.usageInvoices.workspaceId, ws)).orderBy(t.usageInvoices.id)),
    plans: await rows(db.q.select().from(t.plans).where(eq(t.plans.workspaceId, ws)).orderBy(t.plans.id)),
    stripe: await rows(db.q.select().from(t.workspaceStripeAccounts).where(eq(t.workspaceStripeAccounts.workspaceId, ws))),
    emails: await rows(db.q.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(t.emailOutbox).where(and(eq(t.emailOutbox.workspaceId, ws)))),
  };
}

/** The identifiers of a tenant no other tenant's admin may ever see. */
const markersOf = (tenant: Tenant) => [
  tenant.workspaceId,
  tenant.customerId,
  tenant.member.customerId,
  tenant.member.email,
  tenant.customerName,
  tenant.recordId,
  tenant.payToken,
  tenant.entryId,
  tenant.invitationId,
  tenant.topupId,
  tenant.eventId,
  tenant.emailId,
  tenant.stripeAccountMarker,
  tenant.planId,
  tenant.apiKeyId,
  tenant.meterId,
];

describe('the isolation table', () => {
  it('finds the admin procedures by their middleware', () => {
    expect(adminPaths).toEqual(expect.arrayContaining(['admin.events', 'customers.list', 'customers.adjustBalance', 'audit.list']));
    expect(adminPaths).not.toContain('me.get');
    expect(adminPaths).not.toContain('balance.get');
  });

  it('every admin procedure of the app router has an entry in ADMIN_TABLE', () => {
    const missing = adminPaths.filter((path) => !(path in ADMIN_TABLE));
    expect(missing, `admin procedures without isolation coverage: add them to ADMIN_TABLE in ${import.meta.url}`).toEqual([]);
  });

  it('every other procedure is listed in NOT_ADMIN (or ADMIN_TABLE), so nothing is added unclassified', () => {
    const unclassified = Object.keys(procedures).filter((path) => !(path in ADMIN_TABLE) && !(path in NOT_ADMIN));
    expect(unclassified, 'procedures neither in ADMIN_TABLE nor in NOT_ADMIN').toEqual([]);
    const misfiled = Object.keys(NOT_ADMIN).filter(isAdminProcedure);
    expect(misfiled, 'admin procedures listed in NOT_ADMIN').toEqual([]);
  });
});

describe.each(testDialects)('workspace isolation of every admin procedure ($name)', ({ create }) => {
  let db: TestDatabase;
  let a: Tenant;
  let b: Tenant;
  const { stripe } = countingStripe();
  let initial: { a: Awaited<ReturnType<typeof stateOf>>; b: Awaited<ReturnType<typeof stateOf>> };

  beforeAll(async () => {
    db = await create();
    a = await seedTenant(db, 'wsa');
    b = await seedTenant(db, 'wsb');
    initial = { a: await stateOf(db, a), b: await stateOf(db, b) };
  });
  afterAll(() => db.destroy());

  const pairs = () =>
    [
      [a, b],
      [b, a],
    ] as const;

  for (const [path, entry] of Object.entries(ADMIN_TABLE)) {
    const exists = path in procedures;
    const note = exists ? '' : ' (not in the router yet)';

    it.skipIf(!exists)(`${path}: a customer member is FORBIDDEN, signed out is UNAUTHORIZED${note}`, async () => {
      for (const [own] of pairs()) {
        const member = callerFor(db, stripe, own.member);
        expect(await outcome(invoke(member, path, entry.input(own)))).toEqual({ ok: false, code: 'FORBIDDEN' });
        const selecting = callerFor(db, stripe, own.member, undefined, own.workspaceId);
        expect(await outcome(invoke(selecting, path, entry.input(own)))).toEqual({ ok: false, code: 'FORBIDDEN' });
      }
      expect(await outcome(invoke(callerFor(db, stripe, null), path, entry.input(a)))).toEqual({ ok: false, code: 'UNAUTHORIZED' });
    });

    it.skipIf(!exists)(`${path}: an admin selecting the other workspace is FORBIDDEN${note}`, async () => {
      for (const [own, other] of pairs()) {
        const intruder = callerFor(db, stripe, own.admin, undefined, other.workspaceId);
        expect(await outcome(invoke(intruder, path, entry.input(other)))).toEqual({ ok: false, code: 'FORBIDDEN' });
      }
    });

    if (entry.foreign) {
      const foreign = entry.foreign;
      it.skipIf(!exists)(`${path}: the other workspace's ids are NOT_FOUND${note}`, async () => {
        for (const [own, other] of pairs()) {
          for (const selected of [null, own.workspaceId]) {
            const admin = callerFor(db, stripe, own.admin, undefined, selected);
            expect(await outcome(invoke(admin, path, foreign(own, other)))).toEqual({ ok: false, code: 'NOT_FOUND' });
          }
        }
      });
    }

    if (entry.reads) {
      const reads = entry.reads;
      it.skipIf(!exists)(`${path}: reads never show the other workspace's rows${note}`, async () => {
        for (const [own, other] of pairs()) {
          const admin = callerFor(db, stripe, own.admin);
          for (const [i, read] of reads.entries()) {
            const result = await outcome(invoke(admin, path, read(own, other)));
            expect(result.ok, `${path} read ${i}: ${JSON.stringify(result)}`).toBe(true);
            const text = JSON.stringify(result.ok ? result.value : null);
            for (const marker of markersOf(other)) expect(text, `${path} read ${i} shows ${marker}`).not.toContain(marker);
          }
        }
      });
    }
  }

  it.skipIf(!('billingRecord.pay' in procedures))("billingRecord.pay: the other workspace's record is NOT_FOUND for its admin and its members", async () => {
    for (const [own, other] of pairs()) {
      for (const actor of [own.admin, own.member]) {
        expect(await outcome(invoke(callerFor(db, stripe, actor), 'billingRecord.pay', { recordId: other.recordId }))).toEqual({ ok: false, code: 'NOT_FOUND' });
      }
    }
  });

  it('the same queries with their own ids succeed, so a NOT_FOUND above is about the other workspace', async () => {
    for (const [path, entry] of Object.entries(ADMIN_TABLE)) {
      if (!(path in procedures) || procedures[path]!._def.type !== 'query' || entry.ownNeedsStripe) continue;
      const result = await outcome(invoke(callerFor(db, stripe, a.admin), path, entry.input(a)));
      expect(result.ok, `${path} with its own input: ${JSON.stringify(result)}`).toBe(true);
    }
  });

  it("nothing of either workspace changed through the other's calls (runs last)", async () => {
    expect(await stateOf(db, a)).toEqual(initial.a);
    expect(await stateOf(db, b)).toEqual(initial.b);
  });
});
