import { handleSubscriptionEvent } from '../../subscriptions/sync-subscription';
import type { StripeEventHandler } from '../types';

/**
 * `customer.subscription.deleted`: the subscription ended (canceled now, at period end, or after the final failed retry): the mirror becomes `canceled` for good.
 * Mirrors the subscription (`syncSubscription`: re-read from Stripe when the workspace's client
 * is available, else the payload; ordering-guarded, see subscriptions/sync-subscription.ts) and
 * reconciles its licenses. Foreign customers and unparsable payloads are `ignored`.
 * Source: stripe.com/docs/api/events/types#event_types-customer.subscription.deleted
 */
export const handleCustomerSubscriptionDeleted: StripeEventHandler = (args) => handleSubscriptionEvent(args);
