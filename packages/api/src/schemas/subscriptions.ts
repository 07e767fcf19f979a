/**
 * Zod inputs of the subscription and billing-portal procedures (`subscription.*`,
 * `billing.*`), shared with the SPA (no server imports; nothing from `../schemas` either,
 * which re-exports this file). Every input is checked here, before any query or Stripe call.
 */
import { z } from 'zod';
import { PLAN_CODE_PATTERN } from './plans';

/** Most seats (quantity of a per-seat plan) one subscription may have. */
export const SEATS_MAX = 1000;
/** Longest trial, days: Stripe's bound for `trial_period_days` (stripe.com/docs/api/checkout/sessions/create#create_checkout_session-subscription_data-trial_period_days). */
export const TRIAL_DAYS_MAX = 730;

/**
 * Where the SPA shows a customer's plan and subscription: Checkout's success and cancel URLs
 * and the portal's return URL point there (`<origin>/subscription?checkout=success`, ...).
 */
export const SUBSCRIPTION_PAGE_PATH = '/subscription';

/** Stripe's subscription statuses (stripe.com/docs/api/subscriptions/object#subscription_object-status). */
export const SUBSCRIPTION_STATUS_VALUES = ['incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused'] as const;

const customerId = z.uuid({ error: 'customerId must be a Tally id (a UUID)' });

/** A plan code (`solo`, `team`): as in STRIPE_PRODUCT_PRICE_MAP. */
export const subscriptionPlanSchema = z
  .string({ error: 'plan must be a plan code' })
  .regex(PLAN_CODE_PATTERN, 'plan must be a plan code: lowercase letters, digits, _ or -, at most 40 characters');

/** Seats of a per-seat plan: a whole number from 1 to SEATS_MAX. */
export const seatsSchema = z
  .number({ error: 'seats must be a number' })
  .int('seats must be a whole number')
  .min(1, `seats must be 1 to ${SEATS_MAX}`)
  .max(SEATS_MAX, `seats must be 1 to ${SEATS_MAX}`);

/** Trial length in days, 0 (none) to TRIAL_DAYS_MAX. */
export const trialDaysSchema = z
  .number({ error: 'trialDays must be a number of days' })
  .int('trialDays must be a whole number of days')
  .min(0, `trialDays must be 0 to ${TRIAL_DAYS_MAX}`)
  .max(TRIAL_DAYS_MAX, `trialDays must be 0 to ${TRIAL_DAYS_MAX}`);

/** Billing intervals a plan can be bought at: `month` (its `stripePriceId`) or `year` (its optional `stripeYearlyPriceId`). */
export const BILLING_INTERVAL_VALUES = ['month', 'year'] as const;
export type BillingInterval = (typeof BILLING_INTERVAL_VALUES)[number];

/** Which of the plan's prices to bill: `month` or `year`. */
export const billingIntervalSchema = z.enum(BILLING_INTERVAL_VALUES, { error: 'interval must be "month" or "year"' });

/**
 * The moment a proration is computed for, unix seconds (as `subscription.previewChange`
 * returned it), so the change charges what was previewed (stripe.com/docs/billing/subscriptions/prorations#preview-proration).
 * Stripe refuses a date outside the current period.
 */
export const prorationDateSchema = z
  .number({ error: 'prorationDate must be a unix time in seconds' })
  .int('prorationDate must be a whole number of seconds')
  .min(1, 'prorationDate must be a unix time in seconds')
  .max(253_402_300_799, 'prorationDate must be a unix time in seconds');

// ---- customer procedures: `customerId` optional (the caller's oldest customer) ----

/** `subscription.get`, `subscription.resume`, `billing.openPortal`. */
export const SubscriptionScopeInput = z.object({ customerId: customerId.optional() }).optional();
export type SubscriptionScopeInput = z.infer<typeof SubscriptionScopeInput>;

/**
 * `subscription.createCheckout`: subscribe through Stripe Checkout. `trialDays` omitted: the
 * plan's (none for a customer who has had a trial); `interval` omitted: `month`.
 */
export const SubscriptionCheckoutInput = z.object({
  customerId: customerId.optional(),
  plan: subscriptionPlanSchema,
  seats: seatsSchema.optional(),
  trialDays: trialDaysSchema.optional(),
  interval: billingIntervalSchema.optional(),
});
export type SubscriptionCheckoutInput = z.infer<typeof SubscriptionCheckoutInput>;

/**
 * `subscription.previewChange`: what moving to `plan` (and `seats`, billed every `interval`)
 * would invoice. `interval` omitted: the subscription's current one.
 */
export const SubscriptionPreviewChangeInput = z.object({
  customerId: customerId.optional(),
  plan: subscriptionPlanSchema,
  seats: seatsSchema.optional(),
  interval: billingIntervalSchema.optional(),
});
export type SubscriptionPreviewChangeInput = z.infer<typeof SubscriptionPreviewChangeInput>;

/** `subscription.changePlan`: move to `plan` (and `seats`), prorated at `prorationDate` (the preview's) or now. */
export const SubscriptionChangePlanInput = SubscriptionPreviewChangeInput.extend({ prorationDate: prorationDateSchema.optional() });
export type SubscriptionChangePlanInput = z.infer<typeof SubscriptionChangePlanInput>;

/** `subscription.cancel`: at the end of the period (can be resumed until then) or now. */
export const SubscriptionCancelInput = z.object({
  customerId: customerId.optional(),
  atPeriodEnd: z.boolean({ error: 'atPeriodEnd must be true or false' }),
});
export type SubscriptionCancelInput = z.infer<typeof SubscriptionCancelInput>;

// ---- admin procedures: `customerId` of the admin's workspace, required ----

const forCustomer = { customerId };
export const AdminSubscriptionScopeInput = z.object(forCustomer);
export const AdminSubscriptionCheckoutInput = SubscriptionCheckoutInput.extend(forCustomer);
export const AdminSubscriptionPreviewChangeInput = SubscriptionPreviewChangeInput.extend(forCustomer);
export const AdminSubscriptionChangePlanInput = SubscriptionChangePlanInput.extend(forCustomer);
export const AdminSubscriptionCancelInput = SubscriptionCancelInput.extend(forCustomer);
