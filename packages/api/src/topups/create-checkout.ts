import { all, and, count, eq, gt, run, type Database } from '@tally/db';
import Stripe from 'stripe';
import type { Actor } from '../context';
import { resolveCustomerForActor } from '../customers/resolve-for-actor';
import { ensureStripeCustomer } from '../customers/ensure-stripe-customer';
import { AppError } from '../errors';
import { newId } from '../ids';
import type { Logger } from '../logger';
import { topupAmountSchema, type CreateTopupCheckoutInput } from '../schemas';
import type { ApiConfig } from '../services';
import { publishBillingChange } from '../stream/publish';
import { describeError } from '../webhooks/text';
import { stripeUnavailable } from './stripe-unavailable';
import { requireStripeFor } from '../stripe/require-configured';
import type { StripeAccounts } from '../stripe/accounts';

/**
 * How long a top-up's Checkout Session stays open, seconds (its `expires_at`). Stripe allows
 * 30 minutes to 24 hours, default 24 h (stripe.com/docs/api/checkout/sessions/create#create_checkout_session-expires_at);
 * one hour leaves time for 3-D Secure and bank redirects, and frees an abandoned top-up's
 * slot (`maxOpenTopups`) within the hour: Stripe then sends `checkout.session.expired`.
 */
export const CHECKOUT_SESSION_LIFETIME_S = 60 * 60;

/**
 * Start a prepaid top-up: validate the amount (integer minor units within bounds), check the
 * redirect origin and the customer's open top-ups, write the pending top-up row, then create
 * a Checkout Session in `payment` mode, expiring after `CHECKOUT_SESSION_LIFETIME_S`, linked
 * by `client_reference_id` and metadata. The credit happens later, once, from the webhook
 * (stripe.com/docs/payments/checkout/fulfill-orders).
 *
 * Open top-ups: at most `config.maxOpenTopups` `pending` top-ups created within the session
 * lifetime per customer (older ones have expired at Stripe whether or not the webhook came).
 * The count and the insert run in one transaction that first writes the customer row, so
 * concurrent starts for one customer (a batched request) count one after another: SQLite
 * serializes writers (BEGIN IMMEDIATE); on Postgres the row lock makes the second wait, and
 * READ COMMITTED lets its count see the first one's row.
 *
 * Returns `{ url, topupId, checkoutSessionId }`.
 * @throws AppError BAD_REQUEST (amount), FORBIDDEN (origin not in ALLOWED_FRONTEND_ORIGINS),
 * NOT_FOUND (not a member of `customerId`), CONFLICT (the workspace has no Stripe: no own keys, no env key), TOO_MANY_REQUESTS (open top-ups at the limit),
 * BAD_GATEWAY "Payments are unavailable right now" (Stripe refused or is unreachable; the
 * cause is logged with `ctx.requestId`, and the top-up is marked `failed`).
 * No row is written and no Stripe call is made unless amount, origin and limit allow it.
 */
export async function createTopupCheckout({
  ctx,
  input,
}: {
  ctx: { db: Database; stripeAccounts: StripeAccounts; config: ApiConfig; actor: Actor; origin: string | null; logger: Logger; requestId: string };
  input: CreateTopupCheckoutInput;
}) {
  const { db, config } = ctx;
  const customer = await resolveCustomerForActor({ db, userId: ctx.actor.userId, customerId: input.customerId });
  const bounds = { ...config.topup, currency: customer.currency };
  const amount = topupAmountSchema(bounds).safeParse(input.amountMinor);
  if (!amount.success) throw new AppError('BAD_REQUEST', amount.error.issues.map((i) => i.message).join('; '));
  const origin = ctx.origin;
  if (!origin || !config.allowedFrontendOrigins.includes(origin)) {
    throw new AppError('FORBIDDEN', 'This page is not allowed to start a checkout (origin not in ALLOWED_FRONTEND_ORIGINS)');
  }
  // The workspace's own Stripe account, else the deployment's; CONFLICT when it has none.
  const { client: stripe } = await requireStripeFor(ctx, customer.workspaceId);

  const { topups, customers } = db.t;
  const topupId = newId();
  const now = new Date();
  const openSince = new Date(now.getTime() - CHECKOUT_SESSION_LIFETIME_S * 1000);
  const opened = await db.transaction(function* (tx) {
    // A same-value write: takes the customer's row lock (see the docstring).
    yield* run(tx.update(customers).set({ workspaceId: customer.workspaceId }).where(eq(customers.id, customer.id)));
    const [open] = yield* all(
      tx
        .select({ n: count() })
        .from(topups)
        .where(and(eq(topups.customerId, customer.id), eq(topups.status, 'pending'), gt(topups.createdAt, openSince))),
    );
    if ((open?.n ?? 0) >= config.maxOpenTopups) return false;
    yield* run(
      tx.insert(topups).values({
        id: topupId,
        workspaceId: customer.workspaceId,
        customerId: customer.id,
        amountMinor: amount.data,
        currency: customer.currency,
        status: 'pending',
        createdByUserId: ctx.actor.userId,
        createdAt: now,
        updatedAt: now,
      }),
    );
    return true;
  });
  if (!opened) {
    throw new AppError(
      'TOO_MANY_REQUESTS',
      `You already have ${config.maxOpenTopups} unfinished top-ups. Complete one, or wait for them to expire (at most ${CHECKOUT_SESSION_LIFETIME_S / 60} minutes).`,
    );
  }

  let step = 'customers.create';
  try {
    const stripeCustomerId = await ensureStripeCustomer({ db, stripe, customer });
    step = 'checkout.sessions.create';
    const metadata = { tally_topup_id: topupId, tally_customer_id: customer.id, tally_workspace_id: customer.workspaceId };
    const session = await stripe.checkout.sessions.create(
      {
        mode: 'payment',
        customer: stripeCustomerId,
        client_reference_id: topupId,
        metadata,
        payment_intent_data: { metadata },
        line_items: [
          {
            quantity: 1,
            price_data: { currency: customer.currency, unit_amount: amount.data, product_data: { name: 'Account balance top-up' } },
          },
        ],
        expires_at: Math.floor(now.getTime() / 1000) + CHECKOUT_SESSION_LIFETIME_S,
        success_url: `${origin}/topup/success?session_id={CHECKOUT_SESSION_ID}`,
        cancel_url: `${origin}/topup/cancelled?topup=${topupId}`,
      },
      { idempotencyKey: `tally-topup-${topupId}` },
    );
    await db.q.update(topups).set({ stripeCheckoutSessionId: session.id, updatedAt: new Date() }).where(eq(topups.id, topupId));
    if (!session.url) throw new CheckoutWithoutUrl(session.id);
    // Committed, with its open Checkout Session: tell the live stream (issue 10).
    publishBillingChange({ kind: 'topup.created', workspaceId: customer.workspaceId, customerId: customer.id, topupId, amountMinor: amount.data, currency: customer.currency });
    return { url: session.url, topupId, checkoutSessionId: session.id };
  } catch (err) {
    await db.q
      .update(topups)
      .set({ status: 'failed', updatedAt: new Date() })
      .where(eq(topups.id, topupId))
      .catch((markErr: unknown) => ctx.logger.error({ requestId: ctx.requestId, topupId, err: describeError(markErr) }, 'Could not mark a top-up failed'));
    if (err instanceof Stripe.errors.StripeError || err instanceof CheckoutWithoutUrl) {
      throw stripeUnavailable({ logger: ctx.logger, requestId: ctx.requestId, step, err, ids: { topupId, customerId: customer.id } });
    }
    throw err;
  }
}

/** Stripe answered a Checkout Session without the `url` to redirect to. */
class CheckoutWithoutUrl extends Error {
  constructor(sessionId: string) {
    super(`Checkout Session ${sessionId} has no url`);
    this.name = 'CheckoutWithoutUrl';
  }
}
