import { useState } from 'react';
import { formatDate } from '../lib/format';
import { trpc } from '../trpc';
import { Dialog } from './Dialog';
import { ErrorMessage } from './ErrorMessage';
import { InvoiceTable } from './InvoiceTable';
import { LicenseTable } from './LicenseTable';
import { LiveIndicator } from './LiveIndicator';
import { Loading } from './Loading';
import { Day, isLive, pastDueSentence, SubscriptionDetails, type SubscriptionView } from './SubscriptionParts';

const REFRESH_MS = 10_000;

/**
 * An admin's view of a customer's subscription (`subscription.getForCustomer`): plan, status,
 * access, period; Cancel (at period end or now) / Resume and the customer's Stripe portal, all
 * audited on the server.
 */
export function AdminSubscriptionCard({ customerId }: { customerId: string }) {
  const state = trpc.subscription.getForCustomer.useQuery({ customerId }, { refetchInterval: REFRESH_MS });
  const utils = trpc.useUtils();
  const [cancelling, setCancelling] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const refresh = () => void utils.subscription.getForCustomer.invalidate({ customerId });
  const resume = trpc.subscription.resumeForCustomer.useMutation({
    onSuccess: (view) => {
      setDone(`Resumed: it renews on ${formatDate(view.currentPeriodEnd)}.`);
      refresh();
    },
  });
  const portal = trpc.billing.openPortalForCustomer.useMutation({ onSuccess: ({ url }) => window.location.assign(url) });
  const sub = state.data?.subscription ?? null;
  const pastDue = state.data?.pastDue ?? null;
  const live = isLive(sub);
  const scheduled = live && (sub.cancelAtPeriodEnd || !!sub.cancelAt);

  return (
    <section className="card" aria-labelledby="customer-subscription-title" data-testid="admin-subscription">
      <div className="card-header">
        <div className="card-header-title">
          <h2 id="customer-subscription-title" className="card-title">
            Subscription
          </h2>
          <LiveIndicator fetching={state.isFetching} />
        </div>
        {sub && (
          <div className="form-actions">
            <button type="button" className="button button-small" onClick={() => portal.mutate({ customerId })} disabled={portal.isPending || portal.isSuccess}>
              {portal.isPending || portal.isSuccess ? 'Opening Stripe…' : 'Open billing portal'}
            </button>
            {live &&
              (scheduled ? (
                <button type="button" className="button button-small button-primary" onClick={() => resume.mutate({ customerId })} disabled={resume.isPending}>
                  {resume.isPending ? 'Resuming…' : 'Resume'}
                </button>
              ) : (
                <button type="button" className="button button-small button-ghost" onClick={() => setCancelling(true)}>
                  Cancel…
                </button>
              ))}
          </div>
        )}
      </div>
      {state.isPending ? (
        <Loading label="Loading the subscription" />
      ) : state.isError ? (
        <ErrorMessage error={state.error} title="Could not load the subscription" onRetry={() => void state.refetch()} />
      ) : !sub ? (
        <p className="muted small">No subscription. The customer subscribes on their Plans page (Stripe Checkout).</p>
      ) : (
        <>
          <SubscriptionDetails state={state.data} />
          <p className="muted small">
            Stripe subscription <code className="event-id">{sub.stripeSubscriptionId}</code>
          </p>
        </>
      )}
      {pastDue && (
        <div className="alert alert-error" role="status">
          <div>
            <strong className="alert-title">{pastDueSentence(pastDue).title.replace(/^Your payment/, 'Payment')}</strong>
            <span>
              {pastDue.attemptCount} attempt{pastDue.attemptCount === 1 ? '' : 's'} so far;{' '}
              {pastDue.nextPaymentAttemptAt ? <>next retry {formatDate(pastDue.nextPaymentAttemptAt)}</> : 'no more automatic retries'}.
            </span>
          </div>
        </div>
      )}
      {done && (
        <div className="alert alert-success" role="status">
          <span>{done}</span>
        </div>
      )}
      {resume.error && <ErrorMessage error={resume.error} title="Could not resume" />}
      {portal.error && <ErrorMessage error={portal.error} title="Could not open the billing portal" />}
      {cancelling && sub && (
        <AdminCancelDialog
          customerId={customerId}
          sub={sub}
          onClose={() => setCancelling(false)}
          onDone={(message) => {
            setCancelling(false);
            setDone(message);
            refresh();
          }}
        />
      )}
    </section>
  );
}

function AdminCancelDialog({ customerId, sub, onClose, onDone }: { customerId: string; sub: SubscriptionView; onClose: () => void; onDone: (message: string) => void }) {
  const cancel = trpc.subscription.cancelForCustomer.useMutation({
    onSuccess: (view, input) =>
      onDone(input.atPeriodEnd ? `Scheduled: it ends on ${formatDate(view.cancelAt ?? view.currentPeriodEnd)} (it can be resumed until then).` : 'Canceled now.'),
  });
  return (
    <Dialog title="Cancel this subscription?" onClose={onClose}>
      <p>
        At the period end, {sub.plan?.name ?? 'the plan'} stays active until <Day value={sub.currentPeriodEnd} /> and can be resumed until then. Canceling now ends it
        at once: access stops and licenses are revoked.
      </p>
      {cancel.error && <ErrorMessage error={cancel.error} title="Could not cancel" />}
      <div className="dialog-actions">
        <button type="button" className="button button-ghost" onClick={onClose}>
          Keep it
        </button>
        <button type="button" className="button button-danger" disabled={cancel.isPending} onClick={() => cancel.mutate({ customerId, atPeriodEnd: false })}>
          Cancel now
        </button>
        <button type="button" className="button button-primary" disabled={cancel.isPending} onClick={() => cancel.mutate({ customerId, atPeriodEnd: true })}>
          Cancel at period end
        </button>
      </div>
    </Dialog>
  );
}

/** A customer's Stripe invoices and billing records (`invoice.listForCustomer`). */
export function AdminInvoicesCard({ customerId }: { customerId: string }) {
  const invoices = trpc.invoice.listForCustomer.useQuery({ customerId }, { refetchInterval: REFRESH_MS });
  const items = invoices.data?.items ?? [];
  return (
    <section className="card card-flush" aria-labelledby="customer-invoices-title">
      <div className="card-header card-pad">
        <div className="card-header-title">
          <h2 id="customer-invoices-title" className="card-title">
            Invoices
          </h2>
          <LiveIndicator fetching={invoices.isFetching} />
        </div>
      </div>
      {invoices.isPending ? (
        <Loading label="Loading invoices" />
      ) : invoices.isError && !invoices.data ? (
        <div className="card-pad">
          <ErrorMessage error={invoices.error} onRetry={() => void invoices.refetch()} />
        </div>
      ) : items.length === 0 ? (
        <p className="empty muted">No invoices yet.</p>
      ) : (
        <InvoiceTable items={items} caption="Customer invoices" audience="admin" />
      )}
    </section>
  );
}

/** A customer's license keys, masked (`license.listForCustomer`: admins never see a full key). */
export function AdminLicensesCard({ customerId }: { customerId: string }) {
  const licenses = trpc.license.listForCustomer.useQuery({ customerId }, { refetchInterval: REFRESH_MS });
  const list = licenses.data ?? [];
  return (
    <section className="card card-flush" aria-labelledby="customer-licenses-title">
      <div className="card-header card-pad">
        <div className="card-header-title">
          <h2 id="customer-licenses-title" className="card-title">
            Licenses
          </h2>
          <LiveIndicator fetching={licenses.isFetching} />
        </div>
      </div>
      {licenses.isPending ? (
        <Loading label="Loading licenses" />
      ) : licenses.isError && !licenses.data ? (
        <div className="card-pad">
          <ErrorMessage error={licenses.error} onRetry={() => void licenses.refetch()} />
        </div>
      ) : list.length === 0 ? (
        <p className="empty muted">No licenses. Plans that issue licenses create one per seat when the customer subscribes.</p>
      ) : (
        <LicenseTable licenses={list} caption="Customer licenses" />
      )}
    </section>
  );
}
