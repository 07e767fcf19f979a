import { all, and, count, eq, inArray, param, placeholder, preparedStatement, run, runPrepared, type Database, type QueryBuilder, type Tables, type TxBody, type TxBuilder } from '@tally/db';
import { newId } from '../ids';
import { storableText } from './text';
import { DEPLOYMENT_SCOPE, type EventKey, type HandlerOutcome } from './types';

/** Statuses an event never leaves: redelivery answers 200 without work (the others are `received`, `failed` and `dead`). */
export const TERMINAL_EVENT_STATUSES = ['processed', 'ignored', 'anomaly'] as const;
export type TerminalEventStatus = (typeof TERMINAL_EVENT_STATUSES)[number];
export const isTerminalEventStatus = (status: string | undefined): status is TerminalEventStatus =>
  (TERMINAL_EVENT_STATUSES as readonly (string | undefined)[]).includes(status);

/** Statuses a handler may still run for (a delivery, the sweeper or a replay): anything not terminal. */
export const RUNNABLE_EVENT_STATUSES = ['received', 'failed', 'dead'] as const;

/** Where a processing attempt came from (`stripe_event_errors.source`). */
export type EventAttemptSource = 'webhook' | 'sweeper' | 'replay' | 'backfill';

/**
 * The sweeper's retry schedule for a `failed` event, ms after each failure: the 1st failure
 * (usually the delivery) is retried after 1 min, the 2nd after 5 min, then 30 min, 2 h and
 * 12 h. A failure after the last scheduled retry (the 6th failure) marks the event `dead`:
 * kept (never pruned), shown to admins, replayed by hand (`pnpm tally events replay`). Source:
 * issue 10 item 3. Stripe's own redeliveries (up to 3 days, stripe.com/docs/webhooks#retries)
 * still run the handler in any non-terminal status, `dead` included.
 */
export const EVENT_RETRY_BACKOFF_MS = [60_000, 5 * 60_000, 30 * 60_000, 2 * 3_600_000, 12 * 3_600_000] as const;

/**
 * When a failed event is retried next after its `failures`-th failure (1-based), or null when
 * the schedule is spent (the event is then `dead`).
 */
export function nextAttemptAfter(failures: number, now: Date): Date | null {
  const delay = EVENT_RETRY_BACKOFF_MS[failures - 1];
  return delay === undefined ? null : new Date(now.getTime() + delay);
}

/** Transaction step: record an event's outcome (so it commits with the effect). Outcome text is made storable (no NUL, at most 2000 characters); no retry is scheduled any more. */
export function* markEventInTx(_tx: TxBuilder, _t: Tables, key: EventKey, result: HandlerOutcome): TxBody<void> {
  const values = { scope: key.scope, id: key.id, status: result.status, outcome: storableText(result.outcome), now: new Date() };
  // An event at a workspace's URL stays that workspace's, whatever the handler says.
  if (key.scope === DEPLOYMENT_SCOPE) yield* runPrepared(markDeploymentEvent, { ...values, workspaceId: result.workspaceId ?? null });
  else yield* runPrepared(markWorkspaceEvent, values);
}

type MarkValues = { scope: string; id: string; status: HandlerOutcome['status']; outcome: string; now: Date };

/** `markEventInTx`'s statements, prepared once per database: a workspace URL's event keeps its workspace, a deployment one takes the handler's. */
const markWorkspaceEvent = preparedStatement<MarkValues>('tally_mark_workspace_event', (q, t) => markEventStatement(q, t, false));
const markDeploymentEvent = preparedStatement<MarkValues & { workspaceId: string | null }>('tally_mark_deployment_event', (q, t) => markEventStatement(q, t, true));

function markEventStatement(q: QueryBuilder, t: Tables, setsWorkspace: boolean) {
  const e = t.stripeEvents;
  return q
    .update(e)
    .set({
      status: param('status', e.status),
      outcome: param('outcome', e.outcome),
      lastError: null,
      nextAttemptAt: null,
      ...(setsWorkspace ? { workspaceId: param('workspaceId', e.workspaceId) } : {}),
      processedAt: param('now', e.processedAt),
      updatedAt: param('now', e.updatedAt),
    })
    .where(and(eq(e.scope, placeholder('scope')), eq(e.id, placeholder('id'))));
}

/** Record an outcome with no money effect. */
export async function markEvent(db: Database, key: EventKey, result: HandlerOutcome): Promise<void> {
  await db.transaction((tx) => markEventInTx(tx, db.t, key, result));
}

/** What `recordEventFailure` saved. */
export interface RecordedEventFailure {
  /** The event's status now: `failed` (retry scheduled), `dead` (schedule spent), or the terminal status another attempt settled it with meanwhile (unchanged). */
  status: 'failed' | 'dead' | TerminalEventStatus;
  /** Which attempt failed (the event's `attempts` when it did). */
  attempt: number;
  /** How many failures the event has on record, this one included. */
  failures: number;
  /** When the sweeper retries it (null: `dead`, or settled). */
  nextAttemptAt: Date | null;
  /** The event's workspace (null: a deployment-scope event not tied to one). */
  workspaceId: string | null;
}

/**
 * Record one failed processing attempt, in one transaction: a `stripe_event_errors` row
 * (attempt number, `source`, `error` made storable: no NUL, at most 2000 characters), and on
 * the event `lastError` plus the next step of the retry schedule (`EVENT_RETRY_BACKOFF_MS`,
 * counted by the event's error rows): `failed` with `nextAttemptAt`, or `dead` once the
 * schedule is spent. A `dead` event stays `dead`. State only moves forward: an event another
 * attempt already settled (`processed`, `ignored`, `anomaly`) keeps its status (the error row
 * is still kept, as history).
 * @returns what was saved, or null when the event is not in the log.
 * @throws the database's error (nothing saved); the caller logs it.
 */
export async function recordEventFailure(
  db: Database,
  key: EventKey,
  { error, source, now = new Date() }: { error: string; source: EventAttemptSource; now?: Date },
): Promise<RecordedEventFailure | null> {
  const { stripeEvents: e, stripeEventErrors: x } = db.t;
  const text = storableText(error);
  const where = and(eq(e.scope, key.scope), eq(e.id, key.id));
  return db.transaction(function* (tx) {
    const [row] = yield* all(tx.select({ status: e.status, attempts: e.attempts, workspaceId: e.workspaceId }).from(e).where(where).limit(1));
    if (!row) return null;
    yield* run(tx.insert(x).values({ id: newId(), scope: key.scope, eventId: key.id, attempt: row.attempts, source, error: text, createdAt: now }));
    const [counted] = yield* all(tx.select({ n: count() }).from(x).where(and(eq(x.scope, key.scope), eq(x.eventId, key.id))));
    const failures = Number(counted?.n ?? 1);
    const base = { attempt: row.attempts, failures, workspaceId: row.workspaceId };
    if (isTerminalEventStatus(row.status)) return { ...base, status: row.status, nextAttemptAt: null };
    const nextAttemptAt = row.status === 'dead' ? null : nextAttemptAfter(failures, now);
    const status = nextAttemptAt ? ('failed' as const) : ('dead' as const);
    const updated = yield* all(
      tx
        .update(e)
        .set({ status, lastError: text, nextAttemptAt, updatedAt: now })
        .where(and(where, inArray(e.status, [...RUNNABLE_EVENT_STATUSES])))
        .returning({ status: e.status }),
    );
    // Settled by a concurrent attempt between the read and the update (Postgres): unchanged.
    if (updated.length === 0) return { ...base, status: row.status as RecordedEventFailure['status'], nextAttemptAt: null };
    return { ...base, status, nextAttemptAt };
  });
}

/**
 * Record a delivery's failure (see `recordEventFailure`, source `webhook`).
 * @throws the database's error; the caller logs it.
 */
export async function markEventFailed(db: Database, key: EventKey, error: string): Promise<void> {
  await recordEventFailure(db, key, { error, source: 'webhook' });
}
