import { all, and, count, eq, gt, inArray, run, sql, type Database } from '@tally/db';
import Stripe from 'stripe';
import { ensureStripeCustomer } from '../customers/ensure-stripe-customer';
import { AppError } from '../errors';
import { newId } from '../ids';
import type { Logger } from '../logger';
import type { ApiConfig } from '../services';
import type { StripeAccounts } from '../stripe/accounts';
import { requireStripeFor } from '../stripe/require-configured';
import { stripeUnavailable } from '../topups/stripe-unavailable';
import { describeError } from '../webhooks/text';
import type { BillingRecordRow } from './view';

/**
 * How long a billing record's Checkout Session stays open, seconds: Stripe's default and
 * maximum, 24 hours (stripe.com/docs/api/checkout/sessions/create#create_checkout_session-expires_at).
 * `expires_at` is left to Stripe, so a server clock running ahead of Stripe's can never push
 * it past the maximum (which Stripe refuses).
 */
export const BILLING_CHECKOUT_LIFETIME_S = 24 * 60 * 60;

/**
 * Most Checkout Sessions one record may have open (started within `BILLING_CHECKOUT_LIFETIME_S`
 * and not yet completed, expired or failed), so a pay link cannot be used to flood the
 * workspace's Stripe account. Two tabs, or a retry after closing one, fit well within it.
 */
export const MAX_OPEN_CHECKOUTS_PER_RECORD = 5;

/** The context a checkout start needs (a tRPC context has it all). */
export interface StartCheckoutContext {
  db: Database;
  stripeAccounts: StripeAccounts;
  config: ApiConfig;
  origin: string | null;
  logger: Logger;
  requestId: string;
}

/**
 * Start paying a billing record the caller is allowed to pay (the caller checked it: a member,
 * an admin, or the pay link's bearer): a Checkout Session in `payment` mode for exactly the
 * record's `amountMinor` (integer minor units) in its `currency`.
 *
 * 1. The record must be `DUE`; the request's `Origin` must be in `config.allowedFrontendOrigins`
 *    (it builds the redirect URLs); the workspace must have a Stripe (`requireStripeFor`).
 * 2. One transaction, which first writes the record row (a row lock on Postgres; SQLite
 *    serializes writers) so concurrent starts count one after another: the record must still be
 *    DUE, fewer than `MAX_OPEN_CHECKOUTS_PER_RECORD` open checkouts, then `paymentAttempts` is
 *    incremented and a `billing_record_checkouts` row (`creating`) inserted for that attempt.
 * 3. The Stripe customer is ensured (`ensureStripeCustomer`, the workspace's client) and the
 *    session created with `client_reference_id` = record id, metadata (also on the
 *    PaymentIntent) `{ tally_billing_record_id, tally_customer_id, tally_workspace_id,
 *    tally_attempt }` and idempotency key `tally-billing-record-<id>-<attempt>`; the checkout row
 *    gets the session id and becomes `open`. Should the record have been settled meanwhile, the
 *    new session is expired at once and PRECONDITION_FAILED is thrown.
 * The payment is applied later, once, by the webhook (stripe.com/docs/payments/checkout/fulfill-orders).
 *
 * Returns `{ url, checkoutSessionId }` (the hosted Checkout page).
 * @throws AppError PRECONDITION_FAILED (PAID or VOID), FORBIDDEN (origin not allowed),
 * CONFLICT (no Stripe for the workspace), TOO_MANY_REQUESTS (open checkouts at the limit),
 * BAD_GATEWAY "Payments are unavailable right now" (Stripe refused or is unreachable; logged
 * with `requestId`, the checkout row marked `failed`).
 */
export async function startBillingRecordCheckout({
  ctx,
  record,
  startedByUserId,
  redirect,
}: {
  ctx: StartCheckoutContext;
  record: BillingRecordRow;
  /** Null for a pay link opened signed out. */
  startedByUserId: string | null;
  /** Success and cancel URLs for an allowed origin. */
  redirect: (origin: string) => { successUrl: string; cancelUrl: string };
}): Promise<{ url: string; checkoutSessionId: string }> {
  const { db, config } = ctx;
  if (record.status !== 'DUE') throw notPayable(record.status);
  const origin = ctx.origin;
  if (!origin || !config.allowedFrontendOrigins.includes(origin)) {
    throw new AppError('FORBIDDEN', 'This page is not allowed to start a checkout (origin not in ALLOWED_FRONTEND_ORIGINS)');
  }
  const { client: stripe } = await requireStripeFor(ctx, record.workspaceId);

  const { billingRecords: r, billingRecordCheckouts: k, customers } = db.t;
  const checkoutId = newId();
  const now = new Date();
  const openSince = new Date(now.getTime() - BILLING_CHECKOUT_LIFETIME_S * 1000);
  const started = await db.transaction(function* (tx) {
    const [locked] = yield* all(
      tx
        .update(r)
        .set({ paymentAttempts: sql`${r.paymentAttempts}` })
        .where(and(eq(r.id, record.id), eq(r.status, 'DUE')))
        .returning({ id: r.id }),
    );
    if (!locked) return { ok: false as const, reason: 'not_due' as const };
    const [open] = yield* all(
      tx
        .select({ n: count() })
        .from(k)
        .where(and(eq(k.billingRecordId, record.id), inArray(k.status, ['creating', 'open']), gt(k.createdAt, openSince))),
    );
    if ((open?.n ?? 0) >= MAX_OPEN_CHECKOUTS_PER_RECORD) return { ok: false as const, reason: 'limit' as const };
    const [bumped] = yield* all(
      tx
        .update(r)
        .set({ paymentAttempts: sql`${r.paymentAttempts} + 1`, updatedAt: now })
        .where(eq(r.id, record.id))
        .returning({ attempt: r.paymentAttempts }),
    );
    const attempt = bumped!.attempt;
    yield* run(
      tx.insert(k).values({
        id: checkoutId,
        workspaceId: record.workspaceId,
        billingRecordId: record.id,
        attempt,
        amountMinor: record.amountMinor,
        currency: record.currency,
        status: 'creating',
        createdByUserId: startedByUserId,
        createdAt: now,
        updatedAt: now,
      }),
    );
    return { ok: true as const, attempt };
  });
  if (!started.ok) {
    if (started.reason === 'limit') {
      throw new AppError(
        'TOO_MANY_REQUESTS',
        `This billing record already has ${MAX_OPEN_CHECKOUTS_PER_RECORD} unfinished checkouts. Complete one, or try again once they expire (at most 24 hours).`,
      );
    }
    const [current] = await db.q.select({ status: r.status }).from(r).where(eq(r.id, record.id));
    throw notPayable(current?.status ?? 'VOID');
  }
  const { attempt } = started;
  const ids = { billingRecordId: record.id, checkoutId, customerId: record.customerId };

  let step = 'customers.create';
  let sessionId: string | null = null;
  try {
    const [customer] = await db.q
      .select({ id: customers.id, workspaceId: customers.workspaceId, name: customers.name, email: customers.email, stripeCustomerId: customers.stripeCustomerId })
      .from(customers)
      .where(eq(customers.id, record.customerId));
    if (!customer) throw new Error(`Customer ${record.customerId} of billing record ${record.id} is missing`);
    const stripeCustomerId = await ensureStripeCustomer({ db, stripe, customer });
    step = 'checkout.sessions.create';
    const metadata = {
      tally_billing_record_id: record.id,
      tally_customer_id: record.customerId,
      tally_workspace_id: record.workspaceId,
      tally_attempt: String(attempt),
    };
    const { successUrl, cancelUrl } = redirect(origin);
    const session = await stripe.checkout.sessions.create(
      {
        mode: 'payment',
        customer: stripeCustomerId,
        client_reference_id: record.id,
        metadata,
        payment_intent_data: { metadata },
        line_items: [
          {
            quantity: 1,
            price_data: { currency: record.currency, unit_amount: record.amountMinor, product_data: { name: productName(record.description) } },
          },
        ],
        success_url: successUrl,
        cancel_url: cancelUrl,
      },
      { idempotencyKey: `tally-billing-record-${record.id}-${attempt}` },
    );
    sessionId = session.id;
    await db.q.update(k).set({ stripeCheckoutSessionId: session.id, status: 'open', updatedAt: new Date() }).where(eq(k.id, checkoutId));
    if (!session.url) throw new CheckoutWithoutUrl(session.id);
    const url = session.url;

    // Settled while the session was being created: close it again (best effort), refuse.
    const [after] = await db.q.select({ status: r.status }).from(r).where(eq(r.id, record.id));
    if (after && after.status !== 'DUE') {
      step = 'checkout.sessions.expire';
      await stripe.checkout.sessions.expire(session.id).then(
        () => db.q.update(k).set({ status: 'expired', updatedAt: new Date() }).where(and(eq(k.id, checkoutId), eq(k.status, 'open'))),
        (err: unknown) => ctx.logger.warn({ requestId: ctx.requestId, ...ids, checkoutSessionId: session.id, err: describeError(err) }, 'Could not expire the Checkout Session of a billing record settled meanwhile'),
      );
      throw notPayable(after.status);
    }
    return { url, checkoutSessionId: session.id };
  } catch (err) {
    if (err instanceof AppError) throw err;
    await db.q
      .update(k)
      .set({ status: 'failed', updatedAt: new Date() })
      .where(and(eq(k.id, checkoutId), inArray(k.status, sessionId ? ['creating', 'open'] : ['creating'])))
      .catch((markErr: unknown) => ctx.logger.error({ requestId: ctx.requestId, ...ids, err: describeError(markErr) }, 'Could not mark a billing record checkout failed'));
    if (err instanceof Stripe.errors.StripeError || err instanceof CheckoutWithoutUrl) {
      throw stripeUnavailable({ logger: ctx.logger, requestId: ctx.requestId, step, err, ids });
    }
    throw err;
  }
}

/** Stripe shows the product name on the Checkout page; a description is at most 500 characters, the name is kept to 250. */
function productName(description: string): string {
  return description.length > 250 ? `${description.slice(0, 249)}…` : description;
}

function notPayable(status: string): AppError {
  return new AppError('PRECONDITION_FAILED', status === 'PAID' ? 'This billing record is already paid' : 'This billing record is void and cannot be paid');
}

/** Stripe answered a Checkout Session without the `url` to redirect to. */
class CheckoutWithoutUrl extends Error {
  constructor(sessionId: string) {
    super(`Checkout Session ${sessionId} has no url`);
    this.name = 'CheckoutWithoutUrl';
  }
}
