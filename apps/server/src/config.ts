/**
 * Server configuration: every variable validated with zod at start (via @t3-oss/env-core).
 * `process.env` is read here and nowhere else in the server. All problems are reported in
 * one message (ConfigError) and the process exits non-zero.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createEnv } from '@t3-oss/env-core';
import {
  EMULATOR_DEFAULT_PORT,
  EMULATOR_DEV_API_KEY,
  EMULATOR_DEV_WEBHOOK_SECRET,
} from '@tally/stripe-emulator/defaults';
import type { ApiConfig } from '@tally/api';
import { z } from 'zod';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}\nSee .env.example for every variable.`);
    this.name = 'ConfigError';
  }
}

/** Dev-only auth secret used when none is configured in emulator mode. */
const DEV_AUTH_SECRET = 'tally-development-auth-secret-not-for-production';

const csv = z
  .string()
  .transform((s) => s.split(',').map((v) => v.trim()).filter(Boolean));
const origin = z.string().refine((s) => {
  try {
    return new URL(s).origin === s;
  } catch {
    return false;
  }
}, 'each entry must be an origin like https://app.example.com (scheme, host, optional port; no path or trailing slash)');
const minorUnits = z.coerce.number().int('must be an integer number of minor units').positive('must be > 0').max(Number.MAX_SAFE_INTEGER);

export interface ServerConfig {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  host: string;
  databaseUrl: string;
  publicUrl: string;
  /** Where users open the SPA (printed at start). */
  webUrl: string;
  authSecret: string;
  /** Where `authSecret` came from: env, the development constant, or random for this process only. */
  authSecretSource: 'env' | 'development' | 'ephemeral';
  stripe: { secretKey: string; apiBase: URL | null };
  seedDemo: boolean;
  /** Built SPA to serve, or null (development: Vite serves it). */
  webDistDir: string | null;
  api: ApiConfig;
}

function findRepoRoot(from: string): string {
  let dir = from;
  while (dir !== path.dirname(dir)) {
    if (existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir;
    dir = path.dirname(dir);
  }
  return from;
}

/**
 * Validate `env` and resolve defaults.
 * @throws ConfigError listing every missing or invalid variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ServerConfig {
  const problems: string[] = [];
  const e = createEnv({
    server: {
      NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
      PORT: z.coerce.number().int().min(1).max(65535).default(3000),
      HOST: z.string().min(1).default('0.0.0.0'),
      DATABASE_URL: z.string().min(1).optional(),
      TALLY_PUBLIC_URL: z.url().optional(),
      TALLY_WEB_URL: z.url().optional(),
      TALLY_WEB_DIST: z.string().min(1).optional(),
      BETTER_AUTH_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
      STRIPE_SECRET_KEY: z
        .string()
        .regex(/^(sk|rk)_(test|live)_[A-Za-z0-9_]{8,}$/, 'must look like sk_test_..., sk_live_..., rk_test_... or rk_live_...')
        .optional(),
      STRIPE_WEBHOOK_SECRET: z.string().regex(/^whsec_[A-Za-z0-9_]{8,}$/, 'must look like whsec_...').optional(),
      STRIPE_API_BASE: z.url().optional(),
      ALLOWED_FRONTEND_ORIGINS: csv.pipe(z.array(origin).min(1)).optional(),
      TOPUP_MIN_MINOR: minorUnits.default(50),
      TOPUP_MAX_MINOR: minorUnits.default(1_000_000),
      TALLY_CURRENCY: z
        .string()
        .regex(/^[a-zA-Z]{3}$/, 'must be an ISO 4217 code like usd')
        .transform((s) => s.toLowerCase())
        .default('usd'),
      TALLY_ADMIN_EMAILS: csv.pipe(z.array(z.email())).default([]),
      TALLY_SEED_DEMO: z.enum(['true', 'false']).optional(),
    },
    runtimeEnv: env,
    emptyStringAsUndefined: true,
    onValidationError: (issues) => {
      throw new ConfigError(issues.map((i) => `${i.path?.map((p) => (typeof p === 'object' ? p.key : p)).join('.') ?? '?'}: ${i.message}`));
    },
  });

  const production = e.NODE_ENV === 'production';
  if (e.TOPUP_MAX_MINOR < e.TOPUP_MIN_MINOR) problems.push('TOPUP_MAX_MINOR: must be >= TOPUP_MIN_MINOR');
  const emulator = !e.STRIPE_SECRET_KEY || Boolean(e.STRIPE_API_BASE);
  if (e.STRIPE_SECRET_KEY && !e.STRIPE_WEBHOOK_SECRET) problems.push('STRIPE_WEBHOOK_SECRET: required when STRIPE_SECRET_KEY is set');
  if (problems.length) throw new ConfigError(problems);

  const publicUrl = (e.TALLY_PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, '');
  const webUrl = (e.TALLY_WEB_URL ?? (production ? publicUrl : 'http://localhost:5173')).replace(/\/$/, '');
  const root = findRepoRoot(cwd);
  const stripeMode: ApiConfig['stripeMode'] = emulator ? 'emulator' : e.STRIPE_SECRET_KEY!.includes('_live_') ? 'live' : 'test';
  const defaultOrigins = [...new Set([new URL(webUrl).origin, new URL(publicUrl).origin, ...(production ? [] : ['http://127.0.0.1:5173', 'http://127.0.0.1:3000', `http://localhost:${e.PORT}`, `http://127.0.0.1:${e.PORT}`])])];
  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL ?? `file:${path.join(root, 'data', 'tally.sqlite')}`,
    publicUrl,
    webUrl,
    // Production never uses the published development secret: without BETTER_AUTH_SECRET it
    // gets a random one, valid for this process only (main.ts warns).
    authSecret: e.BETTER_AUTH_SECRET ?? (production ? randomBytes(32).toString('base64url') : DEV_AUTH_SECRET),
    authSecretSource: e.BETTER_AUTH_SECRET ? 'env' : production ? 'ephemeral' : 'development',
    stripe: {
      secretKey: e.STRIPE_SECRET_KEY ?? EMULATOR_DEV_API_KEY,
      apiBase: emulator ? new URL(e.STRIPE_API_BASE ?? `http://127.0.0.1:${EMULATOR_DEFAULT_PORT}`) : null,
    },
    seedDemo: e.TALLY_SEED_DEMO ? e.TALLY_SEED_DEMO === 'true' : !production,
    webDistDir: production ? (e.TALLY_WEB_DIST ?? path.join(root, 'apps', 'web', 'dist')) : (e.TALLY_WEB_DIST ?? null),
    api: {
      topup: { minMinor: e.TOPUP_MIN_MINOR, maxMinor: e.TOPUP_MAX_MINOR, currency: e.TALLY_CURRENCY },
      allowedFrontendOrigins: e.ALLOWED_FRONTEND_ORIGINS ?? defaultOrigins,
      stripeWebhookSecret: e.STRIPE_WEBHOOK_SECRET ?? EMULATOR_DEV_WEBHOOK_SECRET,
      stripeMode,
      adminEmails: e.TALLY_ADMIN_EMAILS.map((s) => s.toLowerCase()),
    },
  };
}
