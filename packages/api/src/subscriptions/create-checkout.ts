import { createHash } from 'node:crypto';
import type Stripe from 'stripe';
import { recordAudit } from '../audit/record';
import { ensureStripeCustomer } from '../customers/ensure-stripe-customer';
import { AppError } from '../errors';
import { SUBSCRIPTION_PAGE_PATH, type SubscriptionCheckoutInput } from '../schemas/subscriptions';
import { requireStripeFor } from '../stripe/require-configured';
import { stripeUnavailable } from '../topups/stripe-unavailable';
import { describeError } from '../webhooks/text';
import { currentSubscription, isTrialEligible, planByCode, priceIdFor, quantityFor, stripeCall, type SubscriptionCtx, type SubscriptionScope } from './find-for-customer';

/**
 * How long a subscription Checkout Session stays open, seconds, counted from the start of its
 * reuse window (so between 1 and 2 hours when handed out; Stripe allows 30 minutes to 24 hours,
 * stripe.com/docs/api/checkout/sessions/create#create_checkout_session-expires_at).
 */
export const SUBSCRIPTION_CHECKOUT_LIFETIME_S = 2 * 60 * 60;
/** Asking again for the same checkout within this window (seconds) returns the same session. */
export const SUBSCRIPTION_CHECKOUT_REUSE_S = 60 * 60;

/**
 * Statuses of a subscription the customer manages (change plan, portal) instead of buying
 * another: everything but ended ones (`canceled`, `incomplete_expired`) and `incomplete` (a
 * first payment never made, which Stripe expires by itself after 23 hours).
 */
export const SUBSCRIBED_STATUSES: readonly string[] = ['active', 'trialing', 'past_due', 'unpaid', 'paused'];

/**
 * The origin Stripe sends the customer back to: the request's `Origin` when it is in
 * ALLOWED_FRONTEND_ORIGINS (the tab the customer is in, with its session cookie), else, for a
 * call without one, `webUrl` when its origin is allowed.
 * @throws AppError FORBIDDEN when neither is allowed.
 */
export function redirectOrigin(ctx: Pick<SubscriptionCtx, 'origin' | 'config'>): string {
  const allowed = ctx.config.allowedFrontendOrigins;
  if (ctx.origin !== null) {
    if (allowed.includes(ctx.origin)) return ctx.origin;
    throw new AppError('FORBIDDEN', 'This page is not allowed to start a checkout (origin not in ALLOWED_FRONTEND_ORIGINS)');
  }
  const web = URL.canParse(ctx.config.webUrl) ? new URL(ctx.config.webUrl).origin : null;
  if (web && allowed.includes(web)) return web;
  throw new AppError('FORBIDDEN', 'No allowed page to return to (the web URL is not in ALLOWED_FRONTEND_ORIGINS)');
}

/**
 * Start a subscription through Stripe Checkout in `subscription` mode
 * (stripe.com/docs/billing/subscriptions/build-subscriptions?ui=stripe-hosted): one line item,
 * the plan's price for `interval` (`month`, the default: `stripePriceId`; `year`:
 * `stripeYearlyPriceId`) with quantity `seats` (per-seat plans; 1 otherwise), a trial of
 * `trialDays` (default the plan's; 0 none), the customer's Stripe customer reused (created with
 * its email on first need, so Checkout prefills the email), and `tally_customer_id`,
 * `tally_workspace_id`, `tally_plan_code` in the session's and the subscription's metadata.
 * Success and cancel return to `<origin>/subscription?checkout=success|cancelled`.
 *
 * Asking again with the same parameters within `SUBSCRIPTION_CHECKOUT_REUSE_S` returns the same
 * session (idempotency key from the parameters and the window), and the customer's other open
 * subscription sessions are expired afterwards (best effort), so two tabs cannot buy two
 * subscriptions. The subscription itself is mirrored by the webhook handlers.
 *
 * Already subscribed means a mirrored subscription in `SUBSCRIBED_STATUSES` (refused before any
 * Stripe call) or, for a customer with a Stripe customer, one in Stripe's list (the mirror may
 * lag a payment by the webhook's delay).
 *
 * A customer may shorten the plan's trial, not lengthen it; an admin (audited) may set 0 to 730 days.
 * One trial per customer (`isTrialEligible`): a customer who has had a trial gets none by
 * default (and is refused one it asks for); an admin may still grant one with `trialDays`.
 *
 * Returns `{ url, checkoutSessionId }`.
 * @throws AppError NOT_FOUND (no such plan), BAD_REQUEST (plan no longer offered, seats on a
 * flat plan, a longer trial than the plan's, a trial after an earlier one, yearly billing on a
 * plan without a yearly price), CONFLICT (already subscribed: change plan instead;
 * or the workspace has no Stripe), FORBIDDEN (origin), BAD_GATEWAY (Stripe refused or is unreachable).
 * Nothing is called at Stripe unless all of these pass.
 */
export async function createSubscriptionCheckout({
  ctx,
  scope,
  input,
}: {
  ctx: SubscriptionCtx;
  scope: SubscriptionScope;
  input: Omit<SubscriptionCheckoutInput, 'customerId'>;
}): Promise<{ url: string; checkoutSessionId: string }> {
  const { db, config } = ctx;
  const { customer } = scope;
  const plan = await planByCode(db, customer.workspaceId, input.plan);
  const quantity = quantityFor(plan, input.seats);
  const interval = input.interval ?? 'month';
  const priceId = priceIdFor(plan, interval);
  const eligible = await isTrialEligible(db, customer);
  const trialDays = input.trialDays ?? (eligible ? plan.trialDays : 0);
  if (scope.audience === 'customer' && trialDays > plan.trialDays) {
    throw new AppError('BAD_REQUEST', plan.trialDays > 0 ? `${plan.name} has a trial of at most ${plan.trialDays} days` : `${plan.name} has no trial`);
  }
  if (scope.audience === 'customer' && trialDays > 0 && !eligible) {
    throw new AppError('BAD_REQUEST', 'The free trial has already been used: subscribe without a trial (trialDays 0 or omitted)');
  }
  const existing = await currentSubscription(db, customer, config.dunningGraceDays);
  if (existing && SUBSCRIBED_STATUSES.includes(existing.status)) {
    throw new AppError('CONFLICT', `Already subscribed (${existing.status}): change the plan or seats of the current subscription instead of subscribing again`);
  }
  const origin = redirectOrigin(ctx);
  const { client: stripe } = await requireStripeFor(ctx, customer.workspaceId);

  const ids = { customerId: customer.id, planId: plan.id };
  const stripeCustomerId = await stripeCall(ctx, 'customers.create', ids, () => ensureStripeCustomer({ db, stripe, customer }));
  if (customer.stripeCustomerId) {
    // The mirror may lag a payment by a moment (the webhook is on its way), or miss a
    // subscription made outside Tally: Stripe's own list decides too.
    const atStripe = await stripeCall(ctx, 'subscriptions.list', ids, () => stripe.subscriptions.list({ customer: stripeCustomerId, status: 'all', limit: 20 }));
    const live = atStripe.data.find((sub) => SUBSCRIBED_STATUSES.includes(sub.status));
    if (live) throw new AppError('CONFLICT', `Already subscribed (${live.status}): change the plan or seats of the current subscription instead of subscribing again`);
  }
  const metadata = { tally_customer_id: customer.id, tally_workspace_id: customer.workspaceId, tally_plan_code: plan.code };
  const windowStart = Math.floor(Date.now() / 1000 / SUBSCRIPTION_CHECKOUT_REUSE_S) * SUBSCRIPTION_CHECKOUT_REUSE_S;
  const params: Stripe.Checkout.SessionCreateParams = {
    mode: 'subscription',
    customer: stripeCustomerId,
    client_reference_id: customer.id,
    line_items: [{ price: priceId, quantity }],
    subscription_data: { metadata, ...(trialDays > 0 ? { trial_period_days: trialDays } : {}) },
    metadata,
    expires_at: windowStart + SUBSCRIPTION_CHECKOUT_LIFETIME_S,
    success_url: `${origin}${SUBSCRIPTION_PAGE_PATH}?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `${origin}${SUBSCRIPTION_PAGE_PATH}?checkout=cancelled`,
  };
  const digest = createHash('sha256').update(JSON.stringify(params)).digest('hex').slice(0, 32);
  const session = await stripeCall(ctx, 'checkout.sessions.create', ids, () =>
    stripe.checkout.sessions.create(params, { idempotencyKey: `tally-subscription-checkout-${customer.id}-${digest}` }),
  );
  if (!session.url) {
    throw stripeUnavailable({ logger: ctx.logger, requestId: ctx.requestId, step: 'checkout.sessions.create', err: new Error(`Checkout Session ${session.id} has no url`), ids });
  }
  await expireOtherSessions(ctx, stripe, customer.id, stripeCustomerId, session.id);
  if (scope.audience === 'admin') {
    await recordAudit(db, {
      workspaceId: customer.workspaceId,
      actor: { userId: scope.actor.userId, email: scope.actor.email },
      action: 'subscription.create_checkout',
      targetType: 'customer',
      targetId: customer.id,
      after: { plan: plan.code, interval, seats: quantity, trialDays, checkoutSessionId: session.id },
      requestId: ctx.requestId,
    });
  }
  return { url: session.url, checkoutSessionId: session.id };
}

/** Expire the customer's other open subscription sessions Tally started (best effort: logged, never thrown). */
async function expireOtherSessions(ctx: SubscriptionCtx, stripe: Stripe, customerId: string, stripeCustomerId: string, keepId: string): Promise<void> {
  try {
    const open = await stripe.checkout.sessions.list({ customer: stripeCustomerId, status: 'open', limit: 20 });
    for (const other of open.data) {
      if (other.id === keepId || other.mode !== 'subscription' || other.metadata?.tally_customer_id !== customerId) continue;
      await stripe.checkout.sessions.expire(other.id);
    }
  } catch (err) {
    ctx.logger.warn({ requestId: ctx.requestId, customerId, err: describeError(err) }, 'Could not expire older subscription Checkout Sessions');
  }
}
