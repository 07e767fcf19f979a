import { z } from 'zod';
import { invalidRequest, resourceMissing } from '../http/errors';
import { paginate } from '../http/lists';
import { listParams, p, parseParams } from '../http/params';
import type { ApiHandler, ResourceModule } from '../http/route';
import { noParams } from './shared';

/**
 * A `created` filter (https://docs.stripe.com/api/events/list#list_events-created): an exact
 * unix-seconds timestamp, or a range hash `created[gt|gte|lt|lte]` (unix seconds).
 */
const createdRange = p.object({ gt: p.integer().optional(), gte: p.integer().optional(), lt: p.integer().optional(), lte: p.integer().optional() });
type CreatedFilter = number | z.output<typeof createdRange>;
export const createdFilterParam = z.unknown().transform((value, ctx): CreatedFilter => {
  // Pick the branch by shape, so that errors name the offending key (`created[gt]`) as Stripe does.
  const result = value !== null && typeof value === 'object' ? createdRange.safeParse(value) : p.integer().safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
  return z.NEVER;
});

/** Whether unix-seconds `created` passes a parsed {@link createdFilterParam} (`undefined`: no filter). */
export function matchesCreated(created: number, filter: CreatedFilter | undefined): boolean {
  if (filter === undefined) return true;
  if (typeof filter === 'number') return created === filter;
  return (
    (filter.gt === undefined || created > filter.gt) &&
    (filter.gte === undefined || created >= filter.gte) &&
    (filter.lt === undefined || created < filter.lt) &&
    (filter.lte === undefined || created <= filter.lte)
  );
}

const listQuery = p.object({
  ...listParams,
  type: p.string().optional(),
  types: p.array(p.string()).max(20, { error: 'Invalid {param}: must contain at most 20 event types' }).optional(),
  created: createdFilterParam.optional(),
  delivery_success: p.boolean().optional(),
});

/** Whether an event type matches a `type` filter, which may contain `*` wildcards (`customer.*`, `*.updated`). */
export function matchesType(type: string, filter: string): boolean {
  if (!filter.includes('*')) return type === filter;
  const pattern = filter
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${pattern}$`).test(type);
}

/** GET /v1/events/:id */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  const event = ctx.store.events.get(req.path.id ?? '');
  if (!event) throw resourceMissing('event', req.path.id ?? '');
  return event;
};

/**
 * GET /v1/events — newest first (https://docs.stripe.com/api/events/list). Filters: `type`
 * (exact, or with `*` wildcards), `types[]` (exact, up to 20; not together with `type`),
 * `created` (unix seconds, exact or `gt`/`gte`/`lt`/`lte`), `delivery_success` (`true`: every
 * webhook endpoint acknowledged the event, i.e. `pending_webhooks` is 0; `false`: some delivery is
 * still pending or has failed for good).
 */
const list: ApiHandler = (req, ctx) => {
  const query = parseParams(listQuery, req.params);
  if (query.type !== undefined && query.types !== undefined) {
    throw invalidRequest('You may pass either `type` or `types`, but not both.', { param: 'types' });
  }
  const all = ctx.store.events
    .newestFirst()
    .filter(
      (event) =>
        (query.type === undefined || matchesType(event.type, query.type)) &&
        (query.types === undefined || query.types.includes(event.type)) &&
        matchesCreated(event.created, query.created) &&
        (query.delivery_success === undefined || (event.pending_webhooks === 0) === query.delivery_success),
    );
  return paginate(all, query, '/v1/events');
};

/** Events: the log of everything published, as Stripe keeps it. */
export const events: ResourceModule = {
  routes: [
    { method: 'get', path: '/v1/events', returns: 'event', list: true, handler: list },
    { method: 'get', path: '/v1/events/:id', returns: 'event', handler: retrieve },
  ],
};
