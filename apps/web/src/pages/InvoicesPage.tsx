import { useState } from 'react';
import { ErrorMessage } from '../components/ErrorMessage';
import { InvoiceTable } from '../components/InvoiceTable';
import { Loading } from '../components/Loading';
import { StatusBadge } from '../components/StatusBadge';
import { money } from '../lib/format';
import { trpc, type RouterOutputs } from '../trpc';
import '../styles/usage-invoices.css';

/** The list refreshes now and then, so a payment confirmed by Stripe shows up. */
const REFRESH_MS = 15_000;

type Item = RouterOutputs['invoice']['list']['items'][number];
type UsageLine = NonNullable<Item['usage']>['lines'][number];

const monthFormat = new Intl.DateTimeFormat('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' });

/** `2026-11` -> "November 2026" (UTC months). */
export function periodLabel(period: string): string {
  const d = new Date(`${period}-01T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? period : monthFormat.format(d);
}

const count = (n: number) => n.toLocaleString('en-US');

/** A usage invoice's lines: meter, quantity, blocks × block size at the block price, amount. */
export function UsageLines({ lines, currency }: { lines: UsageLine[]; currency: string }) {
  return (
    <ul className="usage-lines">
      {lines.map((l) => (
        <li key={l.meterId}>
          <span className="usage-line-name">{l.displayName}</span>
          <span className="muted small">
            {count(l.quantity)} {l.unit}
            {l.quantity === 1 ? '' : 's'} · {count(l.blocks)} × {count(l.blockSize)} at {money(l.priceMinor, currency)}
          </span>
          <span className="num amount">{money(l.amountMinor, currency)}</span>
        </li>
      ))}
    </ul>
  );
}

/** Tally's usage invoices: one per month of usage, issued on Stripe (pay on Stripe's page), or `empty` when nothing was owed. */
function UsageInvoiceTable({ items }: { items: Item[] }) {
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="sr-only">Usage invoices</caption>
        <thead>
          <tr>
            <th scope="col">Usage</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">
              Amount
            </th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => {
            const usage = item.usage!;
            const label = `usage invoice for ${periodLabel(usage.period)}`;
            return (
              <tr key={item.id} data-testid="usage-invoice-row">
                <td>
                  <div className="event-type">{periodLabel(usage.period)}</div>
                  <div className="muted small">{item.number ?? 'Usage invoice'}</div>
                  {usage.lines.length > 0 && (
                    <details className="usage-invoice-details">
                      <summary>
                        {usage.lines.length} meter{usage.lines.length === 1 ? '' : 's'}
                      </summary>
                      <UsageLines lines={usage.lines} currency={item.currency} />
                    </details>
                  )}
                </td>
                <td>{usage.status === 'empty' ? <StatusBadge status="void" label="No charge" /> : <StatusBadge status={item.status} />}</td>
                <td className="num">
                  <div className="amount">{money(item.amountMinor, item.currency)}</div>
                  {item.amountRemainingMinor > 0 && item.amountRemainingMinor !== item.amountMinor && (
                    <div className="muted small">{money(item.amountRemainingMinor, item.currency)} left to pay</div>
                  )}
                </td>
                <td className="num">
                  <div className="row-actions">
                    {item.payUrl ? (
                      <a className="button button-small button-primary" href={item.payUrl} rel="noopener noreferrer" aria-label={`Pay ${label}`}>
                        Pay
                      </a>
                    ) : (
                      item.hostedInvoiceUrl && (
                        <a className="button button-small" href={item.hostedInvoiceUrl} rel="noopener noreferrer" aria-label={`View ${label}`}>
                          View
                        </a>
                      )
                    )}
                    {item.invoicePdfUrl && (
                      <a className="button button-small button-ghost" href={item.invoicePdfUrl} rel="noopener noreferrer" aria-label={`Download ${label} (PDF)`}>
                        PDF
                      </a>
                    )}
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/**
 * The customer's invoices: Stripe's subscription invoices (mirrored by the webhooks) and the
 * workspace's billing records together, newest first, with Stripe's hosted page (pay, or
 * complete 3-D Secure) and PDF, or the billing record pay flow (Stripe Checkout); and beside
 * them Tally's usage invoices (one per month of metered usage, with its lines), paid on
 * Stripe's hosted invoice page.
 */
export function InvoicesPage() {
  const invoices = trpc.invoice.list.useQuery(undefined, { refetchInterval: REFRESH_MS });
  const [payingId, setPayingId] = useState<string | null>(null);
  const pay = trpc.billingRecord.pay.useMutation({
    onSuccess: ({ url }) => window.location.assign(url),
    onError: () => setPayingId(null),
  });
  const all = invoices.data?.items ?? [];
  const items = all.filter((i) => i.source !== 'tally_usage');
  const usage = all.filter((i) => i.source === 'tally_usage' && i.usage);

  return (
    <main className="page">
      <div className="page-head">
        <h1 className="page-title">Invoices</h1>
        <p className="muted">Your subscription invoices from Stripe, your billing records and your monthly usage invoices, newest first. Payments are handled securely by Stripe.</p>
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
          <p className="empty muted">{usage.length > 0 ? 'No subscription invoices or billing records yet.' : 'No invoices yet.'}</p>
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
        {invoices.data?.hasMore && <p className="muted small card-pad">Showing the latest {all.length}.</p>}
      </section>
      {usage.length > 0 && (
        <section className="card card-flush" aria-labelledby="usage-invoices-title">
          <div className="card-header card-pad">
            <h2 id="usage-invoices-title" className="card-title">
              Usage invoices
            </h2>
            <p className="muted small">Metered usage (words, calls…) billed at the end of each month, blocks rounded up once per month.</p>
          </div>
          <UsageInvoiceTable items={usage} />
        </section>
      )}
    </main>
  );
}
