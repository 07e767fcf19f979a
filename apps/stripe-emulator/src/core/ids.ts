import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A random base-62 string of `length` characters. */
export function randomToken(length: number): string {
  let out = '';
  for (const byte of randomBytes(length)) out += ALPHABET[byte % ALPHABET.length];
  return out;
}

/** Object prefixes and the length of the random part, as in Stripe's ids (e.g. `cus_QXg1o8vcGmoR32`). */
const ID_FORMATS = {
  cus: 14,
  prod: 14,
  price: 24,
  pm: 24,
  pi: 24,
  seti: 24,
  ch: 24,
  re: 24,
  dp: 24,
  li: 24,
  evt: 24,
  req: 14,
  cs_test: 58,
} as const;

export type IdPrefix = keyof typeof ID_FORMATS;

/** A new random Stripe-looking id, e.g. `newId('cus')` → `cus_Ab3...` (test-mode sessions get `cs_test_a1...`). */
export function newId(prefix: IdPrefix): string {
  const length = ID_FORMATS[prefix];
  return prefix === 'cs_test' ? `cs_test_a1${randomToken(length - 2)}` : `${prefix}_${randomToken(length)}`;
}
