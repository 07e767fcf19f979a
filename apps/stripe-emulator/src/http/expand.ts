import type { EmulatorContext } from '../core/context';
import { invalidRequest } from './errors';
import type { ApiRoute, ExpandableFields } from './route';

const cannotExpand = (path: string) => invalidRequest(`This property cannot be expanded (${path}).`, { param: 'expand' });

/**
 * Checks `expand[]` paths against what a route returns, before the handler runs (so a bad
 * expansion changes no state). Paths are dotted (`payment_intent.latest_charge`); on list
 * endpoints they start with `data.` (https://docs.stripe.com/expand).
 */
export function validateExpand(route: ApiRoute, paths: readonly string[], fields: ExpandableFields): void {
  for (const path of paths) {
    const segments = path.split('.');
    if (route.list && segments.shift() !== 'data') throw cannotExpand(path);
    let type = route.returns;
    for (const segment of segments) {
      const field = fields[type]?.[segment];
      if (!field) throw cannotExpand(path);
      type = field.object;
    }
  }
}

function expandPath(value: unknown, segments: readonly string[], fields: ExpandableFields, ctx: EmulatorContext): unknown {
  const [head, ...rest] = segments;
  if (head === undefined || value === null || typeof value !== 'object') return value;
  const target = value as Record<string, unknown>;
  if (target.object === 'list' && head === 'data' && Array.isArray(target.data)) {
    return { ...target, data: target.data.map((item: unknown) => expandPath(item, rest, fields, ctx)) };
  }
  const field = fields[String(target.object)]?.[head];
  if (!field) return value;
  const expanded = field.resolve(target[head], target, ctx) ?? target[head];
  return { ...target, [head]: expandPath(expanded, rest, fields, ctx) };
}

/** Returns `value` with every (validated) path in `paths` expanded; the stored objects are not modified. */
export function applyExpand(value: object, paths: readonly string[], fields: ExpandableFields, ctx: EmulatorContext): object {
  let result: unknown = value;
  for (const path of paths) result = expandPath(result, path.split('.'), fields, ctx);
  return result as object;
}
