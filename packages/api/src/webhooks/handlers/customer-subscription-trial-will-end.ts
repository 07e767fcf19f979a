import { handleSubscriptionEvent } from '../../subscriptions/sync-subscription';
import type { StripeEventHandler } from '../types';

/**
 * `customer.subscription.trial_will_end`: sent 3 days before a trial ends; the mirror is refreshed (reminders are the dunning work's).
 * Mirrors the subscription (`syncSubscription`: re-read from Stripe when the workspace's client
 * is available, else the payload; ordering-guarded, see subscriptions/sync-subscription.ts) and
 * reconciles its licenses. Foreign customers and unparsable payloads are `ignored`.
 * Source: stripe.com/docs/api/events/types#event_types-customer.subscription.trial_will_end
 */
export const handleCustomerSubscriptionTrialWillEnd: StripeEventHandler = (args) => handleSubscriptionEvent(args);
