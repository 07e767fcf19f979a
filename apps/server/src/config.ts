/**
 * Server configuration: every variable validated with zod at start (via @t3-oss/env-core).
 * `process.env` is read here and nowhere else in the server. All problems are reported in
 * one message (ConfigError) and the process exits non-zero.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createEnv } from '@t3-oss/env-core';
import dotenv from 'dotenv';
import { Cron } from 'croner';
import {
  EMULATOR_DEFAULT_PORT,
  EMULATOR_DEV_API_KEY,
  EMULATOR_DEV_WEBHOOK_SECRET,
} from '@tally/stripe-emulator/defaults';
import { parsePriceMap, parseSecretKey, PriceMapError, type ApiConfig, type PriceMapEntry, type SecretKeyring } from '@tally/api';
import { z } from 'zod';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}\nSee .env.example for every variable.`);
    this.name = 'ConfigError';
  }
}

/** Dev-only auth secret used when none is configured outside production. Published: production refuses it. */
export const DEV_AUTH_SECRET = 'tally-development-auth-secret-not-for-production';

/**
 * Dev-only key sealing workspace secrets when TALLY_SECRET_ENCRYPTION_KEY is unset outside
 * production (32 bytes, base64). Published: production refuses it, and without a key
 * production stores no workspace secrets at all.
 */
export const DEV_SECRET_ENCRYPTION_KEY = 'dGFsbHktZGV2LW9ubHktc2VjcmV0LWtleS0zMmJ5dGU=';

const secretKeyText = z.string().refine((s) => {
  try {
    parseSecretKey(s);
    return true;
  } catch {
    return false;
  }
}, 'must be 32 bytes, written as base64 (openssl rand -base64 32) or 64 hex characters');

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
const flag = z.enum(['true', 'false']).transform((v) => v === 'true');
/**
 * Express's `trust proxy` (expressjs.com/en/guide/behind-proxies.html): `false` (default: the
 * socket address is the client), a hop count, or a comma-separated list of proxy addresses,
 * CIDRs or the names loopback, linklocal, uniquelocal. `true` trusts any X-Forwarded-For,
 * which any client can forge: only behind a proxy that overwrites it.
 */
const trustProxy = z
  .string()
  .transform((s, ctx): boolean | number | string[] => {
    const v = s.trim();
    if (v === 'false') return false;
    if (v === 'true') return true;
    if (/^\d+$/.test(v)) return Number(v);
    const list = v.split(',').map((p) => p.trim()).filter(Boolean);
    const bad = list.filter((p) => !/^(loopback|linklocal|uniquelocal|[0-9a-fA-F.:]+(\/\d{1,3})?)$/.test(p));
    if (bad.length || list.length === 0) {
      ctx.addIssue({ code: 'custom', message: `must be false, true, a hop count, or proxy addresses/CIDRs/loopback/linklocal/uniquelocal (bad: ${bad.join(', ') || 'empty'})` });
      return z.NEVER;
    }
    return list;
  });
/** When the server closes the month's usage periods by default: 00:15 UTC on the 1st (cron, minute hour day month weekday). */
export const DEFAULT_USAGE_CLOSE_SCHEDULE = '15 0 1 * *';

/**
 * TALLY_USAGE_CLOSE_SCHEDULE: a 5-field cron expression (UTC) as croner reads it, or `off`
 * (this process never closes usage periods by itself; `pnpm tally usage close-period` still does).
 */
const usageCloseSchedule = z
  .string()
  .transform((s, ctx): string | null => {
    const v = s.trim();
    if (v.toLowerCase() === 'off') return null;
    if (v.split(/\s+/).length !== 5) {
      ctx.addIssue({ code: 'custom', message: 'must be a 5-field cron expression in UTC, e.g. "15 0 1 * *" (00:15 on the 1st of each month), or off' });
      return z.NEVER;
    }
    try {
      new Cron(v, { paused: true, timezone: 'UTC' }).stop();
      return v;
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `is not a valid cron expression (${err instanceof Error ? err.message : String(err)}); e.g. "15 0 1 * *", or off` });
      return z.NEVER;
    }
  });

const redisUrl = z.string().refine((s) => /^rediss?:\/\/\S+$/.test(s) && URL.canParse(s), 'must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379');

/**
 * Postgres connections per server process when DATABASE_POOL_SIZE is unset. Sized so 32
 * concurrent webhook deliveries (each one short transaction) do not queue for a connection
 * on a 2-core machine (issue 11, docs/ARCHITECTURE.md "Webhook pipeline"); several processes
 * multiply it, so keep the sum under Postgres's max_connections (100 by default).
 */
export const DEFAULT_DATABASE_POOL_SIZE = 20;

const minorUnits = z.coerce.number().int('must be an integer number of minor units').positive('must be > 0').max(Number.MAX_SAFE_INTEGER);

export interface ServerConfig {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  host: string;
  databaseUrl: string;
  /** DATABASE_POOL_SIZE: Postgres connections per process (ignored on SQLite). */
  databasePoolSize: number;
  publicUrl: string;
  /** Where users open the SPA (printed at start). */
  webUrl: string;
  authSecret: string;
  /** Where `authSecret` came from: env, the development constant, or random for this process only. */
  authSecretSource: 'env' | 'development' | 'ephemeral';
  /** Express `trust proxy` (TALLY_TRUST_PROXY); decides what `req.ip` is. */
  trustProxy: boolean | number | string[];
  /** Outbound email: SMTP_URL (null: development prints to the console; production stores them unsent). */
  mail: { smtpUrl: string | null; from: string };
  /** The deployment's own Stripe (the fallback of workspaces without keys): null key/secret in `none` mode. */
  stripe: { secretKey: string | null; webhookSecret: string | null; apiBase: URL | null };
  /** Seals workspace secrets (TALLY_SECRET_ENCRYPTION_KEY, and _PREVIOUS while rotating); null: production without a key stores none. */
  secretKeyring: SecretKeyring | null;
  /** Where `secretKeyring` came from. */
  secretKeySource: 'env' | 'development' | 'none';
  /** STRIPE_PRODUCT_PRICE_MAP: the primary workspace's plans, seeded at start (empty: none). */
  priceMap: PriceMapEntry[];
  seedDemo: boolean;
  /** Built SPA to serve, or null (development: Vite serves it). */
  webDistDir: string | null;
  /** TALLY_USAGE_CLOSE_SCHEDULE: when this process closes ended usage periods (cron, UTC); null: never by itself. */
  usageCloseSchedule: string | null;
  /**
   * The live billing stream (issue 10): ENABLE_BILLING_STREAM (default: on when a Redis URL is
   * set, and in development), BILLING_EVENTS_REDIS_URL (default REDIS_URL). `bus`: `redis`
   * across processes; `in-process` only in development without Redis (one process); `unavailable`
   * when enabled without a Redis URL elsewhere (the stream endpoints answer 503); `off`.
   */
  billingStream: { enabled: boolean; redisUrl: string | null; bus: 'redis' | 'in-process' | 'unavailable' | 'off' };
  /** TALLY_EVENT_RETENTION_DAYS (default 90): payloads of processed and ignored Stripe events older than this are pruned daily. */
  eventRetentionDays: number;
  /** TALLY_METRICS_TOKEN: bearer token for GET /metrics; null = direct loopback connections only. */
  metricsToken: string | null;
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
 * Read the repo root's `.env` (what `pnpm tally setup` writes) into `env`; variables already
 * set win, so the real environment always overrides the file. No file: nothing happens.
 * @returns the file's path when one was read, else null.
 */
export function loadDotEnvFile(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string | null {
  const file = path.join(findRepoRoot(cwd), '.env');
  if (!existsSync(file)) return null;
  dotenv.config({ path: file, processEnv: env as dotenv.DotenvPopulateInput, quiet: true });
  return file;
}

/** DATABASE_URL, or the development SQLite file under the repo's `data/` (all `pnpm db:migrate` needs). */
export function databaseUrlFrom(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return env.DATABASE_URL?.trim() || `file:${path.join(findRepoRoot(cwd), 'data', 'tally.sqlite')}`;
}

/**
 * Validate `env` and resolve defaults.
 * @throws ConfigError listing every missing or invalid variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ServerConfig {
  const problems: string[] = [];
  const e = createEnv({
    server: {
      // Safe by default: only `pnpm dev` (NODE_ENV=development) and tests opt out of production.
      NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
      PORT: z.coerce.number().int().min(1).max(65535).default(3000),
      HOST: z.string().min(1).default('0.0.0.0'),
      DATABASE_URL: z.string().min(1).optional(),
      DATABASE_POOL_SIZE: z.coerce.number().int('must be a whole number of connections').min(1, 'must be at least 1').max(500, 'must be at most 500').default(DEFAULT_DATABASE_POOL_SIZE),
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
      TALLY_ALLOW_EMULATOR_IN_PRODUCTION: flag.default(false),
      TALLY_TRUST_PROXY: trustProxy.default(false),
      TALLY_SIGN_UP: z.enum(['open', 'invite']).default('open'),
      TOPUP_MAX_OPEN: z.coerce.number().int().min(1).max(1000).default(5),
      TALLY_DUNNING_GRACE_DAYS: z.coerce.number().int('must be a whole number of days').min(0).max(365).default(7),
      SMTP_URL: z
        .string()
        .refine((s) => /^smtps?:\/\/[^\s]+$/.test(s) && URL.canParse(s), 'must be an smtp:// or smtps:// URL, e.g. smtps://user:pass@smtp.example.com:465')
        .optional(),
      MAIL_FROM: z.string().min(3).optional(),
      TALLY_SECRET_ENCRYPTION_KEY: secretKeyText.optional(),
      TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS: secretKeyText.optional(),
      STRIPE_PRODUCT_PRICE_MAP: z.string().max(20_000).optional(),
      TALLY_USAGE_CLOSE_SCHEDULE: usageCloseSchedule.default(DEFAULT_USAGE_CLOSE_SCHEDULE),
      ENABLE_BILLING_STREAM: flag.optional(),
      REDIS_URL: redisUrl.optional(),
      BILLING_EVENTS_REDIS_URL: redisUrl.optional(),
      TALLY_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
      TALLY_EVENT_RETENTION_DAYS: z.coerce.number().int('must be a whole number of days').min(1).max(3650).default(90),
    },
    runtimeEnv: env,
    emptyStringAsUndefined: true,
    onValidationError: (issues) => {
      throw new ConfigError(issues.map((i) => `${i.path?.map((p) => (typeof p === 'object' ? p.key : p)).join('.') ?? '?'}: ${i.message}`));
    },
  });

  const production = e.NODE_ENV === 'production';
  if (e.TOPUP_MAX_MINOR < e.TOPUP_MIN_MINOR) problems.push('TOPUP_MAX_MINOR: must be >= TOPUP_MIN_MINOR');
  // Production without STRIPE_SECRET_KEY has no deployment Stripe at all (`none`): only
  // workspaces with their own keys (Settings -> Stripe) take payments. It never falls back to
  // the emulator unless a demo or test says so.
  const noDeploymentStripe = production && !e.STRIPE_SECRET_KEY && !e.TALLY_ALLOW_EMULATOR_IN_PRODUCTION;
  const emulator = !noDeploymentStripe && (!e.STRIPE_SECRET_KEY || Boolean(e.STRIPE_API_BASE));
  if (e.STRIPE_SECRET_KEY && !e.STRIPE_WEBHOOK_SECRET) problems.push('STRIPE_WEBHOOK_SECRET: required when STRIPE_SECRET_KEY is set');
  // Production refuses published development secrets and the emulator (DESIGN.md: "Production
  // refuses unsafe defaults"), unless a demo or test says so explicitly.
  if (production && !e.TALLY_ALLOW_EMULATOR_IN_PRODUCTION) {
    const escape = 'set it, or TALLY_ALLOW_EMULATOR_IN_PRODUCTION=true for a demo or test deployment that takes no real payments';
    if (!e.STRIPE_SECRET_KEY && e.STRIPE_WEBHOOK_SECRET) {
      problems.push('STRIPE_WEBHOOK_SECRET: set without STRIPE_SECRET_KEY; set both for a deployment-wide Stripe account, or neither (each workspace then brings its own keys)');
    }
    if (e.STRIPE_WEBHOOK_SECRET === EMULATOR_DEV_WEBHOOK_SECRET) {
      problems.push(`STRIPE_WEBHOOK_SECRET: is the emulator's published development secret (anyone could sign forged payments with it); ${escape}`);
    }
    if (e.STRIPE_API_BASE) problems.push(`STRIPE_API_BASE: points production at a Stripe emulator; ${escape}`);
    if (!e.BETTER_AUTH_SECRET || e.BETTER_AUTH_SECRET === DEV_AUTH_SECRET) {
      problems.push(`BETTER_AUTH_SECRET: required in production and not the published development secret (generate one: openssl rand -base64 32); ${escape}`);
    }
    if (e.TALLY_SECRET_ENCRYPTION_KEY === DEV_SECRET_ENCRYPTION_KEY || e.TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS === DEV_SECRET_ENCRYPTION_KEY) {
      problems.push(`TALLY_SECRET_ENCRYPTION_KEY: is the published development key (generate one: openssl rand -base64 32); ${escape}`);
    }
  }
  let priceMap: PriceMapEntry[] = [];
  try {
    priceMap = parsePriceMap(e.STRIPE_PRODUCT_PRICE_MAP ?? '');
  } catch (err) {
    if (!(err instanceof PriceMapError)) throw err;
    problems.push(`STRIPE_PRODUCT_PRICE_MAP: ${err.message}`);
  }
  if (e.TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS && !e.TALLY_SECRET_ENCRYPTION_KEY) {
    problems.push('TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS: set without TALLY_SECRET_ENCRYPTION_KEY (the new key values are re-encrypted under)');
  }
  if (problems.length) throw new ConfigError(problems);

  const publicUrl = (e.TALLY_PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, '');
  const webUrl = (e.TALLY_WEB_URL ?? (production ? publicUrl : 'http://localhost:5173')).replace(/\/$/, '');
  const root = findRepoRoot(cwd);
  const stripeMode: ApiConfig['stripeMode'] = noDeploymentStripe ? 'none' : emulator ? 'emulator' : e.STRIPE_SECRET_KEY!.includes('_live_') ? 'live' : 'test';
  const sealingKeyText: string | null = e.TALLY_SECRET_ENCRYPTION_KEY ?? (production ? null : DEV_SECRET_ENCRYPTION_KEY);
  const secretKeyring: SecretKeyring | null = sealingKeyText
    ? { current: parseSecretKey(sealingKeyText), previous: e.TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS ? parseSecretKey(e.TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS) : null }
    : null;
  const defaultOrigins = [...new Set([new URL(webUrl).origin, new URL(publicUrl).origin, ...(production ? [] : ['http://127.0.0.1:5173', 'http://127.0.0.1:3000', `http://localhost:${e.PORT}`, `http://127.0.0.1:${e.PORT}`])])];
  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL ?? databaseUrlFrom({}, root),
    databasePoolSize: e.DATABASE_POOL_SIZE,
    publicUrl,
    webUrl,
    // Production never uses the published development secret: without BETTER_AUTH_SECRET it
    // gets a random one, valid for this process only (main.ts warns).
    // Reached without BETTER_AUTH_SECRET in production only with TALLY_ALLOW_EMULATOR_IN_PRODUCTION:
    // a random secret for this process, never the published development one.
    authSecret: e.BETTER_AUTH_SECRET ?? (production ? randomBytes(32).toString('base64url') : DEV_AUTH_SECRET),
    authSecretSource: e.BETTER_AUTH_SECRET ? 'env' : production ? 'ephemeral' : 'development',
    trustProxy: e.TALLY_TRUST_PROXY,
    mail: { smtpUrl: e.SMTP_URL ?? null, from: e.MAIL_FROM ?? `Tally <no-reply@${new URL(publicUrl).hostname}>` },
    stripe: {
      secretKey: noDeploymentStripe ? null : (e.STRIPE_SECRET_KEY ?? EMULATOR_DEV_API_KEY),
      webhookSecret: noDeploymentStripe ? null : (e.STRIPE_WEBHOOK_SECRET ?? EMULATOR_DEV_WEBHOOK_SECRET),
      // Workspaces' own keys go where the deployment's do: the emulator in emulator mode, else Stripe.
      apiBase: emulator ? new URL(e.STRIPE_API_BASE ?? `http://127.0.0.1:${EMULATOR_DEFAULT_PORT}`) : null,
    },
    secretKeyring,
    secretKeySource: e.TALLY_SECRET_ENCRYPTION_KEY ? 'env' : secretKeyring ? 'development' : 'none',
    priceMap,
    seedDemo: e.TALLY_SEED_DEMO ? e.TALLY_SEED_DEMO === 'true' : !production,
    webDistDir: production ? (e.TALLY_WEB_DIST ?? path.join(root, 'apps', 'web', 'dist')) : (e.TALLY_WEB_DIST ?? null),
    usageCloseSchedule: e.TALLY_USAGE_CLOSE_SCHEDULE,
    billingStream: billingStreamConfig(e.ENABLE_BILLING_STREAM, e.BILLING_EVENTS_REDIS_URL ?? e.REDIS_URL ?? null, e.NODE_ENV),
    eventRetentionDays: e.TALLY_EVENT_RETENTION_DAYS,
    metricsToken: e.TALLY_METRICS_TOKEN ?? null,
    api: {
      environment: e.NODE_ENV,
      publicUrl,
      webUrl,
      signUp: e.TALLY_SIGN_UP,
      maxOpenTopups: e.TOPUP_MAX_OPEN,
      dunningGraceDays: e.TALLY_DUNNING_GRACE_DAYS,
      topup: { minMinor: e.TOPUP_MIN_MINOR, maxMinor: e.TOPUP_MAX_MINOR, currency: e.TALLY_CURRENCY },
      allowedFrontendOrigins: e.ALLOWED_FRONTEND_ORIGINS ?? defaultOrigins,
      stripeMode,
      adminEmails: e.TALLY_ADMIN_EMAILS.map((a) => a.toLowerCase()),
    },
  };
}

/** ServerConfig.billingStream from ENABLE_BILLING_STREAM and the Redis URL (see there). */
function billingStreamConfig(enable: boolean | undefined, redisUrl: string | null, nodeEnv: ServerConfig['nodeEnv']): ServerConfig['billingStream'] {
  const enabled = enable ?? (redisUrl !== null || nodeEnv === 'development');
  const bus = !enabled ? 'off' : redisUrl ? 'redis' : nodeEnv === 'development' ? 'in-process' : 'unavailable';
  return { enabled, redisUrl, bus };
}
