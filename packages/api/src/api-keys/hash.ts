import { createHash } from 'node:crypto';

/** SHA-256 (lowercase hex) of a whole API key: what `api_keys.key_hash` stores. A key has 256 random bits, so no salt or slow hash is needed (nothing to brute-force). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
