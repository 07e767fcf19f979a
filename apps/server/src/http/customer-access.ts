/**
 * `GET /api/v1/customers/:customerId/access` (issue 8 item 4): another backend asks whether a
 * customer of its workspace may use the product now. Authenticated by a workspace API key
 * (`Authorization: Bearer tly_...`, http/api-key-auth.ts), not a browser route: no cookies,
 * no CSRF; every answer is `Cache-Control: no-store`.
 *
 * Answers (JSON):
 * - 401 `{ error }`: missing, malformed, unknown or revoked key (checked first);
 * - 429 `{ error }`: more than `perKey.limit` requests per key per window (shared across
 *   processes through the `rate_limits` table);
 * - 400 `{ error }`: the id is not a Tally customer id (a UUID);
 * - 404 `{ error }`: no such customer in the key's workspace (another workspace's reads the same);
 * - 200 `{ customerId, access, reason, message, until, status, subscription }` from
 *   `accessForCustomer` (access is derived only there) with TALLY_DUNNING_GRACE_DAYS;
 *   `until` and the subscription's dates are ISO 8601 or null; `subscription` is
 *   `{ id (sub_...), plan (code or null), status, currentPeriodEnd, trialEnd, cancelAtPeriodEnd }` or null.
 */
import { accessForCustomer, type Services } from '@tally/api';
import { tallyIdSchema } from '@tally/api/schemas';
import { and, eq } from '@tally/db';
import { Router, type RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { apiKeyOf, requireApiKey } from './api-key-auth';
import { WindowCounterStore } from './rate-limit-store';

export interface CustomerAccessRouteOptions {
  /** Requests per API key per window (milliseconds). Default 600 per minute. */
  perKey?: { limit: number; windowMs: number };
}

export const DEFAULT_ACCESS_LIMIT_PER_KEY = { limit: 600, windowMs: 60_000 };

const customerIdSchema = tallyIdSchema('customerId');
const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};

export function customerAccessRoutes(services: Services, { perKey = DEFAULT_ACCESS_LIMIT_PER_KEY }: CustomerAccessRouteOptions = {}): Router {
  const { db, config, logger } = services;
  const router = Router();
  const perKeyLimiter = rateLimit({
    ...perKey,
    store: new WindowCounterStore(db, 'api-key:'),
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: 'api-key',
    keyGenerator: (_req, res) => apiKeyOf(res).keyId,
    // The count is per key, never per IP: the X-Forwarded-For checks do not apply.
    validate: { xForwardedForHeader: false },
    handler: (req, res, _next, options) => {
      const info = (req as unknown as Record<string, { resetTime?: Date } | undefined>)[options.requestPropertyName];
      const seconds = info?.resetTime ? Math.max(1, Math.ceil((info.resetTime.getTime() - Date.now()) / 1000)) : Math.ceil(perKey.windowMs / 1000);
      res.status(429).json({ error: `Too many requests for this API key; try again in ${seconds} s` });
    },
    logger: {
      error: (err, message) => logger.error({ err }, message ?? 'rate limiter error'),
      warn: (err, message) => logger.warn({ err }, message ?? 'rate limiter warning'),
    },
  });

  router.get('/api/v1/customers/:customerId/access', noStore, requireApiKey(db), perKeyLimiter, async (req, res) => {
    const { workspaceId } = apiKeyOf(res);
    const id = customerIdSchema.safeParse(req.params.customerId);
    if (!id.success) return void res.status(400).json({ error: 'customerId must be a Tally customer id (a UUID)' });
    const customerId = id.data.toLowerCase();
    const { customers: c, plans: p } = db.t;
    const [customer] = await db.q
      .select({ id: c.id })
      .from(c)
      .where(and(eq(c.id, customerId), eq(c.workspaceId, workspaceId)));
    if (!customer) return void res.status(404).json({ error: 'Customer not found' });

    const result = await accessForCustomer(db, { workspaceId, customerId, graceDays: config.dunningGraceDays });
    const sub = result.subscription;
    let plan: string | null = null;
    if (sub?.planId) {
      const [row] = await db.q
        .select({ code: p.code })
        .from(p)
        .where(and(eq(p.id, sub.planId), eq(p.workspaceId, workspaceId)));
      plan = row?.code ?? null;
    }
    res.json({
      customerId,
      access: result.access,
      reason: result.reason,
      message: result.message,
      until: iso(result.until),
      status: result.status,
      subscription: sub
        ? {
            id: sub.stripeSubscriptionId,
            plan,
            status: sub.status,
            currentPeriodEnd: iso(sub.currentPeriodEnd),
            trialEnd: iso(sub.trialEnd),
            cancelAtPeriodEnd: sub.cancelAtPeriodEnd,
          }
        : null,
    });
  });
  return router;
}
