import { StatusBadge } from './StatusBadge';

/** A billing record's status (DUE, PAID, VOID) and, for a DUE one past its due date, "Overdue". */
export function RecordStatus({ status, overdue }: { status: string; overdue: boolean }) {
  return (
    <span className="record-status">
      <StatusBadge status={status.toLowerCase()} />
      {overdue && status === 'DUE' && <StatusBadge status="overdue" />}
    </span>
  );
}
