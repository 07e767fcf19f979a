/**
 * The real server as a child process (`tsx src/main.ts`), for tests of what only a process
 * shows: exit codes, what it prints, surviving connection loss.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WEBHOOK_SECRET } from './harness';

const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsx = path.join(serverDir, 'node_modules', '.bin', 'tsx');

/** Variables of a production start that needs no Stripe account (see config.ts). */
export function productionEnv(overrides: Record<string, string>): Record<string, string> {
  return {
    NODE_ENV: 'production',
    TALLY_ALLOW_EMULATOR_IN_PRODUCTION: 'true',
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    BETTER_AUTH_SECRET: 'process-tests-auth-secret-0123456789abcdef',
    TALLY_SEED_DEMO: 'false',
    HOST: '127.0.0.1',
    ...overrides,
  };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export interface ServerProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  /** Resolves once stdout has printed `pattern`; rejects if the process exits first. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<number | null>;
}

/**
 * Start `tsx src/main.ts` with exactly `env` (plus PATH/HOME: nothing of the test runner's
 * environment, such as vitest's NODE_ENV=test, leaks in).
 */
export function spawnServer(env: Record<string, string>): ServerProcess {
  const child = spawn(tsx, ['src/main.ts'], {
    cwd: serverDir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TMPDIR: process.env.TMPDIR ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (chunk) => {
    out += chunk;
    for (const l of listeners) l();
  });
  child.stderr!.on('data', (chunk) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForOutput(pattern, timeoutMs = 30_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(out)) finish(resolve);
        };
        const finish = (fn: () => void) => {
          listeners.delete(check);
          clearTimeout(timer);
          fn();
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms.\nstdout:\n${out}\nstderr:\n${err}`))), timeoutMs);
        listeners.add(check);
        void exited.then((code) => finish(() => reject(new Error(`server exited (${code}) before ${pattern}.\nstdout:\n${out}\nstderr:\n${err}`))));
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
