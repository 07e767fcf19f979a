/**
 * The operator CLI: `pnpm tally <noun> <verb> [options]` (commander). One file per noun, each
 * exporting a `Command` built with the shared terminal `CliIo`:
 * - `admin create` (admin.ts): an admin without mail, or recovering one;
 * - `workspace create | list` (workspace.ts): workspaces on this deployment and their first admin;
 * - `workspace api-keys create | list | revoke` (api-keys.ts): workspace API keys for `/api/v1`;
 * - `secrets rotate | status` (secrets.ts): re-encrypting stored workspace secrets under a new
 *   TALLY_SECRET_ENCRYPTION_KEY;
 * - `usage close-period` (usage.ts): closing a usage period and issuing its usage invoices on
 *   Stripe, with a progress bar and a summary (resumable).
 * (Later: `events`, `setup`.) It reads the same environment as the server
 * (DATABASE_URL, TALLY_PUBLIC_URL, TALLY_SECRET_ENCRYPTION_KEY, ...) and migrates like the
 * server. Only `usage close-period` calls Stripe (through each workspace's account, with the
 * server's own configuration rules); the others never do. Failures print one line,
 * `tally: <message>`, and exit 1.
 */
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { loadDotEnvFile } from '../config';
import { adminCommand } from './admin';
import { eventsCommand } from './events';
import { secretsCommand } from './secrets';
import { setupCommand } from './setup';
import { failureLine, processIo, type CliIo } from './shared';
import { usageCommand } from './usage';
import { workspaceCommand } from './workspace';

/** Usage errors and help go through `io`, and throw instead of exiting, on every (sub)command. */
function throughIo(command: Command, io: CliIo): Command {
  command
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) });
  for (const sub of command.commands) throughIo(sub, io);
  return command;
}

export function buildProgram(io: CliIo = processIo): Command {
  const program = new Command('tally').description(
    'Tally operator commands. They read the server\'s environment (DATABASE_URL, TALLY_PUBLIC_URL, ...; see .env.example).',
  );
  program.addCommand(adminCommand(io));
  program.addCommand(workspaceCommand(io));
  program.addCommand(secretsCommand(io));
  program.addCommand(usageCommand(io));
  program.addCommand(eventsCommand(io));
  program.addCommand(setupCommand(io));
  return throughIo(program, io);
}

/** Run the CLI on `argv` (process.argv shape); resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  try {
    await buildProgram(io).parseAsync([...argv]);
    return 0;
  } catch (err) {
    // Commander has printed its own message (usage error) or the help it was asked for.
    if (err instanceof CommanderError) return err.exitCode;
    io.err(`tally: ${failureLine(err)}`);
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // The same `.env` the server reads (the environment wins over it).
  loadDotEnvFile();
  // Output piped into a reader that stops early (`| head`): end quietly, as Unix tools do.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  process.exitCode = await runCli(process.argv);
}
