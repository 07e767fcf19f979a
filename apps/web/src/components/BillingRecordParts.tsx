import { BILLING_RECORD_STATUS_VALUES, type BillingRecordStatus } from '@tally/api/schemas';
import { formatIsoDate } from '../lib/dates';
import { money } from '../lib/format';
import type { RouterOutputs } from '../trpc';
import { DateTime } from './DateTime';

export type BillingRecordView = RouterOutputs['billingRecord']['get'];

/** The record statuses, in lifecycle order (the server's). */
export const RECORD_STATUS_VALUES = BILLING_RECORD_STATUS_VALUES;
export type RecordStatusValue = BillingRecordStatus;
export const RECORD_STATUS_LABELS: Record<RecordStatusValue, string> = { DUE: 'Due', PAID: 'Paid', VOID: 'Void' };

const METHOD_LABEL: Record<string, string> = {
  stripe: 'Stripe',
  bank_transfer: 'bank transfer',
  cash: 'cash',
  check: 'check',
  other: 'other',
};

export const methodLabel = (method: string) => METHOD_LABEL[method] ?? method;

/** The due date; a DUE record past it reads in red. */
export function DueDate({ record }: { record: Pick<BillingRecordView, 'dueDate' | 'overdue' | 'status'> }) {
  return (
    <time dateTime={record.dueDate} className={record.overdue && record.status === 'DUE' ? 'text-danger' : undefined}>
      {formatIsoDate(record.dueDate)}
    </time>
  );
}

/** One line on how a record was settled: "Paid by bank transfer on Apr 1, 2030 · ref 123", or why it was voided. */
export function SettlementNote({ record }: { record: BillingRecordView }) {
  if (record.status === 'PAID') {
    const manual = record.paymentMethod && record.paymentMethod !== 'stripe';
    return (
      <div className="muted small">
        {manual ? (
          <>
            Paid by {methodLabel(record.paymentMethod!)}
            {record.manualPaidOn && <> on {formatIsoDate(record.manualPaidOn)}</>}
            {record.paymentReference && <> · ref {record.paymentReference}</>}
          </>
        ) : (
          <>
            Paid with Stripe <DateTime value={record.paidAt} />
          </>
        )}
      </div>
    );
  }
  if (record.status === 'VOID') {
    return <div className="muted small">Voided{record.voidReason ? `: ${record.voidReason}` : ''}</div>;
  }
  if (record.stripePaymentStatus && record.stripePaymentStatus !== 'paid') {
    return <div className="muted small">Last payment attempt: {record.stripePaymentStatus.replace(/_/g, ' ')}</div>;
  }
  return null;
}

/** Payments beyond the record's amount (a second payment, or one for a VOID record), credited to the customer's balance. */
export function Overpayments({ record }: { record: Pick<BillingRecordView, 'overpayments'> }) {
  if (record.overpayments.length === 0) return null;
  return (
    <ul className="overpayments">
      {record.overpayments.map((o) => (
        <li key={o.entryId} className="small">
          <span className="badge badge-info">Overpayment</span> {money(o.amountMinor, o.currency)} credited to the balance{' '}
          <span className="muted">
            (<DateTime value={o.createdAt} />)
          </span>
        </li>
      ))}
    </ul>
  );
}
