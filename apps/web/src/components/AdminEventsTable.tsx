import { STRIPE_EVENT_STATUS_VALUES } from '@tally/api/schemas';
import { useState } from 'react';
import { Link } from 'react-router';
import { trpc } from '../trpc';
import { DateTime } from './DateTime';
import { ErrorMessage } from './ErrorMessage';
import { LiveIndicator } from './LiveIndicator';
import { Loading } from './Loading';
import { StatusBadge } from './StatusBadge';
import { StatusFilter } from './StatusFilter';
import { LoadMore } from './LoadMore';
import '../styles/events.css';

type EventStatus = (typeof STRIPE_EVENT_STATUS_VALUES)[number];

/**
 * The event's detail page, `/admin/events/<scope>/<id>`; `-` when the list does not say the
 * scope (the page then finds the event by id among the workspace's events).
 */
function eventDetailPath(e: { id: string; scope?: unknown }): string {
  const scope = typeof e.scope === 'string' && e.scope ? e.scope : '-';
  return `/admin/events/${encodeURIComponent(scope)}/${encodeURIComponent(e.id)}`;
}

export function AdminEventsTable({ refetchInterval }: { refetchInterval: number }) {
  const [status, setStatus] = useState<EventStatus | ''>('');
  const events = trpc.admin.events.useInfiniteQuery(
    { status: status || undefined, limit: 20 },
    { getNextPageParam: (p) => p.nextCursor, refetchInterval, placeholderData: (prev) => prev },
  );
  const items = events.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <section className="card card-flush" aria-labelledby="admin-events-title">
      <div className="card-header card-pad">
        <div className="card-header-title">
          <h2 id="admin-events-title" className="card-title">
            Stripe webhook events
          </h2>
          <LiveIndicator fetching={events.isFetching} />
        </div>
        <StatusFilter label="Event status" values={STRIPE_EVENT_STATUS_VALUES} value={status} onChange={setStatus} />
      </div>
      {events.isPending ? (
        <Loading label="Loading events" />
      ) : events.isError && !events.data ? (
        <div className="card-pad">
          <ErrorMessage error={events.error} onRetry={() => void events.refetch()} />
        </div>
      ) : items.length === 0 ? (
        <p className="empty muted">
          {status === 'anomaly'
            ? 'No anomalies: every event matched what Tally asked Stripe for.'
            : status
              ? `No ${status} events.`
              : 'No webhook events received yet.'}
        </p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">Stripe webhook events</caption>
            <thead>
              <tr>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Outcome</th>
                <th scope="col" className="num">
                  Attempts
                </th>
                <th scope="col">Received</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.id}>
                  <td>
                    <Link to={eventDetailPath(e)} className="event-link">
                      <code className="event-type">{e.type}</code>
                    </Link>
                    <div className="event-id muted">{e.id}</div>
                  </td>
                  <td>
                    <StatusBadge status={e.status} />
                  </td>
                  <td className="outcome">
                    {e.lastError || e.status === 'anomaly' ? (
                      <span className="text-danger">{e.lastError ?? e.outcome}</span>
                    ) : (
                      (e.outcome ?? <span className="muted">—</span>)
                    )}
                  </td>
                  <td className="num">{e.attempts}</td>
                  <td className="nowrap">
                    <DateTime value={e.receivedAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMore query={events} label="Load more events" small />
    </section>
  );
}
