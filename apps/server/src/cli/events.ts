/**
 * `pnpm tally events list | replay | backfill` (issue 10 items 2 and 4): the Stripe event log
 * for an operator.
 * - `list [--status S] [--type T] [--since 24h] [--workspace <id or slug>] [--limit N] [--json]`:
 *   newest first, as a table (cli-table3) or JSON.
 * - `replay --event-id evt_... [--scope deployment|<workspace id>] [--dry-run] [--json]`, or
 *   `replay --status failed|dead|received [--since ...] [--type ...] [--workspace ...] [--limit N] [--dry-run] [--json]`:
 *   through the delivery path (`replayStripeEvent(s)`): a settled event is left unchanged, an effect
 *   never happens twice; `--dry-run` says what each handler would do and changes nothing.
 * - `backfill --since 72h [--workspace ...] [--dry-run] [--json]`: reads Stripe's Events API
 *   (30 days at most) for the deployment's account and each workspace with its own keys, and stores
 *   and processes the events missing from the log (`backfillStripeEvents`).
 * Durations: a whole number and a unit, `30m`, `24h`, `7d`, `2w`; or an ISO 8601 date/time.
 * Replay and backfill read the server's environment exactly as the server does (their handlers
 * and Stripe calls need it); a dry-run replay only the database's. A progress bar goes to
 * stderr when it is a terminal; results to stdout. Exit 1 with one `tally: ...` line for bad
 * flags, and after the summary when some event failed or an account could not be read.
 */
import cliProgress from 'cli-progress';
import Table from 'cli-table3';
import { Command } from 'commander';
import type { AccountBackfillSummary, BackfillSummary, EventLogListing, EventProcessingDeps, EventReplayResult } from '@tally/api';
import type { Database } from '@tally/db';
import type { ServerConfig } from '../config';
import { CliError, loadCliConfig, loadStrictCliConfig, processIo, withDatabase, type CliIo } from './shared';
import type { ProgressStream } from './usage';

const LIST_STATUSES = ['received', 'processed', 'ignored', 'failed', 'anomaly', 'dead'] as const;
const REPLAY_STATUSES = ['failed', 'dead', 'received'] as const;
const EVENT_TYPE = /^[a-z0-9_]+(?:\.[a-z0-9_]+){0,9}$/;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };
const MAX_LIMIT = 1000;
const THIRTY_DAYS_MS = 30 * 86_400_000;

/**
 * `--since`: a duration back from `now` (`30m`, `24h`, `7d`, `2w`: a whole number from 1 and a unit
 * m|h|d|w) or an ISO 8601 date (`2026-05-01`) or date-time (`2026-05-01T12:00:00Z`).
 * @throws CliError naming the accepted forms.
 */
export function parseSince(text: string, now: Date = new Date()): Date {
  const value = text.trim();
  const duration = /^(\d{1,6})([mhdw])$/.exec(value);
  if (duration) {
    const n = Number(duration[1]);
    if (n >= 1) return new Date(now.getTime() - n * UNIT_MS[duration[2]!]!);
  } else if (/^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) {
    const at = new Date(value);
    if (!Number.isNaN(at.getTime())) return at;
  }
  throw new CliError(`--since must be a duration such as 30m, 24h, 7d or 2w, or an ISO date such as 2026-05-01 (got ${JSON.stringify(value.slice(0, 40))})`);
}

function parseLimit(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,5}$/.test(text.trim()) || Number(text) < 1 || Number(text) > MAX_LIMIT) throw new CliError(`--limit must be a whole number from 1 to ${MAX_LIMIT} (got ${JSON.stringify(text.slice(0, 20))})`);
  return Number(text);
}

function checkChoice<T extends string>(flag: string, value: string | undefined, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) throw new CliError(`${flag} must be one of ${choices.join(', ')} (got ${JSON.stringify(value.slice(0, 40))})`);
  return value as T;
}

function checkType(value: string | undefined): string | undefined {
  if (value !== undefined && (value.length > 200 || !EVENT_TYPE.test(value))) throw new CliError(`--type must be a Stripe event type such as checkout.session.completed (got ${JSON.stringify(value.slice(0, 60))})`);
  return value;
}

/** The workspace `ref` names (id or slug), or a CliError pointing at `workspace list`. */
async function resolveWorkspace(db: Database, ref: string): Promise<{ id: string; slug: string }> {
  const { listWorkspaces } = await import('@tally/api');
  const wanted = ref.trim().toLowerCase();
  const found = (await listWorkspaces({ db })).find((w) => w.id === wanted || w.slug === wanted);
  if (!found) throw new CliError(`No workspace ${JSON.stringify(ref.slice(0, 100))} (give its id or slug; see pnpm tally workspace list)`);
  return { id: found.id, slug: found.slug };
}

/** `id -> slug` of every workspace, for the Scope column. */
async function workspaceSlugs(db: Database): Promise<Map<string, string>> {
  const { listWorkspaces } = await import('@tally/api');
  return new Map((await listWorkspaces({ db })).map((w) => [w.id, w.slug]));
}

const iso = (d: Date | null) => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '');
const clip = (s: string, n = 70) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A table without colours (logs and pipes) that wraps nothing: one event per line. */
function table(head: string[]) {
  return new Table({ head, style: { head: [], border: [] }, wordWrap: false });
}

/** The services a replay or backfill needs, as the server builds them. */
async function processingDeps(config: ServerConfig, db: Database): Promise<EventProcessingDeps> {
  const { silentLogger } = await import('@tally/api');
  const { createServerStripeAccounts } = await import('../stripe-client');
  return {
    db,
    logger: silentLogger,
    stripeAccounts: createServerStripeAccounts(config),
    publicUrl: config.api.publicUrl,
    graceDays: config.api.dunningGraceDays,
    webUrl: config.api.webUrl,
  };
}

/** A cli-progress bar on `stream`, restarted per phase (`label`). */
function progressBar(stream: ProgressStream) {
  const { SingleBar, Presets } = cliProgress;
  const bar = new SingleBar({ stream, format: '{label} [{bar}] {value}/{total}', hideCursor: true, clearOnComplete: false, etaBuffer: 50 }, Presets.shades_classic);
  let current: string | null = null;
  return {
    update(label: string, done: number, total: number) {
      if (current !== label) {
        if (current !== null) bar.stop();
        bar.start(total, done, { label });
        current = label;
      } else {
        bar.setTotal(total);
        bar.update(done, { label });
      }
    },
    stop() {
      if (current !== null) bar.stop();
    },
  };
}

function countActions(results: EventReplayResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) counts[r.action] = (counts[r.action] ?? 0) + 1;
  return counts;
}

function replaySummary(results: EventReplayResult[], dryRun: boolean): string {
  const counts = countActions(results);
  const parts = Object.entries(counts).map(([action, n]) => `${n} ${action.replace('_', ' ')}`);
  if (results.length === 0) return dryRun ? 'Dry run: no events match; nothing changed.' : 'No events match; nothing replayed.';
  return `${dryRun ? 'Dry run, nothing changed: ' : 'Replayed '}${plural(results.length, 'event')}: ${parts.join(', ')}.`;
}

function backfillLine(a: AccountBackfillSummary, since: Date, dryRun: boolean): string {
  const who = a.label === a.scope ? a.scope : `${a.label} (${a.scope})`;
  if (a.error) return `${who}: not read: ${a.error}`;
  const head = `${who}: ${plural(a.scanned, 'event')} on Stripe since ${iso(since)}, ${a.missing} missing from the log`;
  if (dryRun) return `${head} (dry run: nothing stored)${a.skipped ? `; ${a.skipped} without Stripe's shape skipped` : ''}`;
  const extra = [a.arrivedMeanwhile ? `${a.arrivedMeanwhile} arrived meanwhile` : '', a.skipped ? `${a.skipped} without Stripe's shape skipped` : ''].filter(Boolean);
  return `${head}: ${a.processed} processed, ${a.ignored} ignored, ${a.anomaly} anomaly, ${a.failed} failed${extra.length ? `; ${extra.join(', ')}` : ''}`;
}

export function eventsCommand(io: CliIo, { progressStream }: { progressStream?: ProgressStream | null } = {}): Command {
  const events = new Command('events').description('Stripe event log: list, replay and backfill events');
  const ttyStream = () => {
    const stream = progressStream === undefined ? (io === processIo ? process.stderr : null) : progressStream;
    return stream?.isTTY === true ? stream : null;
  };

  events
    .command('list')
    .description('list the Stripe event log, newest first')
    .option('--status <status>', `only events in this status: ${LIST_STATUSES.join('|')}`)
    .option('--type <type>', 'only this Stripe event type, e.g. checkout.session.completed')
    .option('--since <duration or date>', 'only events received since then: 30m, 24h, 7d, or an ISO date')
    .option('--workspace <id or slug>', "only this workspace's events")
    .option('--limit <n>', `most events to show, 1..${MAX_LIMIT} (default 50)`)
    .option('--json', 'print [{ scope, id, type, status, attempts, workspaceId, receivedAt, processedAt, nextAttemptAt, outcome, lastError, payloadPruned }] as JSON')
    .action(async (opts: { status?: string; type?: string; since?: string; workspace?: string; limit?: string; json?: boolean }) => {
      const status = checkChoice('--status', opts.status, LIST_STATUSES);
      const type = checkType(opts.type);
      const since = opts.since === undefined ? undefined : parseSince(opts.since);
      const limit = parseLimit(opts.limit, 50);
      const config = loadCliConfig(io.env);
      const { listEventLog } = await import('@tally/api');
      const { rows, slugs } = await withDatabase(config, async (db) => {
        const workspaceId = opts.workspace === undefined ? undefined : (await resolveWorkspace(db, opts.workspace)).id;
        return {
          rows: await listEventLog(db, { ...(status ? { status } : {}), ...(type ? { type } : {}), ...(since ? { since } : {}), ...(workspaceId ? { workspaceId } : {}), limit }),
          slugs: await workspaceSlugs(db),
        };
      });
      if (opts.json) {
        io.out(JSON.stringify(rows));
        return;
      }
      if (rows.length === 0) {
        io.out('No events match.');
        return;
      }
      const t = table(['Received (UTC)', 'Event', 'Type', 'Status', 'Attempts', 'Scope', 'Detail']);
      for (const r of rows) t.push([iso(r.receivedAt), r.id, r.type, r.status, String(r.attempts), r.scope === 'deployment' ? 'deployment' : (slugs.get(r.scope) ?? r.scope), clip(detailOf(r))]);
      io.out(t.toString());
      io.out(`${plural(rows.length, 'event')}${rows.length === limit ? ` (the newest ${limit}; --limit shows more)` : ''}.`);
    });

  events
    .command('replay')
    .description('run logged events again through the delivery path (settled events are left unchanged; effects never happen twice)')
    .option('--event-id <evt_id>', 'one event by its Stripe id')
    .option('--scope <scope>', 'with --event-id: deployment or a workspace id, when the event is logged under several')
    .option('--status <status>', `every event in this status: ${REPLAY_STATUSES.join('|')}`)
    .option('--since <duration or date>', 'with --status: only events received since then (30m, 24h, 7d, or an ISO date)')
    .option('--type <type>', 'with --status: only this Stripe event type')
    .option('--workspace <id or slug>', "with --status: only this workspace's events")
    .option('--limit <n>', `with --status: most events, 1..${MAX_LIMIT} (default 100)`)
    .option('--dry-run', 'say what each handler would do; change nothing, call no Stripe')
    .option('--json', 'print { dryRun, results: [{ scope, eventId, type, statusBefore, statusAfter, action, detail }], counts } as JSON')
    .action(async (opts: { eventId?: string; scope?: string; status?: string; since?: string; type?: string; workspace?: string; limit?: string; dryRun?: boolean; json?: boolean }) => {
      if ((opts.eventId === undefined) === (opts.status === undefined)) throw new CliError('Give either --event-id evt_... or --status failed|dead|received');
      if (opts.eventId !== undefined) {
        const extra = (['since', 'type', 'workspace', 'limit'] as const).filter((k) => opts[k] !== undefined);
        if (extra.length > 0) throw new CliError(`--${extra[0]} goes with --status, not --event-id`);
      } else if (opts.scope !== undefined) {
        throw new CliError('--scope goes with --event-id, not --status');
      }
      const status = checkChoice('--status', opts.status, REPLAY_STATUSES);
      const type = checkType(opts.type);
      const since = opts.since === undefined ? undefined : parseSince(opts.since);
      const limit = parseLimit(opts.limit, 100);
      const dryRun = opts.dryRun === true;
      const config = dryRun ? loadCliConfig(io.env) : loadStrictCliConfig(io.env);
      const { replayStripeEvent, replayStripeEvents } = await import('@tally/api');
      const tty = ttyStream();
      const results = await withDatabase(config, async (db) => {
        const deps = await processingDeps(config, db);
        if (opts.eventId !== undefined) return [await replayStripeEvent(deps, { eventId: opts.eventId, ...(opts.scope !== undefined ? { scope: opts.scope } : {}) }, { dryRun })];
        const workspaceId = opts.workspace === undefined ? undefined : (await resolveWorkspace(db, opts.workspace)).id;
        const bar = tty ? progressBar(tty) : null;
        try {
          return await replayStripeEvents(
            deps,
            { status: status!, limit, ...(since ? { since } : {}), ...(type ? { type } : {}), ...(workspaceId ? { workspaceId } : {}) },
            { dryRun, ...(bar ? { onProgress: (done: number, total: number) => bar.update('replay', done, total) } : {}) },
          );
        } finally {
          bar?.stop();
        }
      });
      if (opts.json) {
        io.out(JSON.stringify({ dryRun, results, counts: countActions(results) }));
      } else {
        if (results.length > 0) {
          const t = table(['Event', 'Type', 'Scope', 'Before', 'After', 'Action', 'Detail']);
          for (const r of results) t.push([r.eventId, r.type, r.scope, r.statusBefore, r.statusAfter, r.action, clip(r.detail, 90)]);
          io.out(t.toString());
        }
        io.out(replaySummary(results, dryRun));
      }
      const failing = results.filter((r) => r.action === 'failed' || r.action === 'dead').length;
      if (failing > 0) throw new CliError(`${plural(failing, 'event')} still failing (see the detail; the sweeper retries failed events by itself)`);
    });

  events
    .command('backfill')
    .description("read Stripe's Events API and store and process the events missing from the log (after webhook downtime)")
    .requiredOption('--since <duration or date>', 'how far back to read, at most 30 days: 72h, 7d, or an ISO date')
    .option('--workspace <id or slug>', "only the Stripe account this workspace's events come from")
    .option('--dry-run', 'list and compare only: store and process nothing')
    .option('--json', 'print { since, dryRun, accounts: [{ scope, workspaceId, label, scanned, missing, processed, ignored, anomaly, failed, arrivedMeanwhile, skipped, error, events }] } as JSON')
    .action(async (opts: { since: string; workspace?: string; dryRun?: boolean; json?: boolean }) => {
      const now = new Date();
      const since = parseSince(opts.since, now);
      if (now.getTime() - since.getTime() > THIRTY_DAYS_MS) {
        throw new CliError(`--since ${opts.since} reaches back more than 30 days: Stripe's Events API keeps only the last 30 days of events`);
      }
      if (since.getTime() > now.getTime()) throw new CliError(`--since ${opts.since} is in the future`);
      const dryRun = opts.dryRun === true;
      const config = loadStrictCliConfig(io.env);
      const { backfillStripeEvents } = await import('@tally/api');
      const tty = ttyStream();
      const summary: BackfillSummary = await withDatabase(config, async (db) => {
        const deps = await processingDeps(config, db);
        const workspaceId = opts.workspace === undefined ? undefined : (await resolveWorkspace(db, opts.workspace)).id;
        const bar = tty ? progressBar(tty) : null;
        try {
          return await backfillStripeEvents(deps, { since, dryRun, now, ...(workspaceId ? { workspaceId } : {}), ...(bar ? { onProgress: (label: string, done: number, total: number) => bar.update(label, done, total) } : {}) });
        } finally {
          bar?.stop();
        }
      });
      if (opts.json) {
        io.out(JSON.stringify(summary));
      } else {
        for (const a of summary.accounts) io.out(backfillLine(a, since, dryRun));
        const listed = summary.accounts.flatMap((a) => a.events.map((e) => ({ ...e, label: a.label })));
        if (listed.length > 0) {
          const t = table(['Account', 'Event', 'Type', dryRun ? 'Would store' : 'Status']);
          for (const e of listed) t.push([e.label, e.id, e.type, dryRun ? 'yes' : e.status]);
          io.out(t.toString());
        }
      }
      const unread = summary.accounts.filter((a) => a.error !== null);
      const failed = summary.accounts.reduce((n, a) => n + a.failed, 0);
      if (unread.length > 0) throw new CliError(`${plural(unread.length, 'Stripe account')} could not be read (${unread.map((a) => a.label).join(', ')}); run backfill again once reachable`);
      if (failed > 0) throw new CliError(`${plural(failed, 'backfilled event')} failed (the sweeper retries them; pnpm tally events list --status failed)`);
    });
  return events;
}

/** The Detail column: the error of a failed event (and its next retry), else its outcome. */
function detailOf(r: EventLogListing): string {
  if (r.payloadPruned) return `payload pruned; ${r.outcome ?? ''}`.trim();
  if (r.status === 'failed') return `${r.lastError ?? 'failed'}${r.nextAttemptAt ? ` (retry ${iso(r.nextAttemptAt)})` : ''}`;
  if (r.status === 'dead' || r.status === 'received') return r.lastError ?? '';
  return r.outcome ?? '';
}
