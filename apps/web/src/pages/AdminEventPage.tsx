import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { DateTime } from '../components/DateTime';
import { ErrorMessage } from '../components/ErrorMessage';
import { EventEffect } from '../components/events/EventEffect';
import { EventErrors } from '../components/events/EventErrors';
import { JsonTree } from '../components/events/JsonTree';
import { ReplayPanel, type ReplayResult } from '../components/events/ReplayPanel';
import { Loading } from '../components/Loading';
import { StatusBadge } from '../components/StatusBadge';
import { trpc, trpcErrorCode } from '../trpc';
import '../styles/events.css';

/** `-` in the URL: the scope is not known (the event is found by its id among the workspace's events). */
const ANY_SCOPE = '-';

/**
 * `/admin/events/:scope/:eventId`: one Stripe event of the workspace's log (issue 10 item 2):
 * type, status and times; the outcome or last error; Replay for failed and dead events; the
 * effect it had; attempts and every error; the payload as a collapsible tree.
 */
export function AdminEventPage() {
  const { scope: scopeParam = ANY_SCOPE, eventId = '' } = useParams();
  const scope = scopeParam === ANY_SCOPE ? undefined : scopeParam;
  const detail = trpc.event.get.useQuery({ eventId, scope });
  const [replayed, setReplayed] = useState<ReplayResult | null>(null);

  if (detail.isPending) return <Loading label="Loading the event" fullPage />;
  if (detail.isError) {
    const missing = ['NOT_FOUND', 'BAD_REQUEST'].includes(trpcErrorCode(detail.error) ?? '');
    return (
      <main className="page page-narrow">
        {missing ? (
          <section className="card result-card">
            <h1>Event not found</h1>
            <p className="muted">There is no such Stripe event in this workspace&rsquo;s event log.</p>
            <Link to="/admin" className="button">
              Activity
            </Link>
          </section>
        ) : (
          <ErrorMessage error={detail.error} title="Could not load the event" onRetry={() => void detail.refetch()} />
        )}
      </main>
    );
  }
  const { event, payload, payloadError, replayable } = detail.data;
  return (
    <main className="page">
      <div className="page-head">
        <Link to="/admin" className="link-subtle">
          ← Activity
        </Link>
        <div className="page-title-row">
          <h1 className="page-title">
            <code className="event-title">{event.type}</code>
          </h1>
          <StatusBadge status={event.status} />
        </div>
        <p className="muted">
          <code className="event-id">{event.id}</code> · {event.livemode ? 'live mode' : 'test mode'} · received at{' '}
          {event.scope === 'deployment' ? 'the deployment endpoint' : 'this workspace\u2019s endpoint'}
          {event.apiVersion && <> · API version {event.apiVersion}</>}
        </p>
      </div>

      <section className="card" aria-label="Event summary">
        <dl className="details details-grid">
          <div>
            <dt>Created at Stripe</dt>
            <dd>
              <DateTime value={event.stripeCreatedAt} />
            </dd>
          </div>
          <div>
            <dt>Received</dt>
            <dd>
              <DateTime value={event.receivedAt} />
            </dd>
          </div>
          <div>
            <dt>Processed</dt>
            <dd>
              <DateTime value={event.processedAt} />
            </dd>
          </div>
          <div>
            <dt>Attempts</dt>
            <dd>{event.attempts}</dd>
          </div>
          {event.status === 'failed' && (
            <div>
              <dt>Next retry</dt>
              <dd>
                <DateTime value={event.nextAttemptAt} />
              </dd>
            </div>
          )}
        </dl>
        {event.outcome && (
          <p className="event-outcome">
            <strong>Outcome:</strong> {event.outcome}
          </p>
        )}
        {event.lastError && (
          <p className="event-outcome text-danger">
            <strong>Last error:</strong> {event.lastError}
          </p>
        )}
      </section>

      {(replayable || replayed) && <ReplayPanel eventId={event.id} scope={event.scope} replayable={replayable} result={replayed} onReplayed={setReplayed} />}

      <EventEffect effect={detail.data.effect} status={event.status} />
      <EventErrors detail={detail.data} />

      <section className="card" aria-labelledby="event-payload-title">
        <div className="card-header">
          <h2 id="event-payload-title" className="card-title">
            Payload
          </h2>
        </div>
        {event.payloadPrunedAt ? (
          <p className="empty muted">
            Pruned by retention on <DateTime value={event.payloadPrunedAt} /> (TALLY_EVENT_RETENTION_DAYS). Stripe keeps events for 30
            days: <code>pnpm tally events backfill</code> can fetch it again within that time.
          </p>
        ) : payloadError ? (
          <p className="empty text-danger">{payloadError}</p>
        ) : (
          <JsonTree value={payload} label={`Payload of ${event.id}`} />
        )}
      </section>
    </main>
  );
}
