import { Link } from 'react-router';
import { money, signedMoney } from '../../lib/format';
import type { RouterOutputs } from '../../trpc';
import { DateTime } from '../DateTime';
import { StatusBadge } from '../StatusBadge';

type Effect = RouterOutputs['event']['get']['effect'];

/**
 * What a Stripe event touched in Tally: ledger entries (posted by this event, or belonging to
 * the top-up or billing record it is about), top-ups, billing records, subscriptions and
 * invoices, each linking to its customer's page.
 */
export function EventEffect({ effect, status }: { effect: Effect; status: string }) {
  const empty = effect.ledgerEntries.length + effect.topups.length + effect.billingRecords.length + effect.subscriptions.length + effect.invoices.length === 0;
  return (
    <section className="card" aria-labelledby="event-effect-title">
      <div className="card-header">
        <h2 id="event-effect-title" className="card-title">
          Effect
        </h2>
        {effect.objectId && (
          <span className="muted small">
            {effect.objectType ?? 'object'} <code className="event-id">{effect.objectId}</code>
          </span>
        )}
      </div>
      {empty ? (
        <p className="empty muted">
          {status === 'failed' || status === 'dead' || status === 'received'
            ? 'Nothing yet: the event has not been processed. Nothing in Tally matches its Stripe objects.'
            : 'Nothing in Tally matches this event\u2019s Stripe objects (it was ignored, or it is about something Tally does not mirror).'}
        </p>
      ) : (
        <ul className="event-effects">
          {effect.ledgerEntries.map((l) => (
            <li key={l.id} className="event-effect">
              <span className="event-effect-kind">Ledger entry</span>
              <span className={`amount ${l.amountMinor >= 0 ? 'amount-credit' : 'amount-debit'}`}>{signedMoney(l.amountMinor, l.currency)}</span>
              <span>
                {l.description} <code className="event-id">{l.reference}</code>
              </span>
              <span className="muted small">{l.byThisEvent ? 'posted by this event' : 'posted by another event for the same object'} · <DateTime value={l.createdAt} /></span>
              <Link to={l.link.to} className="event-effect-link">
                {l.link.label} →
              </Link>
            </li>
          ))}
          {effect.topups.map((t) => (
            <li key={t.id} className="event-effect">
              <span className="event-effect-kind">Top-up</span>
              <span className="amount">{money(t.amountMinor, t.currency)}</span>
              <StatusBadge status={t.status} />
              <span className="muted small">
                <code className="event-id">{t.id}</code> · created <DateTime value={t.createdAt} />
                {t.paidAt && (
                  <>
                    {' '}
                    · paid <DateTime value={t.paidAt} />
                  </>
                )}
              </span>
              <Link to={t.link.to} className="event-effect-link">
                {t.link.label} →
              </Link>
            </li>
          ))}
          {effect.billingRecords.map((r) => (
            <li key={r.id} className="event-effect">
              <span className="event-effect-kind">Billing record</span>
              <span className="amount">{money(r.amountMinor, r.currency)}</span>
              <StatusBadge status={r.status.toLowerCase()} />
              <span>
                {r.description} <span className="muted small">due {r.dueDate}</span>
              </span>
              <Link to={r.link.to} className="event-effect-link">
                {r.link.label} →
              </Link>
            </li>
          ))}
          {effect.subscriptions.map((s) => (
            <li key={s.id} className="event-effect">
              <span className="event-effect-kind">Subscription</span>
              <code className="event-id">{s.stripeSubscriptionId}</code>
              <StatusBadge status={s.status} />
              <Link to={s.link.to} className="event-effect-link">
                {s.link.label} →
              </Link>
            </li>
          ))}
          {effect.invoices.map((i) => (
            <li key={i.id} className="event-effect">
              <span className="event-effect-kind">Invoice</span>
              <span className="amount">{money(i.totalMinor, i.currency)}</span>
              <StatusBadge status={i.status} />
              <span className="muted small">{i.number ?? <code className="event-id">{i.stripeInvoiceId}</code>}</span>
              <Link to={i.link.to} className="event-effect-link">
                {i.link.label} →
              </Link>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
