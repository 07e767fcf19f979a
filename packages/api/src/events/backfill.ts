/**
 * Backfill from Stripe (issue 10 item 4): after webhook downtime (an endpoint disabled, a
 * server down longer than Stripe's retries), read each Stripe account's Events API and run
 * the events the log is missing through the delivery path, so nothing is lost.
 *
 * Accounts: the deployment's (`STRIPE_SECRET_KEY` or the emulator; scope `deployment`), and
 * each workspace with its own keys (Settings -> Stripe; scope = the workspace id), i.e. the
 * scopes webhook deliveries are logged under (webhooks/endpoint.ts).
 * Per account: `stripe.events.list({ created: { gte }, limit: 100 })`, every page; the ids
 * already in `stripe_events` under that scope are skipped; each missing event is stored with
 * `storeStripeEvent` (payload = the event's JSON) and run with `processStoredEvent` (source
 * `backfill`), oldest first: the same exactly-once path as a delivery, so a second backfill
 * finds nothing missing and an effect never happens twice.
 * Source: docs.stripe.com/api/events/list ("events going back 30 days"); docs.stripe.com/webhooks/process-undelivered-events.
 */
import { and, eq, inArray, type Database } from '@tally/db';
import type Stripe from 'stripe';
import { AppError } from '../errors';
import { isTallyId } from '../ids';
import { STRIPE_EVENT_ID_PATTERN } from '../schemas';
import type { StripeAccountExpectation } from '../webhooks/payment-mismatches';
import { processStoredEvent, storeStripeEvent } from '../webhooks/receive';
import { describeError } from '../webhooks/text';
import { DEPLOYMENT_SCOPE, type EventReceipt } from '../webhooks/types';
import type { EventProcessingDeps } from './replay';

/** How far back Stripe's Events API reaches: 30 days (ms). */
export const STRIPE_EVENTS_RETENTION_MS = 30 * 86_400_000;
/** Events per page asked of Stripe (its maximum). */
const PAGE_SIZE = 100;
/** Event ids per `in (...)` lookup (well under SQLite's bound-parameter limit). */
const LOOKUP_CHUNK = 500;
const EVENT_TYPE_PATTERN = /^[a-z0-9_]+(?:\.[a-z0-9_]+){0,9}$/;

/** What one account's backfill found and did. */
export interface AccountBackfillSummary {
  /** `deployment` or the workspace id: the event log scope. */
  scope: string;
  /** The workspace (own keys), or null for the deployment's account. */
  workspaceId: string | null;
  /** `deployment`, or the workspace's slug. */
  label: string;
  /** Events Stripe listed since `since`. */
  scanned: number;
  /** Of those, not in the log under this scope. */
  missing: number;
  /** Missing events stored and run that ended `processed`. */
  processed: number;
  /** ... that ended `ignored` (no handler, or not Tally's). */
  ignored: number;
  /** ... that ended `anomaly` (differs from what Tally asked for). */
  anomaly: number;
  /** ... whose handler threw (`failed`, or `dead`): the sweeper retries them. */
  failed: number;
  /** Missing when checked, yet logged by a delivery before backfill stored it: left to that delivery. */
  arrivedMeanwhile: number;
  /** Listed events without Stripe's id or type shape: not stored. */
  skipped: number;
  /** Why this account could not be read (Stripe unreachable, key refused, keys not decryptable), or null. */
  error: string | null;
  /** The missing events' ids and types, oldest first (a dry run lists what it would store). */
  events: Array<{ id: string; type: string; status: string }>;
}

export interface BackfillSummary {
  since: Date;
  dryRun: boolean;
  accounts: AccountBackfillSummary[];
}

interface Account {
  scope: string;
  workspaceId: string | null;
  label: string;
  client: Stripe | null;
  expected: StripeAccountExpectation;
  error: string | null;
}

const badRequest = (message: string) => new AppError('BAD_REQUEST', message);

/**
 * Backfill the Stripe event log (see the module doc).
 * @param since the earliest `created` to read (inclusive); at most 30 days ago (Stripe keeps no more).
 * @param workspaceId only the account that workspace's events come from: its own keys (scope =
 *   its id), or, for a workspace on the deployment's keys, the deployment's account (all of it:
 *   events do not say which workspace they are for until they are run).
 * @param dryRun list and compare only: nothing stored, no handler run.
 * @param onProgress per account: `(label, 0, missing)` once the missing events are known, then after each one.
 * @param now the clock (tests), for the 30-day bound and receipt times.
 * @returns one summary per account, deployment first. An account that cannot be read is
 *   reported with `error`, and the others still run.
 * @throws AppError BAD_REQUEST for an invalid `since`, one in the future or more than 30 days
 *   ago, or a `workspaceId` that is not a UUID; NOT_FOUND for an unknown workspace; CONFLICT
 *   when there is no Stripe account to read (no deployment keys and no workspace keys).
 */
export async function backfillStripeEvents(
  deps: EventProcessingDeps,
  { since, workspaceId, dryRun = false, onProgress, now = new Date() }: { since: Date; workspaceId?: string; dryRun?: boolean; onProgress?: (account: string, done: number, total: number) => void; now?: Date },
): Promise<BackfillSummary> {
  if (!(since instanceof Date) || Number.isNaN(since.getTime())) throw badRequest('since must be a valid date');
  if (since.getTime() > now.getTime()) throw badRequest(`since ${since.toISOString()} is in the future`);
  if (now.getTime() - since.getTime() > STRIPE_EVENTS_RETENTION_MS) {
    throw badRequest(`since ${since.toISOString()} is more than 30 days ago: Stripe's Events API keeps only the last 30 days of events`);
  }
  if (workspaceId !== undefined && !isTallyId(workspaceId)) throw badRequest('workspaceId must be a Tally id (a UUID)');
  const accounts = await accountsToRead(deps, workspaceId);
  if (accounts.length === 0) {
    throw new AppError('CONFLICT', 'No Stripe account to read: this deployment has no STRIPE_SECRET_KEY and no workspace has its own Stripe keys');
  }
  const summaries: AccountBackfillSummary[] = [];
  for (const account of accounts) summaries.push(await backfillAccount(deps, account, { since, dryRun, onProgress, now }));
  return { since, dryRun, accounts: summaries };
}

/** The accounts to read: the deployment's (when it has a client) and workspaces' own keys. */
async function accountsToRead(deps: EventProcessingDeps, workspaceId: string | undefined): Promise<Account[]> {
  const { db, stripeAccounts } = deps;
  const { workspaces: w, workspaceStripeAccounts: a } = db.t;
  const { deployment } = stripeAccounts;
  const deploymentAccount = (): Account | null =>
    deployment.mode !== 'none' && deployment.client
      ? { scope: DEPLOYMENT_SCOPE, workspaceId: null, label: DEPLOYMENT_SCOPE, client: deployment.client, expected: { livemode: deployment.mode === 'live' }, error: null }
      : null;
  const ownKeys = async (rows: Array<{ id: string; slug: string }>): Promise<Account[]> => {
    const out: Account[] = [];
    for (const row of rows) {
      const stripe = await stripeAccounts.forWorkspace(db, row.id);
      out.push(
        stripe.configured
          ? { scope: row.id, workspaceId: row.id, label: row.slug, client: stripe.client, expected: stripe.expected, error: null }
          : { scope: row.id, workspaceId: row.id, label: row.slug, client: null, expected: { livemode: false }, error: stripe.reason },
      );
    }
    return out;
  };

  if (workspaceId !== undefined) {
    const [workspace] = await db.q.select({ id: w.id, slug: w.slug }).from(w).where(eq(w.id, workspaceId)).limit(1);
    if (!workspace) throw new AppError('NOT_FOUND', `No workspace ${workspaceId}`);
    const [own] = await db.q.select({ workspaceId: a.workspaceId }).from(a).where(eq(a.workspaceId, workspaceId)).limit(1);
    if (own) return ownKeys([workspace]);
    const shared = deploymentAccount();
    if (!shared) throw new AppError('CONFLICT', `Workspace ${workspace.slug} has no Stripe keys of its own and this deployment has no STRIPE_SECRET_KEY: no Stripe account to read`);
    return [shared];
  }
  const rows = await db.q.select({ id: w.id, slug: w.slug }).from(a).innerJoin(w, eq(w.id, a.workspaceId)).orderBy(w.slug);
  const first = deploymentAccount();
  return [...(first ? [first] : []), ...(await ownKeys(rows))];
}

async function backfillAccount(
  deps: EventProcessingDeps,
  account: Account,
  { since, dryRun, onProgress, now }: { since: Date; dryRun: boolean; onProgress: ((account: string, done: number, total: number) => void) | undefined; now: Date },
): Promise<AccountBackfillSummary> {
  const summary: AccountBackfillSummary = {
    scope: account.scope,
    workspaceId: account.workspaceId,
    label: account.label,
    scanned: 0,
    missing: 0,
    processed: 0,
    ignored: 0,
    anomaly: 0,
    failed: 0,
    arrivedMeanwhile: 0,
    skipped: 0,
    error: account.error,
    events: [],
  };
  if (!account.client) return summary;
  const listed: Stripe.Event[] = [];
  try {
    for await (const event of account.client.events.list({ created: { gte: Math.floor(since.getTime() / 1000) }, limit: PAGE_SIZE })) {
      summary.scanned += 1;
      if (typeof event?.id !== 'string' || !STRIPE_EVENT_ID_PATTERN.test(event.id) || typeof event.type !== 'string' || event.type.length > 200 || !EVENT_TYPE_PATTERN.test(event.type)) {
        summary.skipped += 1;
        continue;
      }
      listed.push(event);
    }
  } catch (err) {
    summary.error = `Could not list Stripe events: ${describeError(err)}`;
    deps.logger.warn({ scope: account.scope, err: summary.error }, 'Backfill could not read a Stripe account');
    return summary;
  }

  const known = await loggedIds(deps.db, account.scope, listed.map((e) => e.id));
  // Stripe lists newest first; run oldest first, as they happened (one id once, should a page repeat it).
  const seen = new Set<string>();
  const missing = listed
    .filter((e) => !known.has(e.id) && !seen.has(e.id) && seen.add(e.id))
    .sort((a, b) => (a.created ?? 0) - (b.created ?? 0) || (a.id < b.id ? -1 : 1));
  summary.missing = missing.length;
  onProgress?.(account.label, 0, missing.length);
  const receipt: EventReceipt = { scope: account.scope, workspaceId: account.workspaceId };
  for (const [i, event] of missing.entries()) {
    if (dryRun) {
      summary.events.push({ id: event.id, type: event.type, status: 'missing' });
    } else {
      const stored = await storeStripeEvent(deps.db, { receipt, event, payload: JSON.stringify(event), now });
      if (!stored.inserted) {
        summary.arrivedMeanwhile += 1;
        summary.events.push({ id: event.id, type: event.type, status: stored.status ?? 'received' });
      } else {
        const result = await processStoredEvent({
          db: deps.db,
          event,
          receipt,
          logger: deps.logger,
          expected: account.expected,
          stripeAccounts: deps.stripeAccounts,
          graceDays: deps.graceDays,
          webUrl: deps.webUrl,
          source: 'backfill',
          now,
        });
        const status = 'status' in result ? result.status : 'failed';
        if (status === 'processed') summary.processed += 1;
        else if (status === 'ignored') summary.ignored += 1;
        else if (status === 'anomaly') summary.anomaly += 1;
        else summary.failed += 1;
        summary.events.push({ id: event.id, type: event.type, status });
      }
    }
    onProgress?.(account.label, i + 1, missing.length);
  }
  if (!dryRun && missing.length > 0) {
    deps.logger.info(
      { scope: account.scope, scanned: summary.scanned, missing: summary.missing, processed: summary.processed, ignored: summary.ignored, anomaly: summary.anomaly, failed: summary.failed },
      'Backfilled missing Stripe events',
    );
  }
  return summary;
}

/** The ids among `ids` already in the log under `scope`. */
async function loggedIds(db: Database, scope: string, ids: string[]): Promise<Set<string>> {
  const { stripeEvents: e } = db.t;
  const found = new Set<string>();
  for (let i = 0; i < ids.length; i += LOOKUP_CHUNK) {
    const chunk = ids.slice(i, i + LOOKUP_CHUNK);
    const rows = await db.q.select({ id: e.id }).from(e).where(and(eq(e.scope, scope), inArray(e.id, chunk)));
    for (const row of rows) found.add(row.id);
  }
  return found;
}

export { listEventLog, MAX_EVENT_LOG_LIST, type EventLogListing } from './event-log-list';
