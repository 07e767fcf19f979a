import { useState } from 'react';
import { ErrorMessage } from '../components/ErrorMessage';
import { InvoiceTable } from '../components/InvoiceTable';
import { Loading } from '../components/Loading';
import { trpc } from '../trpc';

/** The list refreshes now and then, so a payment confirmed by Stripe shows up. */
const REFRESH_MS = 15_000;

/**
 * The customer's invoices: Stripe's subscription invoices (mirrored by the webhooks) and the
 * workspace's billing records together, newest first, with Stripe's hosted page (pay, or
 * complete 3-D Secure) and PDF, or the billing record pay flow (Stripe Checkout).
 */
export function InvoicesPage() {
  const invoices = trpc.invoice.list.useQuery(undefined, { refetchInterval: REFRESH_MS });
  const [payingId, setPayingId] = useState<string | null>(null);
  const pay = trpc.billingRecord.pay.useMutation({
    onSuccess: ({ url }) => window.location.assign(url),
    onError: () => setPayingId(null),
  });
  const items = invoices.data?.items ?? [];

  return (
    <main className="page">
      <div className="page-head">
        <h1 className="page-title">Invoices</h1>
        <p className="muted">Your subscription invoices from Stripe and your billing records, newest first. Payments are handled securely by Stripe.</p>
      </div>
      {pay.error && <ErrorMessage error={pay.error} title="Could not start the payment" />}
      <section className="card card-flush" aria-labelledby="invoices-title">
        <div className="card-header card-pad">
          <h2 id="invoices-title" className="card-title">
            All invoices
          </h2>
        </div>
        {invoices.isPending ? (
          <Loading label="Loading invoices" />
        ) : invoices.isError && !invoices.data ? (
          <div className="card-pad">
            <ErrorMessage error={invoices.error} title="Could not load your invoices" onRetry={() => void invoices.refetch()} />
          </div>
        ) : items.length === 0 ? (
          <p className="empty muted">No invoices yet.</p>
        ) : (
          <InvoiceTable
            items={items}
            caption="Invoices"
            payingRecordId={payingId}
            onPayRecord={(recordId) => {
              setPayingId(recordId);
              pay.mutate({ recordId });
            }}
          />
        )}
        {invoices.data?.hasMore && <p className="muted small card-pad">Showing the latest {items.length}.</p>}
      </section>
    </main>
  );
}
