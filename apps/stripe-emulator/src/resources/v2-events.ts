import type { V2EventRecord } from '../core/events';
import { StripeApiError } from '../http/errors';
import { p, parseParams } from '../http/params';
import type { ApiHandler, ResourceModule } from '../http/route';
import { noParams } from './shared';

/**
 * v2 events (`v2.core.event`, https://docs.stripe.com/api/v2/core/events): the thin events the
 * emulator publishes (`v1.billing.meter.no_meter_found`, `v1.billing.meter.error_report_triggered`;
 * v1 snapshot events stay at `/v1/events`). `GET /v2/core/events/{id}` is what the SDK's
 * `eventNotification.fetchEvent()` / `stripe.v2.core.events.retrieve(id)` call; the list is
 * newest first with v2's page tokens (`next_page_url`).
 */

const listQuery = p.object({
  limit: p.integer({ min: 1, max: 100 }).optional(),
  object_id: p.string().optional(),
  types: p.array(p.string()).max(20).optional(),
  page: p.string().optional(),
});

interface PageToken {
  offset: number;
  limit: number;
  object_id?: string;
  types?: string[];
}

const encodePage = (token: PageToken) => Buffer.from(JSON.stringify(token)).toString('base64url');

function decodePage(page: string): PageToken {
  try {
    const token = JSON.parse(Buffer.from(page, 'base64url').toString('utf8')) as PageToken;
    if (Number.isSafeInteger(token.offset) && Number.isSafeInteger(token.limit)) return token;
  } catch {
    // fall through
  }
  throw new StripeApiError(400, { type: 'invalid_request_error', code: 'invalid_fields', message: `Invalid page token: '${page}'.`, param: 'page' });
}

/** GET /v2/core/events/:id */
const retrieveEvent: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  const id = req.path.id ?? '';
  const event = ctx.store.v2Events.get(id);
  if (!event) throw new StripeApiError(404, { type: 'invalid_request_error', code: 'not_found', message: `No such event: '${id}'` });
  return event;
};

/** GET /v2/core/events — `limit` (default 20), `object_id` (the `related_object`), `types[]`, `page`. */
const listEvents: ApiHandler = (req, ctx) => {
  const query = parseParams(listQuery, req.params);
  const token: PageToken =
    query.page !== undefined
      ? decodePage(query.page)
      : { offset: 0, limit: query.limit ?? 20, ...(query.object_id ? { object_id: query.object_id } : {}), ...(query.types ? { types: query.types } : {}) };
  const matching = ctx.store.v2Events
    .newestFirst()
    .filter((event: V2EventRecord) => (token.object_id === undefined || event.related_object?.id === token.object_id) && (token.types === undefined || token.types.includes(event.type)));
  const data = matching.slice(token.offset, token.offset + token.limit);
  const next = token.offset + token.limit < matching.length ? encodePage({ ...token, offset: token.offset + token.limit }) : null;
  const previous = token.offset > 0 ? encodePage({ ...token, offset: Math.max(0, token.offset - token.limit) }) : null;
  return {
    data,
    next_page_url: next === null ? null : `/v2/core/events?page=${next}`,
    previous_page_url: previous === null ? null : `/v2/core/events?page=${previous}`,
  };
};

/** v2 events: list and retrieve. */
export const v2Events: ResourceModule = {
  routes: [
    // Not `list: true`: that flag means v1's list object (`object: 'list'`, `has_more`, `data.` expansions); v2 lists page with `next_page_url`.
    { method: 'get', path: '/v2/core/events', returns: 'v2.core.event', handler: listEvents },
    { method: 'get', path: '/v2/core/events/:id', returns: 'v2.core.event', handler: retrieveEvent },
  ],
};
