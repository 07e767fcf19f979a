/**
 * Replaying Stripe events from the event log (issue 10 item 2), and the one path the sweeper
 * uses too (`runLoggedEvent`). Everything goes through `processStoredEvent`, the path a
 * webhook delivery takes, so the exactly-once rules are the handlers' own (unique references):
 * replaying an event never doubles an effect, and an event already settled (`processed`,
 * `ignored`, `anomaly`) is not run at all.
 */
import { and, asc, eq, gte, inArray, sql, type Database, type StripeEventRow } from '@tally/db';
import type Stripe from 'stripe';
import { AppError } from '../errors';
import { isTallyId } from '../ids';
import type { Logger } from '../logger';
import { STRIPE_EVENT_ID_PATTERN } from '../schemas';
import type { StripeAccounts } from '../stripe/accounts';
import { resolveWebhookEndpoint } from '../webhooks/endpoint';
import { isTerminalEventStatus, recordEventFailure, RUNNABLE_EVENT_STATUSES } from '../webhooks/mark-event';
import { processStoredEvent } from '../webhooks/receive';
import { describeError } from '../webhooks/text';
import { DEPLOYMENT_SCOPE, type EventKey } from '../webhooks/types';
import { describeReplay } from './dry-run';

/** What processing a logged event needs: the services a webhook delivery has. */
export interface EventProcessingDeps {
  db: Database;
  logger: Logger;
  stripeAccounts: StripeAccounts;
  /** ApiConfig.publicUrl (named in endpoint errors). */
  publicUrl: string;
  /** TALLY_DUNNING_GRACE_DAYS, handed to handlers. */
  graceDays?: number;
  /** The SPA's URL, handed to handlers (links in notices). */
  webUrl?: string;
}

/**
 * What a replay did to one event: the status it ended in (`processed`, `ignored`, `anomaly`,
 * `failed`, `dead`), or `unchanged` (already settled, or taken by another process), `would_run`
 * (dry run), `payload_pruned` (retention removed the payload: nothing can be run).
 */
export type ReplayAction = 'processed' | 'ignored' | 'anomaly' | 'failed' | 'dead' | 'unchanged' | 'would_run' | 'payload_pruned';

export interface EventReplayResult {
  scope: string;
  eventId: string;
  type: string;
  statusBefore: string;
  statusAfter: string;
  action: ReplayAction;
  /** One line for an operator: the outcome, the error, or what a dry run would do. */
  detail: string;
}

/** Statuses `replayStripeEvents` selects by. */
export const REPLAYABLE_STATUSES = ['failed', 'dead', 'received'] as const;
/** Most events one `replayStripeEvents` call replays (default 100). */
export const MAX_REPLAY_BATCH = 1000;
const DEFAULT_REPLAY_BATCH = 100;
/** How long a claimed `failed` event is kept from other sweeps while it runs (a crash mid-run is retried after it). */
export const EVENT_CLAIM_GUARD_MS = 5 * 60_000;

const badRequest = (message: string) => new AppError('BAD_REQUEST', message);

function checkScope(scope: string): void {
  if (scope !== DEPLOYMENT_SCOPE && !isTallyId(scope)) throw badRequest(`scope must be "${DEPLOYMENT_SCOPE}" or a workspace id (a UUID), got "${scope.slice(0, 80)}"`);
}

/**
 * Replay one event of the log by its Stripe id (`evt_...`) through the delivery path.
 * - Already `processed`/`ignored`/`anomaly` -> `unchanged`: no handler run, no row written.
 * - Payload pruned by retention -> `payload_pruned`, nothing done.
 * - `dryRun` -> `would_run` with what the handler would do; nothing written, Stripe not called.
 * - Else the attempt is counted (`attempts + 1`) and the handler runs; a failure is recorded as
 *   a delivery's is (`stripe_event_errors` row with `source`, retry schedule, `dead` at its end);
 *   a `dead` event that now succeeds ends `processed`.
 * @param key.scope optional: the event found under one scope -> that one; under several ->
 *   AppError BAD_REQUEST naming them; none -> AppError NOT_FOUND.
 * @throws AppError BAD_REQUEST for an id without Stripe's shape (`evt_` + letters, digits, `_`)
 *   or a scope that is neither `deployment` nor a workspace id; NOT_FOUND as above.
 */
export async function replayStripeEvent(
  deps: EventProcessingDeps,
  key: { eventId: string; scope?: string },
  options: { dryRun?: boolean; source?: 'replay' | 'sweeper' } = {},
): Promise<EventReplayResult> {
  if (typeof key.eventId !== 'string' || !STRIPE_EVENT_ID_PATTERN.test(key.eventId)) {
    throw badRequest(`Event id must have Stripe's shape evt_[A-Za-z0-9_] (at most 259 characters), got "${String(key.eventId).slice(0, 80)}"`);
  }
  if (key.scope !== undefined) checkScope(key.scope);
  const { stripeEvents: e } = deps.db.t;
  const rows = await deps.db.q
    .select()
    .from(e)
    .where(key.scope === undefined ? eq(e.id, key.eventId) : and(eq(e.id, key.eventId), eq(e.scope, key.scope)))
    .orderBy(asc(e.scope));
  if (rows.length === 0) throw new AppError('NOT_FOUND', `Stripe event ${key.eventId} is not in the event log${key.scope ? ` under scope ${key.scope}` : ''}`);
  if (rows.length > 1) {
    throw badRequest(`Stripe event ${key.eventId} is in the event log under ${rows.length} scopes (${rows.map((r) => r.scope).join(', ')}): name one`);
  }
  return runLoggedEvent(deps, rows[0]!, { dryRun: options.dryRun === true, source: options.source ?? 'replay' });
}

/**
 * Replay the events of one status (oldest received first), one after another, each as
 * `replayStripeEvent` does; an event that cannot be run is reported (`failed` with the
 * error), not thrown, so one bad event does not stop the rest.
 * @param filter.since only events received at or after it; `workspaceId` only that
 *   workspace's; `type` only that Stripe type; `limit` 1..1000 (default 100).
 * @param options.onProgress called with (0, total) first, then after each event.
 * @throws AppError BAD_REQUEST for a status other than failed|dead|received, an invalid date,
 *   a workspace id that is not a UUID, a type without Stripe's shape, or a limit out of range.
 */
export async function replayStripeEvents(
  deps: EventProcessingDeps,
  filter: { status: 'failed' | 'dead' | 'received'; since?: Date; workspaceId?: string; type?: string; limit?: number },
  options: { dryRun?: boolean; onProgress?: (done: number, total: number) => void } = {},
): Promise<EventReplayResult[]> {
  if (!(REPLAYABLE_STATUSES as readonly string[]).includes(filter.status)) throw badRequest(`status must be one of ${REPLAYABLE_STATUSES.join(', ')}, got "${String(filter.status).slice(0, 40)}"`);
  if (filter.since !== undefined && (!(filter.since instanceof Date) || Number.isNaN(filter.since.getTime()))) throw badRequest('since must be a valid date');
  if (filter.workspaceId !== undefined && !isTallyId(filter.workspaceId)) throw badRequest('workspaceId must be a Tally id (a UUID)');
  if (filter.type !== undefined && !/^[a-z0-9_]+(?:\.[a-z0-9_]+){0,9}$/.test(filter.type)) throw badRequest('type must be a Stripe event type such as checkout.session.completed');
  const limit = filter.limit ?? DEFAULT_REPLAY_BATCH;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_REPLAY_BATCH) throw badRequest(`limit must be a whole number from 1 to ${MAX_REPLAY_BATCH}`);
  const { stripeEvents: e } = deps.db.t;
  const conditions = [eq(e.status, filter.status)];
  if (filter.since) conditions.push(gte(e.receivedAt, filter.since));
  if (filter.workspaceId) conditions.push(eq(e.workspaceId, filter.workspaceId));
  if (filter.type) conditions.push(eq(e.type, filter.type));
  const rows = await deps.db.q
    .select()
    .from(e)
    .where(and(...conditions))
    .orderBy(asc(e.receivedAt), asc(e.scope), asc(e.id))
    .limit(limit);
  const results: EventReplayResult[] = [];
  options.onProgress?.(0, rows.length);
  for (const row of rows) {
    try {
      results.push(await runLoggedEvent(deps, row, { dryRun: options.dryRun === true, source: 'replay' }));
    } catch (err) {
      results.push({ scope: row.scope, eventId: row.id, type: row.type, statusBefore: row.status, statusAfter: row.status, action: 'failed', detail: describeError(err) });
    }
    options.onProgress?.(results.length, rows.length);
  }
  return results;
}

/**
 * Run one logged event (a row of `stripe_events`) through the delivery path: the common core
 * of replay and the sweeper (see `replayStripeEvent` for what happens per status).
 * Claiming: before the handler runs, the row is updated `attempts + 1` on the condition that it
 * is still what was read (`claim: 'exact'`: same status and attempts, the sweeper's rule, so two
 * sweeps that read one row never both run it) or still runnable (`claim: 'runnable'`, a replay
 * by hand); a claimed `failed` event's `nextAttemptAt` moves `EVENT_CLAIM_GUARD_MS` ahead so a
 * crash mid-run is retried later. A lost claim -> `unchanged` ("taken by another process").
 * @param now the attempt's time (default: the clock), for the retry schedule.
 * @throws the database's error.
 */
export async function runLoggedEvent(
  deps: EventProcessingDeps,
  row: StripeEventRow,
  { dryRun = false, source, claim = 'runnable', now = new Date() }: { dryRun?: boolean; source: 'replay' | 'sweeper'; claim?: 'exact' | 'runnable'; now?: Date },
): Promise<EventReplayResult> {
  const { db } = deps;
  const base = { scope: row.scope, eventId: row.id, type: row.type, statusBefore: row.status };
  const same = (action: ReplayAction, detail: string): EventReplayResult => ({ ...base, statusAfter: row.status, action, detail });
  if (isTerminalEventStatus(row.status)) return same('unchanged', `Already ${row.status}: nothing to do${row.outcome ? ` (${row.outcome})` : ''}`);
  if (row.payloadPrunedAt !== null || row.payload === '') return same('payload_pruned', 'The payload was pruned by retention: nothing can be replayed (backfill from Stripe within 30 days instead)');
  let event: Stripe.Event;
  try {
    event = JSON.parse(row.payload) as Stripe.Event;
    if (typeof event !== 'object' || event === null || event.id !== row.id) throw new Error('the stored payload is not this event');
  } catch (err) {
    return same('failed', `The stored payload cannot be read: ${describeError(err)}`);
  }
  const endpoint = await resolveWebhookEndpoint({ db, stripeAccounts: deps.stripeAccounts, publicUrl: deps.publicUrl, workspaceId: row.scope === DEPLOYMENT_SCOPE ? null : row.scope });
  if (dryRun) {
    if (!endpoint.ok) return same('failed', `Would fail: ${endpoint.error}; nothing changed (dry run)`);
    return same('would_run', await describeReplay(db, event, endpoint.receipt, row.status));
  }

  const { stripeEvents: e } = db.t;
  const key: EventKey = { scope: row.scope, id: row.id };
  const claimed = await db.q
    .update(e)
    .set({ attempts: sql`${e.attempts} + 1`, updatedAt: now, ...(row.status === 'failed' ? { nextAttemptAt: new Date(now.getTime() + EVENT_CLAIM_GUARD_MS) } : {}) })
    .where(
      and(
        eq(e.scope, key.scope),
        eq(e.id, key.id),
        claim === 'exact' ? and(eq(e.status, row.status), eq(e.attempts, row.attempts)) : inArray(e.status, [...RUNNABLE_EVENT_STATUSES]),
      ),
    )
    .returning({ attempts: e.attempts });
  if (claimed.length === 0) {
    const after = await readRow(db, key);
    return { ...base, statusAfter: after?.status ?? row.status, action: 'unchanged', detail: 'Taken by another process (a delivery, sweep or replay) meanwhile: not run here' };
  }

  if (!endpoint.ok) {
    const error = `The event's endpoint cannot take events now: ${endpoint.error}`;
    const recorded = await recordEventFailure(db, key, { error, source, now });
    deps.logger.warn({ eventId: row.id, type: row.type, scope: row.scope, source }, 'Stripe event could not be run: its endpoint is not configured; recorded for the next retry');
    const status = recorded?.status ?? row.status;
    return { ...base, statusAfter: status, action: status === 'dead' ? 'dead' : 'failed', detail: error };
  }
  await processStoredEvent({
    db,
    event,
    receipt: endpoint.receipt,
    duplicate: true,
    logger: deps.logger,
    expected: endpoint.expected,
    stripeAccounts: deps.stripeAccounts,
    graceDays: deps.graceDays,
    webUrl: deps.webUrl,
    source,
    now,
  });
  const after = await readRow(db, key);
  const statusAfter = after?.status ?? row.status;
  const action: ReplayAction = statusAfter === 'received' ? 'failed' : statusAfter;
  const detail = (statusAfter === 'failed' || statusAfter === 'dead' || statusAfter === 'received' ? after?.lastError : after?.outcome) ?? '';
  return { ...base, statusAfter, action, detail };
}

async function readRow(db: Database, key: EventKey): Promise<StripeEventRow | undefined> {
  const { stripeEvents: e } = db.t;
  const [row] = await db.q.select().from(e).where(and(eq(e.scope, key.scope), eq(e.id, key.id))).limit(1);
  return row;
}
