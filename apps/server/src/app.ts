/**
 * The Express app: the raw-body Stripe webhook route, better-auth, tRPC, /healthz, /readyz,
 * /metrics, the billing stream (SSE) and, in production, the built SPA. No global body
 * parser: only the webhook route reads a body itself (raw bytes, for the signature); tRPC and
 * better-auth parse their own.
 *
 * Order: `trust proxy` (decides req.ip) -> request id -> helmet headers (every response) ->
 * routes. tRPC's limits and guards are in http/trpc-guards.ts; the SPA (compressed, cached)
 * in http/static-spa.ts; errors answer a generic message with the request id (http/errors.ts).
 */
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { appRouter, createInnerContext, setClientIpHeader, WORKSPACE_HEADER, type Auth, type Services } from '@tally/api';
import { TRPC_MAX_BATCH_SIZE } from '@tally/api/schemas';
import { sql } from '@tally/db';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import { toNodeHandler } from 'better-auth/node';
import express from 'express';
import { devMailboxHandler } from './dev-mailbox';
import { authBodyParsers } from './http/auth-body';
import { errorHandler, loggableError } from './http/errors';
import { readinessRoutes, readyWith, type Readiness } from './http/health';
import { metricsRoutes } from './http/metrics';
import { assignRequestId, requestIdOf, requestLogging } from './http/request-id';
import { securityHeaders } from './http/security-headers';
import { serveSpa } from './http/static-spa';
import { customerAccessRoutes } from './http/customer-access';
import { licenseVerifyRoutes } from './http/license-verify';
import { usageIngestRoutes } from './http/usage-ingest';
import { stripeWebhookFastPath, stripeWebhookRoutes } from './http/stripe-webhook';
import { billingStreamRoutes } from './stream/sse-route';
import { sessionOf, trpcGuards } from './http/trpc-guards';


/** Abuse limits on the tRPC endpoint (issue 6); tests pass small ones. */
export interface HttpLimits {
  /** Largest tRPC request body in bytes; beyond it 413 before the body is read whole. */
  trpcMaxBodyBytes: number;
  /** Most calls in one batched tRPC request; beyond it the whole request is refused. */
  trpcMaxBatchSize: number;
  /** tRPC mutation requests (a batch counts once) per client IP per window (milliseconds). */
  mutationsPerIp: { limit: number; windowMs: number };
  /** tRPC mutation requests (a batch counts once) per signed-in user per window (milliseconds). */
  mutationsPerUser: { limit: number; windowMs: number };
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  trpcMaxBodyBytes: 100 * 1024,
  trpcMaxBatchSize: TRPC_MAX_BATCH_SIZE,
  mutationsPerIp: { limit: 120, windowMs: 60_000 },
  mutationsPerUser: { limit: 30, windowMs: 60_000 },
};

export interface CreateAppOptions {
  services: Services;
  auth: Auth;
  /** Built SPA to serve, or null/undefined (development: Vite serves it). */
  webDistDir?: string | null;
  /** Express `trust proxy` (ServerConfig.trustProxy, TALLY_TRUST_PROXY): decides `req.ip`. Default false. */
  trustProxy?: boolean | number | string[];
  /** The server's public URL (TALLY_PUBLIC_URL); HSTS is sent only when it is https. Default: services.config.publicUrl. */
  publicUrl?: string;
  limits?: Partial<HttpLimits>;
  /** What GET /readyz reports (main.ts: migrating, then ready); default: ready on `services.db`. */
  readiness?: Readiness;
  /** TALLY_METRICS_TOKEN for GET /metrics; null: direct loopback connections only. */
  metricsToken?: string | null;
  /** One log line per finished request (main.ts: on). Off by default, so tests see only the lines the code under test writes. */
  accessLog?: boolean;
}

/** Express's own `app.handle(req, res, done)`, untyped in @types/express. */
type ExpressHandle = (req: IncomingMessage, res: ServerResponse, done?: (err?: unknown) => void) => void;

export function createApp({ services, auth, webDistDir, trustProxy = false, publicUrl = services.config.publicUrl, limits: limitOverrides, readiness, metricsToken = null, accessLog = false }: CreateAppOptions) {
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...limitOverrides };
  const app = express();
  // First: everything below (rate limits, better-auth, logs) reads the client IP from req.ip.
  app.set('trust proxy', trustProxy);
  app.disable('x-powered-by');
  // Every response, the webhook's too: a server-generated X-Request-Id, one line per finished
  // request (request id, method, path with tokens masked, status, time), helmet's headers.
  const front = [assignRequestId, ...(accessLog ? [requestLogging(services.logger)] : []), securityHeaders({ publicUrl })];
  for (const middleware of front) app.use(middleware);

  app.use(stripeWebhookRoutes(services));
  const onError = errorHandler({ logger: services.logger });
  // Stripe's deliveries in their canonical shape skip Express's own request handling (about
  // 100 µs each, issue 11) through the same front middleware, parser, handler and errors;
  // `app.handle` is what both a server and an outer app call (`app(req, res)`, `outer.use(app)`).
  const webhookFastPath = stripeWebhookFastPath(services, front, onError);
  const expressHandle = (app as unknown as { handle: ExpressHandle }).handle.bind(app);
  (app as unknown as { handle: ExpressHandle }).handle = (req, res, done) => {
    if (!webhookFastPath(req, res)) expressHandle(req, res, done);
  };
  // Server-to-server API (`/api/v1`): API keys or license keys, never cookies; each route parses its own JSON body.
  app.use(customerAccessRoutes(services));
  app.use(licenseVerifyRoutes(services));
  app.use(usageIngestRoutes(services));
  // Live billing stream for other backends (SSE; an API key or a session).
  app.use(billingStreamRoutes({ db: services.db, auth, stream: services.billingStream, logger: services.logger }));

  // better-auth reads the client IP only from CLIENT_IP_HEADER, set here from req.ip (which
  // honours `trust proxy`) after dropping any value the client sent; its bodies are parsed
  // here with a size limit (it has none of its own).
  app.all(
    '/api/auth/{*path}',
    (req, _res, next) => {
      setClientIpHeader(req.headers, req.ip);
      next();
    },
    ...authBodyParsers(),
    toNodeHandler(auth),
  );

  app.use(
    '/trpc',
    createExpressMiddleware({
      router: appRouter,
      maxBodySize: limits.trpcMaxBodyBytes,
      maxBatchSize: limits.trpcMaxBatchSize,
      // Content type, Origin, size and rate limits, and the session (once): http/trpc-guards.ts.
      middleware: trpcGuards({
        db: services.db,
        auth,
        logger: services.logger,
        allowedOrigins: services.config.allowedFrontendOrigins,
        maxBodyBytes: limits.trpcMaxBodyBytes,
        mutationsPerIp: limits.mutationsPerIp,
        mutationsPerUser: limits.mutationsPerUser,
      }),
      createContext: ({ req, res }) => {
        const session = sessionOf(res);
        return createInnerContext({
          ...services,
          actor: session ? { userId: session.user.id, email: session.user.email } : null,
          origin: req.header('origin') ?? null,
          ip: req.ip ?? null,
          requestId: requestIdOf(res),
          selectedWorkspaceId: req.header(WORKSPACE_HEADER) ?? null,
        });
      },
      onError: ({ error, path: procedure, req }) => {
        if (error.code === 'INTERNAL_SERVER_ERROR') {
          services.logger.error({ requestId: requestIdOf(req.res), procedure: procedure ?? null, err: loggableError(error.cause ?? error) }, 'tRPC call failed');
        }
      },
    }),
  );

  // Readiness (503 while starting, migrating or without the database) and Prometheus metrics.
  app.use(readinessRoutes(readiness ?? readyWith(services.db)));
  app.use(metricsRoutes({ db: services.db, token: metricsToken }));

  app.get('/healthz', async (_req, res) => {
    const body = { database: services.db.dialect, stripe: services.config.stripeMode };
    try {
      await services.db.rows(sql`select 1`);
      res.json({ status: 'ok', ...body });
    } catch {
      res.status(503).json({ status: 'unavailable', ...body });
    }
  });

  // Email bodies hold sign-in links: the mailbox exists only in development (404 elsewhere).
  if (services.config.environment === 'development') app.get('/api/dev/mailbox', devMailboxHandler(services.db));

  if (webDistDir && existsSync(path.join(webDistDir, 'index.html'))) app.use(serveSpa(webDistDir));

  app.use(onError);
  return app;
}
