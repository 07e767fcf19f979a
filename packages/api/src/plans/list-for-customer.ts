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

/** The plan as customers see it; `price` null while Stripe cannot tell (unreachable, or not a recurring price). */
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
 * The active plans of a workspace, by code, each with its Stripe Price (amount in minor
 * units and interval) read through the workspace's Stripe client and cached on the plan for
 * `PRICE_CACHE_TTL_MS`: amounts are never typed into Tally. A price Stripe cannot serve
 * (unreachable, deleted, not recurring) leaves `price` null, logged, never an error: the
 * plan list still renders.
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
    const cached = row.priceCache && row.priceCachedAt && now.getTime() - row.priceCachedAt.getTime() < PRICE_CACHE_TTL_MS ? CachedPrice.safeParse(JSON.parse(row.priceCache)) : null;
    let price: PlanPrice | null = cached?.success ? cached.data : null;
    if (!price) {
      if (stripe === undefined) {
        const ws = await stripeAccounts.forWorkspace(db, workspaceId);
        stripe = ws.configured ? ws.client : null;
      }
      if (stripe) {
        try {
          price = priceOf(await stripe.prices.retrieve(row.stripePriceId));
          if (price) await db.q.update(plans).set({ priceCache: JSON.stringify(price), priceCachedAt: now }).where(eq(plans.id, row.id));
          else logger.warn({ workspaceId, planId: row.id }, 'Plan price is not a recurring Stripe Price with an amount');
        } catch (err) {
          logger.warn({ workspaceId, planId: row.id, err: describeError(err) }, 'Could not retrieve a plan price from Stripe');
        }
      }
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
      active: row.active,
      stripePriceId: row.stripePriceId,
      stripeYearlyPriceId: row.stripeYearlyPriceId,
    });
  }
  return views;
}
