/**
 * The whole product on loopback for browser tests: the Stripe emulator (in process), the
 * built server (`apps/server/dist/main.js`, production mode, in a child process) on a fresh
 * database of the given dialect, serving the built SPA.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabaseUrl } from '@tally/db/testing';
import { startStripeEmulator, type StripeEmulator } from '@tally/stripe-emulator';
import type { Dialect } from '@tally/db';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The webhook signing secret every e2e server and emulator share. */
export const WEBHOOK_SECRET = 'whsec_e2e_tests_only_0123456789';

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Wait (60 s at most) until `url/healthz` answers 200; fails with the log if the child exits first. */
export async function waitForHealthy(url: string, child: ChildProcess, log: () => string) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${log()}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server not healthy within 60 s:\n${log()}`);
}

/** A demo user's sign-in. */
export interface DemoSignIn {
  email: string;
  password: string;
}

export interface Stack {
  baseUrl: string;
  /** The server's DATABASE_URL (a test may open it too, e.g. to run what the operator CLI does). */
  databaseUrl: string;
  emulator: StripeEmulator;
  /**
   * The demo sign-ins the server printed at start. In production (as here) they are generated
   * for this database and printed once; the published DEMO_SIGN_INS never sign in.
   */
  demoSignIns: { admin: DemoSignIn; customer: DemoSignIn };
  serverLog(): string;
  stop(): Promise<void>;
}

/**
 * Read the demo sign-ins from the server's start banner (`  Demo admin:    <email> / <password>`,
 * apps/server/src/main.ts). The banner is written when the server listens, so it may reach
 * this process just after the first healthy answer: wait for it briefly.
 */
export async function printedDemoSignIns(log: () => string): Promise<Stack['demoSignIns']> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const admin = /Demo admin:\s+(\S+) \/ (\S+)/.exec(log());
    const customer = /Demo customer:\s+(\S+) \/ (\S+)/.exec(log());
    if (admin && customer) return { admin: { email: admin[1]!, password: admin[2]! }, customer: { email: customer[1]!, password: customer[2]! } };
    if (Date.now() > deadline) throw new Error(`the server did not print the demo sign-ins (TALLY_SEED_DEMO=true):\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface StackOptions {
  /** The server's SMTP_URL (e.g. an in-process mailbox from `./mailbox`); unset: mail stays in the outbox. */
  smtpUrl?: string;
  /**
   * Whether every Stripe key reaches an emulator account of its own (as with Stripe), so a
   * workspace's pasted key is a separate account from the deployment's. Default false: every
   * key reaches the emulator's default account.
   */
  accountPerKey?: boolean;
  /**
   * The server's TALLY_SECRET_ENCRYPTION_KEY (seals workspaces' Stripe keys). Default: 32
   * random bytes, base64, for this run; `null` leaves it unset (production then stores none).
   */
  secretEncryptionKey?: string | null;
}

export async function startStack(dialect: Dialect, options: StackOptions = {}): Promise<Stack> {
  const database = await createTestDatabaseUrl(dialect);
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const emulator = await startStripeEmulator({
    port: 0,
    webhookEndpoints: [{ url: `${baseUrl}/api/stripe/webhook`, secret: WEBHOOK_SECRET }],
    retryScheduleMs: [200, 500, 1000, 2000],
    statePath: null,
    accountPerKey: options.accountPerKey ?? false,
  });
  const secretEncryptionKey = options.secretEncryptionKey === undefined ? randomBytes(32).toString('base64') : options.secretEncryptionKey;
  let output = '';
  const child = spawn(process.execPath, [path.join(repoRoot, 'apps/server/dist/main.js')], {
    cwd: path.join(repoRoot, 'apps/server'),
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      // A test deployment: payments go to the emulator, which production refuses without this.
      TALLY_ALLOW_EMULATOR_IN_PRODUCTION: 'true',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: database.url,
      TALLY_PUBLIC_URL: baseUrl,
      TALLY_WEB_DIST: path.join(repoRoot, 'apps/web/dist'),
      TALLY_SEED_DEMO: 'true',
      BETTER_AUTH_SECRET: 'e2e-tests-only-auth-secret-0123456789',
      STRIPE_API_BASE: emulator.url,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      ...(options.smtpUrl ? { SMTP_URL: options.smtpUrl } : {}),
      ...(secretEncryptionKey ? { TALLY_SECRET_ENCRYPTION_KEY: secretEncryptionKey } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const serverLog = () => output;
  let demoSignIns: Stack['demoSignIns'];
  try {
    await waitForHealthy(baseUrl, child, serverLog);
    demoSignIns = await printedDemoSignIns(serverLog);
  } catch (err) {
    child.kill('SIGKILL');
    await emulator.close();
    await database.drop();
    throw err;
  }
  return {
    baseUrl,
    databaseUrl: database.url,
    emulator,
    demoSignIns,
    serverLog,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      await emulator.close();
      await database.drop();
    },
  };
}
