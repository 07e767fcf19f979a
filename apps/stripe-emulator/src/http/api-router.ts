import express, { type ErrorRequestHandler, type Request, type Response } from 'express';
import type { EmulatorContext } from '../core/context';
import { authenticate } from './auth';
import { StripeApiError, invalidRequest } from './errors';
import { applyExpand, validateExpand } from './expand';
import { IdempotencyKeys, isReplayable, requestFingerprint } from './idempotency';
import { observeParamSchemas, p, parseParams, topLevelKeys } from './params';
import { requestParams } from './request-params';
import type { ApiRoute, ExpandableFields, ResourceModule } from './route';

const expandParam = p.array(p.string()).optional();

/** One served endpoint, as listed by {@link routeTable}. */
export interface RouteTableEntry {
  method: ApiRoute['method'];
  /** Express path, e.g. `/v1/customers/:id`. */
  path: string;
  route: ApiRoute;
}

/** Every `/v1` endpoint the given resource modules serve (for tooling and the OpenAPI conformance test). */
export function routeTable(modules: readonly ResourceModule[]): RouteTableEntry[] {
  return modules.flatMap((module) => module.routes.map((route) => ({ method: route.method, path: route.path, route })));
}

const seenParams = new WeakMap<ApiRoute, Set<string>>();

/**
 * Top-level request parameters a route was seen to accept so far in this process, learnt from the
 * schemas its handler validated the whole parameter object with (besides `expand`, which the
 * router handles for every route). `undefined` until the route has served a request that reached
 * its parameter validation.
 */
export function acceptedParams(route: ApiRoute): ReadonlySet<string> | undefined {
  return seenParams.get(route);
}

function sendError(res: Response, error: StripeApiError): void {
  res.status(error.status).json({ error: error.body });
}

/** 500 `api_error` for anything unexpected; Stripe-shaped errors as they are. */
function errorHandler(log: (line: string) => void): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    if (error instanceof StripeApiError) return sendError(res, error);
    if (error instanceof SyntaxError || (error as { type?: string }).type === 'entity.too.large') {
      return sendError(res, invalidRequest(`Could not read the request body: ${(error as Error).message}`));
    }
    log(`error in ${req.method} ${req.originalUrl}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    sendError(res, new StripeApiError(500, { type: 'api_error', message: 'An unknown error occurred in the Stripe emulator.' }));
  };
}

/**
 * The `/v1` API: authentication, parameter parsing, `expand[]`, `Idempotency-Key` replay
 * (with `Idempotent-Replayed: true`), the routes of every resource module, Stripe's 404 for
 * unknown URLs and Stripe-shaped errors. Mount it at the application root.
 */
export function createApiRouter(ctx: EmulatorContext, modules: readonly ResourceModule[], log: (line: string) => void): express.Router {
  const router = express.Router();
  const fields: ExpandableFields = Object.assign({}, ...modules.map((module) => module.expandable ?? {}));
  const idempotency = new IdempotencyKeys(ctx.store);

  const handle = (route: ApiRoute) => (req: Request, res: Response) => {
    const requestId = String(res.locals.requestId);
    const { expand, ...params } = requestParams(req);
    const expandPaths = parseParams(expandParam, expand) ?? [];
    validateExpand(route, expandPaths, fields);

    const key = req.method === 'POST' ? (req.get('idempotency-key') ?? null) : null;
    const fingerprint = requestFingerprint(req.method, req.path, { expand, ...params });
    const saved = key === null ? undefined : idempotency.lookup(key, fingerprint);
    if (saved) {
      res.set({ 'Idempotent-Replayed': 'true', 'Original-Request': saved.requestId });
      res.status(saved.status).json(saved.body);
      return;
    }

    let status = 200;
    let body: object;
    try {
      const request = { id: requestId, idempotency_key: key };
      const observe = (schema: Parameters<typeof topLevelKeys>[0], raw: unknown) => {
        if (raw !== params) return;
        const keys = topLevelKeys(schema);
        if (keys) seenParams.set(route, new Set([...(seenParams.get(route) ?? []), ...keys]));
      };
      const result = observeParamSchemas(observe, () => route.handler({ params, path: req.params as Record<string, string>, request }, ctx));
      body = applyExpand(result, expandPaths, fields, ctx);
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      status = error.status;
      body = { error: error.body };
    }
    if (key !== null && isReplayable(status)) idempotency.save({ id: key, fingerprint, status, body, requestId });
    res.status(status).json(body);
  };

  router.use('/v1', authenticate, express.raw({ type: () => true, limit: '2mb' }));
  for (const route of modules.flatMap((module) => module.routes)) router[route.method](route.path, handle(route));
  router.use('/v1', (req) => {
    throw new StripeApiError(404, {
      type: 'invalid_request_error',
      message: `Unrecognized request URL (${req.method}: ${req.baseUrl}${req.path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    });
  });
  router.use(errorHandler(log));
  return router;
}
