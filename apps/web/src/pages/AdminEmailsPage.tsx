import { Fragment, useState } from 'react';
import { DateTime } from '../components/DateTime';
import { ErrorMessage } from '../components/ErrorMessage';
import { LiveIndicator } from '../components/LiveIndicator';
import { LoadMore } from '../components/LoadMore';
import { Loading } from '../components/Loading';
import { StatusBadge } from '../components/StatusBadge';
import { StatusFilter } from '../components/StatusFilter';
import { useMe } from '../components/useMe';
import type { AppRouter } from '@tally/api';
import type { inferRouterInputs } from '@trpc/server';
import { trpc } from '../trpc';

type EmailStatus = NonNullable<inferRouterInputs<AppRouter>['admin']['emails']['list']['status']>;
/** The outbox statuses, in lifecycle order (the server's EMAIL_STATUS_VALUES; checked against its input type). */
const EMAIL_STATUS_VALUES = ['pending', 'sending', 'sent', 'failed'] as const satisfies readonly EmailStatus[];

/** How often the outbox refreshes, so a pending email is seen leaving. */
const REFRESH_MS = 3_000;

/** Plain text with its http(s) URLs as links (React escapes the rest). */
function Linkified({ text }: { text: string }) {
  const parts = text.split(/(https?:\/\/[^\s<>"']+)/g);
  return (
    <>
      {parts.map((part, i) =>
        i % 2 === 1 ? (
          <a key={i} href={part} target="_blank" rel="noreferrer">
            {part}
          </a>
        ) : (
          <Fragment key={i}>{part}</Fragment>
        ),
      )}
    </>
  );
}

export function AdminEmailsPage() {
  const me = useMe();
  const [status, setStatus] = useState<EmailStatus | ''>('');
  const [open, setOpen] = useState<string | null>(null);
  const emails = trpc.admin.emails.list.useInfiniteQuery(
    { status: status || undefined, limit: 20 },
    { getNextPageParam: (p) => p.nextCursor, refetchInterval: REFRESH_MS, placeholderData: (prev) => prev },
  );
  const items = emails.data?.pages.flatMap((p) => p.items) ?? [];
  const bodiesHidden = items.length > 0 && items.every((e) => e.textBody === null);

  return (
    <main className="page">
      <div className="page-head">
        <h1 className="page-title">Emails</h1>
        <p className="muted">
          Every email Tally sends for {me.data?.adminWorkspace?.name ?? 'your workspace'} and its users (verification, password reset),
          with its delivery status. <strong>Pending</strong> emails wait for their next attempt, or for SMTP_URL to be set on the
          server; <strong>failed</strong> ones ran out of attempts.
        </p>
      </div>
      <section className="card card-flush" aria-labelledby="admin-emails-title">
        <div className="card-header card-pad">
          <div className="card-header-title">
            <h2 id="admin-emails-title" className="card-title">
              Outbox
            </h2>
            <LiveIndicator fetching={emails.isFetching} />
          </div>
          <StatusFilter label="Email status" values={EMAIL_STATUS_VALUES} value={status} onChange={setStatus} />
        </div>
        {bodiesHidden && (
          <p className="card-pad muted small">
            Bodies are not shown in production: they hold sign-in and password-reset links. Without mail, an operator can sign an admin
            in with <code>pnpm tally admin create --email …</code>.
          </p>
        )}
        {emails.isPending ? (
          <Loading label="Loading emails" />
        ) : emails.isError && !emails.data ? (
          <div className="card-pad">
            <ErrorMessage error={emails.error} onRetry={() => void emails.refetch()} />
          </div>
        ) : items.length === 0 ? (
          <p className="empty muted">{status ? `No ${status} emails.` : 'No emails yet.'}</p>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <caption className="sr-only">Outbox emails</caption>
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Status</th>
                  <th scope="col" className="num">
                    Attempts
                  </th>
                  <th scope="col">Created</th>
                  <th scope="col">Sent</th>
                </tr>
              </thead>
              <tbody>
                {items.map((e) => (
                  <Fragment key={e.id}>
                    <tr>
                      <td>
                        <div className="event-type">{e.subject}</div>
                        <div className="muted small">
                          to {e.toAddress} · <span className="kind">{e.kind}</span>
                        </div>
                        {e.lastError && <div className="text-danger small outcome">{e.lastError}</div>}
                        {e.textBody !== null && (
                          <button
                            type="button"
                            className="button button-small button-ghost"
                            aria-expanded={open === e.id}
                            aria-controls={`email-body-${e.id}`}
                            onClick={() => setOpen(open === e.id ? null : e.id)}
                          >
                            {open === e.id ? 'Hide body' : 'Show body'}
                          </button>
                        )}
                      </td>
                      <td>
                        <StatusBadge status={e.status} />
                        {e.status === 'pending' && e.attempts > 0 && (
                          <div className="muted small nowrap">
                            next try <DateTime value={e.nextAttemptAt} />
                          </div>
                        )}
                      </td>
                      <td className="num">{e.attempts}</td>
                      <td className="nowrap">
                        <DateTime value={e.createdAt} />
                      </td>
                      <td className="nowrap">
                        <DateTime value={e.sentAt} />
                      </td>
                    </tr>
                    {open === e.id && e.textBody !== null && (
                      <tr id={`email-body-${e.id}`}>
                        <td colSpan={5}>
                          <pre className="event-id email-body">
                            <Linkified text={e.textBody} />
                          </pre>
                        </td>
                      </tr>
                    )}
                  </Fragment>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <LoadMore query={emails} label="Load more emails" small />
      </section>
    </main>
  );
}
