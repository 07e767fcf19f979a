import type { InvoiceListItem } from '@tally/api/schemas';
import { formatIsoDate } from '../lib/dates';
import { formatDateTime, money } from '../lib/format';
import { CopyButton } from './CopyButton';
import { DateTime } from './DateTime';
import { RecordStatus } from './RecordStatus';
import { StatusBadge } from './StatusBadge';
import { Day } from './SubscriptionParts';

/**
 * A customer's Stripe invoices and billing records together (`invoice.list`,
 * `invoice.listForCustomer`), newest first. Stripe invoices link to Stripe's hosted page (pay,
 * complete 3-D Secure, view) and PDF; a DUE billing record is paid with `onPayRecord` (customers,
 * Stripe Checkout) or its pay link is copied (admins).
 */
export function InvoiceTable({
  items,
  caption,
  onPayRecord,
  payingRecordId = null,
  audience = 'customer',
}: {
  items: InvoiceListItem[];
  caption: string;
  /** Admins get Stripe's hosted page to look at (and send), never a "Pay" of their own. */
  audience?: 'customer' | 'admin';
  /** Customers: pay a DUE billing record (the billing record pay flow). */
  onPayRecord?: (recordId: string) => void;
  payingRecordId?: string | null;
}) {
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Invoice</th>
            <th scope="col">Date</th>
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
          {items.map((item) => (
            <tr key={`${item.kind}:${item.id}`} data-testid="invoice-row">
              <td>
                <InvoiceTitle item={item} />
              </td>
              <td className="nowrap">
                <DateTime value={item.created} />
              </td>
              <td>
                <InvoiceStatus item={item} />
              </td>
              <td className="num">
                <div className="amount">{money(item.amountMinor, item.currency)}</div>
                {item.amountRemainingMinor > 0 && item.amountRemainingMinor !== item.amountMinor && (
                  <div className="muted small">{money(item.amountRemainingMinor, item.currency)} left to pay</div>
                )}
              </td>
              <td className="num">
                <InvoiceActions item={item} onPayRecord={onPayRecord} payingRecordId={payingRecordId} audience={audience} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function InvoiceTitle({ item }: { item: InvoiceListItem }) {
  if (item.kind === 'billing_record') {
    return (
      <>
        <div className="event-type">{item.description}</div>
        <div className="muted small">Billing record{item.dueDate && <> · due {formatIsoDate(item.dueDate)}</>}</div>
      </>
    );
  }
  return (
    <>
      <div className="event-type">{item.number ?? <code className="event-id">{item.stripeInvoiceId}</code>}</div>
      <div className="muted small">
        {item.description ?? 'Subscription invoice'}
        {item.periodStart && item.periodEnd && item.periodEnd.getTime() > item.periodStart.getTime() && (
          <>
            {' '}
            · <Day value={item.periodStart} /> – <Day value={item.periodEnd} />
          </>
        )}
      </div>
    </>
  );
}

function InvoiceStatus({ item }: { item: InvoiceListItem }) {
  if (item.kind === 'billing_record') return <RecordStatus status={item.status} overdue={item.overdue} />;
  return (
    <span className="record-status">
      <StatusBadge status={item.status} />
      {item.paymentActionRequired && item.status === 'open' && <StatusBadge status="pending" label="Needs confirmation" />}
      {item.status === 'open' && item.nextPaymentAttemptAt && <span className="muted small">Retry {formatDateTime(item.nextPaymentAttemptAt)}</span>}
    </span>
  );
}

function InvoiceActions({
  item,
  onPayRecord,
  payingRecordId,
  audience,
}: {
  item: InvoiceListItem;
  onPayRecord?: ((recordId: string) => void) | undefined;
  payingRecordId: string | null;
  audience: 'customer' | 'admin';
}) {
  const label = item.number ?? item.description ?? 'invoice';
  if (item.kind === 'billing_record') {
    if (item.status !== 'DUE') return null;
    if (onPayRecord) {
      return (
        <button
          type="button"
          className="button button-small button-primary"
          aria-label={`Pay ${label}`}
          disabled={payingRecordId !== null}
          onClick={() => onPayRecord(item.id)}
        >
          {payingRecordId === item.id ? 'Redirecting…' : 'Pay'}
        </button>
      );
    }
    return item.payUrl ? <CopyButton text={item.payUrl} label="Copy pay link" /> : null;
  }
  const payUrl = audience === 'customer' ? item.payUrl : null;
  return (
    <div className="row-actions">
      {payUrl && (
        <a className="button button-small button-primary" href={payUrl} rel="noopener noreferrer" aria-label={`${item.paymentActionRequired ? 'Complete payment of' : 'Pay'} ${label}`}>
          {item.paymentActionRequired ? 'Complete payment' : 'Pay'}
        </a>
      )}
      {!payUrl && item.hostedInvoiceUrl && (
        <a className="button button-small" href={item.hostedInvoiceUrl} rel="noopener noreferrer" aria-label={`View ${label}`}>
          View
        </a>
      )}
      {item.invoicePdfUrl && (
        <a className="button button-small button-ghost" href={item.invoicePdfUrl} rel="noopener noreferrer" aria-label={`Download ${label} (PDF)`}>
          PDF
        </a>
      )}
    </div>
  );
}
