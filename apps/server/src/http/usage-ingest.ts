/**
 * `POST /api/v1/usage` (issue 9 item 3): other backends report usage events with a workspace
 * API key (`Authorization: Bearer tly_...`, http/api-key-auth.ts). The body is JSON, at most
 * 1 MB, and is either one event or a batch `{ "events": [ ...up to 1,000 ] }` (a bare array is
 * read as a batch too); each event is `UsageEventInput` (@tally/api/schemas). Everything an
 * event does commits in `recordUsage`'s one transaction.
 *
 * Answers (JSON, `Cache-Control: no-store`):
 * - 401: missing, malformed, unknown or revoked key (checked first);
 * - 415: not `application/json`; 400: not valid JSON, or neither an event nor `{ events }`;
 * - 413: a body over 1 MB (declared or read) or a batch over 1,000 events; nothing is stored;
 * - 429: more than `perKey.limit` requests per key per window;
 * - a batch: 200 `{ results: [{ index, idempotencyKey, status: accepted|duplicate|rejected,
 *   eventId?, chargedMinor?, code?, error? }], accepted, duplicates, rejected }`: one bad event
 *   never drops the good ones;
 * - one event: its result with the status of its outcome: 201 accepted, 200 duplicate (the
 *   same answer as the first time), 400 invalid, 404 unknown meter or customer (another
 *   workspace's customer is unknown here), 409 the key was used with another payload, 402 the
 *   prepaid balance cannot cover it, 422 a closed period or a Stripe-billed meter without a
 *   Stripe customer.
 */
import { recordUsage, type Services } from '@tally/api';
import { USAGE_BATCH_MAX_EVENTS, USAGE_BODY_MAX_BYTES, type UsageEventResult, type UsageRejectionCode } from '@tally/api/schemas';
import express, { Router, type RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { apiKeyOf, requireApiKey } from './api-key-auth';
import { WindowCounterStore } from './rate-limit-store';
import { requestIdOf } from './request-id';

export const USAGE_PATH = '/api/v1/usage';

export interface UsageRouteOptions {
  /** Requests (batches) per API key per window. Default 6,000 a minute: 100 batches a second, 100,000 events a second. */
  perKey?: { limit: number; windowMs: number };
}

export const DEFAULT_USAGE_LIMIT_PER_KEY = { limit: 6000, windowMs: 60_000 };

const STATUS_OF: Record<UsageRejectionCode, number> = {
  invalid: 400,
  unknown_meter: 404,
  unknown_customer: 404,
  conflict: 409,
  payment_required: 402,
  period_closed: 422,
  no_stripe_customer: 422,
};

/** HTTP status of a single event's answer. */
export function statusOfUsageResult(result: UsageEventResult): number {
  if (result.status === 'accepted') return 201;
  if (result.status === 'duplicate') return 200;
  return STATUS_OF[result.code];
}

const mediaType = (header: string | undefined) => (header ?? '').split(';')[0]!.trim().toLowerCase();

export function usageIngestRoutes(services: Services, { perKey = DEFAULT_USAGE_LIMIT_PER_KEY }: UsageRouteOptions = {}): Router {
  const { db, logger } = services;
  const router = Router();

  const noStore: RequestHandler = (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  };
  const requireJson: RequestHandler = (req, res, next) => {
    if (mediaType(req.headers['content-type']) !== 'application/json') {
      return void res.status(415).json({ error: 'Send usage events as JSON (Content-Type: application/json)', requestId: requestIdOf(res) });
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (Number.isFinite(declared) && declared > USAGE_BODY_MAX_BYTES) {
      return void res.status(413).json({ error: `Body larger than ${USAGE_BODY_MAX_BYTES} bytes (1 MB); send smaller batches`, requestId: requestIdOf(res) });
    }
    next();
  };
  const parseJson = express.json({ limit: USAGE_BODY_MAX_BYTES, type: () => true, strict: false });
  const jsonBody: RequestHandler = (req, res, next) =>
    parseJson(req, res, (err?: unknown) => {
      if (!err) return next();
      const status = (err as { status?: unknown }).status;
      if (status === 413) return void res.status(413).json({ error: `Body larger than ${USAGE_BODY_MAX_BYTES} bytes (1 MB); send smaller batches`, requestId: requestIdOf(res) });
      if (status === 415) return void res.status(415).json({ error: 'Send usage events as UTF-8 JSON', requestId: requestIdOf(res) });
      if (status === 400) return void res.status(400).json({ error: 'Body is not valid JSON', requestId: requestIdOf(res) });
      next(err);
    });
  const perKeyLimiter = rateLimit({
    ...perKey,
    store: new WindowCounterStore(db, 'usage-key:'),
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: 'usage-per-key',
    keyGenerator: (_req, res) => apiKeyOf(res).keyId,
    validate: { xForwardedForHeader: false },
    handler: (req, res, _next, options) => {
      const info = (req as unknown as Record<string, { resetTime?: Date } | undefined>)[options.requestPropertyName];
      const seconds = info?.resetTime ? Math.max(1, Math.ceil((info.resetTime.getTime() - Date.now()) / 1000)) : Math.ceil(perKey.windowMs / 1000);
      res.setHeader('Retry-After', String(seconds));
      res.status(429).json({ error: `Too many usage requests for this API key; try again in ${seconds} s`, requestId: requestIdOf(res) });
    },
    logger: {
      error: (err, message) => logger.error({ err }, message ?? 'rate limiter error'),
      warn: (err, message) => logger.warn({ err }, message ?? 'rate limiter warning'),
    },
  });

  router.post(USAGE_PATH, noStore, requireApiKey(db), perKeyLimiter, requireJson, jsonBody, async (req, res, next) => {
    const body: unknown = req.body;
    let events: unknown[];
    let single = false;
    if (Array.isArray(body)) events = body;
    else if (body !== null && typeof body === 'object' && 'events' in body) {
      const list = (body as { events: unknown }).events;
      if (!Array.isArray(list)) return void res.status(400).json({ error: 'events must be an array of usage events', requestId: requestIdOf(res) });
      if (Object.keys(body).length !== 1) return void res.status(400).json({ error: 'A batch is { "events": [...] } with no other fields', requestId: requestIdOf(res) });
      events = list;
    } else if (body !== null && typeof body === 'object') {
      events = [body];
      single = true;
    } else return void res.status(400).json({ error: 'Send one usage event (a JSON object) or a batch { "events": [...] }', requestId: requestIdOf(res) });
    if (events.length > USAGE_BATCH_MAX_EVENTS) {
      return void res.status(413).json({ error: `A batch holds at most ${USAGE_BATCH_MAX_EVENTS} events; this one has ${events.length}`, requestId: requestIdOf(res) });
    }
    if (events.length === 0) return void res.status(400).json({ error: 'events must hold at least one event', requestId: requestIdOf(res) });
    try {
      const result = await recordUsage({ db, workspaceId: apiKeyOf(res).workspaceId, events });
      if (single) {
        const only = result.results[0]!;
        return void res.status(statusOfUsageResult(only)).json(only);
      }
      res.status(200).json(result);
    } catch (err) {
      next(err);
    }
  });
  router.all(USAGE_PATH, (_req, res) => {
    res.setHeader('Allow', 'POST');
    res.status(405).json({ error: 'Use POST', requestId: requestIdOf(res) });
  });
  return router;
}
