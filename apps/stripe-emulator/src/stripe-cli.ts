import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The official Stripe CLI (`@stripe/cli`) installed with this package. */
export const STRIPE_CLI_BIN = fileURLToPath(new URL('../node_modules/.bin/stripe', import.meta.url));

export interface StripeTriggerOptions {
  /** Emulator base URL, e.g. `http://127.0.0.1:12111`. */
  apiBase: string;
  /** A test secret key the emulator accepts (`sk_test_` + 12 or more characters). */
  apiKey: string;
  /** Kill the CLI after this many ms (exit code `null`). Default 60 000. */
  timeoutMs?: number;
  /** `inherit` streams the CLI's output to this process's; `pipe` (default) collects it. */
  stdio?: 'inherit' | 'pipe';
}

export interface StripeTriggerResult {
  /** Exit code; `null` when killed (timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `stripe trigger <event> --api-base <apiBase> --api-key <apiKey>` with the official CLI,
 * with telemetry off and a throw-away `HOME`/`XDG_CONFIG_HOME` so that it reads and writes no
 * configuration outside a temporary directory (removed afterwards).
 */
export function runStripeTrigger(event: string, options: StripeTriggerOptions): Promise<StripeTriggerResult> {
  const home = mkdtempSync(join(tmpdir(), 'stripe-cli-'));
  const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: home, STRIPE_CLI_TELEMETRY_OPTOUT: '1' };
  const child = spawn(STRIPE_CLI_BIN, ['trigger', event, '--api-base', options.apiBase, '--api-key', options.apiKey], {
    env,
    stdio: options.stdio === 'inherit' ? 'inherit' : ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      rmSync(home, { recursive: true, force: true });
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      rmSync(home, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
  });
}
