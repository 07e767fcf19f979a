import { z } from 'zod';
import { invalidRequest, type StripeApiError } from './errors';

/**
 * Parameter schemas with Stripe's wire semantics: form-encoded values arrive as strings
 * (`"1500"`, `"true"`), JSON bodies may carry numbers and booleans, and `""` means "unset"
 * where Stripe's SDK types say `Emptyable`. Messages are Stripe's; `{param}` in a message is
 * replaced by the parameter's bracket path when the error is reported.
 */

type RefineContext = z.core.$RefinementCtx;

const show = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

function fail(ctx: RefineContext, message: string, stripeCode?: string): never {
  ctx.addIssue({ code: 'custom', message, params: { stripeCode } });
  return z.NEVER;
}

const scalar = (kind: string) =>
  z.union([z.string(), z.number(), z.boolean()], { error: (issue) => `Invalid ${kind}: ${show(issue.input)}` });

/** A string of at most `max` characters; an empty string is rejected as Stripe does. */
function string(max = 5000) {
  return z.string({ error: (issue) => `Invalid string: ${show(issue.input)}` }).transform((value, ctx) => {
    if (value === '') {
      return fail(
        ctx,
        "You passed an empty string for '{param}'. We assume empty values are an attempt to unset a parameter; however '{param}' cannot be unset. You should remove '{param}' from your request or supply a non-empty value.",
        'parameter_invalid_empty',
      );
    }
    if (value.length > max) return fail(ctx, `Invalid string: must be at most ${max} characters`, 'parameter_invalid_string');
    return value;
  });
}

/** A string that may be unset with `""` (becomes `null`). */
function nullableString(max = 5000) {
  return z.string({ error: (issue) => `Invalid string: ${show(issue.input)}` }).transform((value, ctx) => {
    if (value.length > max) return fail(ctx, `Invalid string: must be at most ${max} characters`, 'parameter_invalid_string');
    return value === '' ? null : value;
  });
}

/** An integer, from a number or a decimal string, within optional bounds. */
function integer(bounds: { min?: number; max?: number } = {}) {
  return scalar('integer').transform((value, ctx) => {
    const parsed = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(parsed)) return fail(ctx, `Invalid integer: ${show(value)}`, 'parameter_invalid_integer');
    if (bounds.min !== undefined && parsed < bounds.min) {
      return fail(ctx, `This value must be greater than or equal to ${bounds.min}.`, 'parameter_invalid_integer');
    }
    if (bounds.max !== undefined && parsed > bounds.max) {
      return fail(ctx, `This value must be less than or equal to ${bounds.max}.`, 'parameter_invalid_integer');
    }
    return parsed;
  });
}

/** `true`/`false`, as a boolean or its string form. */
function boolean() {
  return scalar('boolean').transform((value, ctx) => {
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    return fail(ctx, `Invalid boolean: ${show(value)}`);
  });
}

/** One of `values`; the message lists them like Stripe: `must be one of a, b, or c`. */
function oneOf<const T extends string>(values: readonly T[]) {
  const listed = values.length > 1 ? `${values.slice(0, -1).join(', ')}, or ${values.at(-1)}` : (values[0] ?? '');
  return z.string({ error: (issue) => `Invalid string: ${show(issue.input)}` }).transform((value, ctx): T => {
    if ((values as readonly string[]).includes(value)) return value as T;
    return fail(ctx, `Invalid {param}: must be one of ${listed}`);
  });
}

/** An absolute http(s) URL. */
function url() {
  return string(5000).transform((value, ctx) => {
    const parsed = URL.canParse(value) ? new URL(value) : null;
    if (!parsed || !/^https?:$/.test(parsed.protocol)) return fail(ctx, 'Not a valid URL', 'url_invalid');
    return value;
  });
}

/** An email address (loosely checked, like Stripe); with `emptyable`, `""` unsets it (→ `null`). */
function email(options: { emptyable?: boolean } = {}) {
  return z.string({ error: (issue) => `Invalid string: ${show(issue.input)}` }).transform((value, ctx) => {
    if (value === '' && options.emptyable) return null;
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value) || value.length > 512) {
      return fail(ctx, `Invalid email address: ${value}`, 'email_invalid');
    }
    return value;
  });
}

/** A three-letter ISO currency code, normalised to lowercase as Stripe returns it. */
function currency() {
  const known = new Set(Intl.supportedValuesOf('currency').map((code) => code.toLowerCase()));
  return string(3).transform((value, ctx) => {
    const lower = value.toLowerCase();
    if (!known.has(lower)) return fail(ctx, `Invalid currency: ${value}.`, 'parameter_invalid_string');
    return lower;
  });
}

/**
 * Metadata: up to 50 string keys (≤ 40 chars) with string values (≤ 500 chars).
 * `""` for the whole hash means "clear it" (→ `null`); `""` for one value removes that key on update.
 */
function metadata() {
  const hash = z.record(z.string(), scalar('string'));
  return z.union([z.literal(''), hash], { error: 'Invalid object' }).transform((value, ctx) => {
    if (value === '') return null;
    const keys = Object.keys(value);
    if (keys.length > 50) return fail(ctx, 'Invalid metadata: metadata can have a maximum of 50 keys');
    const out: Record<string, string> = {};
    for (const key of keys) {
      const entry = String(value[key]);
      if (key.length > 40) return fail(ctx, `Metadata keys can have a maximum length of 40 characters (${key}).`);
      if (entry.length > 500) return fail(ctx, `Metadata values can have a maximum length of 500 characters (${key}).`);
      out[key] = entry;
    }
    return out;
  });
}

/** An array of `item`s (form encoding: `name[0]=...`). */
function array<T extends z.ZodType>(item: T) {
  return z.array(item, { error: 'Invalid array' });
}

/** A nested hash accepting only the given keys. */
function object<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.strictObject(shape, { error: 'Invalid object' });
}

/** Schema builders for request parameters; see the module comment for their semantics. */
export const p = { string, nullableString, integer, boolean, oneOf, url, email, currency, metadata, array, object };

/** Pagination parameters shared by list endpoints (https://docs.stripe.com/api/pagination). */
export const listParams = {
  limit: integer({ min: 1, max: 100 }).optional(),
  starting_after: string().optional(),
  ending_before: string().optional(),
};

/** Bracket notation of a parameter path: `['line_items', 0, 'price']` → `line_items[0][price]`. */
function bracketPath(path: readonly PropertyKey[]): string {
  return path.map((segment, index) => (index === 0 ? String(segment) : `[${String(segment)}]`)).join('');
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

function toStripeError(issues: readonly z.core.$ZodIssue[], raw: unknown): StripeApiError {
  const unknownKeys = issues.find((issue) => issue.code === 'unrecognized_keys');
  if (unknownKeys) {
    const param = bracketPath([...unknownKeys.path, unknownKeys.keys[0] ?? '']);
    return invalidRequest(`Received unknown parameter: ${param}`, { param, code: 'parameter_unknown' });
  }
  const issue = issues[0];
  if (!issue) return invalidRequest('Invalid request parameters.');
  const param = bracketPath(issue.path);
  if (valueAt(raw, issue.path) === undefined) {
    return invalidRequest(`Missing required param: ${param}.`, { param, code: 'parameter_missing' });
  }
  const code = issue.code === 'custom' ? (issue.params as { stripeCode?: string } | undefined)?.stripeCode : undefined;
  return invalidRequest(issue.message.replaceAll('{param}', param), { param, ...(code ? { code } : {}) });
}

/**
 * Validates raw request parameters against `schema` and returns the parsed values.
 * Throws a 400 {@link StripeApiError} for the first problem, worded as Stripe words it:
 * unknown parameters first (`Received unknown parameter: x`), then missing ones
 * (`Missing required param: x.`), then invalid values; `param` is the bracket path.
 */
export function parseParams<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  schemaObserver?.(schema, raw);
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  throw toStripeError(result.error.issues, raw);
}

let schemaObserver: ((schema: z.ZodType, raw: unknown) => void) | null = null;

/**
 * Runs `run` with `observer` told of every {@link parseParams} call made meanwhile (synchronously).
 * The API router uses it to learn which top-level parameters each route accepts (see
 * `acceptedParams` in `api-router.ts`, read by the OpenAPI conformance test).
 */
export function observeParamSchemas<T>(observer: (schema: z.ZodType, raw: unknown) => void, run: () => T): T {
  const previous = schemaObserver;
  schemaObserver = observer;
  try {
    return run();
  } finally {
    schemaObserver = previous;
  }
}

/**
 * The top-level keys a parameter schema accepts: the shape of a `p.object`, through optional,
 * nullable, default, pipe/transform and union wrappers (a union accepts the keys of every
 * object branch). `null` when the schema is not object-like.
 */
export function topLevelKeys(schema: z.ZodType): string[] | null {
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
  switch (def.type) {
    case 'object':
      return Object.keys(def.shape as Record<string, unknown>);
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
      return topLevelKeys(def.innerType as z.ZodType);
    case 'pipe':
      return topLevelKeys(def.in as z.ZodType);
    case 'union': {
      const keys = (def.options as z.ZodType[]).map(topLevelKeys).filter((found): found is string[] => found !== null);
      return keys.length ? [...new Set(keys.flat())] : null;
    }
    case 'intersection': {
      const keys = [topLevelKeys(def.left as z.ZodType), topLevelKeys(def.right as z.ZodType)].filter((found): found is string[] => found !== null);
      return keys.length ? [...new Set(keys.flat())] : null;
    }
    default:
      return null;
  }
}
