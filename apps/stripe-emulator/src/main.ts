#!/usr/bin/env tsx
import { readConfig } from './config';
import { EMULATOR_DEV_API_KEY, EMULATOR_SECOND_API_KEY } from './defaults';
import { startStripeEmulator } from './index';

const read = readConfig(process.env);
if (!read.ok) {
  console.error(`stripe-emulator: invalid environment:\n${read.problems.map((problem) => `  - ${problem}`).join('\n')}`);
  process.exit(1);
}
const { config } = read;

const emulator = await startStripeEmulator({
  port: config.EMULATOR_PORT,
  host: config.EMULATOR_HOST,
  webhookEndpoints: config.EMULATOR_WEBHOOK_URLS.map((url) => ({ url, secret: config.EMULATOR_WEBHOOK_SECRET })),
  // Like Stripe: each API key has its own account (the dev key's is the default one, which the webhook URLs serve).
  accountPerKey: true,
  statePath: config.EMULATOR_STATE_FILE,
  log: (line) => console.log(`[stripe-emulator] ${line}`),
}).catch((error: unknown) => {
  console.error(`stripe-emulator: could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

console.log(`Stripe emulator listening on ${emulator.url} (test key e.g. ${EMULATOR_DEV_API_KEY})`);
console.log(`  one account per API key: ${EMULATOR_DEV_API_KEY} → ${emulator.defaultAccountId} (default), ${EMULATOR_SECOND_API_KEY} → ${emulator.accountIdForKey(EMULATOR_SECOND_API_KEY)}, ...`);
console.log(`  webhooks of the default account → ${config.EMULATOR_WEBHOOK_URLS.join(', ') || 'none'}`);
console.log(`  state: ${config.EMULATOR_STATE_FILE ?? 'memory only'}; dashboard: ${emulator.url}/_emulator`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`stripe-emulator: error while stopping: ${String(error)}`);
        process.exit(1);
      },
    );
  });
}
