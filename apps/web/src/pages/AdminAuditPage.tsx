import { useId, useState } from 'react';
import { DateTime } from '../components/DateTime';
import { ErrorMessage } from '../components/ErrorMessage';
import { LoadMore } from '../components/LoadMore';
import { Loading } from '../components/Loading';
import { useMe } from '../components/useMe';
import { diffJson } from '../lib/json-diff';
import { trpc } from '../trpc';

/** The actions the server records (`noun.verb`), as the filter shows them. */
const AUDIT_ACTIONS = {
  'customer.create': 'Customer created',
  'customer.invite': 'Member invited',
  'ledger.adjustment': 'Balance adjusted',
  'billing_record.create': 'Record created',
  'billing_record.mark_paid': 'Record marked paid',
  'billing_record.void': 'Record voided',
  'stripe_settings.save': 'Stripe keys saved',
  'stripe_settings.clear': 'Stripe keys cleared',
  'stripe_settings.register_webhook_endpoint': 'Webhook endpoint registered',
  'workspace.create': 'Workspace created',
} as const;
type AuditAction = keyof typeof AUDIT_ACTIONS;

/** Before/after of one entry as the fields that changed: `path: old → new`. */
function Changes({ before, after }: { before: unknown; after: unknown }) {
  const changes = diffJson(before ?? null, after ?? null);
  if (changes.length === 0) return <span className="muted">—</span>;
  return (
    <ul className="diff">
      {changes.map((c) => (
        <li key={c.path}>
          {c.path && <span className="diff-path">{c.path}</span>}
          {c.before !== undefined && <del className="diff-before">{c.before}</del>}
          {c.before !== undefined && c.after !== undefined && <span aria-hidden="true"> → </span>}
          {c.after !== undefined && <ins className="diff-after">{c.after}</ins>}
        </li>
      ))}
    </ul>
  );
}

export function AdminAuditPage() {
  const me = useMe();
  const actionId = useId();
  const [action, setAction] = useState<AuditAction | ''>('');
  const query = action;
  const audit = trpc.audit.list.useInfiniteQuery(
    { action: query || undefined, limit: 25 },
    { getNextPageParam: (p) => p.nextCursor, placeholderData: (prev) => prev },
  );
  const items = audit.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <main className="page">
      <div className="page-head">
        <h1 className="page-title">Audit log</h1>
        <p className="muted">
          Every admin action in {me.data?.adminWorkspace?.name ?? 'your workspace'}: who did what, when, and what changed. Keys and secrets are never
          recorded.
        </p>
      </div>
      <section className="card card-flush" aria-labelledby="audit-title">
        <div className="card-header card-pad">
          <h2 id="audit-title" className="card-title">
            Entries
          </h2>
          <div className="filter">
            <label htmlFor={actionId}>Action</label>
            <select id={actionId} value={action} onChange={(e) => setAction(e.target.value as AuditAction | '')}>
              <option value="">All</option>
              {(Object.keys(AUDIT_ACTIONS) as AuditAction[]).map((a) => (
                <option key={a} value={a}>
                  {AUDIT_ACTIONS[a]}
                </option>
              ))}
            </select>
          </div>
        </div>
        {audit.isPending ? (
          <Loading label="Loading the audit log" />
        ) : audit.isError && !audit.data ? (
          <div className="card-pad">
            <ErrorMessage error={audit.error} onRetry={() => void audit.refetch()} />
          </div>
        ) : items.length === 0 ? (
          <p className="empty muted">{query ? `No “${AUDIT_ACTIONS[query]}” entries.` : 'No admin actions recorded yet.'}</p>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <caption className="sr-only">Audit log</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Who</th>
                  <th scope="col">Action</th>
                  <th scope="col" className="audit-changes">
                    Changes
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((e) => (
                  <tr key={e.id}>
                    <td className="nowrap">
                      <DateTime value={e.createdAt} />
                    </td>
                    <td>{e.actorLabel}</td>
                    <td className="audit-action">
                      <code className="event-type">{e.action}</code>
                      <div className="event-id muted" title={e.targetId ?? undefined}>
                        {e.targetType}
                        {e.targetId && ` …${e.targetId.slice(-8)}`}
                      </div>
                    </td>
                    <td className="audit-changes">
                      <Changes before={e.before} after={e.after} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <LoadMore query={audit} label="Load more entries" small />
      </section>
    </main>
  );
}
