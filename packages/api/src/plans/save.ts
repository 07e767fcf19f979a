import { and, eq, ne, run, type Database, type Plan } from '@tally/db';
import Stripe from 'stripe';
import { recordAuditInTx } from '../audit/record';
import type { Actor } from '../context';
import { AppError } from '../errors';
import { newId } from '../ids';
import type { Logger } from '../logger';
import type { PlanSaveInput } from '../schemas/plans';
import type { StripeAccounts } from '../stripe/accounts';
import { describeError } from '../webhooks/text';

type PlanCtx = { db: Database; stripeAccounts: StripeAccounts; logger: Logger; actor: Actor; requestId: string; workspaceId: string; workspaceCurrency: string };

/**
 * Check that `priceId` is a recurring Price of the workspace's Stripe account billed every
 * `interval` (stripe.com/docs/api/prices/object). Returns its currency.
 * @throws AppError BAD_REQUEST naming the field when Stripe has no such price or it is not
 * recurring monthly/yearly or not active; CONFLICT when the workspace has no usable Stripe
 * keys; BAD_GATEWAY when Stripe cannot be reached (logged).
 */
async function checkPrice(ctx: PlanCtx, field: string, priceId: string, interval: 'month' | 'year'): Promise<string> {
  const ws = await ctx.stripeAccounts.forWorkspace(ctx.db, ctx.workspaceId);
  if (!ws.configured) throw new AppError('CONFLICT', `Stripe is not configured for this workspace: ${ws.reason ?? 'add its keys first'}`);
  let price: Stripe.Price;
  try {
    price = await ws.client.prices.retrieve(priceId);
  } catch (err) {
    if (err instanceof Stripe.errors.StripeInvalidRequestError && err.statusCode === 404) {
      throw new AppError('BAD_REQUEST', `${field}: this workspace's Stripe account has no Price ${priceId}`);
    }
    ctx.logger.error({ requestId: ctx.requestId, workspaceId: ctx.workspaceId, err: describeError(err) }, 'Could not retrieve a plan price from Stripe');
    throw new AppError('BAD_GATEWAY', 'Stripe could not be reached to check the price; try again');
  }
  if (!price.active) throw new AppError('BAD_REQUEST', `${field}: Price ${priceId} is archived in Stripe`);
  if (price.recurring?.interval !== interval || (price.recurring.interval_count ?? 1) !== 1) {
    throw new AppError('BAD_REQUEST', `${field}: Price ${priceId} must be a recurring price billed every ${interval}`);
  }
  if (price.recurring.usage_type === 'metered') throw new AppError('BAD_REQUEST', `${field}: Price ${priceId} is metered; plans bill licensed prices`);
  if (price.unit_amount === null) throw new AppError('BAD_REQUEST', `${field}: Price ${priceId} has no fixed unit amount`);
  return price.currency;
}

/**
 * Create a plan (no `planId`) or update one of the admin's workspace. The prices are checked
 * in Stripe first (monthly, and yearly when given, same currency); nothing is written when
 * a check fails. The plan's price cache is dropped so the new amounts show at once. Writes an
 * audit entry (`plan.create` / `plan.update`) with the row in the same transaction.
 * @throws AppError NOT_FOUND for a `planId` not in the workspace, CONFLICT for a code another
 * plan of the workspace has, and the errors of `checkPrice`.
 */
export async function savePlan({ ctx, input }: { ctx: PlanCtx; input: PlanSaveInput }): Promise<Plan> {
  const { db } = ctx;
  const { plans } = db.t;
  const [existing] = input.planId ? await db.q.select().from(plans).where(and(eq(plans.id, input.planId), eq(plans.workspaceId, ctx.workspaceId))) : [];
  if (input.planId && !existing) throw new AppError('NOT_FOUND', 'Plan not found');
  const [clash] = await db.q
    .select({ id: plans.id })
    .from(plans)
    .where(and(eq(plans.workspaceId, ctx.workspaceId), eq(plans.code, input.code), ...(existing ? [ne(plans.id, existing.id)] : [])));
  if (clash) throw new AppError('CONFLICT', `Another plan already has the code ${input.code}`);

  const monthlyCurrency = await checkPrice(ctx, 'stripePriceId', input.stripePriceId, 'month');
  if (input.stripeYearlyPriceId) {
    const yearlyCurrency = await checkPrice(ctx, 'stripeYearlyPriceId', input.stripeYearlyPriceId, 'year');
    if (yearlyCurrency !== monthlyCurrency) throw new AppError('BAD_REQUEST', `stripeYearlyPriceId: the yearly price is in ${yearlyCurrency}, the monthly one in ${monthlyCurrency}`);
  }

  const now = new Date();
  const values = {
    code: input.code,
    name: input.name,
    description: input.description,
    features: JSON.stringify(input.features),
    stripePriceId: input.stripePriceId,
    stripeYearlyPriceId: input.stripeYearlyPriceId ?? null,
    perSeat: input.perSeat,
    trialDays: input.trialDays,
    issuesLicenses: input.issuesLicenses,
    active: input.active,
    priceCache: null,
    priceCachedAt: null,
    updatedAt: now,
  };
  const id = existing?.id ?? newId();
  try {
    await db.transaction(function* (tx) {
      if (existing) yield* run(tx.update(plans).set(values).where(eq(plans.id, existing.id)));
      else yield* run(tx.insert(plans).values({ id, workspaceId: ctx.workspaceId, createdAt: now, ...values }));
      const { priceCache: _p, priceCachedAt: _c, updatedAt: _u, ...after } = values;
      yield* recordAuditInTx(tx, db.t, {
        workspaceId: ctx.workspaceId,
        actor: ctx.actor,
        action: existing ? 'plan.update' : 'plan.create',
        targetType: 'plan',
        targetId: id,
        before: existing ? { code: existing.code, name: existing.name, stripePriceId: existing.stripePriceId, stripeYearlyPriceId: existing.stripeYearlyPriceId, perSeat: existing.perSeat, trialDays: existing.trialDays, issuesLicenses: existing.issuesLicenses, active: existing.active } : null,
        after,
        requestId: ctx.requestId,
      });
    });
  } catch (err) {
    // Two admins creating the same code at once: the unique (workspace, code) index decides.
    if (/unique|duplicate/i.test(describeError(err))) throw new AppError('CONFLICT', `Another plan already has the code ${input.code}`);
    throw err;
  }
  const [row] = await db.q.select().from(plans).where(eq(plans.id, id));
  return row!;
}
