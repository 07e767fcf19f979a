import { useEffect, useState } from 'react';
import { useSearchParams } from 'react-router';
import { DueDate, Overpayments, RECORD_STATUS_LABELS, RECORD_STATUS_VALUES, SettlementNote, type RecordStatusValue } from '../components/BillingRecordParts';
import { ErrorMessage, errorText } from '../components/ErrorMessage';
import { LoadMore } from '../components/LoadMore';
import { Loading } from '../components/Loading';
import { RecordStatus } from '../components/RecordStatus';
import { StatusFilter } from '../components/StatusFilter';
import { useMe } from '../components/useMe';
import { money } from '../lib/format';
import { trpc } from '../trpc';

const POLL_MS = 1_000;
/** The list refreshes now and then, so a payment confirmed elsewhere shows up. */
const REFRESH_MS = 10_000;

/**
 * The customer's billing records: what is due, paid or void, and Pay (Stripe Checkout).
 * Checkout comes back to `?paid=<recordId>` (the webhook marks it PAID, so the page polls that
 * record until it is) or `?cancelled=<recordId>`.
 */
export function BillingPage() {
  const me = useMe();
  const [params, setParams] = useSearchParams();
  const paidId = params.get('paid');
  const cancelledId = params.get('cancelled');
  const [status, setStatus] = useState<RecordStatusValue | ''>('');
  const utils = trpc.useUtils();
  const records = trpc.billingRecord.list.useInfiniteQuery(
    { audience: 'customer', status: status || undefined, limit: 20 },
    { getNextPageParam: (p) => p.nextCursor, refetchInterval: REFRESH_MS, placeholderData: (prev) => prev },
  );
  const items = records.data?.pages.flatMap((p) => p.items) ?? [];
  const severalCustomers = (me.data?.customers.length ?? 0) > 1;

  const paid = trpc.billingRecord.get.useQuery(
    { recordId: paidId ?? '', audience: 'customer' },
    { enabled: !!paidId, refetchInterval: (q) => (q.state.data?.status === 'PAID' ? false : POLL_MS) },
  );
  const paidNow = paid.data?.status === 'PAID';
  useEffect(() => {
    if (paidNow) void utils.billingRecord.list.invalidate();
  }, [paidNow, utils]);

  const [payingId, setPayingId] = useState<string | null>(null);
  const pay = trpc.billingRecord.pay.useMutation({
    onSuccess: ({ url }) => window.location.assign(url),
    onError: () => setPayingId(null),
  });

  const dismiss = () => setParams({}, { replace: true });

  return (
    <main className="page">
      <div className="page-head">
        <h1 className="page-title">Billing</h1>
        <p className="muted">What you have been billed, when it is due, and whether it is paid. Payments are handled securely by Stripe.</p>
      </div>

      {paidId &&
        (paid.isError ? (
          <ErrorMessage error={paid.error} title="Could not check this payment" onRetry={() => void paid.refetch()} />
        ) : paidNow ? (
          <div className="alert alert-success" role="status" data-testid="payment-notice">
            <div>
              <strong className="alert-title">Payment received — thank you</strong>
              <span>
                {paid.data!.description} ({money(paid.data!.amountMinor, paid.data!.currency)}) is now PAID.
              </span>
            </div>
            <button type="button" className="button button-small button-ghost" onClick={dismiss}>
              Dismiss
            </button>
          </div>
        ) : (
          <div className="alert alert-info" role="status" data-testid="payment-notice">
            <div>
              <strong className="alert-title">Payment received — it may take a moment to show as PAID</strong>
              <span>Stripe is confirming the payment; this page updates by itself.</span>
            </div>
            <span className="spinner" aria-hidden="true" />
          </div>
        ))}
      {cancelledId && (
        <div className="alert alert-info" role="status" data-testid="payment-notice">
          <div>
            <strong className="alert-title">Payment cancelled — you were not charged</strong>
            <span>You left Stripe Checkout before paying. You can pay the record any time.</span>
          </div>
          <button type="button" className="button button-small button-ghost" onClick={dismiss}>
            Dismiss
          </button>
        </div>
      )}
      {pay.error && <ErrorMessage error={pay.error} title="Could not start the payment" />}

      <section className="card card-flush" aria-labelledby="billing-records-title">
        <div className="card-header card-pad">
          <h2 id="billing-records-title" className="card-title">
            Billing records
          </h2>
          <StatusFilter label="Status" values={RECORD_STATUS_VALUES} labels={RECORD_STATUS_LABELS} value={status} onChange={setStatus} />
        </div>
        {records.isPending ? (
          <Loading label="Loading billing records" />
        ) : records.isError && !records.data ? (
          <div className="card-pad">
            <ErrorMessage error={records.error} title="Could not load your billing records" onRetry={() => void records.refetch()} />
          </div>
        ) : items.length === 0 ? (
          <p className="empty muted">{status ? `No ${RECORD_STATUS_LABELS[status].toLowerCase()} records.` : 'Nothing billed yet.'}</p>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <caption className="sr-only">Billing records</caption>
              <thead>
                <tr>
                  <th scope="col">Description</th>
                  <th scope="col" className="num">
                    Amount
                  </th>
                  <th scope="col">Due</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((r) => (
                  <tr key={r.id} data-testid="billing-record">
                    <td>
                      <div className="event-type">{r.description}</div>
                      {severalCustomers && <div className="muted small">{r.customerName}</div>}
                      <SettlementNote record={r} />
                      <Overpayments record={r} />
                    </td>
                    <td className="num amount">{money(r.amountMinor, r.currency)}</td>
                    <td className="nowrap">
                      <DueDate record={r} />
                    </td>
                    <td>
                      <RecordStatus status={r.status} overdue={r.overdue} />
                    </td>
                    <td className="num">
                      {r.status === 'DUE' && (
                        <button
                          type="button"
                          className="button button-small button-primary"
                          aria-label={`Pay ${r.description}`}
                          disabled={payingId !== null}
                          onClick={() => {
                            setPayingId(r.id);
                            pay.mutate({ recordId: r.id });
                          }}
                        >
                          {payingId === r.id ? 'Redirecting…' : 'Pay'}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <LoadMore query={records} label="Load more records" small />
      </section>
      {records.isFetchNextPageError && <p className="text-danger small">{errorText(records.error)}</p>}
    </main>
  );
}
