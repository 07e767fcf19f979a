import { and, eq, isNull, type Database } from '@tally/db';
import type Stripe from 'stripe';

/**
 * The customer's Stripe customer id, created on first need and stored. The create call
 * carries an idempotency key derived from our customer id, so concurrent first uses get
 * the same Stripe customer (stripe.com/docs/api/idempotent_requests).
 * @throws Stripe.errors.StripeError when Stripe refuses or cannot be reached. Callers facing a
 * customer log it and answer `stripeUnavailable` (topups/stripe-unavailable.ts), never its message.
 */
export async function ensureStripeCustomer({
  db,
  stripe,
  customer,
}: {
  db: Database;
  stripe: Stripe;
  customer: { id: string; workspaceId: string; name: string; email: string | null; stripeCustomerId: string | null };
}): Promise<string> {
  if (customer.stripeCustomerId) return customer.stripeCustomerId;
  const created = await stripe.customers.create(
    {
      name: customer.name,
      ...(customer.email ? { email: customer.email } : {}),
      metadata: { tally_customer_id: customer.id, tally_workspace_id: customer.workspaceId },
    },
    { idempotencyKey: `tally-customer-${customer.id}` },
  );
  const { customers } = db.t;
  await db.q
    .update(customers)
    .set({ stripeCustomerId: created.id })
    .where(and(eq(customers.id, customer.id), isNull(customers.stripeCustomerId)));
  const [row] = await db.q.select({ stripeCustomerId: customers.stripeCustomerId }).from(customers).where(eq(customers.id, customer.id));
  return row?.stripeCustomerId ?? created.id;
}
