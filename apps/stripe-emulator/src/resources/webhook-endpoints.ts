import type Stripe from 'stripe';
import { nowSeconds } from '../core/clock';
import type { EmulatorContext } from '../core/context';
import { randomToken } from '../core/ids';
import { resourceMissing } from '../http/errors';
import { paginate } from '../http/lists';
import { listParams, p, parseParams } from '../http/params';
import type { ApiHandler, ResourceModule } from '../http/route';
import { mergeMetadata, noParams } from './shared';

/**
 * Webhook endpoints (https://docs.stripe.com/api/webhook_endpoints), per account. Endpoints
 * created here receive deliveries of their account's events from the dispatcher
 * (`src/webhooks/dispatcher.ts`) besides the configured ones: events whose type is in
 * `enabled_events` (or all, with `*`), while `status` is `enabled`, signed with the endpoint's own
 * `secret`. Stripe returns `secret` only in the create response.
 */

/**
 * An event type (`customer.subscription.updated`) or `*`. Stripe checks the list against its
 * catalogue of event types; the emulator checks the shape only, so new types work without a table.
 */
const eventTypeParam = p.string(5000).transform((value, ctx) => {
  if (value === '*' || /^[a-z0-9_]+(\.[a-z0-9_]+)+$/.test(value)) return value;
  ctx.addIssue({ code: 'custom', message: `Invalid {param}: '${value}' is not a valid event type`, params: { stripeCode: 'parameter_invalid_string' } });
  return value;
});
const enabledEventsParam = p.array(eventTypeParam).refine((events) => events.length > 0, { message: 'Invalid {param}: must contain at least one event type' });

/** The API versions the SDK knows are accepted as they are (`YYYY-MM-DD` or `YYYY-MM-DD.name`). */
const apiVersionParam = p.string(100).transform((value, ctx) => {
  if (/^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/.test(value)) return value;
  ctx.addIssue({ code: 'custom', message: `Invalid api_version: ${value}` });
  return value;
});

const createParams = p.object({
  url: p.url(),
  enabled_events: enabledEventsParam,
  description: p.nullableString().optional(),
  metadata: p.metadata().optional(),
  api_version: apiVersionParam.optional(),
  connect: p.boolean().optional(),
});
const updateParams = p.object({
  url: p.url().optional(),
  enabled_events: enabledEventsParam.optional(),
  description: p.nullableString().optional(),
  metadata: p.metadata().optional(),
  disabled: p.boolean().optional(),
});
const listQuery = p.object(listParams);

/** A `we_...` id like Stripe's (`we_1Pgc6yB7WZ01zgkWzAudq4eU`). */
const newEndpointId = () => `we_1${randomToken(23)}`;

/** The stored endpoint (secret included), or a 404 `resource_missing`. */
function requireEndpoint(ctx: EmulatorContext, id: string): Stripe.WebhookEndpoint {
  const endpoint = ctx.store.webhookEndpoints.get(id);
  if (!endpoint) throw resourceMissing('webhook_endpoint', id);
  return endpoint;
}

/** The endpoint as Stripe shows it after creation: without `secret`. */
function publicView(endpoint: Stripe.WebhookEndpoint): Stripe.WebhookEndpoint {
  const { secret: _secret, ...rest } = endpoint;
  return rest;
}

/** POST /v1/webhook_endpoints — the only response that carries `secret` (`whsec_...`). */
const create: ApiHandler = (req, ctx) => {
  const input = parseParams(createParams, req.params);
  const endpoint: Stripe.WebhookEndpoint = {
    id: newEndpointId(),
    object: 'webhook_endpoint',
    api_version: input.api_version ?? null,
    application: null,
    created: nowSeconds(),
    description: input.description ?? null,
    enabled_events: [...new Set(input.enabled_events)],
    livemode: false,
    metadata: mergeMetadata({}, input.metadata),
    secret: `whsec_${randomToken(32)}`,
    status: 'enabled',
    url: input.url,
  };
  ctx.store.webhookEndpoints.put(endpoint);
  return endpoint;
};

/** GET /v1/webhook_endpoints/:id */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  return publicView(requireEndpoint(ctx, req.path.id ?? ''));
};

/** GET /v1/webhook_endpoints — newest first. */
const list: ApiHandler = (req, ctx) => {
  const query = parseParams(listQuery, req.params);
  return paginate(ctx.store.webhookEndpoints.newestFirst().map(publicView), query, '/v1/webhook_endpoints');
};

/** POST /v1/webhook_endpoints/:id — `url`, `enabled_events`, `description`, `metadata`, `disabled` (→ `status`). */
const update: ApiHandler = (req, ctx) => {
  const before = requireEndpoint(ctx, req.path.id ?? '');
  const input = parseParams(updateParams, req.params);
  const after: Stripe.WebhookEndpoint = {
    ...before,
    ...(input.url !== undefined ? { url: input.url } : {}),
    ...(input.enabled_events !== undefined ? { enabled_events: [...new Set(input.enabled_events)] } : {}),
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.disabled !== undefined ? { status: input.disabled ? 'disabled' : 'enabled' } : {}),
    metadata: mergeMetadata(before.metadata, input.metadata),
  };
  ctx.store.webhookEndpoints.put(after);
  return publicView(after);
};

/** DELETE /v1/webhook_endpoints/:id — deliveries to it stop, retries included. */
const remove: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  const endpoint = requireEndpoint(ctx, req.path.id ?? '');
  ctx.store.webhookEndpoints.delete(endpoint.id);
  return { id: endpoint.id, object: 'webhook_endpoint', deleted: true } satisfies Stripe.DeletedWebhookEndpoint;
};

/** Webhook endpoints: create, retrieve, update, delete, list. */
export const webhookEndpoints: ResourceModule = {
  routes: [
    { method: 'post', path: '/v1/webhook_endpoints', returns: 'webhook_endpoint', handler: create },
    { method: 'get', path: '/v1/webhook_endpoints', returns: 'webhook_endpoint', list: true, handler: list },
    { method: 'get', path: '/v1/webhook_endpoints/:id', returns: 'webhook_endpoint', handler: retrieve },
    { method: 'post', path: '/v1/webhook_endpoints/:id', returns: 'webhook_endpoint', handler: update },
    { method: 'delete', path: '/v1/webhook_endpoints/:id', returns: 'webhook_endpoint', handler: remove },
  ],
};
