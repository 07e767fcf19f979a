/**
 * `GET /metrics` in Prometheus's text format (prom-client), on its own Registry:
 * - process metrics (`collectDefaultMetrics`: CPU, memory, event loop lag, GC, handles), prefixed `tally_`;
 * - `tally_stripe_webhook_deliveries_total{type, outcome}`: webhook deliveries this process answered,
 *   outcome `processed|ignored|anomaly|duplicate|failed|rejected` (`rejected`: bad signature or
 *   shape, unknown workspace, no secret; its type is `unknown`, since only a verified body names one);
 * - `tally_stripe_webhook_processing_seconds{outcome}`: time from the request to the answer;
 * - `tally_billing_stream_subscribers`: live stream subscribers of this process (set by the stream);
 * and, read from the database at each scrape (a few counting queries, so every process reports the
 * same values for the shared database):
 * - `tally_stripe_events{status}`: the Stripe event log by status (one grouped query);
 * - `tally_stripe_event_sweeper_backlog{kind}`: `stuck_received` (received, untouched for 5 minutes)
 *   and `due_failed` (failed, retry due), what the sweeper has to do;
 * - `tally_outbox_pending{outbox}`: `email` (pending or sending) and `stripe_meter` (pending);
 * - `tally_database_up`: 1 when those queries answered, else 0 (and the gauges above are absent).
 *
 * Access (`metricsAuthorized`): with `TALLY_METRICS_TOKEN` set, `Authorization: Bearer <token>`
 * from anywhere; without it, only direct loopback connections (127.0.0.1, ::1) that carry no
 * proxy forwarding header, so a reverse proxy on the same host does not publish it. Anything
 * else: 403 naming the variable.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { stripeEventBacklog } from '@tally/api';
import { count, inArray, eq, type Database } from '@tally/db';
import express, { type Request, type Router } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What a webhook delivery ended as, for `tally_stripe_webhook_deliveries_total`. */
export type WebhookDeliveryOutcome = 'processed' | 'ignored' | 'anomaly' | 'duplicate' | 'failed' | 'rejected';

/** The process-wide registry: default process metrics, webhook counters, stream subscribers. */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'tally_' });

const webhookDeliveries = new Counter({
  name: 'tally_stripe_webhook_deliveries_total',
  help: 'Stripe webhook deliveries answered by this process, by event type and outcome (rejected: bad signature, shape or endpoint; type unknown)',
  labelNames: ['type', 'outcome'] as const,
  registers: [metricsRegistry],
});

const webhookSeconds = new Histogram({
  name: 'tally_stripe_webhook_processing_seconds',
  help: 'Time to answer a Stripe webhook delivery (verify, store, process), seconds',
  labelNames: ['outcome'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});

const streamSubscribers = new Gauge({
  name: 'tally_billing_stream_subscribers',
  help: 'Live billing stream subscribers (tRPC subscriptions and SSE) connected to this process',
  registers: [metricsRegistry],
});

/** Stripe event types are dot-separated lowercase words; anything else is counted as `unknown`. */
const EVENT_TYPE = /^[a-z0-9_]+(?:\.[a-z0-9_]+){0,9}$/;

/**
 * Count one webhook delivery and its latency.
 * @param type the verified event's type (`checkout.session.completed`), or null when the
 *   delivery was rejected before its body was trusted (counted as `unknown`).
 * @param seconds from the request's arrival to the answer.
 */
export function observeWebhookDelivery(type: string | null, outcome: WebhookDeliveryOutcome, seconds: number): void {
  const label = type !== null && type.length <= 200 && EVENT_TYPE.test(type) ? type : 'unknown';
  webhookDeliveries.inc({ type: label, outcome });
  webhookSeconds.observe({ outcome }, seconds);
}

/**
 * The live stream's subscriber gauge (`tally_billing_stream_subscribers`): call `connected()`
 * when a subscriber starts and `disconnected()` once when it ends, or `set(n)` with the count.
 */
export const billingStreamSubscribers = {
  connected: (): void => streamSubscribers.inc(),
  disconnected: (): void => streamSubscribers.dec(),
  set: (n: number): void => streamSubscribers.set(n),
};

const EVENT_STATUSES = ['received', 'processed', 'ignored', 'failed', 'anomaly', 'dead'] as const;

/** The database gauges of one scrape, on a registry of their own (so two apps in one process never mix values). */
async function databaseRegistry(db: Database, timeoutMs: number): Promise<Registry> {
  const registry = new Registry();
  const up = new Gauge({ name: 'tally_database_up', help: 'Whether the database answered the metrics queries of this scrape (1) or not (0)', registers: [registry] });
  let values: { byStatus: Map<string, number>; backlog: { stuckReceived: number; dueFailed: number }; email: number; meter: number };
  try {
    values = await withTimeout(readDatabaseValues(db), timeoutMs);
  } catch {
    up.set(0);
    return registry;
  }
  up.set(1);
  const events = new Gauge({ name: 'tally_stripe_events', help: 'Stripe events in the event log, by status', labelNames: ['status'] as const, registers: [registry] });
  for (const status of EVENT_STATUSES) events.set({ status }, values.byStatus.get(status) ?? 0);
  const backlog = new Gauge({
    name: 'tally_stripe_event_sweeper_backlog',
    help: 'Stripe events waiting for the sweeper: stuck_received (received, untouched for 5 minutes), due_failed (failed, retry due)',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  backlog.set({ kind: 'stuck_received' }, values.backlog.stuckReceived);
  backlog.set({ kind: 'due_failed' }, values.backlog.dueFailed);
  const outbox = new Gauge({ name: 'tally_outbox_pending', help: 'Outbox rows not sent yet: email (pending or sending), stripe_meter (meter events pending)', labelNames: ['outbox'] as const, registers: [registry] });
  outbox.set({ outbox: 'email' }, values.email);
  outbox.set({ outbox: 'stripe_meter' }, values.meter);
  return registry;
}

async function readDatabaseValues(db: Database) {
  const { stripeEvents: e, emailOutbox: m, stripeMeterOutbox: s } = db.t;
  const grouped = await db.q.select({ status: e.status, n: count() }).from(e).groupBy(e.status);
  const backlog = await stripeEventBacklog(db);
  const [email] = await db.q.select({ n: count() }).from(m).where(inArray(m.status, ['pending', 'sending']));
  const [meter] = await db.q.select({ n: count() }).from(s).where(eq(s.status, 'pending'));
  return {
    byStatus: new Map(grouped.map((r) => [r.status, Number(r.n)])),
    backlog,
    email: Number(email?.n ?? 0),
    meter: Number(meter?.n ?? 0),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip', 'x-forwarded-host'];

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Whether `req` may read `/metrics` (see the module doc): with a token, a matching
 * `Authorization: Bearer <token>` (compared in constant time); without one, a direct loopback
 * connection without proxy forwarding headers. The socket's address is used, never `req.ip`
 * (which `trust proxy` lets a client choose).
 */
export function metricsAuthorized(req: Request, token: string | null): boolean {
  if (token) {
    const header = req.header('authorization') ?? '';
    const match = /^Bearer (\S+)$/.exec(header);
    return match !== null && timingSafeEqual(digest(match[1]!), digest(token));
  }
  const address = req.socket.remoteAddress ?? '';
  return LOOPBACK.has(address) && FORWARDING_HEADERS.every((h) => req.headers[h] === undefined);
}

export interface MetricsRouteOptions {
  db: Database;
  /** TALLY_METRICS_TOKEN, or null (loopback only). */
  token: string | null;
  /** Longest wait for the database queries of one scrape, ms (default 2000); beyond it `tally_database_up 0`. */
  databaseTimeoutMs?: number;
}

/** `GET /metrics` (see the module doc): 200 text exposition, 401/403 when not authorized. */
export function metricsRoutes({ db, token, databaseTimeoutMs = 2_000 }: MetricsRouteOptions): Router {
  const router = express.Router();
  router.get('/metrics', async (req, res, next) => {
    try {
      if (!metricsAuthorized(req, token)) {
        res.setHeader('Cache-Control', 'no-store');
        if (token) {
          res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
          res.status(401).type('text/plain').send('Unauthorized: send Authorization: Bearer <TALLY_METRICS_TOKEN>\n');
        } else {
          res.status(403).type('text/plain').send('Forbidden: /metrics answers only direct loopback connections; set TALLY_METRICS_TOKEN to scrape it from elsewhere\n');
        }
        return;
      }
      const merged = Registry.merge([metricsRegistry, await databaseRegistry(db, databaseTimeoutMs)]);
      res.setHeader('Cache-Control', 'no-store');
      res.type(merged.contentType).send(await merged.metrics());
    } catch (err) {
      next(err);
    }
  });
  return router;
}
