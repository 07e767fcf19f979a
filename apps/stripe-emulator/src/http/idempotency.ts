import { createHash } from 'node:crypto';
import { nowSeconds } from '../core/clock';
import type { IdempotencyRecord, Store } from '../core/store';
import { StripeApiError } from './errors';

/** Stripe prunes keys after 24 hours (https://docs.stripe.com/api/idempotent_requests). */
const KEY_TTL_SECONDS = 24 * 60 * 60;
const MAX_KEY_LENGTH = 255;

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** A stable hash of a request's method, path and parameters (key order does not matter). */
export function requestFingerprint(method: string, path: string, params: unknown): string {
  return createHash('sha256').update(JSON.stringify([method, path, canonical(params)])).digest('hex');
}

/**
 * Whether a response is saved for its key. Stripe saves results once an endpoint has started
 * executing (including 402 declines and 5xx), not for requests rejected by validation.
 */
export function isReplayable(status: number): boolean {
  return status < 400 || status === 402 || status >= 500;
}

/** `Idempotency-Key` records, kept in the store so that they persist with the rest of the state. */
export class IdempotencyKeys {
  constructor(private readonly store: Store) {}

  /**
   * The saved response for `key`, or `undefined` when the key is new. Throws a 400
   * `idempotency_error` if the key was first used with different parameters.
   */
  lookup(key: string, fingerprint: string): IdempotencyRecord | undefined {
    if (key.length > MAX_KEY_LENGTH) {
      throw new StripeApiError(400, {
        type: 'invalid_request_error',
        message: `Invalid idempotency key: must be at most ${MAX_KEY_LENGTH} characters long.`,
      });
    }
    this.#prune();
    const record = this.store.idempotencyKeys.get(key);
    if (record && record.fingerprint !== fingerprint) {
      throw new StripeApiError(400, {
        type: 'idempotency_error',
        message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
      });
    }
    return record;
  }

  save(record: Omit<IdempotencyRecord, 'created'>): void {
    this.store.idempotencyKeys.put({ ...record, created: nowSeconds() });
  }

  #prune(): void {
    const cutoff = nowSeconds() - KEY_TTL_SECONDS;
    for (const record of this.store.idempotencyKeys.all()) {
      if (record.created >= cutoff) break;
      this.store.idempotencyKeys.delete(record.id);
    }
  }
}
