import { ErrorMessage } from '../components/ErrorMessage';
import { Loading } from '../components/Loading';
import { UsageDashboardView } from '../components/usage/UsageDashboardView';
import { trpc } from '../trpc';

/** Usage reported by the workspace's servers reaches the rollups at once; the page refreshes now and then. */
const REFRESH_MS = 30_000;

/**
 * The customer's usage dashboard (issue 9 item 4): this month per meter (quantity, cost so
 * far, projected cost, a daily chart), the prepaid runway, and earlier months with their
 * invoices.
 */
export function UsagePage() {
  const dashboard = trpc.usage.dashboard.useQuery(undefined, { refetchInterval: REFRESH_MS });
  return (
    <main className="page">
      <div className="page-head">
        <h1 className="page-title">Usage</h1>
        <p className="muted">What you have used this month and what it costs, day by day. Amounts update as your usage is reported.</p>
      </div>
      {dashboard.isPending ? (
        <Loading label="Loading your usage" />
      ) : dashboard.isError && !dashboard.data ? (
        <ErrorMessage error={dashboard.error} title="Could not load your usage" onRetry={() => void dashboard.refetch()} />
      ) : (
        <UsageDashboardView data={dashboard.data!} />
      )}
    </main>
  );
}
