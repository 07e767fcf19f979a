/**
 * The subscription mirror (`subscriptions`), written by the `customer.subscription.*` and
 * subscription-mode `checkout.session.completed` handlers.
 *
 * Ordering (see ./mirror-source.ts for how the version to write is chosen):
 * - Every write is one statement, `INSERT ... ON CONFLICT (workspace_id, stripe_subscription_id)
 *   DO UPDATE ... WHERE synced_at_ms < new`: the first write inserts, a later one updates only
 *   when its source is newer, atomically on both dialects. So `.updated` before `.created` ends
 *   in the newest row, and two processes never move a row back.
 * - On a tie (`synced_at_ms` equal: two events of one second, or a duplicate) the write lands
 *   only when its status is later in `SUBSCRIPTION_TIE_RANK` (incomplete < trialing < active <
 *   past_due < unpaid < paused < canceled = incomplete_expired), so the end state is the same
 *   whatever the delivery order.
 * - `canceled` and `incomplete_expired` are terminal (Stripe never reactivates them): once the
 *   row has one, no write with another status lands.
 * - The plan is the workspace's plan whose monthly or yearly price is the first item's price
 *   (oldest plan first on a tie; null when none), looked up in the same statement.
 * - `pastDueSince` is derived, never copied: while the status is `past_due` or `unpaid`, the
 *   earliest `invoices.firstFailedAt` of the subscription's open (or uncollectible) invoices
 *   (Stripe's clock, so test clocks work: the first failed attempt of the invoice that made it
 *   past due); else null. It is computed in the subscription write and again after every
 *   invoice write, so it converges whichever event comes last.
 * After each write that lands, the subscription's licenses are reconciled
 * (`reconcileLicensesForSubscription`); a stale write changed nothing, so nothing is reconciled.
 */
import { and, eq, lt, or, sql, type Database, type Subscription } from '@tally/db';
import type { SQL } from 'drizzle-orm';
import { newId } from '../ids';
import { reconcileLicensesForSubscription } from '../licenses/reconcile';
import { publishBillingChange } from '../stream/publish';
import type { HandlerOutcome, StripeEventHandlerArgs } from '../webhooks/types';
import { newestVersion, tallyCustomerOf, type MirrorCustomer, type MirrorSource } from './mirror-source';
import { idOf, parseSubscription, STRIPE_SUBSCRIPTION_ID_PATTERN, TERMINAL_SUBSCRIPTION_STATUSES, type SubscriptionSnapshot } from './payload';

/**
 * Days of access a `past_due` subscription keeps after its first failed payment, when the
 * handler is not told (`TALLY_DUNNING_GRACE_DAYS`' default; handlers get no config, see
 * `graceDaysOf`).
 */
export const DEFAULT_GRACE_DAYS = 7;

/** The grace days for license reconciliation: `args.graceDays` when the caller passes one (a whole number 0..365), else `DEFAULT_GRACE_DAYS`. */
export function graceDaysOf(args: StripeEventHandlerArgs): number {
  const g: unknown = args.graceDays;
  return typeof g === 'number' && Number.isInteger(g) && g >= 0 && g <= 365 ? g : DEFAULT_GRACE_DAYS;
}

/** Tie-break order of statuses for writes with equal `syncedAtMs` (higher wins). */
export const SUBSCRIPTION_TIE_RANK: Readonly<Record<string, number>> = {
  incomplete: 0,
  trialing: 1,
  active: 2,
  past_due: 3,
  unpaid: 4,
  paused: 5,
  canceled: 9,
  incomplete_expired: 9,
};

const tieRankSql = (column: SQL.Aliased | SQL | Database['t']['subscriptions']['status']): SQL =>
  sql`(CASE ${column} ${sql.raw(
    Object.entries(SUBSCRIPTION_TIE_RANK)
      .map(([status, rank]) => `WHEN '${status}' THEN ${rank}`)
      .join(' '),
  )} ELSE -1 END)`;

/** Whether a write landed: `inserted` (first row), `updated`, or `stale` (the row is newer; left as it was). */
export type MirrorWrite = 'inserted' | 'updated' | 'stale';

/** Statuses in which `pastDueSince` is kept. */
const PAST_DUE_STATUSES = ['past_due', 'unpaid'];

/** SQL: the earliest `firstFailedAt` of a subscription's open or uncollectible invoices (null without one). */
export function firstFailureSql(db: Database, workspaceId: string, stripeSubscriptionId: string): SQL {
  const { invoices: i } = db.t;
  return sql`(SELECT MIN(${i.firstFailedAt}) FROM ${i} WHERE ${i.workspaceId} = ${workspaceId} AND ${i.stripeSubscriptionId} = ${stripeSubscriptionId} AND ${i.status} IN ('open', 'uncollectible') AND ${i.firstFailedAt} IS NOT NULL)`;
}

/**
 * Write one version of a subscription under the ordering rules above, in one statement
 * (`INSERT ... ON CONFLICT DO UPDATE ... WHERE <newer>`, with the plan and `pastDueSince`
 * computed in it), and return the row as it is afterwards.
 * @throws the database's errors.
 */
export async function writeSubscription(
  db: Database,
  { customer, source }: { customer: MirrorCustomer; source: MirrorSource<SubscriptionSnapshot> },
): Promise<{ write: MirrorWrite; row: Subscription }> {
  const { subscriptions: s, plans: p } = db.t;
  const snap = source.snapshot;
  const now = new Date();
  const planId = snap.stripePriceId
    ? sql`(SELECT ${p.id} FROM ${p} WHERE ${p.workspaceId} = ${customer.workspaceId} AND (${p.stripePriceId} = ${snap.stripePriceId} OR ${p.stripeYearlyPriceId} = ${snap.stripePriceId}) ORDER BY ${p.createdAt}, ${p.id} LIMIT 1)`
    : null;
  const pastDueSince = PAST_DUE_STATUSES.includes(snap.status) ? firstFailureSql(db, customer.workspaceId, snap.stripeSubscriptionId) : null;
  const fields = {
    stripeCustomerId: snap.stripeCustomerId,
    planId,
    stripePriceId: snap.stripePriceId,
    status: snap.status,
    seats: snap.seats,
    currency: snap.currency,
    currentPeriodStart: snap.currentPeriodStart,
    currentPeriodEnd: snap.currentPeriodEnd,
    trialStart: snap.trialStart,
    trialEnd: snap.trialEnd,
    cancelAtPeriodEnd: snap.cancelAtPeriodEnd,
    cancelAt: snap.cancelAt,
    canceledAt: snap.canceledAt,
    endedAt: snap.endedAt,
    latestStripeInvoiceId: snap.latestStripeInvoiceId,
    pastDueSince,
    stripeTestClockId: snap.stripeTestClockId,
    livemode: snap.livemode,
    stripeCreated: snap.stripeCreated,
    syncedAtMs: source.syncedAtMs,
    updatedAt: now,
  };
  const rank = SUBSCRIPTION_TIE_RANK[snap.status] ?? -1;
  const newer = or(lt(s.syncedAtMs, source.syncedAtMs), and(eq(s.syncedAtMs, source.syncedAtMs), sql`${tieRankSql(s.status)} < ${rank}`));
  const notBackFromTerminal = TERMINAL_SUBSCRIPTION_STATUSES.includes(snap.status)
    ? undefined
    : sql`${s.status} NOT IN (${sql.raw(TERMINAL_SUBSCRIPTION_STATUSES.map((t) => `'${t}'`).join(', '))})`;
  const [written] = await db.q
    .insert(s)
    .values({ id: newId(), workspaceId: customer.workspaceId, customerId: customer.id, stripeSubscriptionId: snap.stripeSubscriptionId, ...fields, createdAt: now })
    .onConflictDoUpdate({ target: [s.workspaceId, s.stripeSubscriptionId], set: fields, setWhere: and(newer, notBackFromTerminal) })
    .returning();
  if (written) {
    publishSubscriptionChanged(written);
    return { write: written.createdAt.getTime() === now.getTime() ? 'inserted' : 'updated', row: written };
  }
  const row = await findSubscription(db, customer.workspaceId, snap.stripeSubscriptionId);
  if (!row) throw new Error(`Subscription ${snap.stripeSubscriptionId} vanished while being mirrored`);
  return { write: 'stale', row };
}

/**
 * Recompute `pastDueSince` of a subscription from its status and its invoices' `firstFailedAt`
 * (see the module comment), in one guarded statement that writes only when the value changes.
 * Returns the row when it changed; `{ changed: false }` when it did not, or Tally has no such
 * subscription.
 */
export async function refreshPastDueSince(db: Database, workspaceId: string, stripeSubscriptionId: string): Promise<{ changed: true; row: Subscription } | { changed: false }> {
  const { subscriptions: s } = db.t;
  const key = and(eq(s.workspaceId, workspaceId), eq(s.stripeSubscriptionId, stripeSubscriptionId));
  const derived = () => sql`(CASE WHEN ${s.status} IN ('past_due', 'unpaid') THEN ${firstFailureSql(db, workspaceId, stripeSubscriptionId)} ELSE NULL END)`;
  const [row] = await db.q
    .update(s)
    .set({ pastDueSince: derived() })
    // Null-safe "differs" in both dialects (a plain `=` with a NULL side is NULL, never true).
    .where(and(key, sql`(CASE WHEN ${s.pastDueSince} = ${derived()} THEN 0 WHEN ${s.pastDueSince} IS NULL AND ${derived()} IS NULL THEN 0 ELSE 1 END) = 1`))
    .returning();
  if (!row) return { changed: false };
  publishSubscriptionChanged(row);
  return { changed: true, row };
}

/** Tell the live stream (issue 10) that a mirrored subscription changed (its write has committed: one statement). */
function publishSubscriptionChanged(row: Subscription): void {
  publishBillingChange({ kind: 'subscription.changed', workspaceId: row.workspaceId, customerId: row.customerId, subscriptionId: row.id, status: row.status });
}

/** The mirrored subscription of `workspaceId` with Stripe id `stripeSubscriptionId`, or undefined. */
export async function findSubscription(db: Database, workspaceId: string, stripeSubscriptionId: string): Promise<Subscription | undefined> {
  const { subscriptions: s } = db.t;
  const [row] = await db.q
    .select()
    .from(s)
    .where(and(eq(s.workspaceId, workspaceId), eq(s.stripeSubscriptionId, stripeSubscriptionId)));
  return row;
}

/** Bring a mirrored subscription's licenses in line with it (idempotent). */
export async function reconcileAfterSync(args: StripeEventHandlerArgs, subscription: Subscription): Promise<void> {
  await reconcileLicensesForSubscription(args.db, { subscriptionId: subscription.id, keyring: args.stripeAccounts?.keyring ?? null, graceDays: graceDaysOf(args) });
}

/** What syncing one subscription did. `unavailable`: only an id was delivered and Stripe cannot be read now. */
export type SubscriptionSyncResult =
  | { kind: 'ignored'; outcome: string }
  | { kind: 'unavailable'; outcome: string; workspaceId: string }
  | { kind: 'synced'; outcome: string; workspaceId: string; write: MirrorWrite; row: Subscription; via: 'stripe' | 'payload' };

/**
 * Mirror a subscription for its Tally customer, re-reading it from Stripe when the workspace's
 * client is available, then reconcile its licenses. `value` is a Subscription object of any API
 * version (the event's snapshot, or an expanded one), or a `sub_...` id with `known.stripeCustomerId`
 * (a Checkout Session's `subscription`), which can only be mirrored by a re-read.
 * Ignored (nothing written): not a subscription Tally can parse, a livemode other than the
 * endpoint's, another customer than `known`'s, or a customer that is not a Tally customer of a
 * workspace this receipt serves.
 * @throws Stripe errors other than 404 (the event is retried) and database errors.
 */
export async function syncSubscription(args: StripeEventHandlerArgs, value: unknown, known?: { stripeCustomerId: string }): Promise<SubscriptionSyncResult> {
  let payload: SubscriptionSnapshot | null = null;
  let stripeSubscriptionId: string;
  let stripeCustomerId: string;
  if (typeof value === 'string') {
    const id = idOf(value, STRIPE_SUBSCRIPTION_ID_PATTERN);
    if (!id || !known) return { kind: 'ignored', outcome: 'Not a Stripe Subscription id Tally understands' };
    stripeSubscriptionId = id;
    stripeCustomerId = known.stripeCustomerId;
  } else {
    payload = parseSubscription(value);
    if (!payload) return { kind: 'ignored', outcome: 'Not a Stripe Subscription payload Tally understands' };
    if (payload.livemode !== args.expected.livemode) {
      return { kind: 'ignored', outcome: `Subscription ${payload.stripeSubscriptionId} is ${payload.livemode ? 'live' : 'test'} mode; this endpoint expects the other` };
    }
    stripeSubscriptionId = payload.stripeSubscriptionId;
    stripeCustomerId = payload.stripeCustomerId;
    if (known && known.stripeCustomerId !== stripeCustomerId) {
      return { kind: 'ignored', outcome: `Subscription ${stripeSubscriptionId} belongs to Stripe customer ${stripeCustomerId}, not ${known.stripeCustomerId}` };
    }
  }
  const customer = await tallyCustomerOf(args.db, args.receipt, stripeCustomerId);
  if (!customer) return { kind: 'ignored', outcome: `Subscription ${stripeSubscriptionId}: Stripe customer ${stripeCustomerId} is not a Tally customer` };
  const source = await newestVersion({
    args,
    workspaceId: customer.workspaceId,
    payload,
    retrieve: (stripe) => stripe.subscriptions.retrieve(stripeSubscriptionId),
    parse: parseSubscription,
    // A re-read must be the same customer's subscription (Stripe never moves one); otherwise trust the signed payload.
    owns: (fresh) => fresh.stripeSubscriptionId === stripeSubscriptionId && fresh.stripeCustomerId === stripeCustomerId,
  });
  if (!source) {
    return { kind: 'unavailable', outcome: `Subscription ${stripeSubscriptionId} cannot be read from Stripe now; its customer.subscription.* events will mirror it`, workspaceId: customer.workspaceId };
  }
  const { write, row } = await writeSubscription(args.db, { customer, source });
  // Licenses follow the row; a stale write changed nothing (license reads reconcile too).
  if (write !== 'stale') await reconcileAfterSync(args, row);
  const what = write === 'stale' ? `kept (a newer version is mirrored: ${row.status})` : `${write} (${row.status}, from ${source.via === 'stripe' ? 'a Stripe re-read' : 'the event payload'})`;
  return { kind: 'synced', outcome: `Subscription ${stripeSubscriptionId} of customer ${customer.id} ${what}`, workspaceId: customer.workspaceId, write, row, via: source.via };
}

/** A `customer.subscription.*` event: mirror `event.data.object`. */
export async function handleSubscriptionEvent(args: StripeEventHandlerArgs): Promise<HandlerOutcome> {
  const result = await syncSubscription(args, args.event.data?.object);
  if (result.kind === 'ignored') return { status: 'ignored', outcome: result.outcome };
  return { status: 'processed', outcome: result.outcome, workspaceId: result.workspaceId };
}
