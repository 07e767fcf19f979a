/**
 * The invoice mirror (`invoices`), written by the `invoice.*` and subscription-mode
 * `checkout.session.completed` handlers, for invoices of Tally customers (subscription or not).
 *
 * Ordering (see ../subscriptions/mirror-source.ts for how the version to write is chosen):
 * - Every write is one `INSERT ... ON CONFLICT (workspace_id, stripe_invoice_id) DO UPDATE ...
 *   WHERE <newer>` (atomic on both dialects): the first inserts; a later one lands only when
 *   the row's `synced_at_ms` is older, or equal with a later status (`INVOICE_STATUS_RANK`:
 *   draft < open < uncollectible < paid = void) or, same status, more payment attempts.
 * - Statuses only move forward, whatever the times say: never to a lower rank, and `paid` and
 *   `void` are final (Stripe's invoice lifecycle). So the end state is the newest version,
 *   whatever the delivery order.
 * - Facts that only accumulate are applied even by a stale event, so they do not depend on
 *   order either: `firstFailedAt` (set once, never cleared: `status_transitions.finalized_at`,
 *   Stripe's clock, of an invoice whose payment failed: `invoice.payment_failed` /
 *   `payment_action_required`, an open invoice with `attempt_count` >= 1, or any with >= 2) and
 *   `paymentActionRequired` (set by `invoice.payment_action_required` while the invoice is not
 *   paid or void, cleared when it is).
 * After each write the invoice's subscription (when mirrored) has its `pastDueSince` recomputed
 * (also after a stale write: a retried event must finish what a failed attempt began), and its
 * licenses are reconciled when that changed it (nothing else of the subscription depends on
 * an invoice).
 */
import { and, eq, lt, or, sql, type Database, type Invoice, type Subscription } from '@tally/db';
import type { SQL } from 'drizzle-orm';
import { newId } from '../ids';
import { publishBillingChange } from '../stream/publish';
import { newestVersion, tallyCustomerOf, type MirrorCustomer, type MirrorSource } from '../subscriptions/mirror-source';
import { findSubscription, reconcileAfterSync, refreshPastDueSince, type MirrorWrite } from '../subscriptions/sync-subscription';
import type { StripeEventHandlerArgs } from '../webhooks/types';
import { idOf, STRIPE_INVOICE_ID_PATTERN } from '../subscriptions/payload';
import { FINAL_INVOICE_STATUSES, INVOICE_STATUS_RANK, parseInvoice, type InvoiceSnapshot } from './payload';

const rankSql = (column: Database['t']['invoices']['status']): SQL =>
  sql`(CASE ${column} ${sql.raw(
    Object.entries(INVOICE_STATUS_RANK)
      .map(([status, rank]) => `WHEN '${status}' THEN ${rank}`)
      .join(' '),
  )} ELSE -1 END)`;

/** Whether this version of the invoice, seen through `eventType`, shows a failed payment attempt. */
export function showsFailedPayment(snap: InvoiceSnapshot, eventType: string): boolean {
  if (eventType === 'invoice.payment_failed' || eventType === 'invoice.payment_action_required') return true;
  if (snap.attemptCount >= 2) return true;
  return snap.attemptCount >= 1 && (snap.status === 'open' || snap.status === 'uncollectible');
}

/**
 * Write one version of an invoice under the ordering rules above; returns the row afterwards.
 * @throws the database's errors.
 */
export async function writeInvoice(
  db: Database,
  { customer, source, eventType }: { customer: MirrorCustomer; source: MirrorSource<InvoiceSnapshot>; eventType: string },
): Promise<{ write: MirrorWrite; row: Invoice }> {
  const { invoices: i } = db.t;
  const snap = source.snapshot;
  const now = new Date();
  const final = FINAL_INVOICE_STATUSES.includes(snap.status);
  const actionRequired = eventType === 'invoice.payment_action_required';
  const failedAt = showsFailedPayment(snap, eventType) ? (snap.finalizedAt ?? snap.stripeCreated) : null;
  const fields = {
    stripeSubscriptionId: snap.stripeSubscriptionId,
    number: snap.number,
    status: snap.status,
    billingReason: snap.billingReason,
    currency: snap.currency,
    totalMinor: snap.totalMinor,
    amountDueMinor: snap.amountDueMinor,
    amountPaidMinor: snap.amountPaidMinor,
    amountRemainingMinor: snap.amountRemainingMinor,
    hostedInvoiceUrl: snap.hostedInvoiceUrl,
    invoicePdfUrl: snap.invoicePdfUrl,
    periodStart: snap.periodStart,
    periodEnd: snap.periodEnd,
    linesSummary: JSON.stringify(snap.lines),
    attemptCount: snap.attemptCount,
    nextPaymentAttemptAt: snap.nextPaymentAttemptAt,
    finalizedAt: snap.finalizedAt,
    paidAt: snap.paidAt,
    voidedAt: snap.voidedAt,
    livemode: snap.livemode,
    stripeCreated: snap.stripeCreated,
    syncedAtMs: source.syncedAtMs,
    updatedAt: now,
  };
  const key = and(eq(i.workspaceId, customer.workspaceId), eq(i.stripeInvoiceId, snap.stripeInvoiceId));
  const rank = INVOICE_STATUS_RANK[snap.status];
  const finalList = sql.raw(FINAL_INVOICE_STATUSES.map((s) => `'${s}'`).join(', '));
  const statusForward = and(sql`${rankSql(i.status)} <= ${rank}`, or(sql`${i.status} NOT IN (${finalList})`, eq(i.status, snap.status)));
  const newer = or(
    lt(i.syncedAtMs, source.syncedAtMs),
    and(eq(i.syncedAtMs, source.syncedAtMs), or(sql`${rankSql(i.status)} < ${rank}`, and(eq(i.status, snap.status), lt(i.attemptCount, snap.attemptCount)))),
  );
  const flag = final ? { paymentActionRequired: false } : actionRequired ? { paymentActionRequired: true } : {};
  const firstFailed = failedAt ? { firstFailedAt: sql`COALESCE(${i.firstFailedAt}, ${sql.param(failedAt, i.firstFailedAt)})` } : {};
  const [written] = await db.q
    .insert(i)
    .values({
      id: newId(),
      workspaceId: customer.workspaceId,
      customerId: customer.id,
      stripeInvoiceId: snap.stripeInvoiceId,
      ...fields,
      firstFailedAt: failedAt,
      paymentActionRequired: actionRequired && !final,
      createdAt: now,
    })
    .onConflictDoUpdate({ target: [i.workspaceId, i.stripeInvoiceId], set: { ...fields, ...flag, ...firstFailed }, setWhere: and(statusForward, newer) })
    .returning();
  if (written) {
    // Committed (one statement): tell the live stream (issue 10).
    publishBillingChange({ kind: 'invoice.changed', workspaceId: written.workspaceId, customerId: written.customerId, invoiceId: written.id, status: written.status });
    return { write: written.createdAt.getTime() === now.getTime() ? 'inserted' : 'updated', row: written };
  }
  // Stale: the accumulating facts still apply (see the module comment).
  let row: Invoice | undefined;
  if (failedAt || actionRequired) {
    [row] = await db.q
      .update(i)
      .set({
        ...(failedAt ? { firstFailedAt: sql`COALESCE(${i.firstFailedAt}, ${sql.param(failedAt, i.firstFailedAt)})` } : {}),
        ...(actionRequired ? { paymentActionRequired: sql`CASE WHEN ${i.status} IN (${finalList}) THEN ${i.paymentActionRequired} ELSE ${sql.param(true, i.paymentActionRequired)} END` } : {}),
      })
      .where(key)
      .returning();
  } else {
    [row] = await db.q.select().from(i).where(key);
  }
  if (!row) throw new Error(`Invoice ${snap.stripeInvoiceId} vanished while being mirrored`);
  return { write: 'stale', row };
}

/** What syncing one invoice did. `unavailable`: only an id was delivered and Stripe cannot be read now. */
export type InvoiceSyncResult =
  | { kind: 'ignored'; outcome: string }
  | { kind: 'unavailable'; outcome: string; workspaceId: string }
  | { kind: 'synced'; outcome: string; workspaceId: string; write: MirrorWrite; row: Invoice; subscription: Subscription | null; via: 'stripe' | 'payload' };

/**
 * Mirror an invoice for its Tally customer, re-reading it from Stripe when the workspace's
 * client is available; then recompute its subscription's `pastDueSince` and reconcile that
 * subscription's licenses when its `pastDueSince` moved. `result.subscription` is that row when it
 * moved, or when `wantSubscription` (else null). `value` is an Invoice of any API version, or an
 * `in_...` id with `known.stripeCustomerId` (a Checkout Session's `invoice`), which only a
 * re-read can mirror.
 * Ignored (nothing written): not an invoice Tally can parse, another livemode than the
 * endpoint's, another customer than `known`'s, or a customer that is not a Tally customer of a
 * workspace this receipt serves. `eventType` decides the accumulating facts
 * (`invoice.payment_failed`, `invoice.payment_action_required`).
 * @throws Stripe errors other than 404 (the event is retried) and database errors.
 */
export async function syncInvoice(
  args: StripeEventHandlerArgs,
  value: unknown,
  { eventType = args.event.type, known, wantSubscription = false }: { eventType?: string; known?: { stripeCustomerId: string }; wantSubscription?: boolean } = {},
): Promise<InvoiceSyncResult> {
  let payload: InvoiceSnapshot | null = null;
  let stripeInvoiceId: string;
  let stripeCustomerId: string;
  if (typeof value === 'string') {
    const id = idOf(value, STRIPE_INVOICE_ID_PATTERN);
    if (!id || !known) return { kind: 'ignored', outcome: 'Not a Stripe Invoice id Tally understands' };
    stripeInvoiceId = id;
    stripeCustomerId = known.stripeCustomerId;
  } else {
    payload = parseInvoice(value);
    if (!payload) return { kind: 'ignored', outcome: 'Not a Stripe Invoice payload Tally understands' };
    if (payload.livemode !== args.expected.livemode) {
      return { kind: 'ignored', outcome: `Invoice ${payload.stripeInvoiceId} is ${payload.livemode ? 'live' : 'test'} mode; this endpoint expects the other` };
    }
    stripeInvoiceId = payload.stripeInvoiceId;
    stripeCustomerId = payload.stripeCustomerId;
    if (known && known.stripeCustomerId !== stripeCustomerId) {
      return { kind: 'ignored', outcome: `Invoice ${stripeInvoiceId} belongs to Stripe customer ${stripeCustomerId}, not ${known.stripeCustomerId}` };
    }
  }
  const customer = await tallyCustomerOf(args.db, args.receipt, stripeCustomerId);
  if (!customer) return { kind: 'ignored', outcome: `Invoice ${stripeInvoiceId}: Stripe customer ${stripeCustomerId} is not a Tally customer` };
  const source = await newestVersion({
    args,
    workspaceId: customer.workspaceId,
    payload,
    retrieve: (stripe) => stripe.invoices.retrieve(stripeInvoiceId),
    parse: parseInvoice,
    owns: (fresh) => fresh.stripeInvoiceId === stripeInvoiceId && fresh.stripeCustomerId === stripeCustomerId,
  });
  if (!source) {
    return { kind: 'unavailable', outcome: `Invoice ${stripeInvoiceId} cannot be read from Stripe now; its invoice.* events will mirror it`, workspaceId: customer.workspaceId };
  }
  const { write, row } = await writeInvoice(args.db, { customer, source, eventType });
  let subscription: Subscription | null = null;
  if (row.stripeSubscriptionId) {
    const refreshed = await refreshPastDueSince(args.db, customer.workspaceId, row.stripeSubscriptionId);
    if (refreshed.changed) {
      subscription = refreshed.row;
      // Access (and so licenses) moved with pastDueSince.
      await reconcileAfterSync(args, subscription);
    } else if (wantSubscription) {
      subscription = (await findSubscription(args.db, customer.workspaceId, row.stripeSubscriptionId)) ?? null;
    }
  }
  const what = write === 'stale' ? `kept (a newer version is mirrored: ${row.status})` : `${write} (${row.status}, from ${source.via === 'stripe' ? 'a Stripe re-read' : 'the event payload'})`;
  return { kind: 'synced', outcome: `Invoice ${stripeInvoiceId} of customer ${customer.id} ${what}`, workspaceId: customer.workspaceId, write, row, subscription, via: source.via };
}
