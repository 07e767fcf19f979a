/**
 * What the Settings -> Stripe verbs share: their dependencies, the audit snapshot (never a
 * key or secret), masking of Stripe's error text, and how a failed Stripe call is classified.
 */
import type { Database, Tables } from '@tally/db';
import Stripe from 'stripe';
import type { Actor } from '../context';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import type { SecretKeyring } from '../secrets/encryption';
import type { ApiConfig } from '../services';
import type { StripeAccounts } from '../stripe/accounts';

/** Everything a Settings -> Stripe verb needs (a subset of the tRPC context of an admin procedure). */
export interface StripeSettingsDeps {
  db: Database;
  stripeAccounts: StripeAccounts;
  config: ApiConfig;
  logger: Logger;
  /** The selected workspace the admin acts on. */
  workspaceId: string;
  actor: Actor;
  /** Our request id (`X-Request-Id`), for the audit entry and log lines. */
  requestId: string;
}

export type WorkspaceStripeAccountRow = Tables['workspaceStripeAccounts']['$inferSelect'];

/**
 * A row as the audit log records it (`stripe_settings.*` before/after): mode, kind, last 4
 * characters, verification and ids; never a key or a secret.
 */
export interface StripeSettingsSnapshot {
  mode: 'test' | 'live';
  kind: 'secret' | 'restricted';
  last4: string;
  verified: boolean;
  stripeAccountId: string | null;
  webhookSecretLast4: string | null;
  webhookEndpointId: string | null;
}

export function stripeSettingsSnapshot(row: WorkspaceStripeAccountRow | undefined | null): StripeSettingsSnapshot | null {
  if (!row) return null;
  return {
    mode: row.mode,
    kind: row.keyKind,
    last4: row.keyLast4,
    verified: row.verifiedAt !== null,
    stripeAccountId: row.stripeAccountId,
    webhookSecretLast4: row.webhookSecretLast4,
    webhookEndpointId: row.webhookEndpointId,
  };
}

/** PRECONDITION_FAILED message of `save` (and `registerWebhookEndpoint`) without a keyring. */
export const NO_ENCRYPTION_KEY_MESSAGE =
  'TALLY_SECRET_ENCRYPTION_KEY is not set on this server: workspace Stripe keys are only ever stored encrypted, so none can be saved. The operator sets it (generate one: openssl rand -base64 32) and restarts Tally.';

/** The keyring, or PRECONDITION_FAILED naming TALLY_SECRET_ENCRYPTION_KEY. */
export function requireKeyring(stripeAccounts: StripeAccounts): SecretKeyring {
  if (!stripeAccounts.keyring) throw new AppError('PRECONDITION_FAILED', NO_ENCRYPTION_KEY_MESSAGE);
  return stripeAccounts.keyring;
}

/** The last 4 characters of a key or secret (what admins see of it). */
export const last4 = (secret: string) => secret.slice(-4);

/** Anything shaped like a Stripe key or signing secret (the audit log's own check, and more: publishable keys too). */
const SECRET_LIKE = /\b((?:sk|rk|pk)_(?:test|live)_|whsec_)[A-Za-z0-9_*]+/g;

/**
 * `text` (Stripe's error message) with every key or secret in it masked as Stripe masks them
 * (`sk_test_****abcd`), and each of `secrets` removed wherever it appears. Cut to 300 characters.
 */
export function maskSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join(`${secret.slice(0, 3)}****${last4(secret)}`);
  out = out.replace(SECRET_LIKE, (match, prefix: string) => `${prefix}****${match.slice(-4).replace(/\*/g, '')}`);
  return out.replaceAll('\u0000', '').slice(0, 300);
}

/**
 * How a failed Stripe call reads (stripe.com/docs/error-handling, error types):
 * - `refused`: Stripe answered and refused the key or the request (401 authentication,
 *   403 permission, other 4xx invalid requests). Retrying the same thing cannot help.
 * - `unreachable`: no answer, a 5xx, or rate limited (StripeConnectionError, StripeAPIError,
 *   StripeRateLimitError). Trying again later may work.
 * - `other`: not a Stripe error at all (a bug): rethrown by callers.
 */
export function classifyStripeError(err: unknown): 'refused' | 'unreachable' | 'other' {
  if (!(err instanceof Stripe.errors.StripeError)) return 'other';
  if (err instanceof Stripe.errors.StripeConnectionError || err instanceof Stripe.errors.StripeRateLimitError) return 'unreachable';
  if (err instanceof Stripe.errors.StripeAuthenticationError || err instanceof Stripe.errors.StripePermissionError) return 'refused';
  const status = err.statusCode ?? 0;
  if (status >= 400 && status < 500) return 'refused';
  return 'unreachable';
}

/** Log-safe fields of a Stripe error: class, code, status and Stripe's request id (what Stripe support asks for); never the message of a key-bearing error unmasked. */
export function stripeErrorFields(err: unknown, secrets: readonly string[] = []): Record<string, unknown> {
  if (err instanceof Stripe.errors.StripeError) {
    return {
      stripeErrorClass: err.type,
      stripeCode: err.code ?? null,
      stripeStatusCode: err.statusCode ?? null,
      stripeRequestId: err.requestId ?? null,
      err: maskSecrets(err.message, secrets),
    };
  }
  return { err: maskSecrets(err instanceof Error ? err.message : String(err), secrets) };
}

/** Timeout of each Stripe call made from Settings -> Stripe, ms: an admin waits for it. */
export const SETTINGS_STRIPE_TIMEOUT_MS = 10_000;
