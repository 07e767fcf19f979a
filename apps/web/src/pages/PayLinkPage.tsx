import { useParams, useSearchParams } from 'react-router';
import { ErrorMessage } from '../components/ErrorMessage';
import { Loading } from '../components/Loading';
import { RecordStatus } from '../components/RecordStatus';
import { formatIsoDate } from '../lib/dates';
import { money } from '../lib/format';
import { trpc, trpcErrorCode } from '../trpc';

const POLL_MS = 1_000;

/**
 * A billing record opened from its pay link (`/pay/<token>`), no sign-in: what it is, and Pay
 * (Stripe Checkout). Checkout comes back to `?paid=1` (polled until the webhook marks it PAID)
 * or `?cancelled=1`.
 */
export function PayLinkPage() {
  const { token = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const returnedPaid = params.get('paid') === '1';
  const cancelled = params.get('cancelled') === '1';
  const record = trpc.payLink.get.useQuery(
    { token },
    { enabled: token !== '', refetchInterval: (q) => (returnedPaid && q.state.data && q.state.data.status !== 'PAID' ? POLL_MS : false) },
  );
  const pay = trpc.payLink.pay.useMutation({ onSuccess: ({ url }) => window.location.assign(url) });
  const redirecting = pay.isPending || pay.isSuccess;
  const r = record.data;

  return (
    <main className="auth-page">
      <div className="auth-brand">
        <span className="brand-mark" aria-hidden="true">
          T
        </span>
        <span className="brand-name">Tally</span>
      </div>
      <section className="card auth-card pay-card" aria-labelledby="pay-title">
        {record.isPending ? (
          <Loading label="Loading the billing record" />
        ) : record.isError ? (
          trpcErrorCode(record.error) === 'NOT_FOUND' || trpcErrorCode(record.error) === 'BAD_REQUEST' ? (
            <>
              <h1 id="pay-title">This pay link does not work</h1>
              <p className="muted">It may be incomplete or no longer valid. Ask whoever sent it for a new link.</p>
            </>
          ) : (
            <>
              <h1 id="pay-title">Could not load this billing record</h1>
              <ErrorMessage error={record.error} onRetry={() => void record.refetch()} />
            </>
          )
        ) : (
          r && (
            <>
              <div className="pay-head">
                <p className="balance-label">{r.workspaceName} bills {r.customerName}</p>
                <h1 id="pay-title">{r.description}</h1>
              </div>
              <p className="balance-amount" data-testid="pay-amount">
                {money(r.amountMinor, r.currency)}
              </p>
              <dl className="details">
                <div>
                  <dt>Due</dt>
                  <dd className={r.overdue && r.status === 'DUE' ? 'text-danger' : undefined}>{formatIsoDate(r.dueDate)}</dd>
                </div>
                <div>
                  <dt>Status</dt>
                  <dd data-testid="pay-status">
                    <RecordStatus status={r.status} overdue={r.overdue} />
                  </dd>
                </div>
              </dl>

              {returnedPaid && r.status !== 'PAID' && (
                <div className="alert alert-info" role="status">
                  <div>
                    <strong className="alert-title">Payment received — it may take a moment to show as PAID</strong>
                    <span>Stripe is confirming the payment; this page updates by itself.</span>
                  </div>
                  <span className="spinner" aria-hidden="true" />
                </div>
              )}
              {r.status === 'PAID' && (
                <div className="alert alert-success" role="status">
                  <div>
                    <strong className="alert-title">{returnedPaid ? 'Payment received — thank you' : 'This record is paid'}</strong>
                    <span>Nothing more to pay.</span>
                  </div>
                </div>
              )}
              {r.status === 'VOID' && (
                <div className="alert alert-info" role="status">
                  <div>
                    <strong className="alert-title">This record was cancelled</strong>
                    <span>There is nothing to pay.</span>
                  </div>
                </div>
              )}
              {cancelled && r.status === 'DUE' && (
                <div className="alert alert-info" role="status">
                  <div>
                    <strong className="alert-title">Payment cancelled — you were not charged</strong>
                    <span>You can pay whenever you are ready.</span>
                  </div>
                  <button type="button" className="button button-small button-ghost" onClick={() => setParams({}, { replace: true })}>
                    Dismiss
                  </button>
                </div>
              )}
              {pay.error && <ErrorMessage error={pay.error} title="Could not start the payment" />}
              {r.status === 'DUE' && !returnedPaid && (
                <button type="button" className="button button-primary button-block" disabled={redirecting} onClick={() => pay.mutate({ token })}>
                  {redirecting ? 'Redirecting…' : `Pay ${money(r.amountMinor, r.currency)}`}
                </button>
              )}
              <p className="pay-footnote">Payments are handled securely by Stripe. You do not need a Tally account.</p>
            </>
          )
        )}
      </section>
    </main>
  );
}
