/**
 * `pnpm tally usage close-period` (issue 9 item 5), run as an operator would (one spawned
 * process; the rest through the CLI entry point in process) on a fresh database of each
 * dialect, against an in-process Stripe emulator: bad flags exit 1 with one `tally:` line and
 * change nothing, `--dry-run` changes nothing and calls no Stripe, the real run issues one
 * Stripe invoice per customer and a rerun nothing, `--json`, the progress bar on a terminal, and
 * a deployment without Stripe failing the issuance with a clear error.
 */
import { Writable } from 'node:stream';
import { periodBounds, periodOf, previousPeriod, recordUsage } from '@tally/api';
import { and, eq } from '@tally/db';
import { createTestDatabaseUrl, testDialects } from '@tally/db/testing';
import { startStripeEmulator, type StripeEmulator } from '@tally/stripe-emulator';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { newId } from '../../../packages/api/src/ids';
import { insertMeter } from '../../../packages/api/test/usage-helpers';
import { usageCommand } from '../src/cli/usage';
import { cliEnv, runTally, spawnTally, withCliDatabase } from './cli-harness';

vi.setConfig({ testTimeout: 120_000 });

const PERIOD = previousPeriod(periodOf(new Date()));
const CURRENT = periodOf(new Date());
const STRIPE_KEY = 'sk_test_cli_usage_close_0001';

describe.each(testDialects)('pnpm tally usage close-period ($name)', ({ name: dialect }) => {
  let database: { url: string; drop(): Promise<void> };
  let emulator: StripeEmulator;
  let stripe: Stripe;
  let workspace: { workspaceId: string; slug: string };
  let customers: string[];
  /** The server's environment with the emulator as its Stripe. */
  let stripeEnv: Record<string, string>;
  const tally = (args: string[], env: Record<string, string> = stripeEnv) => runTally(['usage', 'close-period', ...args], { url: database.url, env });

  beforeAll(async () => {
    database = await createTestDatabaseUrl(dialect);
    emulator = await startStripeEmulator({ port: 0, statePath: null });
    const api = new URL(emulator.url);
    stripe = new Stripe(STRIPE_KEY, { host: api.hostname, port: Number(api.port), protocol: 'http', maxNetworkRetries: 0 });
    stripeEnv = { NODE_ENV: 'test', STRIPE_SECRET_KEY: STRIPE_KEY, STRIPE_WEBHOOK_SECRET: 'whsec_cli_usage_tests_only', STRIPE_API_BASE: emulator.url };
    const ws = await runTally(['workspace', 'create', '--name', 'Voice Co', '--admin-email', 'ops@voice.test', '--json'], { url: database.url });
    expect(ws.code).toBe(0);
    const parsed = JSON.parse(ws.stdout) as { workspaceId: string; slug: string };
    workspace = { workspaceId: parsed.workspaceId, slug: parsed.slug };
    customers = [newId(), newId(), newId()];
    await withCliDatabase(database.url, async (db) => {
      await insertMeter(db, workspace.workspaceId, { key: 'stt_words', displayName: 'Speech-to-text', unit: 'word' });
      for (const [i, id] of customers.entries()) await db.q.insert(db.t.customers).values({ id, workspaceId: workspace.workspaceId, name: `Customer ${i}`, email: `c${i}@voice.test` });
      const r = await recordUsage({
        db,
        workspaceId: workspace.workspaceId,
        events: customers.map((customerId, i) => ({ customerId, meter: 'stt_words', quantity: 1000 * (i + 1), occurredAt: `${PERIOD}-10T12:00:00Z`, idempotencyKey: `cli-${i}` })),
      });
      expect(r.accepted).toBe(3);
    });
  });
  afterAll(async () => {
    await emulator.close();
    await database.drop();
  });

  const state = () =>
    withCliDatabase(database.url, async (db) => ({
      periods: await db.q.select().from(db.t.usagePeriods),
      invoices: await db.q.select().from(db.t.usageInvoices).where(and(eq(db.t.usageInvoices.workspaceId, workspace.workspaceId), eq(db.t.usageInvoices.period, PERIOD))),
    }));

  it('bad flags exit 1 with one clear line and change nothing', async () => {
    const { end } = periodBounds(CURRENT);
    const cases: Array<[string[], RegExp]> = [
      [['--period', '2026-13'], /^tally: --period must be a month written YYYY-MM, e\.g\. \d{4}-\d{2} \(got "2026-13"\)\n$/],
      [['--period', 'last'], /^tally: --period must be a month written YYYY-MM/],
      [['--period', CURRENT], new RegExp(`^tally: --period ${CURRENT} has not ended yet \\(it ends ${end.toISOString().replace(/\./g, '\\.')}\\); only an ended month can be closed\\n$`)],
      [['--workspace', 'nope'], /^tally: No workspace "nope" \(give its id or slug; see pnpm tally workspace list\)\n$/],
      [['--frobnicate'], /error: unknown option '--frobnicate'/],
      [['--period'], /error: option '--period <YYYY-MM>' argument missing/],
    ];
    for (const [args, stderr] of cases) {
      const run = await tally(args);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr).toMatch(stderr);
      expect(run.stdout).toBe('');
    }
    expect(await state()).toEqual({ periods: [], invoices: [] });
  });

  it('--dry-run --json shows what would happen, writes nothing and calls no Stripe (not even configured)', async () => {
    const run = await tally(['--dry-run', '--json', '--workspace', workspace.slug], {});
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      period: PERIOD,
      dryRun: true,
      workspaces: [
        {
          slug: workspace.slug,
          workspaceId: workspace.workspaceId,
          period: PERIOD,
          currency: 'usd',
          customers: 3,
          invoicesCreated: 3,
          invoicesExisting: 0,
          issued: 3,
          alreadyIssued: 0,
          failed: 0,
          empty: 0,
          totalMinor: 600,
          dryRun: true,
        },
      ],
    });
    expect(await state()).toEqual({ periods: [], invoices: [] });
    expect((await stripe.invoices.list()).data).toEqual([]);
  });

  it('draws a progress bar on a terminal (stderr), none otherwise', async () => {
    let drawn = '';
    const tty = Object.assign(
      new Writable({
        write(chunk: Buffer, _enc, done) {
          drawn += chunk.toString();
          done();
        },
      }),
      { isTTY: true, columns: 100 },
    );
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(`ERR ${l}`), readStdin: async () => '', env: cliEnv(database.url) };
    await usageCommand(io, { progressStream: tty }).exitOverride().parseAsync(['node', 'usage', 'close-period', '--dry-run', '--workspace', workspace.slug], { from: 'node' });
    expect(drawn).toMatch(new RegExp(`${workspace.slug} customers +\\[.+\\] 3/3`));
    expect(out.join('\n')).toMatch(/^voice-co: \d{4}-\d{2} \(dry run, nothing changed\): 3 customers to invoice, would create 3 usage invoices \(0 exist\), would issue 3 on Stripe \(0 issued before\), 0 empty; total \$6\.00$/);
  });

  it('closes the period and issues one Stripe invoice per customer (spawned, as an operator runs it); a rerun --json creates and sends nothing', async () => {
    const run = await spawnTally(['usage', 'close-period', '--workspace', workspace.workspaceId], { url: database.url, env: stripeEnv });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`voice-co: ${PERIOD} closed: 3 customers invoiced, 3 usage invoices created (0 existed), 3 issued on Stripe (0 before), 0 failed, 0 empty; total $6.00\n`);
    const after = await state();
    expect(after.periods).toMatchObject([{ workspaceId: workspace.workspaceId, period: PERIOD, status: 'closed' }]);
    expect(after.invoices.map((i) => i.status)).toEqual(['issued', 'issued', 'issued']);
    const stripeInvoices = (await stripe.invoices.list({ limit: 100 })).data;
    expect(stripeInvoices.map((i) => i.total).sort()).toEqual([100, 200, 300]);
    expect(new Set(stripeInvoices.map((i) => i.metadata?.tally_customer_id))).toEqual(new Set(customers));

    const again = await tally(['--json']);
    expect(again.code).toBe(0);
    const parsed = JSON.parse(again.stdout) as { workspaces: Array<{ slug: string; invoicesCreated: number; issued: number; alreadyIssued: number }> };
    expect(parsed.workspaces.find((w) => w.slug === workspace.slug)).toMatchObject({ invoicesCreated: 0, issued: 0, alreadyIssued: 3 });
    expect((await stripe.invoices.list({ limit: 100 })).data).toHaveLength(3);
  });

  it('a deployment without Stripe: the period closes, the invoices fail with a clear error, exit 1 after the summary; a later run with Stripe issues them', async () => {
    const ws = await runTally(['workspace', 'create', '--name', 'No Stripe', '--admin-email', 'ops@nostripe.test', '--json'], { url: database.url });
    const other = JSON.parse(ws.stdout) as { workspaceId: string; slug: string };
    const id = newId();
    await withCliDatabase(database.url, async (db) => {
      await insertMeter(db, other.workspaceId, { key: 'stt_words' });
      await db.q.insert(db.t.customers).values({ id, workspaceId: other.workspaceId, name: 'Lonely', email: 'lonely@nostripe.test' });
      await recordUsage({ db, workspaceId: other.workspaceId, events: [{ customerId: id, meter: 'stt_words', quantity: 10, occurredAt: `${PERIOD}-02T00:00:00Z`, idempotencyKey: 'x' }] });
    });
    // Production with no STRIPE_SECRET_KEY: no deployment Stripe at all.
    const production = { BETTER_AUTH_SECRET: 'b'.repeat(40), TALLY_SECRET_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64') };
    const run = await tally(['--workspace', other.slug], production);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^no-stripe: \d{4}-\d{2} closed: 1 customer invoiced, 1 usage invoice created \(0 existed\), 0 issued on Stripe \(0 before\), 1 failed, 0 empty; total \$1\.00\n$/);
    expect(run.stderr).toBe("tally: 1 usage invoice could not be issued on Stripe (each row's lastError says why; run close-period again to retry)\n");
    await withCliDatabase(database.url, async (db) => {
      const [row] = await db.q.select().from(db.t.usageInvoices).where(eq(db.t.usageInvoices.customerId, id));
      expect(row).toMatchObject({ status: 'failed', stripeInvoiceId: null });
      expect(row!.lastError).toMatch(/^Stripe is not usable for this workspace: Stripe is not configured for this workspace/);
    });
    const retried = await tally(['--workspace', other.slug, '--json']);
    expect(retried.code).toBe(0);
    expect(JSON.parse(retried.stdout).workspaces[0]).toMatchObject({ invoicesCreated: 0, invoicesExisting: 1, issued: 1, failed: 0 });
  });
});
