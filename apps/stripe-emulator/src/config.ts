import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { EMULATOR_DEFAULT_PORT, EMULATOR_DEV_WEBHOOK_SECRET } from './defaults';

/** Where `pnpm dev` keeps state by default: `<repo root>/data/stripe-emulator.json`. */
export const DEFAULT_STATE_FILE = fileURLToPath(new URL('../../../data/stripe-emulator.json', import.meta.url));

/** The Tally server's webhook route in development. */
export const DEFAULT_WEBHOOK_URL = 'http://127.0.0.1:3000/api/stripe/webhook';

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

const envSchema = z.object({
  EMULATOR_PORT: z
    .string()
    .default(String(EMULATOR_DEFAULT_PORT))
    .transform((value) => (/^\d+$/.test(value.trim()) ? Number(value) : NaN))
    .pipe(z.number({ error: 'must be a port number (0-65535)' }).int().min(0, 'must be 0-65535').max(65535, 'must be 0-65535')),
  EMULATOR_HOST: z.string().trim().min(1, 'must not be empty').default('127.0.0.1'),
  EMULATOR_WEBHOOK_URLS: z
    .string()
    .default(DEFAULT_WEBHOOK_URL)
    .transform((value) =>
      value
        .split(',')
        .map((url) => url.trim())
        .filter(Boolean),
    )
    .pipe(z.array(httpUrl)),
  EMULATOR_WEBHOOK_SECRET: z.string().startsWith('whsec_', 'must start with whsec_').default(EMULATOR_DEV_WEBHOOK_SECRET),
  EMULATOR_STATE_FILE: z
    .string()
    .default(DEFAULT_STATE_FILE)
    .transform((value) => (value.trim() === '' || value.trim() === '-' ? null : value.trim())),
});

/** The emulator's configuration as read from the environment by `main.ts`. */
export type EmulatorConfig = z.output<typeof envSchema>;

/**
 * Reads `EMULATOR_PORT` (default 12111), `EMULATOR_HOST` (127.0.0.1), `EMULATOR_WEBHOOK_URLS`
 * (comma-separated; empty for none), `EMULATOR_WEBHOOK_SECRET` (the dev secret) and
 * `EMULATOR_STATE_FILE` (`-` or empty for memory only). Returns every problem, one line each.
 */
export function readConfig(env: NodeJS.ProcessEnv): { ok: true; config: EmulatorConfig } | { ok: false; problems: string[] } {
  const result = envSchema.safeParse(env);
  if (result.success) return { ok: true, config: result.data };
  const problems = result.error.issues.map((issue) => {
    const [name, index] = issue.path;
    const value = typeof name === 'string' ? env[name] : undefined;
    const where = index === undefined ? String(name) : `${String(name)} (entry ${Number(index) + 1})`;
    return `${where}: ${issue.message}${value === undefined ? '' : ` (got ${JSON.stringify(value)})`}`;
  });
  return { ok: false, problems };
}
