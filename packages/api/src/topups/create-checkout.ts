import { eq, type Database } from '@tally/db';
import Stripe from 'stripe';
import type { Actor } from '../context';
import { resolveCustomerForActor } from '../customers/resolve-for-actor';
import { ensureStripeCustomer } from '../customers/ensure-stripe-customer';
import { AppError } from '../errors';
import { newId } from '../ids';
import { topupAmountSchema, type CreateTopupCheckoutInput } from '../schemas';
import type { ApiConfig } from '../services';

/**
 * Start a prepaid top-up: validate the amount (integer minor units within bounds), check the
 * redirect origin, write the pending top-up row, then create a Checkout Session in `payment`
 * mode linked by `client_reference_id` and metadata. The credit happens later, once, from
 * the webhook (stripe.com/docs/payments/checkout/fulfill-orders).
 *
 * Returns `{ url, topupId, checkoutSessionId }`.
 * @throws AppError BAD_REQUEST (amount), FORBIDDEN (origin not in ALLOWED_FRONTEND_ORIGINS),
 * NOT_FOUND (not a member of `customerId`), BAD_GATEWAY (Stripe refused or is unreachable).
 * No Stripe call is made unless amount and origin are valid.
 */
export async function createTopupCheckout({
  ctx,
  input,
}: {
  ctx: { db: Database; stripe: Stripe; config: ApiConfig; actor: Actor; origin: string | null };
  input: CreateTopupCheckoutInput;
}) {
  const { db, stripe, config } = ctx;
  const customer = await resolveCustomerForActor({ db, userId: ctx.actor.userId, customerId: input.customerId });
  const bounds = { ...config.topup, currency: customer.currency };
  const amount = topupAmountSchema(bounds).safeParse(input.amountMinor);
  if (!amount.success) throw new AppError('BAD_REQUEST', amount.error.issues.map((i) => i.message).join('; '));
  const origin = ctx.origin;
  if (!origin || !config.allowedFrontendOrigins.includes(origin)) {
    throw new AppError('FORBIDDEN', 'This page is not allowed to start a checkout (origin not in ALLOWED_FRONTEND_ORIGINS)');
  }

  const { topups } = db.t;
  const topupId = newId();
  await db.q.insert(topups).values({
    id: topupId,
    workspaceId: customer.workspaceId,
    customerId: customer.id,
    amountMinor: amount.data,
    currency: customer.currency,
    status: 'pending',
    createdByUserId: ctx.actor.userId,
  });

  try {
    const stripeCustomerId = await ensureStripeCustomer({ db, stripe, customer });
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
        success_url: `${origin}/topup/success?session_id={CHECKOUT_SESSION_ID}`,
        cancel_url: `${origin}/topup/cancelled?topup=${topupId}`,
      },
      { idempotencyKey: `tally-topup-${topupId}` },
    );
    await db.q.update(topups).set({ stripeCheckoutSessionId: session.id, updatedAt: new Date() }).where(eq(topups.id, topupId));
    if (!session.url) throw new AppError('BAD_GATEWAY', 'Stripe returned a Checkout Session without a URL');
    return { url: session.url, topupId, checkoutSessionId: session.id };
  } catch (err) {
    await db.q.update(topups).set({ status: 'failed', updatedAt: new Date() }).where(eq(topups.id, topupId));
    if (err instanceof AppError) throw err;
    if (err instanceof Stripe.errors.StripeError) {
      throw new AppError('BAD_GATEWAY', `Stripe could not start the checkout: ${err.message}`, { cause: err });
    }
    throw err;
  }
}
