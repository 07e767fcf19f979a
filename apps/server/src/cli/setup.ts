/**
 * `pnpm tally setup` (issue 10 item 5). Placeholder: built next.
 */
import { Command } from 'commander';
import type { CliIo } from './shared';

export function setupCommand(_io: CliIo): Command {
  return new Command('setup').description('Configure this deployment: write .env (database, Stripe, Redis, secrets)');
}
