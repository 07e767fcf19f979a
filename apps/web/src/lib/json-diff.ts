/**
 * A compact before/after diff of two JSON values (an audit entry's `before` and `after`):
 * plain objects are flattened to dotted paths, anything else (arrays, scalars) is compared
 * whole. Only paths whose values differ are listed, in a stable order.
 */
export interface JsonChange {
  /** Dotted path (`status`, `key.last4`); `''` when the values themselves are not objects. */
  path: string;
  /** Compact JSON of the old value; undefined when the path did not exist. */
  before?: string;
  /** Compact JSON of the new value; undefined when the path no longer exists. */
  after?: string;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

function flatten(value: unknown, prefix: string, out: Map<string, string>) {
  if (isPlainObject(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (value !== undefined) {
    out.set(prefix, compactJson(value));
  }
}

/** JSON on one line; Dates as their ISO string; never throws. */
export function compactJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function diffJson(before: unknown, after: unknown): JsonChange[] {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  if (before !== null) flatten(before, '', a);
  if (after !== null) flatten(after, '', b);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  const changes: JsonChange[] = [];
  for (const path of paths) {
    const old = a.get(path);
    const now = b.get(path);
    if (old === now) continue;
    const change: JsonChange = { path };
    if (old !== undefined) change.before = old;
    if (now !== undefined) change.after = now;
    changes.push(change);
  }
  return changes;
}
