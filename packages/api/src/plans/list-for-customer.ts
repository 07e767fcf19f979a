import { and, asc, eq, type Database } from '@tally/db';
import type Stripe from 'stripe';
import { z } from 'zod';
import type { Logger } from '../logger';
import type { StripeAccounts } from '../stripe/accounts';
import { describeError } from '../webhooks/text';

/** How long a retrieved Stripe Price is trusted before it is read again, ms. */
export const PRICE_CACHE_TTL_MS = 60 * 60 * 1000;

/** What Tally shows of a Stripe Price: unit amount in minor units, lowercase currency, billing interval. */
export interface PlanPrice {
  unitAmountMinor: number;
  currency: string;
  interval: 'day' | 'week' | 'month' | 'year';
  intervalCount: number;
}

const CachedPrice = z.object({
  unitAmountMinor: z.number().int().nonnegative(),
  currency: z.string().regex(/^[a-z]{3}$/),
  interval: z.enum(['day', 'week', 'month', 'year']),
  intervalCount: z.number().int().positive(),
});

/**
 * What `plans.priceCache` holds (JSON): each of the plan's prices with the id it was read for
 * and when (ms since the epoch), so a changed price id or an old entry is read again. Rows
 * cached in the earlier shape (a bare `PlanPrice`) do not parse and count as stale.
 */
const CachedEntry = z.object({ priceId: z.string(), at: z.number(), price: CachedPrice });
const PriceCache = z.object({ monthly: CachedEntry.nullable(), yearly: CachedEntry.nullable() });
type CachedEntry = z.infer<typeof CachedEntry>;

/**
 * The plan as customers see it: `price` its monthly Stripe Price, `yearlyPrice` its yearly one
 * (null when the plan has none); either null while Stripe cannot tell (unreachable, or not a
 * recurring price).
 */
export interface PlanView {
  id: string;
  code: string;
  name: string;
  description: string;
  features: string[];
  perSeat: boolean;
  trialDays: number;
  issuesLicenses: boolean;
  price: PlanPrice | null;
  yearlyPrice: PlanPrice | null;
}

/** What admins also see: whether customers can pick it, and the Stripe Price ids it bills. */
export interface AdminPlanView extends PlanView {
  active: boolean;
  stripePriceId: string;
  stripeYearlyPriceId: string | null;
}

/** A recurring Price's amount and interval (stripe.com/docs/api/prices/object), or null. */
function priceOf(price: Stripe.Price): PlanPrice | null {
  const parsed = CachedPrice.safeParse({
    unitAmountMinor: price.unit_amount,
    currency: price.currency,
    interval: price.recurring?.interval,
    intervalCount: price.recurring?.interval_count,
  });
  return parsed.success ? parsed.data : null;
}

function features(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((f): f is string => typeof f === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * The active plans of a workspace, by code, each with its Stripe Prices (monthly `price` and,
 * when the plan has one, `yearlyPrice`: amount in minor units and interval) read through the
 * workspace's Stripe client and cached on the plan for `PRICE_CACHE_TTL_MS` each: amounts are
 * never typed into Tally. A price Stripe cannot serve (unreachable, deleted, not recurring)
 * leaves it null, logged, never an error: the plan list still renders.
 */
export async function listPlansForWorkspace(opts: { db: Database; stripeAccounts: StripeAccounts; logger: Logger; workspaceId: string; now?: Date }): Promise<PlanView[]> {
  const views = await listPlans({ ...opts, includeInactive: false });
  return views.map(({ active: _a, stripePriceId: _p, stripeYearlyPriceId: _y, ...view }) => view);
}

/** Every plan of the workspace, inactive ones too, as admins see them (same price rules as `listPlansForWorkspace`). */
export async function listPlansForAdmin(opts: { db: Database; stripeAccounts: StripeAccounts; logger: Logger; workspaceId: string; now?: Date }): Promise<AdminPlanView[]> {
  return listPlans({ ...opts, includeInactive: true });
}

async function listPlans({
  db,
  stripeAccounts,
  logger,
  workspaceId,
  includeInactive,
  now = new Date(),
}: {
  db: Database;
  stripeAccounts: StripeAccounts;
  logger: Logger;
  workspaceId: string;
  includeInactive: boolean;
  now?: Date;
}): Promise<AdminPlanView[]> {
  const { plans } = db.t;
  const rows = await db.q
    .select()
    .from(plans)
    .where(includeInactive ? eq(plans.workspaceId, workspaceId) : and(eq(plans.workspaceId, workspaceId), eq(plans.active, true)))
    .orderBy(asc(plans.createdAt), asc(plans.code));
  let stripe: Stripe | null | undefined;
  const views: AdminPlanView[] = [];
  for (const row of rows) {
    const cache = readCache(row.priceCache);
    let dirty = false;
    /** The price `priceId` from the cache while fresh, else from Stripe (cached when it is a recurring price). */
    const resolve = async (priceId: string, cached: CachedEntry | null, slot: 'monthly' | 'yearly'): Promise<PlanPrice | null> => {
      if (cached && cached.priceId === priceId && now.getTime() - cached.at < PRICE_CACHE_TTL_MS) return cached.price;
      if (stripe === undefined) {
        const ws = await stripeAccounts.forWorkspace(db, workspaceId);
        stripe = ws.configured ? ws.client : null;
      }
      if (!stripe) return null;
      try {
        const price = priceOf(await stripe.prices.retrieve(priceId));
        if (price) {
          cache[slot] = { priceId, at: now.getTime(), price };
          dirty = true;
        } else logger.warn({ workspaceId, planId: row.id, priceId }, 'Plan price is not a recurring Stripe Price with an amount');
        return price;
      } catch (err) {
        logger.warn({ workspaceId, planId: row.id, priceId, err: describeError(err) }, 'Could not retrieve a plan price from Stripe');
        return null;
      }
    };
    const price = await resolve(row.stripePriceId, cache.monthly, 'monthly');
    const yearlyPrice = row.stripeYearlyPriceId ? await resolve(row.stripeYearlyPriceId, cache.yearly, 'yearly') : null;
    if (dirty) {
      if (!row.stripeYearlyPriceId) cache.yearly = null;
      await db.q.update(plans).set({ priceCache: JSON.stringify(cache), priceCachedAt: now }).where(eq(plans.id, row.id));
    }
    views.push({
      id: row.id,
      code: row.code,
      name: row.name,
      description: row.description,
      features: features(row.features),
      perSeat: row.perSeat,
      trialDays: row.trialDays,
      issuesLicenses: row.issuesLicenses,
      price,
      yearlyPrice,
      active: row.active,
      stripePriceId: row.stripePriceId,
      stripeYearlyPriceId: row.stripeYearlyPriceId,
    });
  }
  return views;
}

/** The cached prices of a plan row; empty when there are none or they are in an older shape (stale). */
function readCache(text: string | null): { monthly: CachedEntry | null; yearly: CachedEntry | null } {
  if (!text) return { monthly: null, yearly: null };
  try {
    const parsed = PriceCache.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : { monthly: null, yearly: null };
  } catch {
    return { monthly: null, yearly: null };
  }
}
