import { formatDate, formatDateTime, isoDateTime, money } from '../lib/format';
import type { RouterOutputs } from '../trpc';
import { StatusBadge } from './StatusBadge';

/** `subscription.get` / `subscription.getForCustomer`. */
export type SubscriptionState = RouterOutputs['subscription']['get'];
export type SubscriptionView = NonNullable<SubscriptionState['subscription']>;
export type PastDueView = NonNullable<SubscriptionState['pastDue']>;

/** Statuses after which a subscription is over (subscribe again instead of changing it). */
const ENDED = new Set(['canceled', 'incomplete_expired']);

/** Whether the subscription is still running (it can be changed, canceled or resumed). */
export function isLive(sub: SubscriptionView | null | undefined): sub is SubscriptionView {
  return !!sub && !hasEnded(sub);
}

/** Whether the subscription is over (canceled, expired, ended). */
export function hasEnded(sub: SubscriptionView): boolean {
  return ENDED.has(sub.status) || !!sub.endedAt;
}

/** A day, as `<time>`. */
export function Day({ value }: { value: Date | null | undefined }) {
  const iso = isoDateTime(value);
  return iso ? (
    <time dateTime={iso} title={formatDateTime(value)}>
      {formatDate(value)}
    </time>
  ) : (
    <span className="muted">—</span>
  );
}

/** "Renews on Apr 1, 2030", "Cancels on …", "Ended on …". */
export function RenewalLine({ sub }: { sub: SubscriptionView }) {
  if (hasEnded(sub)) {
    return (
      <>
        Ended on <Day value={sub.endedAt ?? sub.canceledAt} />
      </>
    );
  }
  if (sub.cancelAtPeriodEnd || sub.cancelAt) {
    return (
      <span className="text-danger">
        Cancels on <Day value={sub.cancelAt ?? sub.currentPeriodEnd} />
      </span>
    );
  }
  return (
    <>
      Renews on <Day value={sub.currentPeriodEnd} />
    </>
  );
}

const ACCESS_LABEL: Record<string, string> = { active: 'Active', trialing: 'Trial', grace: 'Grace period', none: 'No access' };

/** The access a subscription gives (derived on the server), with its reason. */
export function AccessBadge({ access }: { access: SubscriptionState['access'] }) {
  return <StatusBadge status={access.access} label={ACCESS_LABEL[access.access] ?? access.access} />;
}

const ISO_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g;

/** What the access means, in words (null when "Active" says it all). */
export function accessText(access: SubscriptionState['access']): string | null {
  const until = access.until ? formatDate(access.until) : null;
  switch (access.reason) {
    case 'active':
      return null;
    case 'active_until_period_end':
      return until ? `Until ${until}, then it ends` : 'Until the end of the period, then it ends';
    case 'trialing':
      return until ? `Free trial until ${until}` : 'In its free trial';
    case 'past_due_grace':
      return until ? `Payment failed: access continues until ${until} while Stripe retries` : 'Payment failed: access continues while Stripe retries';
    default:
      // The server's sentence, with any timestamp in it written as a day.
      return access.message ? access.message.replace(ISO_TIME, (iso) => formatDate(iso)) : null;
  }
}

/** Plan, status, access, billing interval, seats, trial end, renewal or cancellation, period: one subscription's facts. */
export function SubscriptionDetails({ state }: { state: SubscriptionState }) {
  const sub = state.subscription;
  if (!sub) return null;
  const trialing = sub.status === 'trialing' && sub.trialEnd;
  return (
    <dl className="details details-grid" data-testid="subscription-details">
      <div>
        <dt>Plan</dt>
        <dd data-testid="subscription-plan">{sub.plan?.name ?? 'A plan no longer offered'}</dd>
      </div>
      <div>
        <dt>Status</dt>
        <dd data-testid="subscription-status">
          <StatusBadge status={sub.status} />
        </dd>
      </div>
      <div>
        <dt>Access</dt>
        <dd data-testid="subscription-access">
          <AccessBadge access={state.access} />
          {accessText(state.access) && <div className="muted small">{accessText(state.access)}</div>}
        </dd>
      </div>
      {sub.interval && (
        <div>
          <dt>Billing</dt>
          <dd data-testid="subscription-interval">{sub.interval === 'year' ? 'Yearly' : 'Monthly'}</dd>
        </div>
      )}
      {(sub.plan?.perSeat || sub.seats > 1) && (
        <div>
          <dt>Seats</dt>
          <dd data-testid="subscription-seats">{sub.seats}</dd>
        </div>
      )}
      {trialing && (
        <div>
          <dt>Trial ends</dt>
          <dd data-testid="subscription-trial-end">
            <Day value={sub.trialEnd} />
          </dd>
        </div>
      )}
      <div>
        <dt>{isLive(sub) ? (sub.cancelAtPeriodEnd || sub.cancelAt ? 'Cancellation' : 'Renewal') : 'Ended'}</dt>
        <dd data-testid="subscription-renewal">
          <RenewalLine sub={sub} />
        </dd>
      </div>
      {isLive(sub) && sub.currentPeriodStart && sub.currentPeriodEnd && (
        <div>
          <dt>Current period</dt>
          <dd>
            <Day value={sub.currentPeriodStart} /> – <Day value={sub.currentPeriodEnd} />
          </dd>
        </div>
      )}
    </dl>
  );
}

/** "Your payment of $45.00 failed" and what happens next, for the past-due banner and the admin. */
export function pastDueSentence(pastDue: PastDueView): { title: string; next: string } {
  const amount = money(pastDue.amountDueMinor, pastDue.currency);
  const title = pastDue.paymentActionRequired ? `Your payment of ${amount} needs your confirmation` : `Your payment of ${amount} failed`;
  const next = pastDue.paymentActionRequired
    ? 'Your bank asks you to confirm it (3-D Secure). Complete the payment, or update your payment method.'
    : pastDue.nextPaymentAttemptAt
      ? `Stripe will retry on ${formatDateTime(pastDue.nextPaymentAttemptAt)}. Update your payment method to pay now.`
      : 'No more automatic retries: update your payment method to pay it.';
  return { title, next };
}
