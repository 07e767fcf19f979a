import type { RouterOutputs } from '../../trpc';
import { DateTime } from '../DateTime';

type Detail = RouterOutputs['event']['get'];

const SOURCE_LABEL: Record<string, string> = { webhook: 'Webhook delivery', sweeper: 'Automatic retry', replay: 'Replay', backfill: 'Backfill' };

/** Attempts, the next automatic retry, and every failed attempt with its time and error (newest first). */
export function EventErrors({ detail }: { detail: Detail }) {
  const { event, errors } = detail;
  return (
    <section className="card card-flush" aria-labelledby="event-errors-title">
      <div className="card-header card-pad">
        <h2 id="event-errors-title" className="card-title">
          Attempts and errors
        </h2>
        <span className="muted small">
          {event.attempts} {event.attempts === 1 ? 'attempt' : 'attempts'}
          {event.nextAttemptAt && event.status === 'failed' && (
            <>
              {' '}
              · next automatic retry <DateTime value={event.nextAttemptAt} />
            </>
          )}
          {event.status === 'dead' && ' · no more automatic retries'}
        </span>
      </div>
      {errors.length === 0 ? (
        <p className="empty muted">No failed attempts.</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">Failed attempts, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col" className="num">
                  Attempt
                </th>
                <th scope="col">Source</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {errors.map((e) => (
                <tr key={e.id}>
                  <td className="nowrap">
                    <DateTime value={e.createdAt} />
                  </td>
                  <td className="num">{e.attempt}</td>
                  <td className="nowrap">{SOURCE_LABEL[e.source] ?? e.source}</td>
                  <td className="outcome">
                    <span className="text-danger event-error-text">{e.error}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
