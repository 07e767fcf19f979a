import { TOPUP_STATUS_VALUES } from '@tally/api/schemas';
import { useState } from 'react';
import { money } from '../lib/format';
import { trpc } from '../trpc';
import { DateTime } from './DateTime';
import { ErrorMessage } from './ErrorMessage';
import { LiveIndicator } from './LiveIndicator';
import { Loading } from './Loading';
import { StatusBadge } from './StatusBadge';
import { StatusFilter } from './StatusFilter';
import { LoadMore } from './LoadMore';

type TopupStatus = (typeof TOPUP_STATUS_VALUES)[number];

/**
 * The workspace's recent top-ups (admin Activity). `refetchInterval` (milliseconds, or false)
 * is the page's polling; while the live billing stream is live, a `topup.*` message refetches
 * the list at once (lib/billing-stream.ts).
 */
export function AdminTopupsTable({ refetchInterval }: { refetchInterval: number | false }) {
  const [status, setStatus] = useState<TopupStatus | ''>('');
  const topups = trpc.admin.topups.useInfiniteQuery(
    { status: status || undefined, limit: 20 },
    { getNextPageParam: (p) => p.nextCursor, refetchInterval, placeholderData: (prev) => prev },
  );
  const items = topups.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <section className="card card-flush" aria-labelledby="admin-topups-title">
      <div className="card-header card-pad">
        <div className="card-header-title">
          <h2 id="admin-topups-title" className="card-title">
            Recent top-ups
          </h2>
          <LiveIndicator fetching={topups.isFetching} />
        </div>
        <StatusFilter label="Top-up status" values={TOPUP_STATUS_VALUES} value={status} onChange={setStatus} />
      </div>
      {topups.isPending ? (
        <Loading label="Loading top-ups" />
      ) : topups.isError && !topups.data ? (
        <div className="card-pad">
          <ErrorMessage error={topups.error} onRetry={() => void topups.refetch()} />
        </div>
      ) : items.length === 0 ? (
        <p className="empty muted">{status ? `No ${status} top-ups.` : 'No top-ups yet.'}</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">Recent top-ups</caption>
            <thead>
              <tr>
                <th scope="col">Customer</th>
                <th scope="col" className="num">
                  Amount
                </th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">Paid</th>
              </tr>
            </thead>
            <tbody>
              {items.map((t) => (
                <tr key={t.id}>
                  <td>{t.customerName}</td>
                  <td className="num amount">
                    {money(t.creditedAmountMinor ?? t.amountMinor, t.currency)}
                  </td>
                  <td>
                    <StatusBadge status={t.status} />
                  </td>
                  <td className="nowrap">
                    <DateTime value={t.createdAt} />
                  </td>
                  <td className="nowrap">
                    <DateTime value={t.paidAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMore query={topups} label="Load more top-ups" small />
    </section>
  );
}
