/**
 * Demo usage (development seed, issue 9): the demo customer, a voice SaaS, reports speech-to-text
 * and text-to-speech words and API calls for last month and this month, through `recordUsage`
 * (the same path as `POST /api/v1/usage`), and gets its manual usage invoice for last month
 * ("Generate usage invoice", as an admin would). Idempotent: the events carry fixed idempotency
 * keys (`demo-usage:<customer>:<meter>:<day>:<n>`), so a second run records nothing new (last
 * month's events are then refused as invoiced, which is expected), and the invoice is one per
 * customer and period.
 */
import { createHash } from 'node:crypto';
import { and, eq, type Database, type Meter } from '@tally/db';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { seedDemoMeters } from '../meters/seed-demo-meters';
import { DEMO_SIGN_INS } from '../seed/demo';
import type { StripeAccounts } from '../stripe/accounts';
import { generateUsageInvoice, type GenerateUsageInvoiceResult } from './generate-invoice';
import { postLedgerEntry } from '../ledger/credit';
import { recordUsage } from './ingest';
import { daysOf, periodOf, previousPeriod } from './periods';

/** The demo customer's prepaid credit for API calls, minor units ($20.00). */
const DEMO_PREPAID_CREDIT_MINOR = 2000;

/** UTC hours of the demo events of each day. */
const HOURS = [2, 8, 14, 20];

/** A stable pseudo-random integer in [0, n) for `seed`. */
function stableInt(seed: string, n: number): number {
  return createHash('sha256').update(seed).digest().readUInt32BE(0) % n;
}

/** The demo events of `meter` for `customerId` from the start of last month up to `now`. */
function demoEvents(meter: Meter, customerId: string, now: Date) {
  const current = periodOf(now);
  const days = [...daysOf(previousPeriod(current)), ...daysOf(current)];
  const events: { customerId: string; meter: string; quantity: number; occurredAt: string; idempotencyKey: string }[] = [];
  for (const day of days) {
    HOURS.forEach((hour, n) => {
      const at = new Date(`${day}T${String(hour).padStart(2, '0')}:00:00.000Z`);
      if (at.getTime() > now.getTime()) return;
      const key = `demo-usage:${customerId}:${meter.key}:${day}:${n}`;
      // Words come in thousands per call, API calls one by one.
      const quantity = meter.aggregation === 'count' ? 1 : meter.aggregation === 'max' ? 1 + stableInt(key, 20) : 800 + stableInt(key, 4200);
      events.push({ customerId, meter: meter.key, quantity, occurredAt: at.toISOString(), idempotencyKey: key });
    });
  }
  return events;
}

/** The demo customer (`customer@demo.tally.test`'s customer) of a workspace, or null. */
export async function findDemoCustomerId(db: Database, workspaceId: string): Promise<string | null> {
  const c = db.t.customers;
  const [row] = await db.q
    .select({ id: c.id })
    .from(c)
    .where(and(eq(c.workspaceId, workspaceId), eq(c.email, DEMO_SIGN_INS.customer.email)))
    .orderBy(c.createdAt)
    .limit(1);
  return row?.id ?? null;
}

export interface SeedDemoUsageResult {
  /** Events sent to `recordUsage`, and what it answered. */
  events: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  /** Last month's manual usage invoice (null: no invoice-mode usage to bill). Not issued on Stripe without `stripeAccounts`. */
  invoice: GenerateUsageInvoiceResult | null;
}

/**
 * Seed the demo customer's usage (see the module doc). Meters come from `seedDemoMeters`.
 * With `stripeAccounts`, last month's usage invoice is issued on the workspace's Stripe (in
 * development, the emulator); without, it is created as a draft for the close to issue.
 * @throws AppError NOT_FOUND when `customerId` is not a customer of `workspaceId`; database errors.
 */
export async function seedDemoUsage({
  db,
  stripeAccounts,
  workspaceId,
  customerId,
  now = new Date(),
  logger,
}: {
  db: Database;
  stripeAccounts?: StripeAccounts;
  workspaceId: string;
  customerId: string;
  now?: Date;
  logger?: Logger;
}): Promise<SeedDemoUsageResult> {
  const c = db.t.customers;
  const [customer] = await db.q.select({ id: c.id }).from(c).where(and(eq(c.id, customerId), eq(c.workspaceId, workspaceId))).limit(1);
  if (!customer) throw new AppError('NOT_FOUND', 'Customer not found');
  const meters = await seedDemoMeters({ db, workspaceId });
  // A prepaid credit for the demo's api_calls (a prepaid meter), once: the reference makes it idempotent.
  const [ws] = await db.q.select({ currency: db.t.workspaces.currency }).from(db.t.workspaces).where(eq(db.t.workspaces.id, workspaceId));
  await db.transaction(function* (tx) {
    yield* postLedgerEntry(tx, db.t, {
      workspaceId,
      customerId,
      currency: ws?.currency ?? 'usd',
      amountMinor: DEMO_PREPAID_CREDIT_MINOR,
      kind: 'adjustment',
      reference: `demo-usage-credit:${customerId}`,
      description: 'Demo prepaid credit for API calls',
    });
  });
  const events = meters.filter((m) => m.archivedAt === null).flatMap((m) => demoEvents(m, customerId, now));
  const result: SeedDemoUsageResult = { events: events.length, accepted: 0, duplicates: 0, rejected: 0, invoice: null };
  for (let i = 0; i < events.length; i += 500) {
    const r = await recordUsage({ db, workspaceId, events: events.slice(i, i + 500), now });
    result.accepted += r.accepted;
    result.duplicates += r.duplicates;
    result.rejected += r.rejected;
  }
  try {
    result.invoice = await generateUsageInvoice({
      db,
      stripeAccounts: stripeAccounts ?? noStripe,
      workspaceId,
      customerId,
      period: previousPeriod(periodOf(now)),
      actor: null,
      now,
      issue: stripeAccounts !== undefined,
      ...(logger ? { logger } : {}),
    });
  } catch (err) {
    if (!(err instanceof AppError && err.code === 'PRECONDITION_FAILED')) throw err;
  }
  return result;
}

/** Stands in when the seed has no Stripe: `generateUsageInvoice` is told not to issue, so it is never asked. */
const noStripe: StripeAccounts = {
  deployment: { mode: 'none', client: null, webhookSecret: null },
  keyring: null,
  clientForKey: () => {
    throw new Error('no Stripe in this seed');
  },
  forWorkspace: async () => ({ configured: false, source: 'none', reason: 'no Stripe in this seed', webhookSecret: null }),
};
