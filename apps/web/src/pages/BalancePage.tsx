import { Link } from 'react-router';
import { BalanceAmount } from '../components/BalanceAmount';
import { ErrorMessage } from '../components/ErrorMessage';
import { LedgerTable } from '../components/LedgerTable';
import { Loading } from '../components/Loading';
import { LiveIndicator } from '../components/LiveIndicator';
import { TopupForm } from '../components/TopupForm';
import { useRefetchIntervalWhileNotLive } from '../lib/billing-stream-provider';
import { trpc } from '../trpc';

const RECENT_ENTRIES = 5;
/**
 * How often the balance and recent entries refresh while the live billing stream is off or
 * reconnecting; while it is live, a `balance.changed` or `topup.credited` message refetches them
 * at once (lib/billing-stream.ts).
 */
const REFRESH_MS = 10_000;

export function BalancePage() {
  const refetchInterval = useRefetchIntervalWhileNotLive(REFRESH_MS);
  const presets = trpc.topup.presets.useQuery();
  const recent = trpc.ledger.list.useQuery({ limit: RECENT_ENTRIES }, { refetchInterval });

  return (
    <main className="page">
      <div className="page-title-row">
        <h1 className="page-title">Balance</h1>
        <LiveIndicator stream />
      </div>
      <div className="grid-2">
        <section className="card balance-card">
          <BalanceAmount refetchInterval={refetchInterval} />
          <p className="muted small">Your prepaid balance is drawn down as you use the service. Top up any time.</p>
        </section>

        <section className="card" aria-labelledby="topup-title">
          <h2 id="topup-title" className="card-title">
            Top up
          </h2>
          {presets.data ? (
            <TopupForm presets={presets.data} />
          ) : presets.isError ? (
            <ErrorMessage error={presets.error} title="Top-ups are unavailable" onRetry={() => void presets.refetch()} />
          ) : (
            <Loading label="Loading top-up options" />
          )}
        </section>
      </div>

      <section className="card" aria-labelledby="recent-title">
        <div className="card-header">
          <h2 id="recent-title" className="card-title">
            Recent activity
          </h2>
          <Link to="/ledger" className="link-subtle">
            View all entries →
          </Link>
        </div>
        {recent.data ? (
          recent.data.items.length ? (
            <LedgerTable entries={recent.data.items} caption="Recent ledger entries" />
          ) : (
            <p className="empty muted">No activity yet. Your top-ups and charges will appear here.</p>
          )
        ) : recent.isError ? (
          <ErrorMessage error={recent.error} onRetry={() => void recent.refetch()} />
        ) : (
          <Loading label="Loading recent activity" />
        )}
      </section>
    </main>
  );
}
