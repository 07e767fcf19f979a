/**
 * The server's logger: pino, JSON lines in production (for log shippers), pretty in
 * development. Every line written while a request is handled carries its `requestId`
 * (http/request-id.ts: AsyncLocalStorage, read by pino's `mixin`).
 *
 * Secrets never reach a line, by two independent guards:
 * - field names (`redact.paths`): passwords, secrets, tokens, API keys, cookies,
 *   `Authorization` and `Stripe-Signature` headers, card details, payloads and bodies;
 * - values (`scrubSecrets`, on the finished line, message and error stacks included): Stripe
 *   secret and restricted keys (`sk_live_...`, `sk_test_...`, `rk_...`), webhook signing
 *   secrets (`whsec_...`), Tally API keys (`tly_live_...`) and license keys (`TLY-XXXX-...`),
 *   Stripe signature HMACs (`v1=<hex>`) and session cookie values, whatever field holds them.
 */
import { pino, type DestinationStream, type Logger as Pino } from 'pino';
import pretty from 'pino-pretty';
import { currentRequestId } from './http/request-id';

/** Field names whose values are replaced by `[redacted]` (top level and one level down). */
const SECRET_FIELDS = [
  'password',
  'newPassword',
  'currentPassword',
  'secret',
  'secretKey',
  'webhookSecret',
  'apiKey',
  'token',
  'accessToken',
  'refreshToken',
  'authorization',
  'cookie',
  'set-cookie',
  'stripe-signature',
  'stripeSignature',
  'signature',
  'card',
  'cvc',
  'payload',
  'rawBody',
  'body',
];
const REDACT_PATHS = [
  ...SECRET_FIELDS.flatMap((f) => (f.includes('-') ? [`["${f}"]`, `*["${f}"]`] : [f, `*.${f}`])),
  // Request and response headers, wherever a caller logs them.
  ...['authorization', 'cookie', 'stripe-signature', 'x-api-key'].flatMap((h) => [`req.headers["${h}"]`, `headers["${h}"]`, `*.headers["${h}"]`]),
  'res.headers["set-cookie"]',
];

/**
 * Secret-shaped values, with what replaces them (the prefix stays, so a line still says which
 * kind of key was there).
 */
const SECRET_VALUES: Array<[RegExp, string]> = [
  [/\b(sk|rk)_(live|test)_[0-9A-Za-z]{8,}/g, '$1_$2_[redacted]'],
  [/\bwhsec_[0-9A-Za-z+/=_-]{8,}/g, 'whsec_[redacted]'],
  [/\btly_(live|test)_[0-9A-Za-z]{20,}/g, 'tly_$1_[redacted]'],
  [/\bTLY(?:-[0-9A-Z]{4}){7}\b/g, 'TLY-[redacted]'],
  [/\bv[01]=[0-9a-f]{64}\b/g, 'v1=[redacted]'],
  [/(session_token|session_data|dont_remember)=[^;"\s\\]+/g, '$1=[redacted]'],
];

/** `text` with every secret-shaped value (see the module doc) replaced, e.g. `sk_test_abc...` -> `sk_test_[redacted]`. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_VALUES) out = out.replace(pattern, replacement);
  return out;
}

export interface CreateLoggerOptions {
  environment: 'development' | 'production' | 'test';
  /** Where lines go (default: stdout; development: pretty-printed). Tests pass a capture. */
  destination?: DestinationStream;
  /** Least level written (default `info`; `warn` in test). */
  level?: pino.LevelWithSilent;
}

/**
 * The server's pino logger (see the module doc). Lines are JSON (`level` number, `time` ms,
 * `msg`, fields, `requestId` during a request) except in development without a `destination`,
 * where pino-pretty prints them for people.
 */
export function createLogger({ environment, destination, level }: CreateLoggerOptions): Pino {
  const options: pino.LoggerOptions = {
    level: level ?? (environment === 'test' ? 'warn' : 'info'),
    base: undefined,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    mixin: () => {
      const requestId = currentRequestId();
      return requestId ? { requestId } : {};
    },
    hooks: { streamWrite: scrubSecrets },
  };
  if (destination) return pino(options, destination);
  return environment === 'development' ? pino(options, pretty({ colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' })) : pino(options);
}
