const TONE: Record<string, 'success' | 'warning' | 'danger' | 'neutral' | 'info'> = {
  paid: 'success',
  processed: 'success',
  pending: 'warning',
  received: 'info',
  failed: 'danger',
  expired: 'neutral',
  ignored: 'neutral',
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${TONE[status] ?? 'neutral'}`}>{status}</span>;
}
