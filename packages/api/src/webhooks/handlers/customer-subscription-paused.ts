import { handleSubscriptionEvent } from '../../subscriptions/sync-subscription';
import type { StripeEventHandler } from '../types';

/**
 * `customer.subscription.paused`: collection paused (`status: paused`): access `none` until resumed.
 * Mirrors the subscription (`syncSubscription`: re-read from Stripe when the workspace's client
 * is available, else the payload; ordering-guarded, see subscriptions/sync-subscription.ts) and
 * reconciles its licenses. Foreign customers and unparsable payloads are `ignored`.
 * Source: stripe.com/docs/api/events/types#event_types-customer.subscription.paused
 */
export const handleCustomerSubscriptionPaused: StripeEventHandler = (args) => handleSubscriptionEvent(args);
