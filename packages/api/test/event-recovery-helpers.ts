/**
 * Shared by the event recovery, replay and retention tests: a pending top-up and its signed
 * `checkout.session.completed` delivered through `receiveStripeWebhook`, a handler made to fail
 * by a real database error (a trigger refusing one ledger amount; dropped to let it succeed),
 * and readers for the rows the tests compare.
 */
import { asc, eq, sql, type Database } from '@tally/db';
import type { TestDatabase } from '@tally/db/testing';
import Stripe from 'stripe';
import type { EventProcessingDeps } from '../src/events/replay';
import { newId } from '../src/ids';
import { silentLogger, type Logger } from '../src/logger';
import type { StripeAccounts } from '../src/stripe/accounts';
import { receiveStripeWebhook } from '../src/webhooks/receive';
import { DEPLOYMENT_SCOPE, type EventReceipt } from '../src/webhooks/types';
import { testConfig, testStripeAccounts, WEBHOOK_SECRET } from './helpers';

export const DEPLOYMENT: EventReceipt = { scope: DEPLOYMENT_SCOPE, workspaceId: null };
const offline = new Stripe('sk_test_signature_only');

/** Processing deps whose Stripe must never be called (every call throws). */
export function recoveryDeps(db: Database, logger: Logger = silentLogger): EventProcessingDeps & { stripeAccounts: StripeAccounts } {
  const failing = new Stripe('sk_test_unit_tests_123456', {
    httpClient: Stripe.createFetchHttpClient(() => Promise.reject(new Error('Stripe must not be called in this test'))),
    maxNetworkRetries: 0,
  });
  return { db, logger, stripeAccounts: testStripeAccounts(failing), publicUrl: testConfig.publicUrl, graceDays: 7, webUrl: testConfig.webUrl };
}

/** A workspace, a customer and a pending top-up of `amountMinor` usd on a Checkout Session. */
export async function seedTopup(db: Database, amountMinor = 2000) {
  const t = db.t;
  const workspaceId = newId();
  const customerId = newId();
  const topupId = newId();
  const sessionId = `cs_test_${newId().replace(/-/g, '')}`;
  await db.q.insert(t.workspaces).values({ id: workspaceId, name: 'W', slug: `w-${workspaceId}`, currency: 'usd' });
  await db.q.insert(t.customers).values({ id: customerId, workspaceId, name: 'C' });
  await db.q.insert(t.topups).values({ id: topupId, workspaceId, customerId, amountMinor, currency: 'usd', status: 'pending', stripeCheckoutSessionId: sessionId });
  return { workspaceId, customerId, topupId, sessionId, amountMinor };
}

/** Stripe's `checkout.session.completed` for a seeded top-up, paid in full. */
export function paidEvent(topup: { topupId: string; sessionId: string; amountMinor: number }) {
  return {
    id: `evt_${newId().replace(/-/g, '')}`,
    object: 'event',
    type: 'checkout.session.completed',
    api_version: '2026-10-28.endive',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    data: {
      object: {
        id: topup.sessionId,
        object: 'checkout.session',
        mode: 'payment',
        status: 'complete',
        payment_status: 'paid',
        amount_total: topup.amountMinor,
        currency: 'usd',
        client_reference_id: topup.topupId,
        metadata: { tally_topup_id: topup.topupId },
        payment_intent: 'pi_test_123',
      },
    },
  };
}

/** Deliver `event` signed with the deployment's secret, as the webhook route does. */
export function deliver(deps: EventProcessingDeps, event: { id: string }, receipt: EventReceipt = DEPLOYMENT) {
  const payload = JSON.stringify(event);
  return receiveStripeWebhook({
    db: deps.db,
    receipt,
    webhookSecret: WEBHOOK_SECRET,
    rawBody: Buffer.from(payload),
    signature: offline.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET }),
    logger: deps.logger,
    expected: { livemode: false },
    stripeAccounts: deps.stripeAccounts,
  });
}

/** A ledger amount a trigger refuses, so the top-up handler throws (a real database error). */
export const FAILING_AMOUNT = 4242;

async function exec(db: TestDatabase, statement: string) {
  if (db.dialect === 'sqlite') (db.q as unknown as { run(q: ReturnType<typeof sql.raw>): unknown }).run(sql.raw(statement));
  else await db.rows(sql.raw(statement));
}

/** Make every ledger entry of FAILING_AMOUNT fail (the handler throws) until `allowCredits`. */
export async function refuseCredits(db: TestDatabase) {
  if (db.dialect === 'sqlite') {
    await exec(db, `create trigger if not exists refuse_credit before insert on ledger_entries when new.amount_minor = ${FAILING_AMOUNT} begin select raise(abort, 'simulated credit failure'); end`);
  } else {
    await exec(db, `create or replace function tally_test_refuse() returns trigger language plpgsql as $$ begin raise exception 'simulated credit failure'; end $$`);
    await exec(db, `drop trigger if exists refuse_credit on ledger_entries`);
    await exec(db, `create trigger refuse_credit before insert on ledger_entries for each row when (new.amount_minor = ${FAILING_AMOUNT}) execute function tally_test_refuse()`);
  }
}

/** Let credits of FAILING_AMOUNT through again. */
export async function allowCredits(db: TestDatabase) {
  await exec(db, db.dialect === 'sqlite' ? 'drop trigger if exists refuse_credit' : 'drop trigger if exists refuse_credit on ledger_entries');
}

export const eventRow = async (db: Database, id: string, scope = DEPLOYMENT_SCOPE) =>
  (await db.q.select().from(db.t.stripeEvents).where(eq(db.t.stripeEvents.id, id))).find((r) => r.scope === scope);
export const errorRows = (db: Database, id: string) =>
  db.q.select().from(db.t.stripeEventErrors).where(eq(db.t.stripeEventErrors.eventId, id)).orderBy(asc(db.t.stripeEventErrors.createdAt), asc(db.t.stripeEventErrors.attempt));
export const ledgerOf = (db: Database, customerId: string) => db.q.select().from(db.t.ledgerEntries).where(eq(db.t.ledgerEntries.customerId, customerId));
export const topupRow = async (db: Database, id: string) => (await db.q.select().from(db.t.topups).where(eq(db.t.topups.id, id)))[0];

/** Every row of the tables a replay could touch, for before/after comparisons. */
export async function snapshot(db: Database) {
  const t = db.t;
  return {
    events: await db.q.select().from(t.stripeEvents).orderBy(asc(t.stripeEvents.scope), asc(t.stripeEvents.id)),
    errors: await db.q.select().from(t.stripeEventErrors).orderBy(asc(t.stripeEventErrors.id)),
    ledger: await db.q.select().from(t.ledgerEntries).orderBy(asc(t.ledgerEntries.id)),
    balances: await db.q.select().from(t.customerBalances).orderBy(asc(t.customerBalances.customerId)),
    topups: await db.q.select().from(t.topups).orderBy(asc(t.topups.id)),
  };
}
