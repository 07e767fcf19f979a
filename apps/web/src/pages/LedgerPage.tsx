import { ErrorMessage } from '../components/ErrorMessage';
import { LedgerTable } from '../components/LedgerTable';
import { Loading } from '../components/Loading';
import { trpc } from '../trpc';
import { LoadMore } from '../components/LoadMore';

const PAGE_SIZE = 20;

export function LedgerPage() {
  const ledger = trpc.ledger.list.useInfiniteQuery({ limit: PAGE_SIZE }, { getNextPageParam: (page) => page.nextCursor });
  const entries = ledger.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <main className="page">
      <div className="page-head">
        <h1 className="page-title">Ledger</h1>
        <p className="muted">Every credit and debit on your balance, newest first.</p>
      </div>
      <section className="card card-flush" aria-label="Ledger entries">
        {ledger.isPending ? (
          <Loading label="Loading ledger" />
        ) : ledger.isError && !ledger.data ? (
          <div className="card-pad">
            <ErrorMessage error={ledger.error} title="Could not load the ledger" onRetry={() => void ledger.refetch()} />
          </div>
        ) : entries.length === 0 ? (
          <p className="empty muted">No entries yet. Top up your balance to get started.</p>
        ) : (
          <LedgerTable entries={entries} caption="Ledger entries" />
        )}
      </section>
      {ledger.isFetchNextPageError && <ErrorMessage error={ledger.error} title="Could not load more entries" />}
      <LoadMore query={ledger} />
    </main>
  );
}
