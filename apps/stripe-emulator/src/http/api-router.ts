import express, { type ErrorRequestHandler, type Request, type Response } from 'express';
import type { Accounts } from '../core/accounts';
import type { EmulatorContext } from '../core/context';
import { authenticate as authenticateKey } from './auth';
import { StripeApiError, invalidRequest } from './errors';
import { applyExpand, validateExpand } from './expand';
import { IdempotencyKeys, isReplayable, requestFingerprint } from './idempotency';
import { observeParamSchemas, p, parseParams, topLevelKeys } from './params';
import { requestParams } from './request-params';
import type { ApiRoute, ExpandableFields, ResourceModule } from './route';
import { checkStripeVersion, isV2Request, unrecognizedV2Url, v2ErrorBody } from './v2';

const expandParam = p.array(p.string()).optional();

/** One served endpoint, as listed by {@link routeTable}. */
export interface RouteTableEntry {
  method: ApiRoute['method'];
  /** Express path, e.g. `/v1/customers/:id`. */
  path: string;
  route: ApiRoute;
}

/** Every `/v1` and `/v2` endpoint the given resource modules serve (for tooling and the OpenAPI conformance test). */
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

/** The response body of `error`: v1's `{ error }`, or the v2 shape for `/v2` requests. */
const errorBody = (req: Request, error: StripeApiError) => ({ error: isV2Request(req) ? v2ErrorBody(error) : error.body });

function sendError(req: Request, res: Response, error: StripeApiError): void {
  res.status(error.status).json(errorBody(req, error));
}

/** 500 `api_error` for anything unexpected; Stripe-shaped errors as they are. */
function errorHandler(log: (line: string) => void): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    if (error instanceof StripeApiError) return sendError(req, res, error);
    if (error instanceof SyntaxError || (error as { type?: string }).type === 'entity.too.large') {
      return sendError(req, res, invalidRequest(`Could not read the request body: ${(error as Error).message}`));
    }
    log(`error in ${req.method} ${req.originalUrl}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    sendError(req, res, new StripeApiError(500, { type: 'api_error', message: 'An unknown error occurred in the Stripe emulator.' }));
  };
}

/**
 * The `/v1` API: authentication, parameter parsing, `expand[]`, `Idempotency-Key` replay
 * (with `Idempotent-Replayed: true`), the routes of every resource module, Stripe's 404 for
 * unknown URLs and Stripe-shaped errors; and `/v2` routes (paths starting with `/v2/`) the same
 * way, without `expand[]`, with `Stripe-Version` checked, v2-shaped errors and optionally their
 * own credential check (`ApiRoute.authenticate`; see `v2.ts`). Mount it at the application root.
 * Each request works on the state of the account its API key belongs to (`core/accounts.ts`):
 * objects, events, idempotency keys and webhook endpoints are all per account.
 */
export function createApiRouter(accounts: Accounts, modules: readonly ResourceModule[], log: (line: string) => void): express.Router {
  const router = express.Router();
  const fields: ExpandableFields = Object.assign({}, ...modules.map((module) => module.expandable ?? {}));
  const authenticate = authenticateKey((key) => accounts.forKey(key).ctx);

  const handle = (route: ApiRoute) => (req: Request, res: Response) => {
    const ctx = res.locals.ctx as EmulatorContext;
    const idempotency = new IdempotencyKeys(ctx.store);
    const requestId = String(res.locals.requestId);
    const v2 = isV2Request(req);
    // API v2 has no `expand[]`: every parameter goes to the handler.
    const { expand, ...params } = v2 ? { expand: undefined, ...requestParams(req) } : requestParams(req);
    const expandPaths = v2 ? [] : (parseParams(expandParam, expand) ?? []);
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
      const result = observeParamSchemas(observe, () => route.handler({ params, path: req.params as Record<string, string>, request, ...(typeof res.locals.maskedKey === 'string' ? { maskedKey: res.locals.maskedKey } : {}) }, ctx));
      body = applyExpand(result, expandPaths, fields, ctx);
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      status = error.status;
      body = errorBody(req, error);
    }
    if (key !== null && isReplayable(status)) idempotency.save({ id: key, fingerprint, status, body, requestId });
    res.status(status).json(body);
  };

  router.use('/v1', authenticate, express.raw({ type: () => true, limit: '2mb' }));
  // API v2 (see `v2.ts`): JSON bodies, `Stripe-Version`, v2-shaped errors; the API key check, or the route's own.
  router.use('/v2', express.raw({ type: () => true, limit: '2mb' }), checkStripeVersion);
  const v2Authentication = (route: ApiRoute): express.RequestHandler => {
    const check = route.authenticate;
    if (!check) return authenticate;
    return (req, res, next) => {
      res.locals.ctx = check(req.get('authorization'), accounts.all().map((account) => account.ctx));
      next();
    };
  };
  for (const route of modules.flatMap((module) => module.routes)) {
    if (route.path.startsWith('/v2/')) router[route.method](route.path, v2Authentication(route), handle(route));
    else router[route.method](route.path, handle(route));
  }
  router.use('/v2', authenticate, (req) => {
    throw unrecognizedV2Url(req);
  });
  router.use('/v1', (req) => {
    throw new StripeApiError(404, {
      type: 'invalid_request_error',
      message: `Unrecognized request URL (${req.method}: ${req.baseUrl}${req.path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    });
  });
  router.use(errorHandler(log));
  return router;
}
