import { AdminEventsTable } from '../components/AdminEventsTable';
import { AdminTopupsTable } from '../components/AdminTopupsTable';
import { LiveIndicator, LiveIndicatorsFollowStream } from '../components/LiveIndicator';
import { useMe } from '../components/useMe';
import { useBillingStreamState } from '../lib/billing-stream-provider';

/** How often the activity tables refresh while the live billing stream is off or reconnecting. */
const REFRESH_MS = 3_000;
/**
 * While the stream is live, each change refetches what it affects at once; this slow refresh
 * only catches a message lost in transit (the stream is a notification, not a log).
 */
const LIVE_SAFETY_REFRESH_MS = 5 * 60_000;

export function AdminActivityPage() {
  const me = useMe();
  const refetchInterval = useBillingStreamState() === 'live' ? LIVE_SAFETY_REFRESH_MS : REFRESH_MS;
  return (
    <main className="page">
      <div className="page-head">
        <div className="page-title-row">
          <h1 className="page-title">Activity</h1>
          <LiveIndicator stream />
        </div>
        <p className="muted">
          Billing activity in {me.data?.adminWorkspace?.name ?? 'your workspace'}: top-ups and every Stripe webhook event with its
          processing outcome. An <strong>anomaly</strong> is a correctly signed event that differs from what Tally asked Stripe for
          (amount, currency, mode, or live/test mode): nothing was credited, and it needs a look.
        </p>
      </div>
      <LiveIndicatorsFollowStream>
        <AdminTopupsTable refetchInterval={refetchInterval} />
        <AdminEventsTable refetchInterval={refetchInterval} />
      </LiveIndicatorsFollowStream>
    </main>
  );
}
