import { resourceMissing } from '../http/errors';
import { paginate } from '../http/lists';
import { listParams, p, parseParams } from '../http/params';
import type { ApiHandler, ResourceModule } from '../http/route';
import { noParams } from './shared';

const listQuery = p.object({ ...listParams, type: p.string().optional(), types: p.array(p.string()).optional() });

/** Whether an event type matches a `type` filter, which may end in a `*` wildcard (`customer.*`). */
const matchesType = (type: string, filter: string) => (filter.endsWith('*') ? type.startsWith(filter.slice(0, -1)) : type === filter);

/** GET /v1/events/:id */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  const event = ctx.store.events.get(req.path.id ?? '');
  if (!event) throw resourceMissing('event', req.path.id ?? '');
  return event;
};

/** GET /v1/events — newest first; `type` (with `*` wildcard) or `types[]` filters (https://docs.stripe.com/api/events/list). */
const list: ApiHandler = (req, ctx) => {
  const query = parseParams(listQuery, req.params);
  const filters = query.types ?? (query.type === undefined ? undefined : [query.type]);
  const all = ctx.store.events.newestFirst().filter((event) => filters === undefined || filters.some((filter) => matchesType(event.type, filter)));
  return paginate(all, query, '/v1/events');
};

/** Events: the log of everything published, as Stripe keeps it. */
export const events: ResourceModule = {
  routes: [
    { method: 'get', path: '/v1/events', returns: 'event', list: true, handler: list },
    { method: 'get', path: '/v1/events/:id', returns: 'event', handler: retrieve },
  ],
};
