/**
 * `pnpm tally events list | replay | backfill` (issue 10 items 2 and 4) through the CLI entry
 * point (one spawned process, as an operator runs it; the rest in process) on a fresh database of
 * each dialect, against an in-process Stripe emulator: bad flags exit 1 with one `tally:` line,
 * list as a table and JSON with filters, replay of a failed event by id (dry run changes nothing;
 * the real one credits once; again: unchanged), replay by status, and backfill of events made while
 * the webhook endpoint was disabled (processed once; a second backfill finds nothing).
 */
import { and, eq } from '@tally/db';
import { createTestDatabaseUrl, testDialects } from '@tally/db/testing';
import { startStripeEmulator, type StripeEmulator } from '@tally/stripe-emulator';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { newId } from '../../../packages/api/src/ids';
import { parseSince } from '../src/cli/events';
import { runTally, spawnTally, withCliDatabase } from './cli-harness';
import { checkoutSession, stripeEvent } from './harness';

vi.setConfig({ testTimeout: 120_000 });

const STRIPE_KEY = 'sk_test_cli_events_0001';

describe('parseSince', () => {
  const now = new Date('2026-05-10T12:00:00Z');
  it('reads durations and ISO dates, and refuses anything else', () => {
    expect(parseSince('30m', now).toISOString()).toBe('2026-05-10T11:30:00.000Z');
    expect(parseSince('24h', now).toISOString()).toBe('2026-05-09T12:00:00.000Z');
    expect(parseSince('7d', now).toISOString()).toBe('2026-05-03T12:00:00.000Z');
    expect(parseSince('2w', now).toISOString()).toBe('2026-04-26T12:00:00.000Z');
    expect(parseSince('2026-05-01', now).toISOString()).toBe('2026-05-01T00:00:00.000Z');
    expect(parseSince('2026-05-01T08:30:00Z', now).toISOString()).toBe('2026-05-01T08:30:00.000Z');
    for (const bad of ['0h', '24', 'h', '1.5h', '-2d', '24 hours', '2026-13-45', 'yesterday', '']) expect(() => parseSince(bad, now)).toThrow(/--since must be a duration such as 30m, 24h, 7d or 2w/);
  });
});

describe.each(testDialects)('pnpm tally events ($name)', ({ name: dialect }) => {
  let database: { url: string; drop(): Promise<void> };
  let emulator: StripeEmulator;
  let stripe: Stripe;
  let workspace: { workspaceId: string; slug: string };
  let stripeEnv: Record<string, string>;
  const tally = (args: string[], env: Record<string, string> = stripeEnv) => runTally(['events', ...args], { url: database.url, env });

  beforeAll(async () => {
    database = await createTestDatabaseUrl(dialect);
    emulator = await startStripeEmulator({ port: 0, statePath: null });
    const api = new URL(emulator.url);
    stripe = new Stripe(STRIPE_KEY, { host: api.hostname, port: Number(api.port), protocol: 'http', maxNetworkRetries: 0 });
    stripeEnv = { NODE_ENV: 'test', STRIPE_SECRET_KEY: STRIPE_KEY, STRIPE_WEBHOOK_SECRET: 'whsec_cli_events_tests_only', STRIPE_API_BASE: emulator.url };
    const ws = await runTally(['workspace', 'create', '--name', 'Events Co', '--admin-email', 'ops@events.test', '--json'], { url: database.url });
    expect(ws.code).toBe(0);
    workspace = JSON.parse(ws.stdout) as { workspaceId: string; slug: string };
  });
  afterAll(async () => {
    await emulator.close();
    await database.drop();
  });

  /** A pending top-up of `amountMinor` and its Checkout Session id (not on Stripe). */
  async function pendingTopup(amountMinor: number, sessionId = `cs_test_${newId().replace(/-/g, '')}`) {
    const customerId = newId();
    const topupId = newId();
    await withCliDatabase(database.url, async (db) => {
      await db.q.insert(db.t.customers).values({ id: customerId, workspaceId: workspace.workspaceId, name: 'C', email: `c-${customerId}@events.test` });
      await db.q.insert(db.t.topups).values({ id: topupId, workspaceId: workspace.workspaceId, customerId, amountMinor, currency: 'usd', status: 'pending', stripeCheckoutSessionId: sessionId });
    });
    return { customerId, topupId, sessionId };
  }
  const ledgerOf = (customerId: string) => withCliDatabase(database.url, (db) => db.q.select().from(db.t.ledgerEntries).where(eq(db.t.ledgerEntries.customerId, customerId)));
  const eventRow = (id: string) => withCliDatabase(database.url, async (db) => (await db.q.select().from(db.t.stripeEvents).where(eq(db.t.stripeEvents.id, id)))[0]);

  let failed: { eventId: string; customerId: string; topupId: string };
  let processedId: string;

  it('seeds the log: a failed checkout.session.completed (a handler threw), a processed and an ignored event', async () => {
    const topup = await pendingTopup(800);
    const event = stripeEvent('checkout.session.completed', checkoutSession({ id: topup.sessionId, client_reference_id: topup.topupId, metadata: { tally_topup_id: topup.topupId }, amount_total: 800 }));
    const other = stripeEvent('customer.created', { id: 'cus_cli', object: 'customer' });
    const third = stripeEvent('invoice.paid', { id: 'in_cli', object: 'invoice' });
    const at = new Date(Date.now() - 60_000);
    await withCliDatabase(database.url, async (db) => {
      const row = (e: { id: string; type: string }, status: 'failed' | 'processed' | 'ignored', extra: Record<string, unknown> = {}) => ({
        scope: 'deployment',
        id: e.id,
        type: e.type,
        livemode: false,
        stripeCreatedAt: at,
        payload: JSON.stringify(e),
        status,
        attempts: 1,
        workspaceId: status === 'processed' ? workspace.workspaceId : null,
        receivedAt: at,
        updatedAt: at,
        ...extra,
      });
      await db.q.insert(db.t.stripeEvents).values([
        row(event, 'failed', { lastError: 'database briefly unavailable', nextAttemptAt: new Date(Date.now() + 600_000), workspaceId: workspace.workspaceId }),
        row(other, 'ignored', { outcome: 'Event type customer.created is not handled' }),
        row(third, 'processed', { outcome: 'invoice mirrored' }),
      ]);
    });
    failed = { eventId: event.id, customerId: topup.customerId, topupId: topup.topupId };
    processedId = third.id;
  });

  it('bad flags exit 1 with one clear line and change nothing', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['list', '--status', 'nope'], /^tally: --status must be one of received, processed, ignored, failed, anomaly, dead \(got "nope"\)\n$/],
      [['list', '--since', '5x'], /^tally: --since must be a duration such as 30m, 24h, 7d or 2w, or an ISO date such as 2026-05-01 \(got "5x"\)\n$/],
      [['list', '--limit', '0'], /^tally: --limit must be a whole number from 1 to 1000 \(got "0"\)\n$/],
      [['list', '--type', 'Not A Type'], /^tally: --type must be a Stripe event type such as checkout\.session\.completed/],
      [['list', '--workspace', 'nope'], /^tally: No workspace "nope" \(give its id or slug; see pnpm tally workspace list\)\n$/],
      [['replay'], /^tally: Give either --event-id evt_\.\.\. or --status failed\|dead\|received\n$/],
      [['replay', '--event-id', 'evt_1', '--status', 'failed'], /^tally: Give either --event-id/],
      [['replay', '--event-id', 'evt_1', '--since', '1h'], /^tally: --since goes with --status, not --event-id\n$/],
      [['replay', '--status', 'failed', '--scope', 'deployment'], /^tally: --scope goes with --event-id, not --status\n$/],
      [['replay', '--status', 'processed'], /^tally: --status must be one of failed, dead, received \(got "processed"\)\n$/],
      [['replay', '--event-id', 'not-an-event'], /^tally: Event id must have Stripe's shape evt_/],
      [['replay', '--event-id', 'evt_missing123'], /^tally: Stripe event evt_missing123 is not in the event log\n$/],
      [['backfill'], /error: required option '--since <duration or date>' not specified/],
      [['backfill', '--since', '31d'], /^tally: --since 31d reaches back more than 30 days: Stripe's Events API keeps only the last 30 days of events\n$/],
      [['backfill', '--since', '1h', '--workspace', 'nope'], /^tally: No workspace "nope"/],
      [['list', '--frobnicate'], /error: unknown option '--frobnicate'/],
    ];
    for (const [args, stderr] of cases) {
      const r = await tally(args);
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 1, stdout: '' });
      expect(r.stderr).toMatch(stderr);
    }
    expect((await eventRow(failed.eventId))?.status).toBe('failed');
    expect(await ledgerOf(failed.customerId)).toEqual([]);
  });

  it('list: a table newest first, filters, and --json (a spawned process, as an operator runs it)', async () => {
    const all = await tally(['list']);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('Received (UTC)');
    for (const id of [failed.eventId, processedId]) expect(all.stdout).toContain(id);
    expect(all.stdout).toContain('database briefly unavailable (retry ');
    expect(all.stdout).toMatch(/3 events\.\n$/);

    const onlyFailed = await spawnTally(['events', 'list', '--status', 'failed', '--since', '24h', '--json'], { url: database.url });
    expect(onlyFailed).toMatchObject({ code: 0, stderr: '' });
    const rows = JSON.parse(onlyFailed.stdout) as Array<{ id: string; status: string; scope: string; lastError: string; payloadPruned: boolean }>;
    expect(rows).toEqual([expect.objectContaining({ id: failed.eventId, status: 'failed', scope: 'deployment', lastError: 'database briefly unavailable', payloadPruned: false })]);

    const byWorkspace = JSON.parse((await tally(['list', '--workspace', workspace.slug, '--json'])).stdout) as Array<{ id: string }>;
    expect(byWorkspace.map((r) => r.id).sort()).toEqual([failed.eventId, processedId].sort());
    const byType = JSON.parse((await tally(['list', '--type', 'customer.created', '--json'])).stdout) as Array<{ type: string }>;
    expect(byType.map((r) => r.type)).toEqual(['customer.created']);
    expect((await tally(['list', '--since', '2030-01-01'])).stdout).toBe('No events match.\n');
    expect(JSON.parse((await tally(['list', '--limit', '1', '--json'])).stdout)).toHaveLength(1);
  });

  it('replay by id: the dry run says what it would do and changes nothing; the replay credits once; again: unchanged', async () => {
    const dry = await tally(['replay', '--event-id', failed.eventId, '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    const dryOut = JSON.parse(dry.stdout) as { dryRun: boolean; results: Array<{ action: string; detail: string }> };
    expect(dryOut.dryRun).toBe(true);
    expect(dryOut.results).toEqual([expect.objectContaining({ eventId: failed.eventId, action: 'would_run', statusBefore: 'failed', statusAfter: 'failed' })]);
    expect(dryOut.results[0]!.detail).toContain(`top-up ${failed.topupId} pending, would be credited 800 usd minor units`);
    expect(await eventRow(failed.eventId)).toMatchObject({ status: 'failed', attempts: 1 });
    expect(await ledgerOf(failed.customerId)).toEqual([]);

    const real = await tally(['replay', '--event-id', failed.eventId]);
    expect(real.code).toBe(0);
    expect(real.stdout).toContain(failed.eventId);
    expect(real.stdout).toMatch(/Replayed 1 event: 1 processed\.\n$/);
    expect(await eventRow(failed.eventId)).toMatchObject({ status: 'processed' });
    expect((await ledgerOf(failed.customerId)).map((l) => [l.amountMinor, l.reference])).toEqual([[800, `topup:${failed.topupId}`]]);

    const again = JSON.parse((await tally(['replay', '--event-id', failed.eventId, '--json'])).stdout) as { results: Array<{ action: string }>; counts: Record<string, number> };
    expect(again.counts).toEqual({ unchanged: 1 });
    expect(await ledgerOf(failed.customerId)).toHaveLength(1);
  });

  it('replay by status: nothing left failed; a new failed event is replayed, dry run first', async () => {
    expect((await tally(['replay', '--status', 'failed'])).stdout).toBe('No events match; nothing replayed.\n');
    const topup = await pendingTopup(250);
    const event = stripeEvent('checkout.session.completed', checkoutSession({ id: topup.sessionId, client_reference_id: topup.topupId, metadata: { tally_topup_id: topup.topupId }, amount_total: 250 }));
    await withCliDatabase(database.url, (db) =>
      db.q.insert(db.t.stripeEvents).values({ scope: 'deployment', id: event.id, type: event.type, livemode: false, stripeCreatedAt: new Date(), payload: JSON.stringify(event), status: 'failed', attempts: 1, lastError: 'boom', nextAttemptAt: new Date() }),
    );
    const dry = await tally(['replay', '--status', 'failed', '--since', '1h', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/Dry run, nothing changed: 1 event: 1 would run\.\n$/);
    expect(await ledgerOf(topup.customerId)).toEqual([]);
    const real = JSON.parse((await tally(['replay', '--status', 'failed', '--json'])).stdout) as { counts: Record<string, number> };
    expect(real.counts).toEqual({ processed: 1 });
    expect(await ledgerOf(topup.customerId)).toHaveLength(1);
  });

  it('backfill: events made while the endpoint was disabled are found and processed once; a second backfill finds nothing', async () => {
    const endpoint = await stripe.webhookEndpoints.create({ url: 'http://127.0.0.1:9/api/stripe/webhook', enabled_events: ['*'] });
    await stripe.webhookEndpoints.update(endpoint.id, { disabled: true });
    const topup = await pendingTopup(1_200, 'pending');
    const session = await stripe.checkout.sessions.create({
      mode: 'payment',
      client_reference_id: topup.topupId,
      metadata: { tally_topup_id: topup.topupId },
      line_items: [{ quantity: 1, price_data: { currency: 'usd', unit_amount: 1_200, product_data: { name: 'Top-up' } } }],
      success_url: 'http://127.0.0.1/done',
    });
    await withCliDatabase(database.url, (db) => db.q.update(db.t.topups).set({ stripeCheckoutSessionId: session.id }).where(eq(db.t.topups.id, topup.topupId)));
    expect(await emulator.completeCheckoutSession(session.id)).toEqual({ ok: true });
    await emulator.waitForIdle();
    const onStripe = emulator.events().length;
    expect(emulator.deliveries()).toEqual([]);

    const dry = await tally(['backfill', '--since', '72h', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`deployment: ${onStripe} events on Stripe since `);
    expect(dry.stdout).toContain(`${onStripe} missing from the log (dry run: nothing stored)`);
    expect(dry.stdout).toContain('checkout.session.completed');
    expect(await ledgerOf(topup.customerId)).toEqual([]);

    const real = await tally(['backfill', '--since', '72h', '--json']);
    expect(real.code).toBe(0);
    const summary = JSON.parse(real.stdout) as { dryRun: boolean; accounts: Array<{ scope: string; scanned: number; missing: number; processed: number; ignored: number; failed: number }> };
    expect(summary.dryRun).toBe(false);
    expect(summary.accounts).toEqual([expect.objectContaining({ scope: 'deployment', scanned: onStripe, missing: onStripe, failed: 0 })]);
    expect(summary.accounts[0]!.processed).toBeGreaterThanOrEqual(1);
    expect((await ledgerOf(topup.customerId)).map((l) => [l.amountMinor, l.reference])).toEqual([[1_200, `topup:${topup.topupId}`]]);
    const completed = await withCliDatabase(database.url, (db) =>
      db.q.select().from(db.t.stripeEvents).where(and(eq(db.t.stripeEvents.scope, 'deployment'), eq(db.t.stripeEvents.type, 'checkout.session.completed'), eq(db.t.stripeEvents.workspaceId, workspace.workspaceId))),
    );
    expect(completed.some((r) => r.status === 'processed' && JSON.parse(r.payload).data.object.id === session.id)).toBe(true);

    const again = await tally(['backfill', '--since', '72h']);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`deployment: ${onStripe} events on Stripe since ${again.stdout.match(/since (\S+),/)![1]}, 0 missing from the log: 0 processed, 0 ignored, 0 anomaly, 0 failed\n`);
    expect(await ledgerOf(topup.customerId)).toHaveLength(1);
  });
});
