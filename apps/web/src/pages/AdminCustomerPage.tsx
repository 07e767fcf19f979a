import { ADJUSTMENT_MAX_ABS_MINOR } from '@tally/api/schemas';
import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { AdminBillingRecordsCard } from '../components/AdminBillingRecordsCard';
import { AdminInvoicesCard, AdminLicensesCard, AdminSubscriptionCard } from '../components/AdminSubscriptionCards';
import { CustomerUsageSettingsCard } from '../components/CustomerUsageSettingsCard';
import { DateTime } from '../components/DateTime';
import { ErrorMessage } from '../components/ErrorMessage';
import { LedgerTable } from '../components/LedgerTable';
import { LoadMore } from '../components/LoadMore';
import { Loading } from '../components/Loading';
import { useMe } from '../components/useMe';
import { currencyFractionDigits, parseSignedAmountToMinor } from '../lib/amount';
import { money, signedMoney } from '../lib/format';
import { StatusBadge } from '../components/StatusBadge';
import { trpc, trpcErrorCode, type RouterOutputs } from '../trpc';
import { periodLabel, UsageLines } from './InvoicesPage';
import '../styles/usage-invoices.css';

type Customer = RouterOutputs['customers']['get'];

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function AdminCustomerPage() {
  const { customerId = '' } = useParams();
  const customer = trpc.customers.get.useQuery({ customerId });

  if (customer.isPending) return <Loading label="Loading the customer" fullPage />;
  if (customer.isError) {
    const missing = ['NOT_FOUND', 'BAD_REQUEST'].includes(trpcErrorCode(customer.error) ?? '');
    return (
      <main className="page page-narrow">
        {missing ? (
          <section className="card result-card">
            <h1>Customer not found</h1>
            <p className="muted">There is no such customer in this workspace.</p>
            <Link to="/admin/customers" className="button">
              All customers
            </Link>
          </section>
        ) : (
          <ErrorMessage error={customer.error} title="Could not load the customer" onRetry={() => void customer.refetch()} />
        )}
      </main>
    );
  }
  const c = customer.data;
  return (
    <main className="page">
      <div className="page-head">
        <Link to="/admin/customers" className="link-subtle">
          ← All customers
        </Link>
        <h1 className="page-title">{c.name}</h1>
        <p className="muted">
          {c.email ?? 'No billing email'} · customer since <DateTime value={c.createdAt} /> · Stripe customer{' '}
          {c.stripeCustomerId ? <code className="event-id">{c.stripeCustomerId}</code> : 'not created yet (made at the first payment)'}
        </p>
      </div>

      <div className="grid-2">
        <BalanceCard customer={c} />
        <MembersCard customer={c} />
      </div>

      <AdminSubscriptionCard customerId={c.id} />
      <AdminInvoicesCard customerId={c.id} />
      <GenerateUsageInvoiceCard customerId={c.id} />
      <CustomerUsageSettingsCard customerId={c.id} />
      <AdminLicensesCard customerId={c.id} />

      <AdminBillingRecordsCard
        title="Billing records"
        customerId={c.id}
        emptyText="Nothing billed to this customer yet."
        headerActions={
          <Link to={`/admin/billing-records?customerId=${c.id}`} className="button button-small">
            New billing record
          </Link>
        }
      />

      <CustomerLedger customerId={c.id} />
    </main>
  );
}

function BalanceCard({ customer }: { customer: Customer }) {
  const me = useMe();
  const currency = me.data?.adminWorkspace?.currency ?? customer.balances[0]?.currency ?? 'usd';
  const digits = currencyFractionDigits(currency);
  const [amountText, setAmountText] = useState('');
  const [reason, setReason] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const utils = trpc.useUtils();
  const adjust = trpc.customers.adjustBalance.useMutation({
    onSuccess: async (result, input) => {
      setDone(`Adjusted by ${signedMoney(input.amountMinor, result.currency)}. The balance is now ${money(result.balanceMinor, result.currency)}.`);
      setAmountText('');
      setReason('');
      await Promise.all([utils.customers.get.invalidate({ customerId: customer.id }), utils.customers.ledger.invalidate(), utils.customers.list.invalidate()]);
    },
  });
  function onSubmit(e: FormEvent) {
    e.preventDefault();
    setDone(null);
    adjust.reset();
    const amount = parseSignedAmountToMinor(amountText, digits);
    if (!amount.ok) return setInvalid(amount.error);
    if (Math.abs(amount.amountMinor) > ADJUSTMENT_MAX_ABS_MINOR) return setInvalid(`At most ${money(ADJUSTMENT_MAX_ABS_MINOR, currency)} either way.`);
    if (!reason.trim()) return setInvalid('Give a reason: it is shown in the ledger and the audit log.');
    setInvalid(null);
    adjust.mutate({ customerId: customer.id, amountMinor: amount.amountMinor, reason: reason.trim() });
  }
  return (
    <section className="card" aria-labelledby="balance-title">
      <div className="balance">
        <p id="balance-title" className="balance-label">
          Prepaid balance
        </p>
        {customer.balances.length === 0 ? (
          <p className="balance-amount" data-testid="customer-balance">
            {money(0, currency)}
          </p>
        ) : (
          customer.balances.map((b) => (
            <p key={b.currency} className="balance-amount" data-testid="customer-balance">
              {money(b.amountMinor, b.currency)}
            </p>
          ))
        )}
      </div>
      <form className="form form-divided" onSubmit={onSubmit} noValidate>
        <h3 className="card-subtitle">Adjust the balance</h3>
        <div className="field">
          <label htmlFor="adjust-amount">Amount ({currency.toUpperCase()}, negative to debit)</label>
          <div className="money-input">
            <span className="money-input-prefix" aria-hidden="true">
              {currency.toUpperCase()}
            </span>
            <input id="adjust-amount" type="text" inputMode="decimal" autoComplete="off" placeholder={digits ? '-12.50' : '-1250'} value={amountText} onChange={(e) => setAmountText(e.target.value)} />
          </div>
        </div>
        <div className="field">
          <label htmlFor="adjust-reason">Reason</label>
          <input id="adjust-reason" type="text" maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} placeholder="Goodwill credit for the March outage" />
        </div>
        {invalid && (
          <p className="field-error" role="alert">
            {invalid}
          </p>
        )}
        {adjust.error && <ErrorMessage error={adjust.error} title="Could not adjust the balance" />}
        {done && (
          <div className="alert alert-success" role="status">
            <span>{done}</span>
          </div>
        )}
        <button type="submit" className="button" disabled={adjust.isPending}>
          {adjust.isPending ? 'Saving…' : 'Post adjustment'}
        </button>
      </form>
    </section>
  );
}

function MembersCard({ customer }: { customer: Customer }) {
  const [email, setEmail] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const utils = trpc.useUtils();
  const invite = trpc.customers.invite.useMutation({
    onSuccess: async (result, input) => {
      setDone(
        result.attachedNow
          ? `${input.email} is now a member.`
          : `Invitation saved: ${input.email} becomes a member on signing up, or at their next sign-in.`,
      );
      setEmail('');
      await utils.customers.get.invalidate({ customerId: customer.id });
    },
  });
  function onSubmit(e: FormEvent) {
    e.preventDefault();
    setDone(null);
    invite.reset();
    const address = email.trim();
    if (!EMAIL.test(address)) return setInvalid('Enter a valid email address.');
    setInvalid(null);
    invite.mutate({ customerId: customer.id, email: address });
  }
  const nobody = customer.members.length === 0 && customer.pendingInvitations.length === 0;
  return (
    <section className="card" aria-labelledby="members-title">
      <h2 id="members-title" className="card-title">
        Members
      </h2>
      {nobody ? (
        <p className="muted small">Nobody signs in for this customer yet. It can still be billed; invite someone to let them see and pay its records.</p>
      ) : (
        <ul className="member-list">
          {customer.members.map((m) => (
            <li key={m.userId}>
              <span>{m.email}</span>
              <span className="kind">{m.role}</span>
            </li>
          ))}
          {customer.pendingInvitations.map((i) => (
            <li key={i.id}>
              <span>{i.email}</span>
              <span className="badge badge-warning" title="Attached when this email signs up or next signs in">
                invited
              </span>
              <span className="muted small">
                <DateTime value={i.createdAt} />
              </span>
            </li>
          ))}
        </ul>
      )}
      <form className="form form-divided" onSubmit={onSubmit} noValidate>
        <div className="field">
          <label htmlFor="invite-email">Invite by email</label>
          <input id="invite-email" type="email" maxLength={254} value={email} onChange={(e) => setEmail(e.target.value)} placeholder="person@customer.example" />
        </div>
        {invalid && (
          <p className="field-error" role="alert">
            {invalid}
          </p>
        )}
        {invite.error && <ErrorMessage error={invite.error} title="Could not invite" />}
        {done && (
          <div className="alert alert-success" role="status">
            <span>{done}</span>
          </div>
        )}
        <button type="submit" className="button" disabled={invite.isPending}>
          {invite.isPending ? 'Inviting…' : 'Invite member'}
        </button>
      </form>
    </section>
  );
}

function CustomerLedger({ customerId }: { customerId: string }) {
  const ledger = trpc.customers.ledger.useInfiniteQuery({ customerId, limit: 20 }, { getNextPageParam: (p) => p.nextCursor });
  const entries = ledger.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section className="card card-flush" aria-labelledby="customer-ledger-title">
      <div className="card-header card-pad">
        <h2 id="customer-ledger-title" className="card-title">
          Ledger
        </h2>
      </div>
      {ledger.isPending ? (
        <Loading label="Loading the ledger" />
      ) : ledger.isError && !ledger.data ? (
        <div className="card-pad">
          <ErrorMessage error={ledger.error} onRetry={() => void ledger.refetch()} />
        </div>
      ) : entries.length === 0 ? (
        <p className="empty muted">No ledger entries yet.</p>
      ) : (
        <LedgerTable entries={entries} caption="Customer ledger" />
      )}
      <LoadMore query={ledger} label="Load more entries" small />
    </section>
  );
}

const PERIOD = /^\d{4}-(0[1-9]|1[0-2])$/;

/** The month before the current one (UTC), `YYYY-MM`: the latest period that has ended. */
function lastEndedPeriod(now = new Date()): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
}

type GeneratedUsageInvoice = RouterOutputs['usage']['generateInvoice'];

/**
 * "Generate usage invoice": one customer's usage invoice for an ended month, created (once: the
 * monthly close finds it and makes no other) and issued on Stripe now (`usage.generateInvoice`).
 * Late usage events of that customer for that month are refused from then on.
 */
function GenerateUsageInvoiceCard({ customerId }: { customerId: string }) {
  const latest = lastEndedPeriod();
  const [period, setPeriod] = useState(latest);
  const [invalid, setInvalid] = useState<string | null>(null);
  const [result, setResult] = useState<GeneratedUsageInvoice | null>(null);
  const utils = trpc.useUtils();
  const generate = trpc.usage.generateInvoice.useMutation({
    onSuccess: async (r) => {
      setResult(r);
      await utils.invoice.listForCustomer.invalidate({ customerId });
    },
  });
  function onSubmit(e: FormEvent) {
    e.preventDefault();
    setResult(null);
    generate.reset();
    if (!PERIOD.test(period)) return setInvalid('Choose a month.');
    if (period > latest) return setInvalid(`${periodLabel(period)} has not ended yet: the latest month you can invoice is ${periodLabel(latest)}.`);
    setInvalid(null);
    generate.mutate({ customerId, period });
  }
  const invoice = result?.invoice;
  return (
    <section className="card" aria-labelledby="usage-invoice-title">
      <h2 id="usage-invoice-title" className="card-title">
        Usage invoice
      </h2>
      <p className="muted small">
        Bill this customer’s invoice-mode usage of an ended month now, instead of waiting for the monthly close. It is the same invoice the close would make (one per month), issued on Stripe;
        usage reported later for that month is refused.
      </p>
      <form className="usage-generate-form" onSubmit={onSubmit} noValidate>
        <div className="field">
          <label htmlFor="usage-invoice-period">Month (UTC)</label>
          <input id="usage-invoice-period" type="month" max={latest} value={period} onChange={(e) => setPeriod(e.target.value)} required />
        </div>
        <button type="submit" className="button" disabled={generate.isPending}>
          {generate.isPending ? 'Generating…' : 'Generate usage invoice'}
        </button>
      </form>
      {invalid && (
        <p className="field-error" role="alert">
          {invalid}
        </p>
      )}
      {generate.error && <ErrorMessage error={generate.error} title="Could not generate the usage invoice" />}
      {result && invoice && (
        <div className="usage-generate-result" data-testid="usage-invoice-result">
          {result.outcome === 'failed' ? (
            <div className="alert alert-warning" role="status">
              <div>
                <strong className="alert-title">Created, but not issued on Stripe yet</strong>
                <span>{result.error ?? 'Issuing it failed.'} It is retried by the next close, or by generating it again.</span>
              </div>
            </div>
          ) : (
            <div className="alert alert-success" role="status">
              <span>
                {result.outcome === 'empty'
                  ? `Nothing to pay for ${periodLabel(invoice.period)}: the usage is priced at ${money(0, invoice.currency)}, so nothing was sent to Stripe.`
                  : `${result.created ? 'Created and issued' : 'Already there'}: ${periodLabel(invoice.period)}, ${money(invoice.totalMinor, invoice.currency)}.`}
              </span>
            </div>
          )}
          <dl className="details">
            <div>
              <dt>Status</dt>
              <dd>
                <StatusBadge status={invoice.status === 'issued' ? 'sent' : invoice.status} label={invoice.status} />
              </dd>
            </div>
            <div>
              <dt>Total</dt>
              <dd>{money(invoice.totalMinor, invoice.currency)}</dd>
            </div>
            <div>
              <dt>Made by</dt>
              <dd>{invoice.source === 'manual' ? 'Generate usage invoice' : 'the monthly close'}</dd>
            </div>
            {invoice.stripeInvoiceId && (
              <div>
                <dt>Stripe invoice</dt>
                <dd>
                  {invoice.stripeHostedInvoiceUrl ? (
                    <a href={invoice.stripeHostedInvoiceUrl} rel="noopener noreferrer">
                      <code className="event-id">{invoice.stripeInvoiceId}</code>
                    </a>
                  ) : (
                    <code className="event-id">{invoice.stripeInvoiceId}</code>
                  )}
                </dd>
              </div>
            )}
          </dl>
          <UsageLines lines={invoice.lines} currency={invoice.currency} />
        </div>
      )}
    </section>
  );
}
