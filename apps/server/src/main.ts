/**
 * Tally's server process (dev: `tsx watch src/main.ts`; production: `node dist/main.js`):
 * validate config, open and migrate the database, seed demo data where configured, serve.
 * Starting never waits for Stripe: the one call, seeding the demo plans into the emulator in
 * development, runs in the background after the server listens and only warns when it fails.
 * A start that cannot succeed (invalid config, database
 * unreachable or failing to migrate, port taken) prints one line to stderr and exits 1, so
 * a supervisor sees the failure and restarts.
 */
import { DEMO_SIGN_INS, ensurePrimaryWorkspace, runningBus, findDemoCustomerId, pruneWindowCounters, seedDemo, seedDemoMeters, seedDemoPlans, seedDemoUsage, seedPlansFromPriceMap, type Logger, type StripeAccounts } from '@tally/api';
import { createServer, type RequestListener, type Server } from 'node:http';
import { DatabaseStartError, openDatabase, type Database } from '@tally/db';
import Stripe from 'stripe';
import { EMULATOR_DEV_WEBHOOK_SECRET } from '@tally/stripe-emulator/defaults';
import { createApp } from './app';
import { createReadiness, startingApp } from './http/health';
import { billingStreamSubscribers } from './http/metrics';
import { createServerAuth } from './auth';
import { ConfigError, loadConfig, loadDotEnvFile, type ServerConfig } from './config';
import { createLogger } from './logger';
import { startStripeMeterWorker } from './jobs/stripe-meter-worker';
import { startUsageCloseScheduler } from './jobs/usage-close';
import { startEventRetention } from './jobs/event-retention';
import { startEventSweeper } from './jobs/event-sweeper';
import { startMailer } from './mail';
import { startBillingStream } from './stream/start';
import { createServerStripeAccounts } from './stripe-client';

async function main() {
  let config: ServerConfig;
  try {
    loadDotEnvFile();
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger({ environment: config.nodeEnv });
  // Listen first, so /readyz can say "migrating" (503) while migrations run; every other path
  // answers 503 until the app is ready.
  const readiness = createReadiness();
  let handler: RequestListener = startingApp(readiness);
  let server: Server;
  try {
    server = await listen(createServer((req, res) => handler(req, res)), config.port, config.host);
  } catch (err) {
    // A taken port must not look like a running server: a supervisor restarts on exit 1.
    console.error(`Cannot listen on ${config.host}:${config.port}: ${describeListenError(err)}`);
    process.exit(1);
  }
  readiness.markMigrating();
  // Opens, checks and migrates; failure is one line naming the redacted DATABASE_URL (below).
  const db = await openDatabase(config.databaseUrl, { logger, poolSize: config.databasePoolSize });
  // Production seeds generated demo passwords (printed below, once) and rotates published ones.
  const seeded = config.seedDemo ? await seedDemo({ db, currency: config.api.topup.currency, environment: config.nodeEnv }) : null;
  const primaryId = seeded?.workspaceId ?? (await ensurePrimaryWorkspace({ db, currency: config.api.topup.currency })).id;
  // Demo meters (stt_words, tts_words, api_calls): no Stripe needed, idempotent.
  if (seeded) await seedDemoMeters({ db, workspaceId: primaryId });
  // STRIPE_PRODUCT_PRICE_MAP (validated in config.ts): the primary workspace's plans.
  if (config.priceMap.length > 0) await seedPlansFromPriceMap({ db, workspaceId: primaryId, entries: config.priceMap });
  const stripeAccounts = createServerStripeAccounts(config);
  // The live billing stream (issue 10): a Redis bus across processes, in-process in development, or none (503); sets the publish sink.
  const billingStream = startBillingStream({ config: config.billingStream, logger });
  const running = runningBus(billingStream.stream);
  if ('bus' in running) running.bus.onSubscriberCountChange((n) => billingStreamSubscribers.set(n));
  const services = { db, stripeAccounts, config: config.api, logger, billingStream: billingStream.stream };
  const auth = createServerAuth({ db, config, logger });
  // The outbox worker (SMTP, or the console in development); stopped before the database closes.
  const mailer = startMailer({ db, config, logger });
  // Usage of stripe_meter meters, forwarded to Stripe Billing Meters from the outbox (issue 9).
  const meterWorker = startStripeMeterWorker({ db, stripeAccounts, logger });
  // Closes each ended usage period once across processes (TALLY_USAGE_CLOSE_SCHEDULE; off = never by itself).
  const usageClose = config.usageCloseSchedule ? startUsageCloseScheduler({ db, stripeAccounts, logger, schedule: config.usageCloseSchedule }) : null;
  // Stripe events left `received` by a crash, and `failed` ones due for a retry (backoff, then `dead`); once at a time across processes.
  const eventSweeper = startEventSweeper({ db, stripeAccounts, logger, config: { publicUrl: config.publicUrl, graceDays: config.api.dunningGraceDays, webUrl: config.api.webUrl } });
  // Daily: payloads of processed and ignored events older than TALLY_EVENT_RETENTION_DAYS.
  const eventRetention = startEventRetention({ db, logger, retentionDays: config.eventRetentionDays });
  const app = createApp({ services, auth, webDistDir: config.webDistDir, trustProxy: config.trustProxy, publicUrl: config.publicUrl, readiness, metricsToken: config.metricsToken, accessLog: true });
  const announce = () => {
    const lines = [
      '',
      `  Tally is running: open ${config.webUrl}`,
      `  API ${config.publicUrl}  ·  database ${db.label}  ·  Stripe ${config.api.stripeMode}${config.stripe.apiBase ? ` (${config.stripe.apiBase.origin})` : ''}`,
      billingStream.announce,
    ];
    if (seeded) {
      // Parsed by e2e/src/stack.ts: keep the `Demo <role>: <email> / <password>` shape.
      for (const [role, label] of [['admin', 'Demo admin:   '], ['customer', 'Demo customer:']] as const) {
        const signIn = seeded.signIns[role];
        lines.push(
          signIn
            ? `  ${label} ${signIn.email} / ${signIn.password}${config.nodeEnv === 'production' ? '  (generated; shown only now)' : ''}`
            : `  ${label} ${DEMO_SIGN_INS[role].email} (password generated and printed at an earlier start)`,
        );
      }
    }
    if (mailer.warning) lines.push(`  WARNING: ${mailer.warning}`);
    if (config.authSecretSource === 'ephemeral') {
      lines.push('  WARNING: BETTER_AUTH_SECRET is not set: sessions are signed with a random secret for this process only (they end on restart and are not shared across processes).');
    }
    if (config.api.stripeMode === 'emulator') {
      lines.push('  Stripe emulator: test payments only. Test card 4242 4242 4242 4242, any future date, any CVC.');
      if (config.nodeEnv === 'production') {
        // Reached only with TALLY_ALLOW_EMULATOR_IN_PRODUCTION=true (config.ts refuses otherwise).
        lines.push(
          `  WARNING: TALLY_ALLOW_EMULATOR_IN_PRODUCTION=true: a demo or test deployment; no real payments${
            config.stripe.webhookSecret === EMULATOR_DEV_WEBHOOK_SECRET ? ", and webhooks are verified with the emulator's published secret (anyone can forge them)" : ''
          }.`,
        );
      }
    }
    if (config.api.stripeMode === 'none') {
      lines.push('  Stripe: no STRIPE_SECRET_KEY, so only workspaces with their own keys (Settings -> Stripe) take payments; /api/stripe/webhook answers 409.');
    }
    if (!config.secretKeyring) {
      lines.push('  WARNING: TALLY_SECRET_ENCRYPTION_KEY is not set: workspaces cannot save their own Stripe keys (generate one: openssl rand -base64 32).');
    } else if (config.secretKeySource === 'development') {
      lines.push('  Workspace secrets are sealed with the published development key (TALLY_SECRET_ENCRYPTION_KEY unset; production refuses it).');
    }
    console.log(lines.join('\n') + '\n');
  };
  handler = app;
  readiness.markReady(db);
  announce();
  // Emulator mode with demo data (and no STRIPE_PRODUCT_PRICE_MAP, which names the plans
  // itself): Solo, Team and Enterprise as products and prices in the emulator, and their plans.
  const seeding =
    seeded && config.api.stripeMode === 'emulator' && config.priceMap.length === 0 ? seedDemoPlansInBackground({ db, stripeAccounts, workspaceId: primaryId, logger, seedUsage: config.nodeEnv !== 'production' }) : null;
  // Rate-limit counters of one-off IPs and emails: every window is under a day.
  const prune = setInterval(() => {
    pruneWindowCounters(db, { olderThanMs: 86_400_000 }).catch((err: unknown) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'pruning rate-limit counters failed'));
  }, 3_600_000).unref();
  const stop = () => {
    clearInterval(prune);
    seeding?.stop();
    // SSE connections never end by themselves: end the subscriptions first, or close() waits for them.
    const streamStopped = billingStream.stop();
    server.close(() => void Promise.allSettled([streamStopped, mailer.stop(), meterWorker.stop(), usageClose?.stop(), eventSweeper.stop(), eventRetention.stop()]).finally(() => void db.close().finally(() => process.exit(0))));
    setTimeout(() => process.exit(0), 5_000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** How often, and how long apart (ms), the demo plan seed tries to reach the emulator (`pnpm dev` starts it alongside the server). */
const DEMO_PLAN_SEED_ATTEMPTS = 10;
const DEMO_PLAN_SEED_RETRY_MS = 1_500;

/**
 * Seed the demo plans (`seedDemoPlans`: products and monthly prices in the emulator, plans in
 * the workspace) without holding up the start: retried while the emulator cannot be reached
 * yet, then a warning naming the cause; any other failure warns at once. Idempotent, so every
 * start runs it.
 */
function seedDemoPlansInBackground({ db, stripeAccounts, workspaceId, logger, seedUsage }: { db: Database; stripeAccounts: StripeAccounts; workspaceId: string; logger: Logger; seedUsage: boolean }) {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const attempt = async (n: number): Promise<void> => {
    if (stopped) return;
    try {
      const stripe = await stripeAccounts.forWorkspace(db, workspaceId);
      if (!stripe.configured) {
        logger.warn({ workspaceId, reason: stripe.reason }, 'Demo plans not seeded: the primary workspace has no Stripe');
        return;
      }
      const plans = await seedDemoPlans({ db, stripe: stripe.client, workspaceId });
      logger.info({ workspaceId, plans: Object.keys(plans) }, 'Demo plans ready in the Stripe emulator');
      // Demo usage for the demo customer (last month and this one) and its manual usage invoice for last month.
      // Only under `pnpm dev`: a production demo (and the e2e stack) starts with meters but no invented usage.
      const demoCustomerId = seedUsage ? await findDemoCustomerId(db, workspaceId) : null;
      if (demoCustomerId) {
        const usage = await seedDemoUsage({ db, stripeAccounts, workspaceId, customerId: demoCustomerId, logger });
        logger.info({ workspaceId, accepted: usage.accepted, invoice: usage.invoice?.outcome ?? null }, 'Demo usage ready');
      }
    } catch (err) {
      if (stopped) return;
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof Stripe.errors.StripeConnectionError && n < DEMO_PLAN_SEED_ATTEMPTS) {
        timer = setTimeout(() => void attempt(n + 1), DEMO_PLAN_SEED_RETRY_MS);
        timer.unref();
        return;
      }
      logger.warn({ workspaceId, attempts: n, err: message.slice(0, 300) }, 'Demo plans not seeded: the Stripe emulator could not be reached or refused (plans can be added on the Plans page)');
    }
  };
  void attempt(1);
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/** Resolve once `server` listens; reject with the listen error (EADDRINUSE, EACCES, ...). */
function listen(server: Server, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

const LISTEN_REASONS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available on this machine',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
};

/** `address already in use (EADDRINUSE)`: the reason in words, then Node's code. */
function describeListenError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code) return `${LISTEN_REASONS[code] ?? (err as Error).message} (${code})`;
  return err instanceof Error ? err.message : String(err);
}

void main().catch((err) => {
  // Database failures at start are one line (redacted DATABASE_URL and cause), not a stack.
  console.error(err instanceof DatabaseStartError ? err.message : err);
  process.exit(1);
});
