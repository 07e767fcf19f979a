/**
 * The whole product on loopback for browser tests: the Stripe emulator (in process), the
 * built server (`apps/server/dist/main.js`, production mode, in a child process) on a fresh
 * database of the given dialect, serving the built SPA.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabaseUrl } from '@tally/db/testing';
import { startStripeEmulator, type StripeEmulator } from '@tally/stripe-emulator';
import type { Dialect } from '@tally/db';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WEBHOOK_SECRET = 'whsec_e2e_tests_only_0123456789';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitForHealthy(url: string, child: ChildProcess, log: () => string) {
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

export interface Stack {
  baseUrl: string;
  emulator: StripeEmulator;
  serverLog(): string;
  stop(): Promise<void>;
}

export async function startStack(dialect: Dialect): Promise<Stack> {
  const database = await createTestDatabaseUrl(dialect);
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const emulator = await startStripeEmulator({
    port: 0,
    webhookEndpoints: [{ url: `${baseUrl}/api/stripe/webhook`, secret: WEBHOOK_SECRET }],
    retryScheduleMs: [200, 500, 1000, 2000],
    statePath: null,
  });
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
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const serverLog = () => output;
  try {
    await waitForHealthy(baseUrl, child, serverLog);
  } catch (err) {
    child.kill('SIGKILL');
    await emulator.close();
    await database.drop();
    throw err;
  }
  return {
    baseUrl,
    emulator,
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
