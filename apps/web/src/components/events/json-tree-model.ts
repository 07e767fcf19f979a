/**
 * The shape of a JSON value as the event page's collapsible tree shows it (JsonTree.tsx):
 * containers as their entries (object keys in payload order, array indexes), and one-line
 * summaries for a collapsed container and for scalars. Pure, so it is unit-tested.
 */

export type JsonEntry = { key: string; value: unknown };

/** Whether `value` is shown as an expandable node (a non-empty object or array). */
export function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  if (Array.isArray(value)) return value.length > 0;
  return typeof value === 'object' && value !== null && Object.keys(value).length > 0;
}

/** The children of a container: `[key, value]` for objects, `[index, value]` for arrays; [] otherwise. */
export function jsonEntries(value: unknown): JsonEntry[] {
  if (Array.isArray(value)) return value.map((v, i) => ({ key: String(i), value: v }));
  if (typeof value === 'object' && value !== null) return Object.entries(value).map(([key, v]) => ({ key, value: v }));
  return [];
}

/** A collapsed container's summary: `{3 keys}`, `[1 item]`, or for Stripe objects `{object: checkout.session, 12 keys}`. */
export function containerSummary(value: Record<string, unknown> | unknown[]): string {
  if (Array.isArray(value)) return `[${value.length} ${value.length === 1 ? 'item' : 'items'}]`;
  const n = Object.keys(value).length;
  const kind = typeof value.object === 'string' ? `${value.object}, ` : '';
  return `{${kind}${n} ${n === 1 ? 'key' : 'keys'}}`;
}

export type ScalarKind = 'string' | 'number' | 'boolean' | 'null' | 'empty';

/** A scalar (or empty container) as one line of JSON, and its kind for colouring. */
export function scalarText(value: unknown): { text: string; kind: ScalarKind } {
  if (value === null || value === undefined) return { text: 'null', kind: 'null' };
  if (typeof value === 'string') return { text: JSON.stringify(value), kind: 'string' };
  if (typeof value === 'number') return { text: String(value), kind: 'number' };
  if (typeof value === 'boolean') return { text: String(value), kind: 'boolean' };
  if (Array.isArray(value)) return { text: '[]', kind: 'empty' };
  return { text: '{}', kind: 'empty' };
}

/** Whether a node at `depth` (root 0) under `path` starts open: the first two levels, and the event's `data.object`. */
export function openByDefault(depth: number, path: string): boolean {
  return depth < 2 || path === 'data.object';
}
