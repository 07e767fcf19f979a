/**
 * `pnpm stripe:trigger <event>`: runs the official Stripe CLI's `stripe trigger <event>` against
 * the emulator at `STRIPE_API_BASE` (default `http://127.0.0.1:12111`) with the dev API key, so
 * the emulator sends that event (and those Stripe sends with it) to its webhook endpoints.
 */
import { EMULATOR_DEFAULT_PORT, EMULATOR_DEV_API_KEY } from './defaults';
import { runStripeTrigger } from './stripe-cli';

const event = process.argv[2];
if (!event || process.argv.length > 3) {
  console.error('usage: pnpm stripe:trigger <event>   (e.g. checkout.session.completed; `stripe trigger --help` lists them)');
  process.exit(2);
}
const apiBase = process.env.STRIPE_API_BASE || `http://127.0.0.1:${EMULATOR_DEFAULT_PORT}`;
const result = await runStripeTrigger(event, { apiBase, apiKey: EMULATOR_DEV_API_KEY, stdio: 'inherit' });
process.exit(result.code ?? 1);
