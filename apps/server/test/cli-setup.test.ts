/**
 * `pnpm tally setup`: driven through its prompts (a scripted prompter, and once through the
 * real inquirer on fake streams), non-interactive with flags, the `.env` it writes (accepted
 * by `loadConfig` and by a started server), what it keeps, and that it never prints a secret.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { parse } from 'dotenv';
import { createTestDatabaseUrl, testDialects } from '@tally/db/testing';
import { EMULATOR_DEV_API_KEY } from '@tally/stripe-emulator/defaults';
import { startStripeEmulator, type StripeEmulator } from '@tally/stripe-emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEV_SECRET_ENCRYPTION_KEY, loadConfig } from '../src/config';
import { setupCommand, type SetupCommandDeps } from '../src/cli/setup';
import { checkStripeKey, stripeListenSecret } from '../src/cli/setup/checks';
import { formatEnvValue, updateEnvText } from '../src/cli/setup/env-file';
import { inquirerPrompter, type Prompter } from '../src/cli/setup/prompter';
import { failureLine } from '../src/cli/shared';
import { freePort, spawnServer } from './server-process';

/** A made-up key of the live shape, assembled so no live-key pattern sits in the repository. */
const LIVE_SHAPED_KEY = ['sk', 'live', 'accepted_by_stripe_0123'].join('_');

vi.setConfig({ testTimeout: 60_000 });

const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(serverDir, '..', '..');

/** A free port nothing listens on (for "unreachable"). */
async function closedPort() {
  return freePort();
}

let dir = '';
let envFile = '';
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tally-setup-'));
  envFile = path.join(dir, '.env');
  return () => rmSync(dir, { recursive: true, force: true });
});

/** Secrets from a counter, so tests know each generated value (and can look for it in the output). */
function secretGenerator() {
  const made: string[] = [];
  let n = 0;
  return {
    made,
    generate: () => {
      n += 1;
      const value = Buffer.alloc(32, n).toString('base64');
      made.push(value);
      return value;
    },
  };
}

/** `tally setup <args>` in process, as `runCli` runs it (usage errors and failures as one line, exit code). */
async function setup(args: string[], deps: SetupCommandDeps = {}, env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l), readStdin: async () => '', env };
  const program = new Command('tally').exitOverride().configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
  const command = setupCommand(io, { repoRoot, ...deps }).exitOverride();
  program.addCommand(command);
  let code = 0;
  try {
    await program.parseAsync(['node', 'tally', 'setup', '--env-path', envFile, ...args]);
  } catch (e) {
    if (e instanceof CommanderError) code = e.exitCode;
    else {
      err.push(`tally: ${failureLine(e)}`);
      code = 1;
    }
  }
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

/** The checks, all answering "fine" unless a test says otherwise (no network). */
const okChecks: NonNullable<SetupCommandDeps['checks']> = {
  database: async () => ({ ok: true, detail: 'checked' }),
  stripeKey: async () => ({ status: 'verified', accountId: 'acct_test' }),
  redis: async () => ({ ok: true, detail: 'answered PONG' }),
  stripeCli: () => null,
  listenSecret: async () => {
    throw new Error('not expected');
  },
};

/** A prompter answering from a script: each question is matched by its message; unexpected questions fail the test. */
function scripted(answers: { match: RegExp; answer: string | boolean }[]): Prompter & { asked: string[] } {
  const asked: string[] = [];
  const next = async (message: string, validate?: (v: string) => true | string | Promise<true | string>, fallback?: string) => {
    asked.push(message);
    const i = answers.findIndex((a) => a.match.test(message));
    if (i === -1) throw new Error(`unexpected question: ${message}`);
    const { answer } = answers.splice(i, 1)[0]!;
    if (typeof answer === 'string' && validate) {
      // An empty answer takes the default, as inquirer does.
      const verdict = await validate(answer || fallback || '');
      if (verdict !== true) throw new Error(`answer to "${message}" refused: ${verdict}`);
    }
    return answer;
  };
  return {
    asked,
    input: async (q) => String((await next(q.message, q.validate, q.default)) || q.default || ''),
    password: async (q) => String(await next(q.message, q.validate)),
    select: async <T extends string>(q: { message: string }) => (await next(q.message)) as T,
    confirm: async (q) => Boolean(await next(q.message)),
  };
}

const read = () => readFileSync(envFile, 'utf8');
const production = (text: string) => loadConfig({ ...parse(text), NODE_ENV: 'production' }, repoRoot);

describe('the .env editor', () => {
  it('rewrites a variable in place and keeps every other line, comment, export prefix and inline comment', () => {
    const text = ['# my deployment', 'export PORT=3000 # the port', '', 'DATABASE_URL=file:old.sqlite', '# STRIPE_SECRET_KEY=', 'CUSTOM="keep me"', ''].join('\n');
    const next = updateEnvText(text, { PORT: '4000', DATABASE_URL: 'postgres://u:p#w@h/db', STRIPE_SECRET_KEY: 'sk_test_12345678', NEW_ONE: 'x' });
    expect(next).toBe(
      [
        '# my deployment',
        'export PORT=4000 # the port',
        '',
        "DATABASE_URL='postgres://u:p#w@h/db'",
        '# STRIPE_SECRET_KEY=',
        'STRIPE_SECRET_KEY=sk_test_12345678',
        'CUSTOM="keep me"',
        '',
        '# Added by pnpm tally setup',
        'NEW_ONE=x',
        '',
      ].join('\n'),
    );
    expect(parse(next)).toEqual({ PORT: '4000', DATABASE_URL: 'postgres://u:p#w@h/db', STRIPE_SECRET_KEY: 'sk_test_12345678', CUSTOM: 'keep me', NEW_ONE: 'x' });
  });

  it('replaces a multi-line quoted value whole, keeps CRLF line endings, and quotes what dotenv would misread', () => {
    const text = 'A=1\r\nKEY="line one\r\nline two"\r\nB=2\r\n';
    const next = updateEnvText(text, { KEY: 'with space' });
    expect(next).toBe("A=1\r\nKEY='with space'\r\nB=2\r\n");
    expect(parse(next)).toEqual({ A: '1', KEY: 'with space', B: '2' });
    expect(formatEnvValue('abc+/=')).toBe('abc+/=');
    expect(formatEnvValue("it's #1")).toBe('"it\'s #1"');
    expect(() => formatEnvValue('a\'b"c')).toThrow(/cannot be written/);
  });
});

describe('pnpm tally setup --yes (flags, no prompts)', () => {
  it('on a fresh clone: a development file from .env.example with generated secrets, mode 0600, nothing secret printed', async () => {
    const secrets = secretGenerator();
    const run = await setup(['--yes'], { checks: okChecks, generateSecret: secrets.generate });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const text = read();
    // The template's documentation comes along.
    expect(text).toContain('# --- Workspace secrets');
    const values = parse(text);
    expect(values).toMatchObject({
      NODE_ENV: 'development',
      DATABASE_URL: `file:${path.join(repoRoot, 'data', 'tally.sqlite')}`,
      TALLY_PUBLIC_URL: 'http://localhost:3000',
      BETTER_AUTH_SECRET: secrets.made[0],
      TALLY_SECRET_ENCRYPTION_KEY: secrets.made[1],
    });
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    const config = loadConfig({ ...values }, repoRoot);
    expect(config.api.stripeMode).toBe('emulator');
    expect(config.secretKeySource).toBe('env');
    for (const secret of secrets.made) expect(run.stdout + run.stderr).not.toContain(secret);
    expect(run.stdout).toMatch(/BETTER_AUTH_SECRET\s+generated \(hidden\)/);
  });

  it('keeps an existing file\'s other lines and comments, and its secrets (rotating BETTER_AUTH_SECRET only when asked)', async () => {
    const original = [
      '# Ops notes: do not remove',
      'SMTP_URL=smtps://mailer:hunter2@smtp.example.com:465',
      'BETTER_AUTH_SECRET=existing-auth-secret-0123456789abcdef-xyz',
      'TALLY_SECRET_ENCRYPTION_KEY=' + Buffer.alloc(32, 7).toString('base64'),
      '  # indented comment',
      'TALLY_CURRENCY=eur',
      '',
    ].join('\n');
    writeFileSync(envFile, original, { mode: 0o644 });
    const secrets = secretGenerator();
    const run = await setup(['--yes', '--public-url', 'https://billing.example.com/'], { checks: okChecks, generateSecret: secrets.generate });
    expect(run.code).toBe(0);
    const text = read();
    const values = parse(text);
    expect(values).toMatchObject({
      SMTP_URL: 'smtps://mailer:hunter2@smtp.example.com:465',
      BETTER_AUTH_SECRET: 'existing-auth-secret-0123456789abcdef-xyz',
      TALLY_SECRET_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      TALLY_CURRENCY: 'eur',
      TALLY_PUBLIC_URL: 'https://billing.example.com',
    });
    expect(secrets.made).toEqual([]);
    // Every original line is still there, in order.
    const lines = text.split('\n');
    let at = -1;
    for (const line of original.split('\n').filter(Boolean)) {
      const found = lines.indexOf(line, at + 1);
      expect(found, line).toBeGreaterThan(at);
      at = found;
    }
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(run.stdout).toMatch(/TALLY_SECRET_ENCRYPTION_KEY\s+kept/);

    const rotated = await setup(['--yes', '--rotate-auth-secret'], { checks: okChecks, generateSecret: secrets.generate });
    expect(rotated.code).toBe(0);
    expect(parse(read())).toMatchObject({ BETTER_AUTH_SECRET: secrets.made[0], TALLY_SECRET_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') });
    expect(rotated.stdout + rotated.stderr).not.toContain(secrets.made[0]);
  });

  it('never replaces TALLY_SECRET_ENCRYPTION_KEY: a malformed one stops setup (nothing written); the development key is kept with a warning', async () => {
    writeFileSync(envFile, 'TALLY_SECRET_ENCRYPTION_KEY=not-a-key\n');
    const bad = await setup(['--yes'], { checks: okChecks });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^tally: TALLY_SECRET_ENCRYPTION_KEY in .* is not 32 bytes .*setup never replaces it/m);
    expect(read()).toBe('TALLY_SECRET_ENCRYPTION_KEY=not-a-key\n');

    writeFileSync(envFile, `TALLY_SECRET_ENCRYPTION_KEY=${DEV_SECRET_ENCRYPTION_KEY}\n`);
    const dev = await setup(['--yes'], { checks: okChecks });
    expect(dev.code).toBe(0);
    expect(dev.stderr).toMatch(/published development key.*pnpm tally secrets rotate/);
    expect(parse(read()).TALLY_SECRET_ENCRYPTION_KEY).toBe(DEV_SECRET_ENCRYPTION_KEY);
  });

  it('the emulator choice empties Stripe keys already in the file (the server would otherwise use them)', async () => {
    writeFileSync(envFile, 'STRIPE_SECRET_KEY=sk_test_oldoldoldold\nSTRIPE_WEBHOOK_SECRET=whsec_oldoldoldold\nNODE_ENV=production\n');
    const run = await setup(['--yes', '--stripe', 'emulator'], { checks: okChecks });
    expect(run.code).toBe(0);
    const values = parse(read());
    expect(values).toMatchObject({ STRIPE_SECRET_KEY: '', STRIPE_WEBHOOK_SECRET: '', NODE_ENV: 'development' });
    expect(loadConfig({ ...values }, repoRoot).api.stripeMode).toBe('emulator');
    expect(run.stdout + run.stderr).not.toContain('oldoldoldold');
  });

  it.each([
    [['--stripe', 'stripe'], /^tally: --stripe must be emulator or keys$/m],
    [['--stripe-secret-key', 'pk_test_1234567890abcdef'], /^tally: --stripe-secret-key must look like sk_test_/m],
    [['--stripe-secret-key', 'sk_test_1234567890abcdef', '--stripe-webhook-secret', 'wh_1234567890'], /^tally: --stripe-webhook-secret must look like whsec_/m],
    [['--stripe', 'keys'], /^tally: --stripe keys needs --stripe-secret-key/m],
    [['--stripe-secret-key', 'sk_test_1234567890abcdef'], /^tally: STRIPE_WEBHOOK_SECRET is required with a Stripe key: pass --stripe-webhook-secret/m],
    [['--stripe', 'emulator', '--stripe-secret-key', 'sk_test_1234567890abcdef'], /^tally: --stripe emulator takes no --stripe-secret-key/m],
    [['--database-url', 'mysql://root@127.0.0.1/tally'], /^tally: --database-url must be a SQLite path or file: URL, postgres:\/\//m],
    [['--database-url', 'postgres://u:p@[bad/db'], /^tally: --database-url is not a valid URL/m],
    [['--redis-url', 'http://127.0.0.1:6379'], /^tally: --redis-url must be a redis:\/\/ or rediss:\/\/ URL/m],
    [['--public-url', 'ftp://billing.example.com'], /^tally: --public-url must start with http:\/\/ or https:\/\//m],
    [['--public-url', 'billing'], /^tally: --public-url must be a URL/m],
    [['--stripe-secret-key', 'sk_test_1234567890abcdef', '--stripe-webhook-secret', 'whsec_tally_emulator_dev_only_not_a_secret'], /^tally: the server would not start with this file; nothing written\.\n[\s\S]*STRIPE_WEBHOOK_SECRET: is the emulator's published development secret/m],
  ])('%j -> one clear line, exit 1, nothing written, no value echoed', async (args, message) => {
    writeFileSync(envFile, '# mine\nPORT=3001\n');
    const run = await setup(['--yes', ...args], { checks: okChecks });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(read()).toBe('# mine\nPORT=3001\n');
    for (const value of args.filter((a) => a.includes('_test_') || a.startsWith('wh'))) expect(run.stderr).not.toContain(value);
  });

  it('a key Stripe refuses stops a non-interactive run; Stripe unreachable warns and keeps the key (the real check, against the emulator)', async () => {
    const emulator = await startStripeEmulator({ port: 0, statePath: null });
    try {
      const port = await closedPort();
      const checks = {
        ...okChecks,
        stripeKey: (key: string) => checkStripeKey(key, { apiBase: new URL(key.includes('unreachable') ? `http://127.0.0.1:${port}` : emulator.url), timeoutMs: 3_000 }),
      };
      const refusedKey = 'sk_test_tally_revoked_0123456789';
      const refused = await setup(['--yes', '--stripe-secret-key', refusedKey, '--stripe-webhook-secret', 'whsec_0123456789abcdef'], { checks });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^tally: Stripe refused this key: /m);
      expect(refused.stderr).not.toContain(refusedKey);
      expect(() => read()).toThrow();

      const good = await setup(['--yes', '--stripe-secret-key', EMULATOR_DEV_API_KEY, '--stripe-webhook-secret', 'whsec_0123456789abcdef'], { checks });
      expect(good.code).toBe(0);
      expect(good.stdout).toMatch(/STRIPE_SECRET_KEY\s+set \(hidden\): secret key, test mode, accepted by Stripe \(acct_/);

      const unreachableKey = 'sk_test_unreachable_0123456789';
      const unreachable = await setup(['--yes', '--stripe-secret-key', unreachableKey, '--stripe-webhook-secret', 'whsec_0123456789abcdef'], { checks });
      expect(unreachable.code).toBe(0);
      expect(unreachable.stderr).toMatch(/warning: Stripe could not be reached to check the key .*kept unverified/);
      expect(parse(read()).STRIPE_SECRET_KEY).toBe(unreachableKey);
      expect(unreachable.stdout + unreachable.stderr).not.toContain(unreachableKey);
      expect(unreachable.stdout + unreachable.stderr).not.toContain('whsec_0123456789abcdef');
    } finally {
      await emulator.close();
    }
  });

  it('Redis is pinged: a Redis that answers is written, one that does not stops the run (the real ioredis check)', async () => {
    const ok = await setup(['--yes', '--redis-url', 'redis://127.0.0.1:6379'], { checks: { ...okChecks, redis: undefined as never } });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/REDIS_URL\s+redis:\/\/127\.0\.0\.1:6379\s+\(answered PONG\)/);
    const port = await closedPort();
    const before = read();
    const down = await setup(['--yes', '--redis-url', `redis://:sesame-pw@127.0.0.1:${port}`], { checks: { ...okChecks, redis: undefined as never } });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(new RegExp(`^tally: --redis-url: no answer from redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}`, 'm'));
    expect(down.stderr).not.toContain('sesame-pw');
    expect(read()).toBe(before);
    const removed = await setup(['--yes', '--redis-url', 'none'], { checks: okChecks });
    expect(removed.code).toBe(0);
    expect(parse(read()).REDIS_URL).toBe('');
  });
});

describe.each(testDialects)('pnpm tally setup with a real database ($name)', ({ name: dialect }) => {
  let database: { url: string; drop(): Promise<void> };
  let emulator: StripeEmulator;
  beforeAll(async () => {
    database = await createTestDatabaseUrl(dialect);
    emulator = await startStripeEmulator({ port: 0, statePath: null });
  });
  afterAll(async () => {
    await emulator?.close();
    await database?.drop();
  });

  it('checks the database (select 1 on Postgres), writes a production file that loadConfig accepts and the server starts with', async () => {
    const secrets = secretGenerator();
    const key = 'sk_test_setup_production_0123456789';
    const webhookSecret = 'whsec_setup_production_0123456789';
    const checks = { stripeKey: (k: string) => checkStripeKey(k, { apiBase: new URL(emulator.url) }), stripeCli: () => null };
    const run = await setup(['--yes', '--database-url', database.url, '--stripe-secret-key', key, '--stripe-webhook-secret', webhookSecret, '--public-url', 'http://127.0.0.1:3000'], { checks, generateSecret: secrets.generate });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    if (database.url.startsWith('postgres')) expect(run.stdout).toMatch(/DATABASE_URL\s+postgres:\/\/.*\(connected \(PostgreSQL/);
    const values = parse(read());
    expect(values).toMatchObject({ NODE_ENV: 'production', STRIPE_SECRET_KEY: key, STRIPE_WEBHOOK_SECRET: webhookSecret });
    const config = production(read());
    expect(config.api.stripeMode).toBe('test');
    expect(config.authSecretSource).toBe('env');
    for (const secret of [key, webhookSecret, ...secrets.made]) expect(run.stdout + run.stderr).not.toContain(secret);

    // The server, started with exactly this file's variables (as a loader would give them).
    const port = await freePort();
    const server = spawnServer({ ...values, PORT: String(port), HOST: '127.0.0.1', TALLY_PUBLIC_URL: `http://127.0.0.1:${port}`, TALLY_SEED_DEMO: 'false' });
    try {
      await server.waitForOutput(/Tally is running/, 60_000);
      const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { status: string; stripe: string };
      expect(health).toMatchObject({ status: 'ok', stripe: 'test' });
      for (const secret of [key, webhookSecret, ...secrets.made]) expect(server.stdout() + server.stderr()).not.toContain(secret);
    } finally {
      await server.stop();
    }
  });

  it('a database that does not answer stops a non-interactive run with the reason, its password hidden; nothing written', async () => {
    const port = await closedPort();
    const url = dialect === 'postgres' ? `postgres://tally:pa55word-secret@127.0.0.1:${port}/tally` : path.join(dir, 'not-a-dir', 'x.sqlite');
    if (dialect === 'sqlite') {
      writeFileSync(path.join(dir, 'not-a-dir'), 'a file, not a directory');
    }
    const run = await setup(['--yes', '--database-url', url], { checks: { stripeCli: () => null } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(dialect === 'postgres' ? /^tally: --database-url: cannot connect to postgres:\/\/tally:\*\*\*@127\.0\.0\.1:\d+\/tally: connection refused \(ECONNREFUSED\)/m : /^tally: --database-url: .*not-a-dir is not a directory/m);
    expect(run.stderr).not.toContain('pa55word-secret');
    expect(() => read()).toThrow();
  });
});

describe('pnpm tally setup, interactive', () => {
  it('asks each question; a key Stripe refuses is asked again; the webhook secret comes from stripe listen; the database can be kept', async () => {
    writeFileSync(envFile, '# keep\nDATABASE_URL=file:/tmp/keep-me.sqlite\nBETTER_AUTH_SECRET=existing-auth-secret-0123456789abcdef-xyz\n');
    const secrets = secretGenerator();
    const stripeKeys: string[] = [];
    const prompter = scripted([
      { match: /^Database$/, answer: 'keep' },
      { match: /^Stripe$/, answer: 'keys' },
      { match: /^Stripe secret key/, answer: 'sk_test_refused_by_stripe_0123' },
      { match: /^Stripe secret key/, answer: LIVE_SHAPED_KEY },
      { match: /^Stripe webhook signing secret$/, answer: 'listen' },
      { match: /^Redis/, answer: 'url' },
      { match: /^Redis URL$/, answer: 'redis://127.0.0.1:6379' },
      { match: /^Public URL/, answer: '' },
      { match: /^BETTER_AUTH_SECRET is set/, answer: false },
    ]);
    const run = await setup([], {
      prompter,
      generateSecret: secrets.generate,
      checks: {
        ...okChecks,
        stripeKey: async (key) => {
          stripeKeys.push(key);
          return key.includes('refused') ? { status: 'refused', message: 'Invalid API Key provided: sk_test_****0123' } : { status: 'verified', accountId: 'acct_live1' };
        },
        stripeCli: () => '/opt/stripe',
        listenSecret: async (cli, key) => {
          expect(cli).toBe('/opt/stripe');
          expect(key).toBe(LIVE_SHAPED_KEY);
          return 'whsec_from_stripe_listen_0123';
        },
      },
    });
    expect(run.code).toBe(0);
    expect(stripeKeys).toEqual(['sk_test_refused_by_stripe_0123', LIVE_SHAPED_KEY]);
    expect(run.stderr).toMatch(/Stripe refused this key: Invalid API Key provided: sk_test_\*\*\*\*/);
    const values = parse(read());
    expect(values).toMatchObject({
      DATABASE_URL: 'file:/tmp/keep-me.sqlite',
      STRIPE_SECRET_KEY: LIVE_SHAPED_KEY,
      STRIPE_WEBHOOK_SECRET: 'whsec_from_stripe_listen_0123',
      REDIS_URL: 'redis://127.0.0.1:6379',
      TALLY_PUBLIC_URL: 'http://localhost:3000',
      BETTER_AUTH_SECRET: 'existing-auth-secret-0123456789abcdef-xyz',
      TALLY_SECRET_ENCRYPTION_KEY: secrets.made[0],
    });
    expect(read().startsWith('# keep\n')).toBe(true);
    expect(production(read()).api.stripeMode).toBe('live');
    for (const secret of [LIVE_SHAPED_KEY, 'whsec_from_stripe_listen_0123', ...secrets.made]) expect(run.stdout + run.stderr).not.toContain(secret);
  });

  it('a wrong-shaped key is refused by the question itself (asked again), and an unreachable Postgres asks "use it anyway?"', async () => {
    const validations: (true | string)[] = [];
    let asked = 0;
    const prompter: Prompter = {
      ...scripted([]),
      select: async <T extends string>(q: { message: string }) => (q.message === 'Database' ? 'postgres' : q.message === 'Stripe' ? 'keys' : q.message.startsWith('Redis') ? 'none' : 'paste') as T,
      input: async (q) => {
        if (q.message.startsWith('Postgres URL')) {
          asked += 1;
          return asked === 1 ? 'postgres://u:pw-secret@127.0.0.1:1/db' : 'postgres://u:pw-secret@127.0.0.1:2/db';
        }
        return q.default ?? '';
      },
      password: async (q) => {
        if (q.message.startsWith('Stripe secret key')) {
          validations.push(await q.validate!('pk_test_0123456789abcdef'));
          return 'sk_test_0123456789abcdef';
        }
        validations.push(await q.validate!('whsec_x'));
        return 'whsec_0123456789abcdef';
      },
      // First unreachable URL: no (asked again); second: yes, keep it.
      confirm: async (q) => q.message.includes('127.0.0.1:2'),
    };
    const run = await setup([], {
      prompter,
      checks: { ...okChecks, database: async (url) => ({ ok: false, message: `cannot connect to ${url.replace('pw-secret', '***')}: connection refused (ECONNREFUSED)` }) },
    });
    expect(run.code).toBe(0);
    expect(asked).toBe(2);
    expect(validations).toEqual([expect.stringMatching(/^The key must look like sk_test_/), expect.stringMatching(/^The secret must look like whsec_/)]);
    expect(parse(read()).DATABASE_URL).toBe('postgres://u:pw-secret@127.0.0.1:2/db');
    expect(run.stdout).toMatch(/DATABASE_URL\s+postgres:\/\/u:\*\*\*@127\.0\.0\.1:2\/db\s+\(not reachable when set up\)/);
    expect(run.stdout + run.stderr).not.toContain('pw-secret');
  });

  it('through the real inquirer prompts on a fake terminal: typed answers, masked secrets, a re-asked key', async () => {
    const input = new PassThrough();
    let screen = '';
    // A terminal that, like process.stdout, is never ended (each inquirer prompt pipes into it and ends its own stream).
    const output = new (class extends Writable {
      override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void) {
        screen += chunk.toString('utf8');
        callback();
      }
      override end() {
        return this;
      }
    })();
    // Wait until the screen shows `pattern` after what was already seen, then type.
    let seen = 0;
    const answer = async (pattern: RegExp, keys: string) => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const rest = screen.slice(seen);
        const m = pattern.exec(rest);
        if (m) {
          seen += m.index + m[0].length;
          break;
        }
        if (Date.now() > deadline) throw new Error(`no ${pattern} on screen:\n${screen.slice(seen)}\n${JSON.stringify(await Promise.race([done, 'still running']))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      input.write(keys);
    };
    const DOWN = '\u001b[B';
    const sqlite = path.join(dir, 'data', 'tally.sqlite');
    const secrets = secretGenerator();
    const done = setup([], { prompter: inquirerPrompter({ input, output }), generateSecret: secrets.generate, checks: { ...okChecks, database: undefined as never } });
    await answer(/Database/, '\r'); // SQLite (the default)
    await answer(/SQLite file/, `${sqlite}\r`);
    await answer(/Stripe/, `${DOWN}\r`); // keys
    await answer(/Stripe secret key/, 'rk_nope\r');
    await answer(/The key must look like/, `${'\u007f'.repeat(7)}rk_test_typed_in_terminal_0123\r`);
    await answer(/Stripe webhook signing secret/, '\r'); // paste (no CLI)
    await answer(/Webhook signing secret/, 'whsec_typed_in_terminal_0123\r');
    await answer(/Redis/, '\r'); // none
    await answer(/Public URL/, '\r'); // the default
    const run = await done;
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const values = parse(read());
    expect(values).toMatchObject({ DATABASE_URL: `file:${sqlite}`, STRIPE_SECRET_KEY: 'rk_test_typed_in_terminal_0123', STRIPE_WEBHOOK_SECRET: 'whsec_typed_in_terminal_0123', TALLY_PUBLIC_URL: 'http://localhost:3000' });
    expect(production(read()).api.stripeMode).toBe('test');
    for (const secret of ['rk_test_typed_in_terminal_0123', 'whsec_typed_in_terminal_0123', ...secrets.made]) {
      expect(screen).not.toContain(secret);
      expect(run.stdout + run.stderr).not.toContain(secret);
    }
    expect(screen).toContain('*****');
  });
});

describe('the Stripe CLI and the terminal', () => {
  it('stripe listen --print-secret: the key goes in STRIPE_API_KEY (not argv); the whsec_ line is the answer', async () => {
    const cli = path.join(dir, 'stripe');
    writeFileSync(cli, '#!/bin/sh\n[ "$1 $2" = "listen --print-secret" ] || exit 3\n[ "$STRIPE_API_KEY" = "sk_test_from_env_0123" ] || exit 4\necho "$*" | grep -q sk_test && exit 5\necho whsec_printed_by_cli_0123\n');
    chmodSync(cli, 0o755);
    await expect(stripeListenSecret(cli, 'sk_test_from_env_0123')).resolves.toBe('whsec_printed_by_cli_0123');
    writeFileSync(cli, '#!/bin/sh\necho "failed to reach Stripe with $STRIPE_API_KEY" >&2\nexit 1\n');
    await expect(stripeListenSecret(cli, 'sk_test_from_env_0123')).rejects.toThrow(/^stripe listen --print-secret failed \(exit 1\)/);
  });

  it('without a terminal and without --yes it says how to script it (a child process with piped stdin)', async () => {
    const tsx = path.join(serverDir, 'node_modules', '.bin', 'tsx');
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      // (Not --env-file: Node and pnpm take that one as their own.)
      const child = spawn(tsx, ['--', 'src/cli/index.ts', 'setup', '--env-path', envFile], { cwd: serverDir, env: { PATH: process.env.PATH }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stderr }));
      child.stdin.end();
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^tally: setup asks questions and needs a terminal; for scripts pass --yes/m);
    expect(() => read()).toThrow();
  });
});
