import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  /**
   * Route the CLI's requests to `https://meter-events.stripe.com` (the meter event stream of the
   * `v1.billing.meter.*` triggers, which ignores `--api-base`) to the emulator: `HTTPS_PROXY` =
   * `apiBase` and `SSL_CERT_FILE` = the emulator's certificate for that host
   * (`GET /_emulator/meter_events_certificate.pem`). Default `true`; skipped when the server at
   * `apiBase` does not serve the certificate. Works where Go reads `SSL_CERT_FILE` (Linux).
   */
  meterEventsProxy?: boolean;
}

/** The environment that sends the CLI's `meter-events.stripe.com` requests to the emulator at `apiBase`, or `{}`. */
async function meterEventsProxyEnv(apiBase: string, home: string): Promise<Record<string, string>> {
  let certificate: string;
  try {
    const response = await fetch(new URL('/_emulator/meter_events_certificate.pem', apiBase), { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) return {};
    certificate = await response.text();
  } catch {
    return {};
  }
  const file = join(home, 'meter-events.stripe.com.pem');
  writeFileSync(file, certificate);
  // Go does not proxy loopback hosts, so `--api-base http://127.0.0.1:...` is still reached directly.
  return { HTTPS_PROXY: apiBase, https_proxy: apiBase, SSL_CERT_FILE: file };
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
export async function runStripeTrigger(event: string, options: StripeTriggerOptions): Promise<StripeTriggerResult> {
  const home = mkdtempSync(join(tmpdir(), 'stripe-cli-'));
  const proxy = options.meterEventsProxy === false ? {} : await meterEventsProxyEnv(options.apiBase, home);
  const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: home, STRIPE_CLI_TELEMETRY_OPTOUT: '1', ...proxy };
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
