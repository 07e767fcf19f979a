/**
 * The admin's Stripe event detail page (issue 10 item 2): one event of the log with its
 * payload, every failed attempt, and the effect it had on Tally's rows; and replaying a
 * failed or dead event by hand (through `replayStripeEvent`, the delivery path).
 *
 * Visibility is the Activity list's (activity/list-stripe-events.ts): an admin sees the events
 * of their workspace (received at its own endpoint, or attributed to it by a handler), and the
 * primary workspace's admins also see the deployment endpoint's events that matched no
 * workspace. Anything else, another workspace's event included, is NOT_FOUND.
 */
import { and, desc, eq, inArray, isNull, or, type Database, type StripeEventRow } from '@tally/db';
import { recordAudit } from '../audit/record';
import { AppError } from '../errors';
import { EVENT_REPLAYABLE_STATUSES } from '../schemas/events';
import { findPrimaryWorkspace } from '../workspaces/ensure-primary';
import { DEPLOYMENT_SCOPE } from '../webhooks/types';
import { replayStripeEvent, type EventProcessingDeps, type EventReplayResult } from './replay';

/** Where the SPA shows a row: a path of the admin pages and its label. */
export interface EffectLink {
  to: string;
  label: string;
}

export interface StripeEventDetail {
  event: {
    scope: string;
    id: string;
    type: string;
    status: string;
    attempts: number;
    livemode: boolean;
    apiVersion: string | null;
    /** Stripe's `created`. */
    stripeCreatedAt: Date;
    receivedAt: Date;
    processedAt: Date | null;
    nextAttemptAt: Date | null;
    outcome: string | null;
    lastError: string | null;
    payloadPrunedAt: Date | null;
    workspaceId: string | null;
  };
  /** The stored payload parsed as JSON (Stripe's Event object); null when pruned or unreadable. */
  payload: unknown;
  /** Why `payload` is null while the payload was kept (not JSON), else null. */
  payloadError: string | null;
  /** Every failed attempt, newest first. */
  errors: { id: string; attempt: number; source: string; error: string; createdAt: Date }[];
  /** Whether `event.replay` accepts it (failed or dead). */
  replayable: boolean;
  effect: StripeEventEffect;
}

/**
 * What the event touched, found by the Stripe ids in its payload (`data.object.id`, and the
 * PaymentIntent, Subscription and Invoice it names) within the workspace.
 * - ledgerEntries: posted by this event (`stripeEventId`, `byThisEvent: true`), or belonging
 *   to a top-up or billing record it touched, or the overpayment of its session/PaymentIntent
 *   (references `topup:<id>`, `overpayment:<pi_ or cs_>`: webhooks/handlers, apply-payment.ts).
 * - topups / billingRecords: by Checkout Session or PaymentIntent id, or the session's Tally
 *   reference (client_reference_id / metadata). subscriptions / invoices: by Stripe id.
 * Amounts are minor units with their currency. Each row links to its customer's admin page.
 */
export interface StripeEventEffect {
  /** `data.object.object` and `data.object.id` of the payload (null when pruned or absent). */
  objectType: string | null;
  objectId: string | null;
  ledgerEntries: { id: string; customerId: string; kind: string; amountMinor: number; currency: string; reference: string; description: string; createdAt: Date; byThisEvent: boolean; link: EffectLink }[];
  topups: { id: string; customerId: string; status: string; amountMinor: number; currency: string; createdAt: Date; paidAt: Date | null; link: EffectLink }[];
  billingRecords: { id: string; customerId: string; description: string; status: string; amountMinor: number; currency: string; dueDate: string; link: EffectLink }[];
  subscriptions: { id: string; customerId: string; stripeSubscriptionId: string; status: string; link: EffectLink }[];
  invoices: { id: string; customerId: string; stripeInvoiceId: string; number: string | null; status: string; totalMinor: number; currency: string; link: EffectLink }[];
}

/** Stripe object ids as Tally stores them (`cs_...`, `pi_...`, `sub_...`, `in_...`): anything else never reaches a query. */
const STRIPE_OBJECT_ID = /^[a-z]{1,12}_[A-Za-z0-9_]{1,255}$/;
const TALLY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const notFound = (eventId: string) => new AppError('NOT_FOUND', `Stripe event ${eventId} not found in this workspace's event log`);

/**
 * The event `eventId` (under `scope`, or the one scope it is under) if the workspace's admin may see it.
 * @throws AppError NOT_FOUND (absent or not visible); BAD_REQUEST when it is under several
 *   visible scopes and none was named.
 */
async function findVisibleEvent(db: Database, workspaceId: string, eventId: string, scope: string | undefined): Promise<StripeEventRow> {
  const { stripeEvents: e } = db.t;
  const primary = await findPrimaryWorkspace(db);
  const visible = or(
    eq(e.workspaceId, workspaceId),
    eq(e.scope, workspaceId),
    primary?.id === workspaceId ? and(eq(e.scope, DEPLOYMENT_SCOPE), isNull(e.workspaceId)) : undefined,
  );
  const rows = await db.q
    .select()
    .from(e)
    .where(and(eq(e.id, eventId), scope === undefined ? undefined : eq(e.scope, scope), visible))
    .limit(3);
  if (rows.length === 0) throw notFound(eventId);
  if (rows.length > 1) throw new AppError('BAD_REQUEST', `Stripe event ${eventId} was received at ${rows.length} endpoints (scopes ${rows.map((r) => r.scope).join(', ')}): name the scope`);
  return rows[0]!;
}

/** `value` when it is an object (not an array), else null. */
const record = (value: unknown): Record<string, unknown> | null => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null);

/** A Stripe id at `value` (a string id, or an expanded object's `id`) when it has Stripe's shape. */
function stripeIdAt(value: unknown): string | null {
  const id = typeof value === 'string' ? value : record(value)?.id;
  return typeof id === 'string' && STRIPE_OBJECT_ID.test(id) ? id : null;
}

/** The ids in an event payload that point at Tally's rows. */
function idsOf(payload: unknown) {
  const object = record(record(record(payload)?.data)?.object);
  if (!object) return { objectType: null, objectId: null, stripeIds: [] as string[], tallyIds: [] as string[] };
  const objectId = stripeIdAt(object.id);
  const objectType = typeof object.object === 'string' ? object.object.slice(0, 100) : null;
  const parent = record(record(object.parent)?.subscription_details);
  const stripeIds = [objectId, stripeIdAt(object.payment_intent), stripeIdAt(object.subscription), stripeIdAt(object.invoice), stripeIdAt(parent?.subscription)].filter((v): v is string => v !== null);
  const metadata = record(object.metadata);
  const tallyIds = [object.client_reference_id, metadata?.tally_topup_id, metadata?.tally_billing_record_id].filter((v): v is string => typeof v === 'string' && TALLY_ID.test(v));
  return { objectType, objectId, stripeIds: [...new Set(stripeIds)], tallyIds: [...new Set(tallyIds)] };
}

const customerLink = (customerId: string, name: string | undefined): EffectLink => ({ to: `/admin/customers/${customerId}`, label: name ?? 'Customer' });

async function effectOf(db: Database, workspaceId: string, row: StripeEventRow, payload: unknown): Promise<StripeEventEffect> {
  const t = db.t;
  const { objectType, objectId, stripeIds, tallyIds } = idsOf(payload);
  const anyOf = <T>(ids: string[], fn: (ids: string[]) => T) => (ids.length > 0 ? fn(ids) : undefined);

  const topups =
    stripeIds.length + tallyIds.length === 0
      ? []
      : await db.q
          .select()
          .from(t.topups)
          .where(and(eq(t.topups.workspaceId, workspaceId), or(anyOf(stripeIds, (ids) => inArray(t.topups.stripeCheckoutSessionId, ids)), anyOf(stripeIds, (ids) => inArray(t.topups.stripePaymentIntentId, ids)), anyOf(tallyIds, (ids) => inArray(t.topups.id, ids)))))
          .limit(20);
  const checkoutRecords = stripeIds.length === 0 ? [] : await db.q.select({ id: t.billingRecordCheckouts.billingRecordId }).from(t.billingRecordCheckouts).where(and(eq(t.billingRecordCheckouts.workspaceId, workspaceId), inArray(t.billingRecordCheckouts.stripeCheckoutSessionId, stripeIds)));
  const recordIds = [...new Set([...tallyIds, ...checkoutRecords.map((r) => r.id)])];
  const billingRecords =
    stripeIds.length + recordIds.length === 0
      ? []
      : await db.q
          .select()
          .from(t.billingRecords)
          .where(
            and(
              eq(t.billingRecords.workspaceId, workspaceId),
              or(anyOf(stripeIds, (ids) => inArray(t.billingRecords.stripeCheckoutSessionId, ids)), anyOf(stripeIds, (ids) => inArray(t.billingRecords.stripePaymentIntentId, ids)), anyOf(recordIds, (ids) => inArray(t.billingRecords.id, ids))),
            ),
          )
          .limit(20);
  const subscriptions = stripeIds.length === 0 ? [] : await db.q.select().from(t.subscriptions).where(and(eq(t.subscriptions.workspaceId, workspaceId), inArray(t.subscriptions.stripeSubscriptionId, stripeIds))).limit(20);
  const invoices = stripeIds.length === 0 ? [] : await db.q.select().from(t.invoices).where(and(eq(t.invoices.workspaceId, workspaceId), inArray(t.invoices.stripeInvoiceId, stripeIds))).limit(20);
  const l = t.ledgerEntries;
  const ledger = await db.q
    .select()
    .from(l)
    .where(
      and(
        eq(l.workspaceId, workspaceId),
        or(
          eq(l.stripeEventId, row.id),
          anyOf(
            topups.map((x) => x.id),
            (ids) => inArray(l.topupId, ids),
          ),
          anyOf(
            billingRecords.map((x) => x.id),
            (ids) => inArray(l.billingRecordId, ids),
          ),
          anyOf(
            stripeIds.map((id) => `overpayment:${id}`),
            (refs) => inArray(l.reference, refs),
          ),
        ),
      ),
    )
    .orderBy(desc(l.createdAt))
    .limit(50);

  const customerIds = [...new Set([...ledger, ...topups, ...billingRecords, ...subscriptions, ...invoices].map((r) => r.customerId))];
  const names = new Map(
    customerIds.length === 0
      ? []
      : (await db.q.select({ id: t.customers.id, name: t.customers.name }).from(t.customers).where(and(eq(t.customers.workspaceId, workspaceId), inArray(t.customers.id, customerIds)))).map((c) => [c.id, c.name] as const),
  );
  const link = (customerId: string) => customerLink(customerId, names.get(customerId));
  return {
    objectType,
    objectId,
    ledgerEntries: ledger.map((x) => ({
      id: x.id,
      customerId: x.customerId,
      kind: x.kind,
      amountMinor: x.amountMinor,
      currency: x.currency,
      reference: x.reference,
      description: x.description,
      createdAt: x.createdAt,
      byThisEvent: x.stripeEventId === row.id,
      link: link(x.customerId),
    })),
    topups: topups.map((x) => ({ id: x.id, customerId: x.customerId, status: x.status, amountMinor: x.amountMinor, currency: x.currency, createdAt: x.createdAt, paidAt: x.paidAt, link: link(x.customerId) })),
    billingRecords: billingRecords.map((x) => ({ id: x.id, customerId: x.customerId, description: x.description, status: x.status, amountMinor: x.amountMinor, currency: x.currency, dueDate: x.dueDate, link: link(x.customerId) })),
    subscriptions: subscriptions.map((x) => ({ id: x.id, customerId: x.customerId, stripeSubscriptionId: x.stripeSubscriptionId, status: x.status, link: link(x.customerId) })),
    invoices: invoices.map((x) => ({ id: x.id, customerId: x.customerId, stripeInvoiceId: x.stripeInvoiceId, number: x.number, status: x.status, totalMinor: x.totalMinor, currency: x.currency, link: link(x.customerId) })),
  };
}

/**
 * One event of the workspace's log for the detail page: the row, the payload parsed (null when
 * pruned by retention, with `payloadError` when it is not JSON), every error newest first, and
 * its effect (see StripeEventEffect).
 * @throws AppError NOT_FOUND (not this workspace's), BAD_REQUEST (several scopes, none named).
 */
export async function getStripeEventDetail({ db, workspaceId, eventId, scope }: { db: Database; workspaceId: string; eventId: string; scope?: string | undefined }): Promise<StripeEventDetail> {
  const row = await findVisibleEvent(db, workspaceId, eventId, scope);
  let payload: unknown = null;
  let payloadError: string | null = null;
  if (row.payloadPrunedAt === null && row.payload !== '') {
    try {
      payload = JSON.parse(row.payload);
    } catch (err) {
      payloadError = `The stored payload is not JSON: ${err instanceof Error ? err.message.slice(0, 200) : 'unreadable'}`;
    }
  }
  const x = db.t.stripeEventErrors;
  const errors = await db.q
    .select({ id: x.id, attempt: x.attempt, source: x.source, error: x.error, createdAt: x.createdAt })
    .from(x)
    .where(and(eq(x.scope, row.scope), eq(x.eventId, row.id)))
    .orderBy(desc(x.createdAt), desc(x.id))
    .limit(200);
  return {
    event: {
      scope: row.scope,
      id: row.id,
      type: row.type,
      status: row.status,
      attempts: row.attempts,
      livemode: row.livemode,
      apiVersion: row.apiVersion,
      stripeCreatedAt: row.stripeCreatedAt,
      receivedAt: row.receivedAt,
      processedAt: row.processedAt,
      nextAttemptAt: row.nextAttemptAt,
      outcome: row.outcome,
      lastError: row.lastError,
      payloadPrunedAt: row.payloadPrunedAt,
      workspaceId: row.workspaceId,
    },
    payload,
    payloadError,
    errors,
    replayable: (EVENT_REPLAYABLE_STATUSES as readonly string[]).includes(row.status),
    effect: await effectOf(db, workspaceId, row, payload),
  };
}

/**
 * Replay one failed or dead event of the workspace by hand (the detail page's Replay button):
 * `replayStripeEvent` runs it through the delivery path (exactly once: the handlers' unique
 * references), or with `dryRun` says what the handler would do and changes nothing. A real
 * replay is audited (`stripe_event.replay`, target `stripe_event` `<scope>/<id>`, before:
 * status and attempts, after: the result); a dry run writes nothing at all.
 * @throws AppError NOT_FOUND (not this workspace's), BAD_REQUEST "only failed or dead events
 *   can be replayed" for any other status.
 */
export async function replayStripeEventForAdmin(
  deps: EventProcessingDeps,
  { workspaceId, actor, requestId, eventId, scope, dryRun = false }: { workspaceId: string; actor: { userId: string; email: string }; requestId?: string | null; eventId: string; scope?: string | undefined; dryRun?: boolean | undefined },
): Promise<EventReplayResult> {
  const row = await findVisibleEvent(deps.db, workspaceId, eventId, scope);
  if (!(EVENT_REPLAYABLE_STATUSES as readonly string[]).includes(row.status)) {
    throw new AppError('BAD_REQUEST', `Stripe event ${row.id} is ${row.status}: only failed or dead events can be replayed`);
  }
  const result = await replayStripeEvent(deps, { eventId: row.id, scope: row.scope }, { dryRun });
  if (!dryRun) {
    await recordAudit(deps.db, {
      workspaceId,
      actor,
      action: 'stripe_event.replay',
      targetType: 'stripe_event',
      targetId: `${row.scope}/${row.id}`,
      before: { type: row.type, status: row.status, attempts: row.attempts },
      after: { status: result.statusAfter, action: result.action, detail: result.detail },
      requestId: requestId ?? null,
    });
  }
  return result;
}
