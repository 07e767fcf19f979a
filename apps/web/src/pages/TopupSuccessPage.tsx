import { useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { BalanceAmount } from '../components/BalanceAmount';
import { ErrorMessage } from '../components/ErrorMessage';
import { money } from '../lib/format';
import { trpc } from '../trpc';

const POLL_MS = 1_000;
/** After this long without confirmation, say so (the page keeps polling). */
const SLOW_MS = 30_000;

/**
 * Stripe redirects here after payment. The credit happens when the webhook lands, so poll
 * the top-up (and the balance) every second while it is still `pending`.
 */
export function TopupSuccessPage() {
  const [params] = useSearchParams();
  const sessionId = params.get('session_id') ?? '';
  const utils = trpc.useUtils();
  const topup = trpc.topup.bySession.useQuery(
    { sessionId },
    { enabled: sessionId !== '', refetchInterval: (q) => (q.state.data?.status === 'pending' ? POLL_MS : false) },
  );
  const status = topup.data?.status;
  const slow = useSlow(status === 'pending' || !topup.data);

  // The balance changes in the webhook's transaction: fetch it again once the top-up is paid.
  useEffect(() => {
    if (status === 'paid') void utils.balance.get.invalidate();
  }, [status, utils]);

  return (
    <main className="page page-narrow">
      <section className="card result-card" aria-live="polite">
        {!sessionId ? (
          <>
            <h1>Nothing to confirm</h1>
            <p className="muted">This page needs a Checkout session. Start a top-up from your balance page.</p>
          </>
        ) : topup.isError ? (
          <>
            <h1>We could not find this top-up</h1>
            <ErrorMessage error={topup.error} onRetry={() => void topup.refetch()} />
          </>
        ) : !topup.data || status === 'pending' ? (
          <>
            <div className="result-icon result-icon-pending" aria-hidden="true">
              <span className="spinner" />
            </div>
            <h1>Waiting for payment confirmation…</h1>
            <p className="muted">
              {slow
                ? 'Still waiting for Stripe. The payment may take a little longer to confirm; your balance updates as soon as it does, even if you leave this page.'
                : 'Stripe is confirming your payment. This usually takes a few seconds; this page updates by itself.'}
            </p>
          </>
        ) : status === 'paid' ? (
          <>
            <div className="result-icon result-icon-success" aria-hidden="true">
              ✓
            </div>
            <h1>
              Payment received — {money(topup.data.creditedAmountMinor ?? topup.data.amountMinor, topup.data.currency)} added
            </h1>
            <p className="muted">Thank you. The amount is on your balance and in your ledger.</p>
          </>
        ) : (
          <>
            <div className="result-icon result-icon-failed" aria-hidden="true">
              !
            </div>
            <h1>{status === 'expired' ? 'This checkout expired' : 'The payment did not go through'}</h1>
            <p className="muted">You were not charged. You can start a new top-up from your balance page.</p>
          </>
        )}

        {sessionId && (
          <div className="result-balance">
            <BalanceAmount label="Your balance" refetchInterval={status === 'pending' || !topup.data ? POLL_MS : false} />
          </div>
        )}
        <Link to="/" className="button">
          Back to account
        </Link>
      </section>
    </main>
  );
}

/** True once `waiting` has stayed true for SLOW_MS. */
function useSlow(waiting: boolean) {
  const [slow, setSlow] = useState(false);
  useEffect(() => {
    if (!waiting) return;
    const timer = setTimeout(() => setSlow(true), SLOW_MS);
    return () => {
      clearTimeout(timer);
      setSlow(false);
    };
  }, [waiting]);
  return waiting && slow;
}
