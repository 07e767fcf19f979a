import { formatDate } from '../lib/format';
import { trpc } from '../trpc';
import { ErrorMessage } from './ErrorMessage';
import { pastDueSentence } from './SubscriptionParts';
import { usePortal } from './usePortal';

/** How often the banner looks again (Stripe's retries and a card updated elsewhere show up). */
const REFRESH_MS = 60_000;

/**
 * The past-due banner on every customer page: when the subscription's renewal payment failed
 * (or needs 3-D Secure), the amount, Stripe's next retry (`nextPaymentAttemptAt`) or that there
 * are no more, "Update payment method" (Stripe's portal) and, for 3-D Secure, "Complete
 * payment" on Stripe's hosted invoice page.
 */
export function PastDueBanner() {
  const state = trpc.subscription.get.useQuery(undefined, { refetchInterval: REFRESH_MS });
  const portal = usePortal();
  const pastDue = state.data?.pastDue;
  if (!pastDue) return null;
  const { title, next } = pastDueSentence(pastDue);
  const access = state.data!.access;
  return (
    <div className="banner-wrap">
      <div className="alert alert-error" role="alert" data-testid="past-due-banner">
        <div>
          <strong className="alert-title">{title}</strong>
          <span>{next}</span>
          {access.access === 'grace' && access.until && <span>Your access continues until {formatDate(access.until)}.</span>}
          {access.access === 'none' && <span>Your access is paused until the payment succeeds.</span>}
        </div>
        <div className="alert-actions">
          {pastDue.paymentActionRequired && pastDue.hostedInvoiceUrl && (
            <a className="button button-small button-primary" href={pastDue.hostedInvoiceUrl} rel="noopener noreferrer">
              Complete payment
            </a>
          )}
          <button type="button" className="button button-small" onClick={() => portal.open()} disabled={portal.isPending}>
            {portal.isPending ? 'Opening…' : 'Update payment method'}
          </button>
        </div>
      </div>
      {portal.error && <ErrorMessage error={portal.error} title="Could not open Stripe's billing portal" />}
    </div>
  );
}
