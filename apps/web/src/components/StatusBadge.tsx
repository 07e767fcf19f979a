const TONE: Record<string, 'success' | 'warning' | 'danger' | 'neutral' | 'info'> = {
  paid: 'success',
  sent: 'success',
  sending: 'info',
  processed: 'success',
  pending: 'warning',
  received: 'info',
  failed: 'danger',
  /** Verified, but not what Tally asked for (amount, currency, mode or livemode): nothing was done. */
  anomaly: 'danger',
  expired: 'neutral',
  ignored: 'neutral',
  /** Billing records (DUE, PAID, VOID), shown lowercased; "overdue" is a DUE record past its due date. */
  due: 'warning',
  void: 'neutral',
  overdue: 'danger',
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${TONE[status] ?? 'neutral'}`}>{status}</span>;
}
