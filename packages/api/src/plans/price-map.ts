/**
 * `STRIPE_PRODUCT_PRICE_MAP`: which Stripe Price each plan code bills (issue 8), as JSON
 * (`{"solo":"price_...","team":"price_..."}`) or `code=price_...` pairs separated by commas
 * (`solo=price_...,team=price_...`). Pure: the server's config validation calls it.
 */
import { PLAN_CODE_PATTERN as CODE, STRIPE_PRICE_ID_PATTERN as PRICE_ID } from '../schemas/plans';

/** One plan code and its monthly Stripe Price id. */
export interface PriceMapEntry {
  /** Lowercase letters, digits, `-` and `_`, 1 to 40 characters. */
  code: string;
  /** `price_...` (stripe.com/docs/api/prices/object#price_object-id). */
  priceId: string;
}


/** The map is malformed; `message` names the bad entry, never more than 80 characters of it. */
export class PriceMapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PriceMapError';
  }
}

const quote = (s: string) => JSON.stringify(s.length > 80 ? `${s.slice(0, 77)}...` : s);

/**
 * Parse the map into entries, in the order given.
 * @throws PriceMapError for unparseable text (JSON that is not an object of strings, a pair
 * without `=`), an empty or malformed code, an empty or non-`price_` id, or a duplicate code.
 */
export function parsePriceMap(text: string): PriceMapEntry[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  let pairs: [string, unknown][];
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new PriceMapError('is not valid JSON (expected {"code":"price_..."} or code=price_...,code=price_...)');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new PriceMapError('must be a JSON object of plan code to price id');
    // JSON.parse keeps the last of two equal keys; a duplicate code must stop the start, so the
    // keys are read from the text too (in valid JSON only keys are followed by a colon).
    const keys = [...trimmed.matchAll(/"((?:[^"\\]|\\.)*)"\s*:/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
    const dup = keys.find((key, i) => keys.indexOf(key) !== i);
    if (dup !== undefined) throw new PriceMapError(`plan code ${quote(dup)} appears twice`);
    pairs = Object.entries(parsed);
  } else {
    pairs = trimmed.split(',').map((item) => {
      const part = item.trim();
      const eq = part.indexOf('=');
      if (eq < 0) throw new PriceMapError(`entry ${quote(part)} is not code=price_...`);
      return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
    });
  }
  const seen = new Set<string>();
  return pairs.map(([rawCode, rawPrice]) => {
    const code = rawCode.trim();
    if (code === '') throw new PriceMapError('an entry has an empty plan code');
    if (!CODE.test(code)) throw new PriceMapError(`plan code ${quote(code)} must be 1 to 40 lowercase letters, digits, - or _`);
    if (seen.has(code)) throw new PriceMapError(`plan code ${quote(code)} appears twice`);
    seen.add(code);
    if (typeof rawPrice !== 'string' || rawPrice.trim() === '') throw new PriceMapError(`plan ${quote(code)} has an empty price id`);
    const priceId = rawPrice.trim();
    if (!PRICE_ID.test(priceId)) throw new PriceMapError(`plan ${quote(code)}: ${quote(priceId)} is not a Stripe price id (price_...)`);
    return { code, priceId };
  });
}
