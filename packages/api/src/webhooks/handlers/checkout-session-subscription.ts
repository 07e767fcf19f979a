import { z } from 'zod';
import { syncInvoice } from '../../invoices/sync-invoice';
import { STRIPE_CUSTOMER_ID_PATTERN, idOf } from '../../subscriptions/payload';
import { syncSubscription } from '../../subscriptions/sync-subscription';
import { CHECKOUT_SESSION_ID_PATTERN } from '../../schemas';
import type { HandlerOutcome, StripeEventHandler } from '../types';

const SubscriptionSession = z.object({
  id: z.string().regex(CHECKOUT_SESSION_ID_PATTERN),
  object: z.literal('checkout.session'),
  mode: z.literal('subscription'),
  customer: z.unknown(),
  subscription: z.unknown(),
  invoice: z.unknown(),
  livemode: z.boolean().nullish(),
});

/**
 * `checkout.session.completed` of a `subscription`-mode session (stripe.com/docs/billing/subscriptions/build-subscriptions):
 * mirror its `subscription` and `invoice` (ids, or expanded objects) for the session's customer,
 * re-reading both from Stripe through the workspace's client. Without a client (replays) only
 * expanded objects can be mirrored; ids wait for their own `customer.subscription.*` and
 * `invoice.*` events. Ignored: sessions of customers that are not Tally's, other livemodes, or
 * without a subscription Tally understands.
 */
export const handleCheckoutSessionSubscription: StripeEventHandler = async (args): Promise<HandlerOutcome> => {
  const parsed = SubscriptionSession.safeParse(args.event.data?.object);
  if (!parsed.success) return { status: 'ignored', outcome: 'Not a subscription-mode Checkout Session payload Tally understands' };
  const session = parsed.data;
  if ((session.livemode === true) !== args.expected.livemode) {
    return { status: 'ignored', outcome: `Checkout Session ${session.id} is ${session.livemode ? 'live' : 'test'} mode; this endpoint expects the other` };
  }
  const stripeCustomerId = idOf(session.customer, STRIPE_CUSTOMER_ID_PATTERN);
  if (!stripeCustomerId) return { status: 'ignored', outcome: `Checkout Session ${session.id} has no Stripe customer` };
  const known = { stripeCustomerId };
  const sub = await syncSubscription(args, session.subscription, known);
  if (sub.kind === 'ignored') return { status: 'ignored', outcome: `Checkout Session ${session.id}: ${sub.outcome}` };
  const parts = [sub.outcome];
  if (session.invoice !== null && session.invoice !== undefined) {
    const invoice = await syncInvoice(args, session.invoice, { known });
    parts.push(invoice.outcome);
  }
  return { status: 'processed', outcome: `Checkout Session ${session.id}: ${parts.join('; ')}`, workspaceId: sub.workspaceId };
};
