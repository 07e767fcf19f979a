/**
 * License key format (see schemas/licenses.ts for the shape):
 * `TLY-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXC`, 27 Crockford base32 symbols carrying 135 bits
 * from `crypto.randomBytes` and one check symbol `C`.
 *
 * The check symbol is Luhn mod N with N = 32 over the data symbols' values
 * (en.wikipedia.org/wiki/Luhn_mod_N_algorithm): it catches every single-symbol substitution
 * (doubling is a bijection mod 32 after digit folding) and almost every adjacent swap, and,
 * unlike Crockford's mod-37 check, it stays inside the alphabet (no `*~$=`), so keys survive
 * double-click selection, URLs and shells. With the fixed length, any single added, dropped
 * or changed symbol makes `parseLicenseKey` return null, before any database lookup.
 *
 * Keys are stored as SHA-256 (hex) of the canonical form: 135 random bits need no salt or
 * slow hash (nothing to brute-force).
 */
import { createHash, randomBytes } from 'node:crypto';
import { LICENSE_KEY_DATA_LENGTH, LICENSE_KEY_GROUP_LENGTH, LICENSE_KEY_MASK, LICENSE_KEY_PREFIX } from '../schemas/licenses';

/** Crockford's base32 alphabet: value = index. */
export const CROCKFORD_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const VALUE = new Map<string, number>([...CROCKFORD_ALPHABET].map((c, i) => [c, i]));
/** Bytes of randomness drawn per key: 136 bits, of which the first 135 are used. */
export const LICENSE_KEY_RANDOM_BYTES = 17;
/** Symbols of the body (data + check). */
const BODY_LENGTH = LICENSE_KEY_DATA_LENGTH + 1;
/** Longest raw input looked at; anything longer is not a key (checked before any other work). */
const MAX_INPUT_LENGTH = 128;

/** Luhn mod 32 check value of symbol values (the check symbol is appended after them). */
function luhn32(values: readonly number[]): number {
  let factor = 2;
  let sum = 0;
  for (let i = values.length - 1; i >= 0; i--) {
    let addend = factor * values[i]!;
    factor = factor === 2 ? 1 : 2;
    addend = Math.floor(addend / 32) + (addend % 32);
    sum += addend;
  }
  return (32 - (sum % 32)) % 32;
}

/** The check symbol of data symbols (Crockford base32 text, canonical). */
export function licenseCheckSymbol(data: string): string {
  return CROCKFORD_ALPHABET[luhn32([...data].map((c) => VALUE.get(c)!))]!;
}

/** Canonical grouped form of a 28-symbol body. */
function grouped(body: string): string {
  const groups: string[] = [];
  for (let i = 0; i < body.length; i += LICENSE_KEY_GROUP_LENGTH) groups.push(body.slice(i, i + LICENSE_KEY_GROUP_LENGTH));
  return `${LICENSE_KEY_PREFIX}-${groups.join('-')}`;
}

/**
 * The key for 17 random bytes (the first 135 bits, most significant first). Exposed for
 * property tests; `generateLicenseKey` is what issues keys.
 * @throws RangeError for another number of bytes.
 */
export function licenseKeyFromBytes(bytes: Uint8Array): string {
  if (bytes.length !== LICENSE_KEY_RANDOM_BYTES) throw new RangeError(`a license key takes ${LICENSE_KEY_RANDOM_BYTES} bytes`);
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  bits >>= BigInt(LICENSE_KEY_RANDOM_BYTES * 8 - LICENSE_KEY_DATA_LENGTH * 5);
  let data = '';
  for (let i = LICENSE_KEY_DATA_LENGTH - 1; i >= 0; i--) data += CROCKFORD_ALPHABET[Number((bits >> BigInt(i * 5)) & 31n)];
  return grouped(data + licenseCheckSymbol(data));
}

/** A new key from `crypto.randomBytes` (135 bits), canonical form. */
export function generateLicenseKey(): string {
  return licenseKeyFromBytes(randomBytes(LICENSE_KEY_RANDOM_BYTES));
}

const SEPARATORS = /[\s\-\u2010-\u2015\u2212]+/g;

/**
 * What a person typed, made comparable (no validation): trimmed, uppercased, dashes (also
 * typographic ones) and whitespace removed, the `TLY` prefix dropped when present, and Crockford's
 * confusables read as digits (I, L -> 1; O -> 0). Returns the compact body, e.g. `7K2M...`.
 */
export function normalizeLicenseKey(input: string): string {
  let compact = input.toUpperCase().replace(SEPARATORS, '');
  if (compact.length === LICENSE_KEY_PREFIX.length + BODY_LENGTH && compact.startsWith(LICENSE_KEY_PREFIX)) compact = compact.slice(LICENSE_KEY_PREFIX.length);
  return compact.replace(/[IL]/g, '1').replace(/O/g, '0');
}

/**
 * The canonical key (`TLY-XXXX-...`) for input that is a well-formed key, else null: wrong
 * length, a symbol outside the alphabet (U, punctuation, non-ASCII), or a failed check symbol.
 * Pure and cheap: call it before any lookup, and answer null exactly like an unknown key.
 */
export function parseLicenseKey(input: unknown): string | null {
  if (typeof input !== 'string' || input.length > MAX_INPUT_LENGTH) return null;
  const body = normalizeLicenseKey(input);
  if (body.length !== BODY_LENGTH) return null;
  for (const c of body) if (!VALUE.has(c)) return null;
  const data = body.slice(0, LICENSE_KEY_DATA_LENGTH);
  if (licenseCheckSymbol(data) !== body[LICENSE_KEY_DATA_LENGTH]) return null;
  return grouped(body);
}

/** SHA-256 (lowercase hex) of a canonical key: what `licenses.key_hash` stores. */
export function hashLicenseKey(canonical: string): string {
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/** The last group of a canonical key (three data symbols and the check symbol): `licenses.key_last4`. */
export function licenseKeyLast4(canonical: string): string {
  return canonical.slice(-LICENSE_KEY_GROUP_LENGTH);
}

/** The masked display of a key from its last group: `TLY-••••-••••-••••-••••-••••-••••-XXXX`. */
export function maskLicenseKey(last4: string): string {
  return `${LICENSE_KEY_MASK}${last4}`;
}
