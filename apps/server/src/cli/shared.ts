/**
 * What every `pnpm tally <noun> <verb>` command shares: the terminal (injectable for tests),
 * the server's configuration, the database, and how failures become one line and exit 1.
 */
import type { Database } from '@tally/db';
import { ConfigError, loadConfig, type ServerConfig } from '../config';

/** A failure to report as `tally: <message>` with a non-zero exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** All of standard input, as text. */
  readStdin(): Promise<string>;
  env: NodeJS.ProcessEnv;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  async readStdin() {
    if (process.stdin.isTTY) process.stderr.write('Type the password, then press Enter and Ctrl-D:\n');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    return Buffer.concat(chunks).toString('utf8');
  },
  env: process.env,
};

/**
 * The server's configuration, validated the same way (`loadConfig`), except that the
 * production refusals about Stripe and the published secrets do not apply: operator
 * commands never call Stripe, never sign sessions and never verify webhooks.
 * @throws CliError with ConfigError's message (every invalid variable).
 */
export function loadCliConfig(env: NodeJS.ProcessEnv): ServerConfig {
  try {
    return loadConfig({ ...env, TALLY_ALLOW_EMULATOR_IN_PRODUCTION: 'true' });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
}

/**
 * The server's configuration exactly as the server reads it (`loadConfig`, production
 * refusals included), for commands that call Stripe.
 * @throws CliError with ConfigError's message (every invalid variable).
 */
export function loadStrictCliConfig(env: NodeJS.ProcessEnv): ServerConfig {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
}

/** Open and migrate DATABASE_URL as the server does, run `fn`, close. */
export async function withDatabase<T>(config: ServerConfig, fn: (db: Database) => Promise<T>): Promise<T> {
  // Loaded on use, so `--help` and usage errors answer at once.
  const { DatabaseStartError, openDatabase } = await import('@tally/db');
  let db: Database;
  try {
    db = await openDatabase(config.databaseUrl);
  } catch (err) {
    if (err instanceof DatabaseStartError) throw new CliError(err.message);
    throw err;
  }
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** A failure as the one line to print (CLI and domain `AppError`s: their message; anything else: its first line). */
export function failureLine(err: unknown): string {
  if (err instanceof CliError || (err instanceof Error && err.name === 'AppError')) return err.message;
  const message = err instanceof Error ? err.message : String(err);
  return (message.split('\n')[0] ?? '').trim() || 'unexpected error';
}
