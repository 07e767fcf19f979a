type Tone = 'success' | 'warning' | 'danger' | 'neutral' | 'info';

const TONE: Record<string, Tone> = {
  paid: 'success',
  /** Tally usage invoices: issued on Stripe; empty (nothing to bill). */
  issued: 'success',
  empty: 'neutral',
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
  /** Subscriptions (Stripe's statuses). */
  trialing: 'info',
  active: 'success',
  past_due: 'warning',
  unpaid: 'danger',
  canceled: 'neutral',
  incomplete: 'warning',
  incomplete_expired: 'neutral',
  paused: 'neutral',
  /** Stripe invoices. */
  open: 'warning',
  draft: 'neutral',
  uncollectible: 'danger',
  /** Licenses. */
  suspended: 'warning',
  revoked: 'danger',
  /** Access (subscriptions/access.ts): `active` and `trialing` above. */
  grace: 'warning',
  none: 'neutral',
};

/** The tone a status is shown in (neutral for one Tally does not know). */
export function statusTone(status: string): Tone {
  return TONE[status] ?? 'neutral';
}

/** A status as a coloured pill: `past_due` reads "Past due" (the badge capitalizes). */
export function StatusBadge({ status, label }: { status: string; label?: string }) {
  return <span className={`badge badge-${statusTone(status)}`}>{label ?? status.replace(/_/g, ' ')}</span>;
}
