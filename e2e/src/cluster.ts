/**
 * Several Tally server processes on one database, as behind a load balancer (issue 10): the
 * built server (`apps/server/dist/main.js`, production mode) started once per process, each on
 * its own port, sharing DATABASE_URL, BETTER_AUTH_SECRET (a session from one works on all) and,
 * per process, a Redis URL for the live billing stream (or none: the stream is off there). The
 * Stripe emulator (in this process) delivers webhooks to the first process only. Processes can
 * be killed and started again on the same port (a crash and a supervisor's restart).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabaseUrl } from '@tally/db/testing';
import type { Dialect } from '@tally/db';
import { startStripeEmulator, type StripeEmulator } from '@tally/stripe-emulator';
import { freePort, printedDemoSignIns, waitForHealthy, WEBHOOK_SECRET, type Stack } from './stack';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** One process of the cluster. */
export interface ClusterServer {
  /** `A`, `B`, ... in the order given. */
  name: string;
  baseUrl: string;
  /** Its output since it was (re)started last. */
  log(): string;
  /** SIGKILL, as a crash: no graceful shutdown. Resolves when it has exited. */
  kill(): Promise<void>;
  /** Start it again on the same port and environment; resolves when it is healthy. */
  restart(): Promise<void>;
}

export interface ClusterServerOptions {
  /** The live billing stream's Redis (BILLING_EVENTS_REDIS_URL); unset: no Redis, the stream is off. */
  redisUrl?: string;
  /** More environment for this process. */
  env?: Record<string, string>;
}

export interface Cluster {
  databaseUrl: string;
  emulator: StripeEmulator;
  /** In the order of `servers`; webhooks go to `servers[0]`. */
  servers: ClusterServer[];
  /** Printed by the first process, which seeds the demo data. */
  demoSignIns: Stack['demoSignIns'];
  /** Every process's output, labelled (for failure messages). */
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Start `servers.length` processes on one fresh database of `dialect`. The first migrates and
 * seeds (the demo sign-ins it prints are returned) before the others start, so they find the
 * schema in place.
 * @throws when a process does not become healthy within 60 s (with its log).
 */
export async function startCluster(dialect: Dialect, servers: ClusterServerOptions[]): Promise<Cluster> {
  if (servers.length === 0) throw new Error('startCluster needs at least one server');
  const database = await createTestDatabaseUrl(dialect);
  const ports = await Promise.all(servers.map(() => freePort()));
  const urls = ports.map((port) => `http://127.0.0.1:${port}`);
  const emulator = await startStripeEmulator({
    port: 0,
    webhookEndpoints: [{ url: `${urls[0]}/api/stripe/webhook`, secret: WEBHOOK_SECRET }],
    retryScheduleMs: [200, 500, 1000, 2000],
    statePath: null,
  });
  const shared = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    TALLY_ALLOW_EMULATOR_IN_PRODUCTION: 'true',
    HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    TALLY_WEB_DIST: path.join(repoRoot, 'apps/web/dist'),
    BETTER_AUTH_SECRET: 'e2e-tests-only-auth-secret-0123456789',
    TALLY_SECRET_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    STRIPE_API_BASE: emulator.url,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
  };
  const started: ProcessHandle[] = [];
  const stopAll = async () => {
    await Promise.allSettled(started.map((p) => p.stop()));
    await emulator.close();
    await database.drop();
  };
  try {
    for (const [i, options] of servers.entries()) {
      const env: Record<string, string> = {
        ...shared,
        PORT: String(ports[i]),
        TALLY_PUBLIC_URL: urls[i]!,
        // The first process seeds the demo data (and prints its sign-ins); the others find it.
        TALLY_SEED_DEMO: i === 0 ? 'true' : 'false',
        ...(options.redisUrl ? { BILLING_EVENTS_REDIS_URL: options.redisUrl } : {}),
        ...options.env,
      };
      const handle = new ProcessHandle(String.fromCharCode(65 + i), urls[i]!, env);
      started.push(handle);
      await handle.start();
    }
    const demoSignIns = await printedDemoSignIns(() => started[0]!.log());
    return {
      databaseUrl: database.url,
      emulator,
      servers: started,
      demoSignIns,
      logs: () => started.map((p) => `--- server ${p.name} (${p.baseUrl}) ---\n${p.log()}`).join('\n'),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

class ProcessHandle implements ClusterServer {
  private child: ChildProcess | null = null;
  private output = '';

  constructor(
    readonly name: string,
    readonly baseUrl: string,
    private readonly env: Record<string, string>,
  ) {}

  log = () => this.output;

  async start(): Promise<void> {
    this.output = '';
    const child = spawn(process.execPath, [path.join(repoRoot, 'apps/server/dist/main.js')], {
      cwd: path.join(repoRoot, 'apps/server'),
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout!.on('data', (d) => (this.output += d));
    child.stderr!.on('data', (d) => (this.output += d));
    try {
      await waitForHealthy(this.baseUrl, child, this.log);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** SIGTERM (graceful), then SIGKILL after 5 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (child.exitCode === null && child.signalCode === null) await this.kill();
  }
}
