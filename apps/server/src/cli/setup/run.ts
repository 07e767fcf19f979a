/**
 * What `pnpm tally setup` does (setup.ts parses the flags): ask for (or take from flags) the
 * database, Stripe, Redis and the public URL, check each, generate the secrets that are
 * missing, and write the `.env` file, keeping everything else in it.
 *
 * Rules (the variables and their rules are config.ts's `loadConfig` and .env.example's):
 * - DATABASE_URL: a SQLite file (written as `file:<absolute path>`; a relative path is
 *   relative to the repo root) or a Postgres URL, checked with `select 1`.
 * - Stripe: the local emulator (STRIPE_SECRET_KEY / STRIPE_WEBHOOK_SECRET emptied, NODE_ENV
 *   development: a development file for `pnpm dev`), or keys (NODE_ENV production,
 *   STRIPE_API_BASE emptied): a secret or restricted key of the right shape (asked again
 *   otherwise), checked with `GET /v1/account` (refused: asked again; unreachable: kept with
 *   a warning), and its webhook signing secret, from `stripe listen --print-secret` when the
 *   official Stripe CLI is installed, or pasted.
 * - REDIS_URL (optional): pinged.
 * - TALLY_PUBLIC_URL: an http(s) origin.
 * - BETTER_AUTH_SECRET and TALLY_SECRET_ENCRYPTION_KEY: 32 random bytes, base64 (node:crypto),
 *   generated when missing. An existing BETTER_AUTH_SECRET is kept unless asked to rotate it
 *   (that signs everyone out); TALLY_SECRET_ENCRYPTION_KEY is never replaced (workspace
 *   secrets are sealed with it: rotating it is `pnpm tally secrets rotate`'s job).
 * - Before anything is written, the resulting file must pass `loadConfig` (in its NODE_ENV);
 *   failures, a check that fails (unless `check` is off) or a cancelled prompt write nothing.
 * - Secrets are never printed: prompts mask them, the summary says "set (hidden)", URLs are
 *   shown with their passwords replaced by `***`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { redactDatabaseUrl } from '@tally/db';
import { CliError, type CliIo } from '../shared';
import { checkDatabase, checkRedis, checkStripeKey, findStripeCli, redactRedisUrl, sqliteFileOf, stripeListenSecret, type CheckResult, type StripeKeyCheck } from './checks';
import { readEnvFile, updateEnvText, writeEnvFileAtomic } from './env-file';
import type { Prompter } from './prompter';

/** Shapes config.ts accepts (and Stripe issues: stripe.com/docs/keys, stripe.com/docs/webhooks#endpoint-secrets). */
export const STRIPE_KEY_SHAPE = /^(sk|rk)_(test|live)_[A-Za-z0-9_]{8,}$/;
export const STRIPE_WEBHOOK_SECRET_SHAPE = /^whsec_[A-Za-z0-9_]{8,}$/;
const STRIPE_KEY_MESSAGE = 'must look like sk_test_..., sk_live_..., rk_test_... or rk_live_... (Stripe dashboard -> Developers -> API keys)';
const WEBHOOK_SECRET_MESSAGE = 'must look like whsec_... (the webhook endpoint\'s signing secret, or what `stripe listen` prints)';

export interface SetupOptions {
  /** Accept defaults and flags; ask nothing. */
  yes: boolean;
  /** Where to write (default `<repo>/.env`); relative to `baseDir`. */
  envFile?: string;
  databaseUrl?: string;
  stripe?: 'emulator' | 'keys';
  stripeSecretKey?: string;
  stripeWebhookSecret?: string;
  /** A redis:// URL, or `none` / '' for no Redis. */
  redisUrl?: string;
  publicUrl?: string;
  /** Generate a new BETTER_AUTH_SECRET even if one is set (signs everyone out). */
  rotateAuthSecret?: boolean;
  /** Connect to the database, Stripe and Redis before writing (default true). */
  check?: boolean;
}

export interface SetupChecks {
  database(url: string): Promise<CheckResult>;
  stripeKey(secretKey: string): Promise<StripeKeyCheck>;
  redis(url: string): Promise<CheckResult>;
  /** The official Stripe CLI's path, or null. */
  stripeCli(): string | null;
  /** `stripe listen --print-secret` with that CLI. */
  listenSecret(cli: string, secretKey: string): Promise<string>;
}

export interface SetupDeps {
  io: CliIo;
  /** null: non-interactive (`--yes`). */
  prompter: Prompter | null;
  /** The repo root: default `.env`, `.env.example` template, default SQLite file. */
  repoRoot: string;
  /** Where a relative `--env-path` is resolved (default `repoRoot`). */
  baseDir?: string;
  checks?: Partial<SetupChecks>;
  /** 32 random bytes as base64 (default node:crypto). */
  generateSecret?: () => string;
}

export interface SetupResult {
  envFile: string;
  /** The variables setup set (values included: for the caller, never printed). */
  updates: Record<string, string>;
}

/** The checks against the real services (the repo's Stripe CLI, PATH from `env`). */
export function defaultChecks(repoRoot: string, env: NodeJS.ProcessEnv): SetupChecks {
  return {
    database: (url) => checkDatabase(url),
    stripeKey: (key) => checkStripeKey(key),
    redis: (url) => checkRedis(url),
    stripeCli: () => findStripeCli(repoRoot, env.PATH),
    listenSecret: (cli, key) => stripeListenSecret(cli, key, { env }),
  };
}

const isPostgres = (url: string) => /^postgres(ql)?:\/\//.test(url);

/** Why `url` is not a DATABASE_URL the server opens, or null. */
function databaseUrlProblem(url: string): string | null {
  if (url.trim() === '') return 'is empty';
  if (isPostgres(url)) {
    if (!URL.canParse(url)) return 'is not a valid URL (postgres://user:password@host:5432/database; percent-encode special characters in the password)';
    if (!new URL(url).hostname && !new URL(url).searchParams.has('host')) return 'names no host (postgres://user:password@host:5432/database)';
    return null;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith('file:')) return 'must be a SQLite path or file: URL, postgres://..., or pglite:<dir>';
  return null;
}

function redisUrlProblem(url: string): string | null {
  return /^rediss?:\/\/\S+$/.test(url) && URL.canParse(url) ? null : 'must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379';
}

/** TALLY_PUBLIC_URL as written (no trailing slash), or why not. */
function normalizePublicUrl(value: string): { url: string } | { problem: string } {
  const v = value.trim().replace(/\/+$/, '');
  if (!URL.canParse(v)) return { problem: 'must be a URL like https://billing.example.com' };
  const u = new URL(v);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { problem: 'must start with http:// or https://' };
  if (u.username || u.password || u.search || u.hash) return { problem: 'must have no user, query or fragment' };
  return { url: v };
}


const keyMode = (key: string) => `${key.startsWith('rk_') ? 'restricted' : 'secret'} key, ${key.includes('_live_') ? 'live' : 'test'} mode`;

/** Run setup; resolves once the file is written. @throws CliError (bad flags, failed checks, cancelled, invalid result): nothing written. */
export async function runSetup(opts: SetupOptions, deps: SetupDeps): Promise<SetupResult> {
  const { io, prompter, repoRoot } = deps;
  const checks: SetupChecks = { ...defaultChecks(repoRoot, io.env), ...Object.fromEntries(Object.entries(deps.checks ?? {}).filter(([, fn]) => fn !== undefined)) };
  const check = opts.check !== false;
  const generate = deps.generateSecret ?? (() => randomBytes(32).toString('base64'));
  validateFlags(opts);

  const envPath = path.resolve(deps.baseDir ?? repoRoot, opts.envFile ?? '.env');
  const file = readEnvFile(envPath, path.join(repoRoot, '.env.example'));
  const current = (key: string): string | undefined => {
    const v = file.values[key]?.trim();
    return v ? v : undefined;
  };
  const updates: Record<string, string> = {};
  const shown: [string, string][] = [];
  const set = (key: string, value: string, display: string) => {
    updates[key] = value;
    shown.push([key, display]);
  };
  const warn = (line: string) => io.err(`warning: ${line}`);
  io.out(file.existed ? `Updating ${file.path} (other lines are kept as they are).` : `Writing a new ${file.path}${file.text ? ' (from .env.example)' : ''}.`);

  try {
    // --- Database ---
    const databaseUrl = await chooseDatabase(opts, { prompter, current: current('DATABASE_URL'), repoRoot, check, checks, io });
    set('DATABASE_URL', databaseUrl.url, `${redactDatabaseUrl(databaseUrl.url)}${databaseUrl.detail ? `  (${databaseUrl.detail})` : ''}`);

    // --- Stripe ---
    const currentKey = current('STRIPE_SECRET_KEY');
    let stripeChoice = opts.stripe ?? (opts.stripeSecretKey ? 'keys' : undefined);
    if (!stripeChoice) {
      const fallback = currentKey && STRIPE_KEY_SHAPE.test(currentKey) ? 'keys' : 'emulator';
      stripeChoice = prompter
        ? await prompter.select<'emulator' | 'keys'>({
            message: 'Stripe',
            choices: [
              { value: 'emulator', name: 'The local Stripe emulator (development: test payments only, no account needed)' },
              { value: 'keys', name: 'A Stripe account: test or live keys' },
            ],
            default: fallback,
          })
        : fallback;
    }
    if (stripeChoice === 'emulator') {
      for (const key of ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET'] as const) if (current(key)) set(key, '', 'cleared (the emulator is used)');
      set('NODE_ENV', 'development', 'development (the emulator takes no real payments; run with pnpm dev)');
    } else {
      const secretKey = await chooseStripeKey(opts, { prompter, current: currentKey, check, checks, io, warn });
      set('STRIPE_SECRET_KEY', secretKey.key, `set (hidden): ${keyMode(secretKey.key)}, ${secretKey.detail}`);
      const webhookSecret = await chooseWebhookSecret(opts, { prompter, current: current('STRIPE_WEBHOOK_SECRET'), secretKey: secretKey.key, checks, io, warn });
      set('STRIPE_WEBHOOK_SECRET', webhookSecret.secret, `set (hidden): ${webhookSecret.source}`);
      if (current('STRIPE_API_BASE')) set('STRIPE_API_BASE', '', 'cleared (keys talk to Stripe itself)');
      set('NODE_ENV', 'production', 'production');
    }

    // --- Redis ---
    const redis = await chooseRedis(opts, { prompter, current: current('REDIS_URL'), check, checks, io });
    if (redis) set('REDIS_URL', redis.url, redis.url ? `${redactRedisUrl(redis.url)}  (${redis.detail})` : 'none');

    // --- Public URL ---
    const publicUrl = await choosePublicUrl(opts, { prompter, current: current('TALLY_PUBLIC_URL'), port: current('PORT') ?? '3000' });
    set('TALLY_PUBLIC_URL', publicUrl, publicUrl);

    // --- Secrets ---
    const authSecret = current('BETTER_AUTH_SECRET');
    const { DEV_AUTH_SECRET, DEV_SECRET_ENCRYPTION_KEY, loadConfig, ConfigError } = await import('../../config');
    const usableAuthSecret = authSecret !== undefined && authSecret.length >= 32 && authSecret !== DEV_AUTH_SECRET;
    let rotateAuth = opts.rotateAuthSecret === true || !usableAuthSecret;
    if (!rotateAuth && prompter) {
      rotateAuth = await prompter.confirm({ message: 'BETTER_AUTH_SECRET is set. Generate a new one? (everyone is signed out)', default: false });
    }
    if (rotateAuth) set('BETTER_AUTH_SECRET', generate(), authSecret ? 'generated a new one (hidden); existing sessions end' : 'generated (hidden)');
    else shown.push(['BETTER_AUTH_SECRET', 'kept (hidden)']);

    const sealingKey = current('TALLY_SECRET_ENCRYPTION_KEY');
    if (!sealingKey) {
      set('TALLY_SECRET_ENCRYPTION_KEY', generate(), 'generated (hidden)');
    } else {
      const { parseSecretKey } = await import('@tally/api');
      try {
        parseSecretKey(sealingKey);
      } catch {
        throw new CliError(`TALLY_SECRET_ENCRYPTION_KEY in ${file.path} is not 32 bytes as base64 or 64 hex characters; fix it by hand (setup never replaces it: workspace secrets sealed with it would be lost)`);
      }
      if (sealingKey === DEV_SECRET_ENCRYPTION_KEY) {
        warn('TALLY_SECRET_ENCRYPTION_KEY is the published development key; production refuses it. Kept: rotate it with `pnpm tally secrets rotate` (see `pnpm tally secrets --help`).');
        shown.push(['TALLY_SECRET_ENCRYPTION_KEY', 'kept (the published development key)']);
      } else {
        shown.push(['TALLY_SECRET_ENCRYPTION_KEY', 'kept (hidden; rotate with pnpm tally secrets rotate)']);
      }
    }

    // --- Check the whole file as the server will read it, then write ---
    let text: string;
    try {
      text = updateEnvText(file.text, updates);
    } catch (err) {
      throw new CliError(`${err instanceof Error ? err.message : String(err)}; nothing written`);
    }
    const { parse } = await import('dotenv');
    try {
      loadConfig({ ...parse(text) }, repoRoot);
    } catch (err) {
      if (err instanceof ConfigError) throw new CliError(`the server would not start with this file; nothing written.\n${err.message}`);
      throw err;
    }
    try {
      writeEnvFileAtomic(file.path, text);
    } catch (err) {
      throw new CliError(`cannot write ${file.path}: ${err instanceof Error ? err.message : String(err)}`);
    }
  } catch (err) {
    if (err instanceof Error && err.name === 'ExitPromptError') throw new CliError('setup cancelled; nothing written');
    throw err;
  }

  const width = Math.max(...shown.map(([k]) => k.length));
  io.out(`Wrote ${file.path} (mode 0600):`);
  for (const [key, display] of shown) io.out(`  ${key.padEnd(width)}  ${display}`);
  if (updates.NODE_ENV === 'production') {
    io.out(`Next: pnpm build && pnpm start. Stripe sends events to ${updates.TALLY_PUBLIC_URL}/api/stripe/webhook (a webhook endpoint in the dashboard, or stripe listen --forward-to).`);
  } else {
    io.out('Next: pnpm dev (starts the server, the SPA and the Stripe emulator).');
  }
  return { envFile: file.path, updates };
}

/** Bad flag values, before anything is asked or read. @throws CliError */
function validateFlags(opts: SetupOptions): void {
  if (opts.stripe !== undefined && opts.stripe !== 'emulator' && opts.stripe !== 'keys') throw new CliError('--stripe must be emulator or keys');
  if (opts.stripe === 'emulator' && (opts.stripeSecretKey || opts.stripeWebhookSecret)) throw new CliError('--stripe emulator takes no --stripe-secret-key or --stripe-webhook-secret');
  if (opts.stripeWebhookSecret !== undefined && !opts.stripeSecretKey && opts.stripe !== 'keys') throw new CliError('--stripe-webhook-secret goes with --stripe-secret-key (or --stripe keys)');
  if (opts.databaseUrl !== undefined) {
    const problem = databaseUrlProblem(opts.databaseUrl);
    if (problem) throw new CliError(`--database-url ${problem}`);
  }
  if (opts.stripeSecretKey !== undefined && !STRIPE_KEY_SHAPE.test(opts.stripeSecretKey.trim())) throw new CliError(`--stripe-secret-key ${STRIPE_KEY_MESSAGE}`);
  if (opts.stripeWebhookSecret !== undefined && !STRIPE_WEBHOOK_SECRET_SHAPE.test(opts.stripeWebhookSecret.trim())) throw new CliError(`--stripe-webhook-secret ${WEBHOOK_SECRET_MESSAGE}`);
  if (opts.redisUrl !== undefined && opts.redisUrl !== '' && opts.redisUrl !== 'none') {
    const problem = redisUrlProblem(opts.redisUrl);
    if (problem) throw new CliError(`--redis-url ${problem} (or none)`);
  }
  if (opts.publicUrl !== undefined) {
    const normalized = normalizePublicUrl(opts.publicUrl);
    if ('problem' in normalized) throw new CliError(`--public-url ${normalized.problem}`);
  }
}

interface Step {
  prompter: Prompter | null;
  current: string | undefined;
  io: CliIo;
}

/** Ask until a value passes `run` (a failed check asks "use it anyway?"); without a prompter, a failure throws. */
async function checked(result: CheckResult, prompter: Prompter | null, what: string): Promise<'ok' | 'retry' | 'accept'> {
  if (result.ok) return 'ok';
  if (!prompter) throw new CliError(`${what}: ${result.message} (fix it, or pass --no-check to write it unchecked)`);
  return (await prompter.confirm({ message: `${result.message}. Use it anyway?`, default: false })) ? 'accept' : 'retry';
}

async function chooseDatabase(
  opts: SetupOptions,
  { prompter, current, repoRoot, check, checks, io }: Step & { repoRoot: string; check: boolean; checks: SetupChecks },
): Promise<{ url: string; detail: string }> {
  const defaultFile = path.join(repoRoot, 'data', 'tally.sqlite');
  const asSqliteUrl = (p: string) => `file:${path.resolve(repoRoot, p)}`;
  const normalize = (url: string) => (isPostgres(url) || url.startsWith('pglite:') ? url : asSqliteUrl(sqliteFileOf(url)!));
  const run = async (url: string) => (check ? checks.database(url) : ({ ok: true, detail: 'not checked' } as const));
  if (opts.databaseUrl !== undefined || !prompter) {
    const url = normalize(opts.databaseUrl?.trim() || current || `file:${defaultFile}`);
    const what = opts.databaseUrl !== undefined ? '--database-url' : `DATABASE_URL (${redactDatabaseUrl(url)})`;
    const problem = databaseUrlProblem(url);
    if (problem) throw new CliError(`${what} ${problem}`);
    const result = await run(url);
    await checked(result, null, what);
    return { url, detail: result.ok ? result.detail : '' };
  }
  for (;;) {
    const kind = await prompter.select<'keep' | 'sqlite' | 'postgres'>({
      message: 'Database',
      choices: [
        ...(current ? [{ value: 'keep' as const, name: `Keep DATABASE_URL (${redactDatabaseUrl(current)})` }] : []),
        { value: 'sqlite', name: 'SQLite: a file on this machine (one server process; fine for small deployments and development)' },
        { value: 'postgres', name: 'PostgreSQL: a postgres:// URL (several server processes, backups, failover)' },
      ],
      default: current ? 'keep' : 'sqlite',
    });
    let url: string;
    if (kind === 'keep') url = normalize(current!);
    else if (kind === 'sqlite') {
      const currentFile = current && !isPostgres(current) && !current.startsWith('pglite:') ? sqliteFileOf(current)! : defaultFile;
      url = asSqliteUrl(await prompter.input({ message: 'SQLite file (relative paths are relative to the repo root)', default: currentFile, validate: (v) => (v.trim() ? true : 'enter a file path') }));
    } else {
      url = (
        await prompter.input({
          message: 'Postgres URL (postgres://user:password@host:5432/database)',
          ...(current && isPostgres(current) ? { default: current } : {}),
          validate: (v) => {
            const problem = isPostgres(v.trim()) ? databaseUrlProblem(v.trim()) : 'must start with postgres:// or postgresql://';
            return problem ? `The URL ${problem}` : true;
          },
          display: (v) => redactDatabaseUrl(v),
        })
      ).trim();
    }
    if (check) io.out(`Checking ${redactDatabaseUrl(url)} ...`);
    const result = await run(url);
    const verdict = await checked(result, prompter, 'DATABASE_URL');
    if (verdict !== 'retry') return { url, detail: result.ok ? result.detail : 'not reachable when set up' };
  }
}

async function chooseStripeKey(
  opts: SetupOptions,
  { prompter, current, check, checks, io, warn }: Step & { check: boolean; checks: SetupChecks; warn: (line: string) => void },
): Promise<{ key: string; detail: string }> {
  const usable = current && STRIPE_KEY_SHAPE.test(current) ? current : undefined;
  const verify = async (key: string): Promise<{ refused: string } | { detail: string }> => {
    if (!check) return { detail: 'not checked' };
    io.out('Checking the key with Stripe ...');
    const result = await checks.stripeKey(key);
    if (result.status === 'verified') return { detail: `accepted by Stripe${result.accountId ? ` (${result.accountId})` : ''}` };
    if (result.status === 'refused') return { refused: `Stripe refused this key: ${maskKeyLike(result.message)}` };
    warn(`Stripe could not be reached to check the key (${maskKeyLike(result.message)}); kept unverified.`);
    return { detail: 'not verified (Stripe unreachable)' };
  };
  if (opts.stripeSecretKey !== undefined || !prompter) {
    const key = opts.stripeSecretKey?.trim() ?? usable;
    if (!key) throw new CliError(current ? `STRIPE_SECRET_KEY in the file ${STRIPE_KEY_MESSAGE}; pass --stripe-secret-key` : '--stripe keys needs --stripe-secret-key (no STRIPE_SECRET_KEY in the file)');
    const verdict = await verify(key);
    if ('refused' in verdict) throw new CliError(verdict.refused);
    return { key, detail: verdict.detail };
  }
  for (;;) {
    const typed = (
      await prompter.password({
        message: `Stripe secret key (sk_test_... / sk_live_..., or a restricted rk_ key)${usable ? '; Enter keeps the current one' : ''}`,
        validate: (v) => (v.trim() === '' && usable ? true : STRIPE_KEY_SHAPE.test(v.trim()) ? true : `The key ${STRIPE_KEY_MESSAGE}`),
      })
    ).trim();
    const key = typed || usable!;
    const verdict = await verify(key);
    if ('refused' in verdict) {
      io.err(verdict.refused);
      continue;
    }
    return { key, detail: verdict.detail };
  }
}

/** Stripe's messages quote keys (masked by Stripe, or not): mask anything key-like. */
function maskKeyLike(text: string): string {
  return text.replace(/\b((?:sk|rk|pk)_(?:test|live)_|whsec_)[A-Za-z0-9_*]+/g, '$1****');
}

async function chooseWebhookSecret(
  opts: SetupOptions,
  { prompter, current, secretKey, checks, io, warn }: Step & { secretKey: string; checks: SetupChecks; warn: (line: string) => void },
): Promise<{ secret: string; source: string }> {
  const usable = current && STRIPE_WEBHOOK_SECRET_SHAPE.test(current) ? current : undefined;
  if (opts.stripeWebhookSecret !== undefined) return { secret: opts.stripeWebhookSecret.trim(), source: 'from --stripe-webhook-secret' };
  if (!prompter) {
    if (!usable) throw new CliError('STRIPE_WEBHOOK_SECRET is required with a Stripe key: pass --stripe-webhook-secret whsec_...');
    return { secret: usable, source: 'kept' };
  }
  const cli = checks.stripeCli();
  for (;;) {
    const how = await prompter.select<'keep' | 'listen' | 'paste'>({
      message: 'Stripe webhook signing secret',
      choices: [
        ...(usable ? [{ value: 'keep' as const, name: 'Keep the current one' }] : []),
        ...(cli ? [{ value: 'listen' as const, name: 'Ask the Stripe CLI (stripe listen --print-secret: the secret stripe listen --forward-to signs with)' }] : []),
        { value: 'paste', name: "Paste it (dashboard -> Developers -> Webhooks -> your endpoint's signing secret)" },
      ],
      default: usable ? 'keep' : cli ? 'listen' : 'paste',
    });
    if (how === 'keep') return { secret: usable!, source: 'kept' };
    if (how === 'listen') {
      io.out('Running stripe listen --print-secret ...');
      try {
        return { secret: await checks.listenSecret(cli!, secretKey), source: 'from stripe listen --print-secret' };
      } catch (err) {
        warn(`${err instanceof Error ? err.message : String(err)}; paste the secret instead.`);
        continue;
      }
    }
    const secret = (await prompter.password({ message: 'Webhook signing secret (whsec_...)', validate: (v) => (STRIPE_WEBHOOK_SECRET_SHAPE.test(v.trim()) ? true : `The secret ${WEBHOOK_SECRET_MESSAGE}`) })).trim();
    return { secret, source: 'pasted' };
  }
}

/** The REDIS_URL to write ('' removes it), or null to leave the file's as it is. */
async function chooseRedis(opts: SetupOptions, { prompter, current, check, checks, io }: Step & { check: boolean; checks: SetupChecks }): Promise<{ url: string; detail: string } | null> {
  const run = async (url: string) => (check ? checks.redis(url) : ({ ok: true, detail: 'not checked' } as const));
  if (opts.redisUrl !== undefined || !prompter) {
    const given = opts.redisUrl?.trim();
    if (given === '' || given === 'none') return current ? { url: '', detail: '' } : null;
    const url = given ?? current;
    if (!url) return null;
    const what = given !== undefined ? '--redis-url' : `REDIS_URL (${redactRedisUrl(url)})`;
    const problem = redisUrlProblem(url);
    if (problem) throw new CliError(`${what} ${problem}`);
    const result = await run(url);
    await checked(result, null, what);
    return { url, detail: result.ok ? result.detail : '' };
  }
  for (;;) {
    const choice = await prompter.select<'keep' | 'none' | 'url'>({
      message: 'Redis (the live billing stream across server processes)',
      choices: [
        ...(current ? [{ value: 'keep' as const, name: `Keep REDIS_URL (${redactRedisUrl(current)})` }] : []),
        { value: 'none', name: 'No Redis (one server process; development streams in-process)' },
        { value: 'url', name: 'A Redis URL (redis://host:6379)' },
      ],
      default: current ? 'keep' : 'none',
    });
    if (choice === 'none') return current ? { url: '', detail: '' } : null;
    const url =
      choice === 'keep'
        ? current!
        : (await prompter.input({ message: 'Redis URL', default: 'redis://127.0.0.1:6379', validate: (v) => redisUrlProblem(v.trim()) ?? true, display: (v) => (URL.canParse(v) ? redactRedisUrl(v) : v) })).trim();
    if (check) io.out(`Pinging ${redactRedisUrl(url)} ...`);
    const result = await run(url);
    const verdict = await checked(result, prompter, 'REDIS_URL');
    if (verdict !== 'retry') return { url, detail: result.ok ? result.detail : 'not reachable when set up' };
  }
}

async function choosePublicUrl(opts: SetupOptions, { prompter, current, port }: Omit<Step, 'io'> & { port: string }): Promise<string> {
  const fallback = current ?? `http://localhost:${port}`;
  if (opts.publicUrl !== undefined || !prompter) {
    const normalized = normalizePublicUrl(opts.publicUrl ?? fallback);
    if ('problem' in normalized) throw new CliError(`${opts.publicUrl !== undefined ? '--public-url' : 'TALLY_PUBLIC_URL in the file'} ${normalized.problem}`);
    return normalized.url;
  }
  const answer = await prompter.input({
    message: 'Public URL of this server (where browsers and Stripe reach it)',
    default: fallback,
    validate: (v) => {
      const normalized = normalizePublicUrl(v);
      return 'problem' in normalized ? `The URL ${normalized.problem}` : true;
    },
  });
  const normalized = normalizePublicUrl(answer);
  return 'url' in normalized ? normalized.url : fallback;
}

/** The repo root above `from` (the directory with pnpm-workspace.yaml), or `from`. */
export function repoRootFrom(from: string): string {
  let dir = path.resolve(from);
  while (dir !== path.dirname(dir)) {
    if (existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir;
    dir = path.dirname(dir);
  }
  return path.resolve(from);
}
