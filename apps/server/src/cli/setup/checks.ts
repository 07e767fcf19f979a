/**
 * What `pnpm tally setup` checks before it writes a value: the database answers `select 1`,
 * Stripe accepts the key (when Stripe is reachable), Redis answers PING, and where the
 * official Stripe CLI is for `stripe listen --print-secret`. Each check has a short deadline
 * and reports in words fit for a terminal, never the secret it checked.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import Stripe from 'stripe';
import { createStripeClient } from '../../stripe-client';
import { redactRedisUrl } from '../../stream/redact';

/** Default deadline of each check, ms. */
export const CHECK_TIMEOUT_MS = 5_000;

/** What this file uses of node-postgres (`pg`). */
interface PgModule {
  Client: new (config: { connectionString: string; connectionTimeoutMillis: number; query_timeout: number }) => {
    on(event: 'error', listener: (err: Error) => void): void;
    connect(): Promise<void>;
    query(text: string): Promise<{ rows: unknown[] }>;
    end(): Promise<void>;
  };
}

export type CheckResult = { ok: true; detail: string } | { ok: false; message: string };

/** The SQLite file of a DATABASE_URL that is a path or `file:` URL (null for other kinds). */
export function sqliteFileOf(url: string): string | null {
  if (/^postgres(ql)?:\/\//.test(url) || url.startsWith('pglite:')) return null;
  return url.startsWith('file:') ? url.slice('file:'.length).replace(/^\/\//, '') : url;
}

/** The nearest directory at or above `dir` that exists. */
function existingAncestor(dir: string): string {
  let d = path.resolve(dir);
  while (!existsSync(d) && d !== path.dirname(d)) d = path.dirname(d);
  return d;
}

/**
 * Whether the server could open DATABASE_URL `url`:
 * - Postgres: connects (node-postgres, `timeoutMs` to connect) and runs `select 1`;
 * - SQLite file / `pglite:<dir>`: the file (or its nearest existing parent directory) is writable
 *   (the server creates the file and its directory at first start; nothing is created here).
 * Failures read like the server's (`describeDatabaseError`: the reason and code, the password redacted).
 */
export async function checkDatabase(url: string, { timeoutMs = CHECK_TIMEOUT_MS } = {}): Promise<CheckResult> {
  const { describeDatabaseError, redactDatabaseUrl } = await import('@tally/db');
  if (/^postgres(ql)?:\/\//.test(url)) {
    // apps/server has node-postgres but not its types (packages/db does): the little used here, typed locally.
    const pgModule = 'pg';
    const pg = ((await import(pgModule)) as { default: PgModule }).default;
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
    // A connection that ends later (after the check) must not crash the process.
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('select 1');
      const version = (await client.query('show server_version')) as { rows: { server_version?: string }[] };
      return { ok: true, detail: `connected (PostgreSQL ${version.rows[0]?.server_version?.split(' ')[0] ?? '?'})` };
    } catch (err) {
      return { ok: false, message: `cannot connect to ${redactDatabaseUrl(url)}: ${describeDatabaseError(err, { url })}` };
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  const target = url.startsWith('pglite:') ? url.slice('pglite:'.length).replace(/^\/\//, '') : sqliteFileOf(url)!;
  if (target === '' || target === 'memory' || target === ':memory:') return { ok: true, detail: 'in memory (data is lost when the process ends)' };
  const file = path.resolve(target);
  try {
    if (existsSync(file)) {
      if (statSync(file).isDirectory() && !url.startsWith('pglite:')) return { ok: false, message: `${file} is a directory, not a SQLite file` };
      accessSync(file, constants.R_OK | constants.W_OK);
      return { ok: true, detail: 'the file exists' };
    }
    const parent = existingAncestor(path.dirname(file));
    if (!statSync(parent).isDirectory()) return { ok: false, message: `${parent} is not a directory` };
    accessSync(parent, constants.W_OK);
    return { ok: true, detail: 'the server creates it at first start' };
  } catch (err) {
    return { ok: false, message: `cannot use ${file}: ${describeDatabaseError(err)}` };
  }
}

export type StripeKeyCheck =
  | { status: 'verified'; accountId: string | null }
  | { status: 'refused'; message: string }
  | { status: 'unreachable'; message: string };

/** `text` with `secret` replaced by its first 8 characters and `****` (Stripe's own messages quote the key). */
export function maskSecret(text: string, secret: string): string {
  return secret ? text.split(secret).join(`${secret.slice(0, 8)}****`) : text;
}

/**
 * Ask Stripe whether it accepts `secretKey`: `GET /v1/account` (stripe.com/docs/api/accounts/retrieve,
 * the SDK's `accounts.retrieveCurrent()`), no retries, `timeoutMs`.
 * - answered -> `verified` (the `acct_...` id);
 * - 401/403/other 4xx -> `refused` with Stripe's message (the key masked): a wrong key;
 * - no answer, 5xx, 429 -> `unreachable` (e.g. no internet): setup warns and keeps the key.
 * `apiBase` points at a Stripe-compatible API instead (tests use the emulator).
 */
export async function checkStripeKey(secretKey: string, { timeoutMs = CHECK_TIMEOUT_MS, apiBase = null as URL | null } = {}): Promise<StripeKeyCheck> {
  try {
    const account = await createStripeClient(secretKey, apiBase).accounts.retrieveCurrent(undefined, { timeout: timeoutMs, maxNetworkRetries: 0 });
    return { status: 'verified', accountId: typeof account.id === 'string' ? account.id : null };
  } catch (err) {
    const message = maskSecret(err instanceof Error ? err.message : String(err), secretKey);
    if (err instanceof Stripe.errors.StripeConnectionError || err instanceof Stripe.errors.StripeRateLimitError) return { status: 'unreachable', message };
    if (err instanceof Stripe.errors.StripeError) {
      const status = err.statusCode ?? 0;
      if (status >= 400 && status < 500) return { status: 'refused', message };
      return { status: 'unreachable', message };
    }
    return { status: 'unreachable', message };
  }
}

export { redactRedisUrl };

/** PING Redis at `url` with ioredis: one connection attempt of at most `timeoutMs`, no retries. */
export async function checkRedis(url: string, { timeoutMs = CHECK_TIMEOUT_MS } = {}): Promise<CheckResult> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, commandTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, reconnectOnError: () => false });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const pong = await redis.ping();
    return { ok: true, detail: `answered ${pong}` };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const reason = err instanceof Error ? err.message : String(err);
    return { ok: false, message: `no answer from ${redactRedisUrl(url)}: ${maskSecret(reason, new URL(url).password)}${typeof code === 'string' && !reason.includes(code) ? ` (${code})` : ''}` };
  } finally {
    redis.disconnect();
  }
}

/**
 * The official Stripe CLI (`stripe`): the repo's `@stripe/cli` (`node_modules/.bin/stripe` at
 * the root or in apps/stripe-emulator, ENVIRONMENT.md), else a `stripe` on PATH; null if none.
 */
export function findStripeCli(repoRoot: string, envPath: string | undefined): string | null {
  const candidates = [
    path.join(repoRoot, 'node_modules', '.bin', 'stripe'),
    path.join(repoRoot, 'apps', 'stripe-emulator', 'node_modules', '.bin', 'stripe'),
    ...(envPath ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'stripe')),
  ];
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not there
    }
  }
  return null;
}

/**
 * `stripe listen --print-secret` with the official CLI: the webhook signing secret (`whsec_...`)
 * of the key's account for `stripe listen`. The key goes in `STRIPE_API_KEY` (not argv, which
 * other users can read in `ps`); telemetry off. Needs Stripe's servers.
 * @throws Error when the CLI fails, prints no `whsec_` secret, or takes longer than `timeoutMs`
 *   (its output is not included: it may quote the key).
 */
export function stripeListenSecret(cli: string, secretKey: string, { timeoutMs = 20_000, env = process.env as NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cli, ['listen', '--print-secret'], {
      env: { ...env, STRIPE_API_KEY: secretKey, STRIPE_CLI_TELEMETRY_OPTOUT: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not run ${cli}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const secret = /whsec_[A-Za-z0-9_]{8,}/.exec(stdout)?.[0];
      if (code === 0 && secret) resolve(secret);
      else reject(new Error(signal ? `stripe listen --print-secret gave no answer within ${Math.round(timeoutMs / 1000)} s` : `stripe listen --print-secret failed (exit ${code}); is Stripe reachable and the key valid?`));
    });
  });
}
