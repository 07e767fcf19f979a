/**
 * `pnpm tally setup` (issue 10 item 5): configure a deployment by answering questions
 * (@inquirer/prompts) instead of hand-editing `.env`: the database, Stripe (the emulator, or
 * keys checked with Stripe), the webhook signing secret (`stripe listen --print-secret` when the
 * official Stripe CLI is installed), Redis, the public URL, and the generated secrets
 * BETTER_AUTH_SECRET and TALLY_SECRET_ENCRYPTION_KEY. It writes `<repo>/.env` (or
 * `--env-path`), keeping every other line, value and comment, atomically and with mode 0600,
 * and never prints a secret. `--yes` asks nothing (flags and defaults, for scripts).
 * The rules: setup/run.ts.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { CliError, type CliIo } from './shared';
import type { Prompter } from './setup/prompter';
import type { SetupChecks, SetupOptions } from './setup/run';

/** What tests replace: the questions and the checks against real services. */
export interface SetupCommandDeps {
  /** Ask with these (default: inquirer on the terminal, which must be a TTY). */
  prompter?: Prompter;
  checks?: Partial<SetupChecks>;
  /** The repo root (default: found above this file). */
  repoRoot?: string;
  generateSecret?: () => string;
}

/** What commander parses: SetupOptions' fields under their flag names. */
type Flags = Partial<Pick<SetupOptions, 'yes' | 'databaseUrl' | 'stripe' | 'stripeSecretKey' | 'stripeWebhookSecret' | 'redisUrl' | 'publicUrl' | 'rotateAuthSecret'>> & {
  envPath?: string;
  check: boolean;
};

export function setupCommand(io: CliIo, deps: SetupCommandDeps = {}): Command {
  return new Command('setup')
    .description('configure this deployment: write .env (database, Stripe, Redis, public URL, generated secrets), keeping its other lines')
    .option('-y, --yes', 'ask nothing: use the flags, the values already in the file, and defaults (SQLite, the emulator)')
    .option('--env-path <path>', 'file to write (default: .env at the repo root; relative to where pnpm was run, else the repo root)')
    .option('--database-url <url>', 'DATABASE_URL: a SQLite path or file: URL, or postgres://... (checked with select 1)')
    .option('--stripe <mode>', 'emulator (development) or keys (a Stripe account)')
    .option('--stripe-secret-key <key>', 'STRIPE_SECRET_KEY (sk_test_/sk_live_/rk_...; checked with Stripe when reachable). Beware: command lines are visible to other users in ps')
    .option('--stripe-webhook-secret <secret>', 'STRIPE_WEBHOOK_SECRET (whsec_...)')
    .option('--redis-url <url>', 'REDIS_URL (redis://...; pinged), or none to remove it')
    .option('--public-url <url>', 'TALLY_PUBLIC_URL, e.g. https://billing.example.com')
    .option('--rotate-auth-secret', 'generate a new BETTER_AUTH_SECRET even if one is set (signs everyone out)')
    .option('--no-check', 'write without connecting to the database, Stripe or Redis')
    .action(async (flags: Flags) => {
      const repoRoot = deps.repoRoot ?? (await import('./setup/run')).repoRootFrom(path.dirname(fileURLToPath(import.meta.url)));
      let prompter: Prompter | null = null;
      if (!flags.yes) {
        if (deps.prompter) prompter = deps.prompter;
        else if (process.stdin.isTTY && process.stdout.isTTY) prompter = (await import('./setup/prompter')).inquirerPrompter();
        else throw new CliError('setup asks questions and needs a terminal; for scripts pass --yes with flags (see pnpm tally setup --help)');
      }
      const options: SetupOptions = {
        yes: flags.yes === true,
        ...(flags.envPath !== undefined ? { envFile: flags.envPath } : {}),
        ...(flags.databaseUrl !== undefined ? { databaseUrl: flags.databaseUrl } : {}),
        ...(flags.stripe !== undefined ? { stripe: flags.stripe } : {}),
        ...(flags.stripeSecretKey !== undefined ? { stripeSecretKey: flags.stripeSecretKey } : {}),
        ...(flags.stripeWebhookSecret !== undefined ? { stripeWebhookSecret: flags.stripeWebhookSecret } : {}),
        ...(flags.redisUrl !== undefined ? { redisUrl: flags.redisUrl } : {}),
        ...(flags.publicUrl !== undefined ? { publicUrl: flags.publicUrl } : {}),
        rotateAuthSecret: flags.rotateAuthSecret === true,
        check: flags.check,
      };
      const { runSetup } = await import('./setup/run');
      await runSetup(options, {
        io,
        prompter,
        repoRoot,
        // pnpm runs the CLI in apps/server; INIT_CWD (when set) is where the operator typed the command.
        baseDir: io.env.INIT_CWD ?? repoRoot,
        ...(deps.checks ? { checks: deps.checks } : {}),
        ...(deps.generateSecret ? { generateSecret: deps.generateSecret } : {}),
      });
    });
}
