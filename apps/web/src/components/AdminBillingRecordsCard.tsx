import { MANUAL_PAYMENT_METHODS, type ManualPaymentMethod } from '@tally/api/schemas';
import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { Link } from 'react-router';
import { isIsoDate, todayIso } from '../lib/dates';
import { money } from '../lib/format';
import { trpc } from '../trpc';
import { DueDate, Overpayments, SettlementNote, type BillingRecordView, type RecordStatusValue } from './BillingRecordParts';
import { CopyButton } from './CopyButton';
import { Dialog } from './Dialog';
import { ErrorMessage } from './ErrorMessage';
import { LiveIndicator } from './LiveIndicator';
import { LoadMore } from './LoadMore';
import { Loading } from './Loading';
import { RecordStatus } from './RecordStatus';

/** Manual payment methods (`billingRecord.markPaid`), as the select shows them. */
const METHOD_OPTION_LABEL: Record<ManualPaymentMethod, string> = { bank_transfer: 'Bank transfer', cash: 'Cash', check: 'Check', other: 'Other' };

type Action = { kind: 'markPaid' | 'void' | 'payLink'; record: BillingRecordView } | null;

/**
 * A card of the workspace's billing records (optionally one customer's), with the admin's
 * actions on a DUE record: mark paid (a manual payment), void, and the pay link to send.
 * Refreshes by itself, so a payment confirmed by Stripe's webhook shows up.
 */
export function AdminBillingRecordsCard({
  title,
  headerActions,
  customerId,
  status,
  overdue,
  refetchInterval = 5_000,
  emptyText = 'No billing records yet.',
}: {
  title: string;
  /** Filters or links on the right of the card's header. */
  headerActions?: ReactNode;
  customerId?: string;
  status?: RecordStatusValue | '';
  overdue?: boolean;
  refetchInterval?: number;
  emptyText?: string;
}) {
  const titleId = useId();
  const records = trpc.billingRecord.list.useInfiniteQuery(
    { audience: 'admin', customerId, status: status || undefined, overdue: overdue || undefined, limit: 20 },
    { getNextPageParam: (p) => p.nextCursor, refetchInterval, placeholderData: (prev) => prev },
  );
  const items = records.data?.pages.flatMap((p) => p.items) ?? [];
  const [action, setAction] = useState<Action>(null);
  const close = () => setAction(null);

  return (
    <section className="card card-flush" aria-labelledby={titleId}>
      <div className="card-header card-pad">
        <div className="card-header-title">
          <h2 id={titleId} className="card-title">
            {title}
          </h2>
          <LiveIndicator fetching={records.isFetching} />
        </div>
        {headerActions}
      </div>
      {records.isPending ? (
        <Loading label="Loading billing records" />
      ) : records.isError && !records.data ? (
        <div className="card-pad">
          <ErrorMessage error={records.error} onRetry={() => void records.refetch()} />
        </div>
      ) : items.length === 0 ? (
        <p className="empty muted">{emptyText}</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">Billing records</caption>
            <thead>
              <tr>
                {!customerId && <th scope="col">Customer</th>}
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
                  {!customerId && (
                    <td>
                      <Link to={`/admin/customers/${r.customerId}`}>{r.customerName}</Link>
                    </td>
                  )}
                  <td>
                    <div className="event-type">{r.description}</div>
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
                  <td>
                    {r.status === 'DUE' && (
                      <div className="row-actions">
                        <button type="button" className="button button-small" onClick={() => setAction({ kind: 'markPaid', record: r })}>
                          Mark paid
                        </button>
                        {r.payUrl && (
                          <button type="button" className="button button-small" onClick={() => setAction({ kind: 'payLink', record: r })}>
                            Pay link
                          </button>
                        )}
                        <button type="button" className="button button-small button-ghost" onClick={() => setAction({ kind: 'void', record: r })}>
                          Void
                        </button>
                      </div>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMore query={records} label="Load more records" small />
      {action?.kind === 'markPaid' && <MarkPaidDialog record={action.record} onClose={close} />}
      {action?.kind === 'void' && <VoidDialog record={action.record} onClose={close} />}
      {action?.kind === 'payLink' && <PayLinkDialog record={action.record} onClose={close} />}
    </section>
  );
}

function RecordSummary({ record }: { record: BillingRecordView }) {
  return (
    <p className="muted small">
      {record.customerName} · {record.description} · <strong className="amount">{money(record.amountMinor, record.currency)}</strong>
    </p>
  );
}

/** After a change: every list and detail that shows records (and the customer's balance, for overpayments). */
function useRefreshRecords() {
  const utils = trpc.useUtils();
  return () => Promise.all([utils.billingRecord.invalidate(), utils.customers.invalidate(), utils.audit.invalidate()]);
}

function MarkPaidDialog({ record, onClose }: { record: BillingRecordView; onClose: () => void }) {
  const [method, setMethod] = useState<ManualPaymentMethod>('bank_transfer');
  const [reference, setReference] = useState('');
  const [paidOn, setPaidOn] = useState(todayIso());
  const [invalid, setInvalid] = useState<string | null>(null);
  const refresh = useRefreshRecords();
  const markPaid = trpc.billingRecord.markPaid.useMutation({
    onSuccess: async () => {
      await refresh();
      onClose();
    },
  });
  function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!isIsoDate(paidOn)) return setInvalid('Enter the date the payment arrived.');
    setInvalid(null);
    markPaid.mutate({ recordId: record.id, method, reference: reference.trim() || undefined, paidOn });
  }
  return (
    <Dialog title="Mark as paid" onClose={onClose}>
      <RecordSummary record={record} />
      <form className="form" onSubmit={onSubmit} noValidate>
        <div className="field">
          <label htmlFor="mark-paid-method">Payment method</label>
          <select id="mark-paid-method" value={method} onChange={(e) => setMethod(e.target.value as ManualPaymentMethod)}>
            {MANUAL_PAYMENT_METHODS.map((value) => (
              <option key={value} value={value}>
                {METHOD_OPTION_LABEL[value]}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="mark-paid-reference">Reference (optional)</label>
          <input id="mark-paid-reference" type="text" maxLength={200} value={reference} onChange={(e) => setReference(e.target.value)} placeholder="Bank reference, check number…" />
        </div>
        <div className="field">
          <label htmlFor="mark-paid-date">Paid on</label>
          <input id="mark-paid-date" type="date" required value={paidOn} onChange={(e) => setPaidOn(e.target.value)} />
        </div>
        {invalid && <p className="field-error">{invalid}</p>}
        {markPaid.error && <ErrorMessage error={markPaid.error} title="Could not mark it paid" />}
        <div className="dialog-actions">
          <button type="button" className="button button-ghost" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={markPaid.isPending}>
            {markPaid.isPending ? 'Saving…' : 'Mark paid'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function VoidDialog({ record, onClose }: { record: BillingRecordView; onClose: () => void }) {
  const [reason, setReason] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);
  const refresh = useRefreshRecords();
  const voidRecord = trpc.billingRecord.void.useMutation({
    onSuccess: async () => {
      await refresh();
      onClose();
    },
  });
  function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!reason.trim()) return setInvalid('Say why it is voided: the customer and the audit log see it.');
    setInvalid(null);
    voidRecord.mutate({ recordId: record.id, reason: reason.trim() });
  }
  return (
    <Dialog title="Void billing record" onClose={onClose}>
      <RecordSummary record={record} />
      <p className="small">A void record can no longer be paid, and this cannot be undone. A payment that still arrives is credited to the customer's balance.</p>
      <form className="form" onSubmit={onSubmit} noValidate>
        <div className="field">
          <label htmlFor="void-reason">Reason</label>
          <textarea id="void-reason" rows={3} maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
        </div>
        {invalid && <p className="field-error">{invalid}</p>}
        {voidRecord.error && <ErrorMessage error={voidRecord.error} title="Could not void it" />}
        <div className="dialog-actions">
          <button type="button" className="button button-ghost" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-danger" disabled={voidRecord.isPending}>
            {voidRecord.isPending ? 'Voiding…' : 'Void record'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function PayLinkDialog({ record, onClose }: { record: BillingRecordView; onClose: () => void }) {
  const url = record.payUrl ?? '';
  return (
    <Dialog title="Pay link" onClose={onClose}>
      <RecordSummary record={record} />
      <p className="small">Anyone with this link can see this record and pay it, without an account. Send it only to the customer.</p>
      <div className="code-line">
        <code data-testid="pay-link">{url}</code>
        <CopyButton text={url} label="Copy link" />
      </div>
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose}>
          Done
        </button>
      </div>
    </Dialog>
  );
}
