import { and, desc, eq, type Database, type Subscription } from '@tally/db';
import type { AccessLevel } from './access';
import { accessForCustomer } from './customer-access';
import { isTrialEligible, type SubscriptionScope } from './find-for-customer';
import { subscriptionView, type SubscriptionView } from './view';

/** What the past-due banner needs: the subscription's latest open invoice that Stripe is chasing. */
export interface PastDueView {
  stripeInvoiceId: string;
  /** When Stripe retries the charge (`next_payment_attempt`); null when it will not retry by itself. */
  nextPaymentAttemptAt: Date | null;
  /** Stripe's hosted invoice page (pay, or complete 3-D Secure); null until finalized. */
  hostedInvoiceUrl: string | null;
  /** The last attempt needs the customer (3-D Secure) at `hostedInvoiceUrl`. */
  paymentActionRequired: boolean;
  /** Still to pay, minor units. */
  amountDueMinor: number;
  currency: string;
  attemptCount: number;
}

/** `subscription.get`: the subscription deciding access (null without one), the access, the past-due state, and whether a trial is still on offer. */
export interface SubscriptionState {
  subscription: SubscriptionView | null;
  access: {
    access: AccessLevel;
    /** Stable code (`active`, `trialing`, `past_due_grace`, ... see subscriptions/access.ts). */
    reason: string;
    message: string;
    until: Date | null;
    status: string | null;
    /** The time access was judged at (a test clock's time for test-clock customers). */
    evaluatedAt: Date;
  };
  pastDue: PastDueView | null;
  /**
   * Whether a new checkout would get the plan's free trial: false once the customer has had a
   * trial on any subscription (one trial per customer), so plan cards must not promise one.
   */
  trialEligible: boolean;
}

/** Statuses in which an open invoice means a failed or pending payment of the subscription. */
const CHASED_STATUSES = new Set(['past_due', 'unpaid', 'incomplete']);

/**
 * The past-due state of `subscription` from the invoices mirror: its latest `open` invoice,
 * when the subscription is past due, unpaid or incomplete, or an attempt to charge it failed or needs
 * 3-D Secure; null otherwise (an open invoice being charged right now is not past due).
 */
export async function pastDueOf(db: Database, subscription: Subscription): Promise<PastDueView | null> {
  const { invoices: i } = db.t;
  const [invoice] = await db.q
    .select()
    .from(i)
    .where(
      and(
        eq(i.workspaceId, subscription.workspaceId),
        eq(i.customerId, subscription.customerId),
        eq(i.stripeSubscriptionId, subscription.stripeSubscriptionId),
        eq(i.status, 'open'),
      ),
    )
    .orderBy(desc(i.stripeCreated), desc(i.createdAt))
    .limit(1);
  if (!invoice) return null;
  const chased = CHASED_STATUSES.has(subscription.status) || invoice.paymentActionRequired || invoice.firstFailedAt !== null || invoice.attemptCount > 0;
  if (!chased) return null;
  return {
    stripeInvoiceId: invoice.stripeInvoiceId,
    nextPaymentAttemptAt: invoice.nextPaymentAttemptAt,
    hostedInvoiceUrl: invoice.hostedInvoiceUrl,
    paymentActionRequired: invoice.paymentActionRequired,
    amountDueMinor: invoice.amountRemainingMinor > 0 ? invoice.amountRemainingMinor : invoice.amountDueMinor,
    currency: invoice.currency,
    attemptCount: invoice.attemptCount,
  };
}

/**
 * The customer's subscription state (`SubscriptionState`), read from the mirror only (no
 * Stripe call): the subscription deciding access, its access from `accessForCustomer` (the
 * only place access is derived), the past-due banner's invoice, and `trialEligible`.
 */
export async function getSubscription({ db, graceDays, scope }: { db: Database; graceDays: number; scope: SubscriptionScope }): Promise<SubscriptionState> {
  const { customer } = scope;
  const { subscription, evaluatedAt, access, reason, message, until, status } = await accessForCustomer(db, { workspaceId: customer.workspaceId, customerId: customer.id, graceDays });
  return {
    subscription: subscription ? await subscriptionView(db, subscription) : null,
    access: { access, reason, message, until, status, evaluatedAt },
    pastDue: subscription ? await pastDueOf(db, subscription) : null,
    trialEligible: await isTrialEligible(db, customer),
  };
}
