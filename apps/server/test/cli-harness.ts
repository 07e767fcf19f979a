/** Running the operator CLI in tests: as a child process (as an operator does) or in process (`runCli`, same argv, env and exit code). */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase, type Database } from '@tally/db';
import { runCli } from '../src/cli/index';

const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsx = path.join(serverDir, 'node_modules/.bin/tsx');
export const PUBLIC_URL = 'http://127.0.0.1:3999';

export interface CliRun {
  url: string;
  stdin?: string;
  env?: Record<string, string>;
}

/** Production, and none of STRIPE_SECRET_KEY / STRIPE_WEBHOOK_SECRET / BETTER_AUTH_SECRET unless `extra` sets them. */
export const cliEnv = (url: string, extra: Record<string, string> = {}) => ({ PATH: process.env.PATH, NODE_ENV: 'production', DATABASE_URL: url, TALLY_PUBLIC_URL: PUBLIC_URL, ...extra });

/** `tally <args>` in a child process. Each spawn costs seconds (tsx compiles the CLI at start). */
export function spawnTally(args: string[], { url, stdin, env }: CliRun) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(tsx, ['src/cli/index.ts', ...args], { cwd: serverDir, env: cliEnv(url, env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

/** `runCli` in this process with the same environment; output captured. */
export async function runTally(args: string[], { url, stdin, env }: CliRun) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['node', 'tally', ...args], { out: (l) => out.push(l), err: (l) => err.push(l), readStdin: async () => stdin ?? '', env: cliEnv(url, env) });
  return { code, stdout: out.map((l) => `${l}\n`).join(''), stderr: err.map((l) => `${l}\n`).join('') };
}

/** Open the CLI's database in this process once the CLI closed it (PGlite has one owner). */
export async function withCliDatabase<T>(url: string, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await createDatabase(url);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}
