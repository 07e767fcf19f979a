/**
 * Tally's server process (dev: `tsx watch src/main.ts`; production: `node dist/main.js`):
 * validate config, open and migrate the database, seed demo data where configured, serve.
 * Starting never calls Stripe.
 */
import { createAuth, DEMO_SIGN_INS, ensurePrimaryWorkspace, seedDemo } from '@tally/api';
import { createDatabase } from '@tally/db';
import { EMULATOR_DEV_WEBHOOK_SECRET } from '@tally/stripe-emulator/defaults';
import { createApp } from './app';
import { ConfigError, loadConfig, type ServerConfig } from './config';
import { createLogger } from './logger';
import { createStripeClient } from './stripe-client';

async function main() {
  let config: ServerConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const db = await createDatabase(config.databaseUrl);
  await db.migrate();
  const seeded = config.seedDemo ? await seedDemo({ db, currency: config.api.topup.currency }) : null;
  if (!seeded) await ensurePrimaryWorkspace({ db, currency: config.api.topup.currency });
  const stripe = createStripeClient(config.stripe);
  const logger = createLogger({ environment: config.nodeEnv });
  const services = { db, stripe, config: config.api, logger };
  const auth = createAuth({
    db,
    secret: config.authSecret,
    baseURL: config.publicUrl,
    trustedOrigins: config.api.allowedFrontendOrigins,
    adminEmails: config.api.adminEmails,
  });
  const app = createApp({ services, auth, webDistDir: config.webDistDir });
  const server = app.listen(config.port, config.host, () => {
    const lines = [
      '',
      `  Tally is running: open ${config.webUrl}`,
      `  API ${config.publicUrl}  ·  database ${db.label}  ·  Stripe ${config.api.stripeMode}${config.stripe.apiBase ? ` (${config.stripe.apiBase.origin})` : ''}`,
    ];
    if (seeded) {
      lines.push(
        `  Demo admin:    ${DEMO_SIGN_INS.admin.email} / ${DEMO_SIGN_INS.admin.password}`,
        `  Demo customer: ${DEMO_SIGN_INS.customer.email} / ${DEMO_SIGN_INS.customer.password}`,
      );
    }
    if (config.authSecretSource === 'ephemeral') {
      lines.push('  WARNING: BETTER_AUTH_SECRET is not set: sessions are signed with a random secret for this process only (they end on restart and are not shared across processes).');
    }
    if (config.api.stripeMode === 'emulator') {
      lines.push('  Stripe emulator: test payments only. Test card 4242 4242 4242 4242, any future date, any CVC.');
      if (config.nodeEnv === 'production') {
        lines.push(
          config.api.stripeWebhookSecret === EMULATOR_DEV_WEBHOOK_SECRET
            ? '  WARNING: production mode without Stripe keys: webhooks are verified with the emulator\'s public dev secret. Set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET before taking real payments.'
            : '  WARNING: production mode without STRIPE_SECRET_KEY: Stripe API calls go to the emulator. Set STRIPE_SECRET_KEY before taking real payments.',
        );
      }
    }
    console.log(lines.join('\n') + '\n');
  });
  const stop = () => {
    server.close(() => void db.close().finally(() => process.exit(0)));
    setTimeout(() => process.exit(0), 5_000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
