import { AdminEventsTable } from '../components/AdminEventsTable';
import { AdminTopupsTable } from '../components/AdminTopupsTable';
import { useMe } from '../components/useMe';

/** How often the activity tables refresh, so the page looks live. */
const REFRESH_MS = 3_000;

export function AdminActivityPage() {
  const me = useMe();
  return (
    <main className="page">
      <div className="page-head">
        <h1 className="page-title">Activity</h1>
        <p className="muted">
          Billing activity in {me.data?.adminWorkspace?.name ?? 'your workspace'}: top-ups and every Stripe webhook event with its
          processing outcome. An <strong>anomaly</strong> is a correctly signed event that differs from what Tally asked Stripe for
          (amount, currency, mode, or live/test mode): nothing was credited, and it needs a look.
        </p>
      </div>
      <AdminTopupsTable refetchInterval={REFRESH_MS} />
      <AdminEventsTable refetchInterval={REFRESH_MS} />
    </main>
  );
}
