/**
 * A server process with the live billing stream wired as main.ts is to wire it (issue 10
 * item 1), for the two-process stream tests (`tsx test/stream-server-main.ts`): config from
 * the environment, the database migrated, the bus from `config.billingStream`, the publish sink,
 * `stream.billing` through `services.billingStream`, and `GET /api/v1/billing/stream`.
 * Test-only knobs: TEST_BILLING_STREAM_KEY (the Redis stream key), TEST_HEARTBEAT_MS.
 * Prints the same `Tally is running` line as main.ts, then the stream's announce line.
 */
import { createServer } from 'node:http';
import { ensurePrimaryWorkspace } from '@tally/api';
import { openDatabase } from '@tally/db';
import express from 'express';
import { createApp } from '../src/app';
import { createServerAuth } from '../src/auth';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { createServerStripeAccounts } from '../src/stripe-client';
import { billingStreamRoutes } from '../src/stream/sse-route';
import { startBillingStream } from '../src/stream/start';

const config = loadConfig();
const logger = createLogger({ environment: config.nodeEnv });
const db = await openDatabase(config.databaseUrl, { logger });
await ensurePrimaryWorkspace({ db, currency: config.api.topup.currency });
const stripeAccounts = createServerStripeAccounts(config);
const streamKey = process.env.TEST_BILLING_STREAM_KEY;
const started = startBillingStream({ config: config.billingStream, logger, redis: { ...(streamKey ? { streamKey } : {}), redisOptions: { retryStrategy: () => 100 } } });
const services = { db, stripeAccounts, config: config.api, logger, billingStream: started.stream };
const auth = createServerAuth({ db, config, logger });
const heartbeatMs = Number(process.env.TEST_HEARTBEAT_MS) || undefined;
const outer = express();
outer.use(billingStreamRoutes({ db, auth, stream: started.stream, logger, ...(heartbeatMs ? { heartbeatMs } : {}) }));
outer.use(createApp({ services, auth, webDistDir: null, trustProxy: config.trustProxy, publicUrl: config.publicUrl }));
const server = createServer(outer);
server.listen(config.port, config.host, () => {
  console.log(`\n  Tally is running: open ${config.webUrl}\n${started.announce}\n`);
});
const stop = () => {
  server.closeAllConnections();
  server.close(() => void started.stop().finally(() => void db.close().finally(() => process.exit(0))));
  setTimeout(() => process.exit(0), 3_000).unref();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
