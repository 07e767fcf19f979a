/**
 * `pnpm tally events list | replay | backfill` (issue 10 item 2 and 4). Placeholder: built next.
 */
import { Command } from 'commander';
import type { CliIo } from './shared';

export function eventsCommand(_io: CliIo): Command {
  return new Command('events').description('Stripe event log: list, replay and backfill events');
}
