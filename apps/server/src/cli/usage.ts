/**
 * `pnpm tally usage close-period [--period YYYY-MM] [--workspace <id or slug>] [--dry-run] [--json]`:
 * close a usage period by hand (issue 9 item 5), as the server does by itself after each month
 * (`closeUsagePeriod`): refuse late events for it, create one usage invoice per customer with
 * invoice-mode usage, and issue them on the workspace's Stripe. Default period: the previous
 * month (UTC); default workspaces: all of them. Resumable: run it again after an interruption
 * or failures, and it creates nothing twice and retries what is not issued yet.
 *
 * Unlike the other commands this one calls Stripe, so it reads the server's environment exactly
 * as the server does (`loadConfig`: STRIPE_SECRET_KEY, STRIPE_API_BASE, ...; production
 * refusals included), and uses each workspace's own Stripe account when it has one.
 * `--dry-run` calls no Stripe and writes nothing, so it needs only the database.
 * A progress bar goes to stderr when stderr is a terminal; the summary to stdout (`--json`: one
 * JSON object). Exit 1 with one `tally: ...` line for a bad period or workspace, and after the
 * summary when some invoices could not be issued.
 */
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import type { Database } from '@tally/db';
import type { UsagePeriodCloseSummary } from '@tally/api';
import { CliError, loadCliConfig, loadStrictCliConfig, processIo, withDatabase, type CliIo } from './shared';

/** Where the progress bar is drawn: a terminal stream (anything else gets no bar). */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

async function workspacesFor(db: Database, ref: string | undefined): Promise<Array<{ id: string; slug: string; name: string }>> {
  const { listWorkspaces } = await import('@tally/api');
  const rows = await listWorkspaces({ db });
  if (rows.length === 0) throw new CliError('No workspaces yet (the server creates the primary one at first start)');
  if (ref === undefined) return rows;
  const wanted = ref.trim().toLowerCase();
  const found = rows.find((w) => w.id === wanted || w.slug === wanted);
  if (!found) throw new CliError(`No workspace ${JSON.stringify(ref.slice(0, 100))} (give its id or slug; see pnpm tally workspace list)`);
  return [found];
}

/** One summary as a line of text. */
function describe(slug: string, s: UsagePeriodCloseSummary, money: (minor: number, currency: string) => string): string {
  const total = money(s.totalMinor, s.currency);
  if (s.dryRun) {
    return `${slug}: ${s.period} (dry run, nothing changed): ${s.customers} customer${s.customers === 1 ? '' : 's'} to invoice, would create ${s.invoicesCreated} usage invoice${s.invoicesCreated === 1 ? '' : 's'} (${s.invoicesExisting} exist), would issue ${s.issued} on Stripe (${s.alreadyIssued} issued before), ${s.empty} empty; total ${total}`;
  }
  return `${slug}: ${s.period} closed: ${s.customers} customer${s.customers === 1 ? '' : 's'} invoiced, ${s.invoicesCreated} usage invoice${s.invoicesCreated === 1 ? '' : 's'} created (${s.invoicesExisting} existed), ${s.issued} issued on Stripe (${s.alreadyIssued} before), ${s.failed} failed, ${s.empty} empty; total ${total}`;
}

export function usageCommand(io: CliIo, { progressStream }: { progressStream?: ProgressStream | null } = {}): Command {
  const usage = new Command('usage').description('usage metering: closing periods and issuing usage invoices');
  usage
    .command('close-period')
    .description('close a usage period: refuse late events, create one usage invoice per customer, issue them on Stripe (resumable; safe to rerun)')
    .option('--period <YYYY-MM>', 'the month to close, in UTC (default: the previous month)')
    .option('--workspace <id or slug>', 'one workspace (default: every workspace)')
    .option('--dry-run', 'show what would be created and issued; change nothing, call no Stripe')
    .option('--json', 'print { period, dryRun, workspaces: [{ workspaceId, slug, customers, invoicesCreated, invoicesExisting, issued, alreadyIssued, failed, empty, totalMinor, currency }] } as JSON')
    .action(async (opts: { period?: string; workspace?: string; dryRun?: boolean; json?: boolean }) => {
      const { closeUsagePeriod, formatMinorForCli, isPeriod, periodBounds, periodOf, previousPeriod } = await loadApi();
      const now = new Date();
      const period = opts.period?.trim() ?? previousPeriod(periodOf(now));
      if (!isPeriod(period)) throw new CliError(`--period must be a month written YYYY-MM, e.g. ${previousPeriod(periodOf(now))} (got ${JSON.stringify(period.slice(0, 40))})`);
      const { end } = periodBounds(period);
      if (end.getTime() > now.getTime()) throw new CliError(`--period ${period} has not ended yet (it ends ${end.toISOString()}); only an ended month can be closed`);
      const dryRun = opts.dryRun === true;
      const config = dryRun ? loadCliConfig(io.env) : loadStrictCliConfig(io.env);
      const stripeAccounts = dryRun ? null : (await import('../stripe-client')).createServerStripeAccounts(config);
      const stream = progressStream === undefined ? (io === processIo ? process.stderr : null) : progressStream;
      const tty = stream?.isTTY === true ? stream : null;

      const results = await withDatabase(config, async (db) => {
        const workspaces = await workspacesFor(db, opts.workspace);
        const out: Array<{ slug: string; summary: UsagePeriodCloseSummary }> = [];
        for (const w of workspaces) {
          const bar = tty ? progressBar(tty, w.slug) : null;
          try {
            const summary = await closeUsagePeriod({
              db,
              stripeAccounts: stripeAccounts ?? noStripe(),
              workspaceId: w.id,
              period,
              dryRun,
              now,
              ...(bar ? { onProgress: bar.update } : {}),
            });
            out.push({ slug: w.slug, summary });
          } finally {
            bar?.stop();
          }
        }
        return out;
      });

      if (opts.json) {
        io.out(JSON.stringify({ period, dryRun, workspaces: results.map(({ slug, summary }) => ({ slug, ...summary })) }));
      } else {
        for (const { slug, summary } of results) io.out(describe(slug, summary, formatMinorForCli));
      }
      const failed = results.reduce((n, r) => n + r.summary.failed, 0);
      if (failed > 0) {
        throw new CliError(`${failed} usage invoice${failed === 1 ? '' : 's'} could not be issued on Stripe (each row's lastError says why; run close-period again to retry)`);
      }
    });
  return usage;
}

async function loadApi() {
  const api = await import('@tally/api');
  const { formatMinor } = await import('@tally/api/schemas');
  return { ...api, formatMinorForCli: (minor: number, currency: string) => formatMinor(minor, currency, 'en-US') };
}

/** A cli-progress bar for one workspace's close: the aggregation, then the Stripe issuance. */
function progressBar(stream: ProgressStream, slug: string) {
  const { SingleBar, Presets } = cliProgress;
  const bar = new SingleBar({ stream, format: `${slug} {phase} [{bar}] {value}/{total}`, hideCursor: true, clearOnComplete: false, etaBuffer: 50 }, Presets.shades_classic);
  let phase: string | null = null;
  return {
    update: ({ phase: next, done, total }: { phase: string; done: number; total: number }) => {
      const label = next === 'aggregate' ? 'customers ' : 'Stripe    ';
      if (phase !== next) {
        if (phase !== null) bar.stop();
        bar.start(total, done, { phase: label });
        phase = next;
      } else {
        bar.setTotal(total);
        bar.update(done, { phase: label });
      }
    },
    stop: () => {
      if (phase !== null) bar.stop();
    },
  };
}

/** A dry run never reaches Stripe (`closeUsagePeriod` issues nothing with `dryRun`). */
function noStripe() {
  return {
    deployment: { mode: 'none' as const, client: null, webhookSecret: null },
    keyring: null,
    clientForKey: (): never => {
      throw new Error('a dry run calls no Stripe');
    },
    forWorkspace: async () => ({ configured: false as const, source: 'none' as const, reason: 'a dry run calls no Stripe', webhookSecret: null }),
  };
}
