import { useId, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { DateTime } from '../components/DateTime';
import { ErrorMessage } from '../components/ErrorMessage';
import { LoadMore } from '../components/LoadMore';
import { Loading } from '../components/Loading';
import { useMe } from '../components/useMe';
import { money } from '../lib/format';
import { useDebounced } from '../lib/use-debounced';
import { trpc } from '../trpc';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function AdminCustomersPage() {
  const me = useMe();
  const searchId = useId();
  const [search, setSearch] = useState('');
  const query = useDebounced(search.trim());
  const customers = trpc.customers.list.useInfiniteQuery(
    { search: query || undefined, limit: 25 },
    { getNextPageParam: (p) => p.nextCursor, placeholderData: (prev) => prev },
  );
  const items = customers.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <main className="page">
      <div className="page-head">
        <h1 className="page-title">Customers</h1>
        <p className="muted">
          The customers {me.data?.adminWorkspace?.name ?? 'your workspace'} bills. A customer needs no sign-in to be billed; invite people as
          members to let them see and pay its records.
        </p>
      </div>
      <CreateCustomerCard />
      <section className="card card-flush" aria-labelledby="customers-title">
        <div className="card-header card-pad">
          <h2 id="customers-title" className="card-title">
            All customers
          </h2>
          <div className="filter">
            <label htmlFor={searchId}>Search</label>
            <input id={searchId} type="search" placeholder="Name or email" maxLength={100} value={search} onChange={(e) => setSearch(e.target.value)} />
          </div>
        </div>
        {customers.isPending ? (
          <Loading label="Loading customers" />
        ) : customers.isError && !customers.data ? (
          <div className="card-pad">
            <ErrorMessage error={customers.error} onRetry={() => void customers.refetch()} />
          </div>
        ) : items.length === 0 ? (
          <p className="empty muted">{query ? `No customer matches “${query}”.` : 'No customers yet. Create the first one above.'}</p>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <caption className="sr-only">Customers</caption>
              <thead>
                <tr>
                  <th scope="col">Customer</th>
                  <th scope="col" className="num">
                    Balance
                  </th>
                  <th scope="col" className="num">
                    Open records
                  </th>
                  <th scope="col">Stripe customer</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {items.map((c) => (
                  <tr key={c.id}>
                    <td>
                      <Link to={`/admin/customers/${c.id}`} className="event-type">
                        {c.name}
                      </Link>
                      <div className="muted small">{c.email ?? 'No billing email'}</div>
                    </td>
                    <td className="num amount">
                      {c.balances.length ? c.balances.map((b) => <div key={b.currency}>{money(b.amountMinor, b.currency)}</div>) : <span className="muted">—</span>}
                    </td>
                    <td className="num">{c.openRecordCount}</td>
                    <td>{c.stripeCustomerId ? <code className="event-id">{c.stripeCustomerId}</code> : <span className="muted">—</span>}</td>
                    <td className="nowrap">
                      <DateTime value={c.createdAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <LoadMore query={customers} label="Load more customers" small />
      </section>
    </main>
  );
}

function CreateCustomerCard() {
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);
  const utils = trpc.useUtils();
  const create = trpc.customers.create.useMutation({
    onSuccess: async ({ id }) => {
      await utils.customers.list.invalidate();
      navigate(`/admin/customers/${id}`);
    },
  });
  function onSubmit(e: FormEvent) {
    e.preventDefault();
    const address = email.trim();
    if (!name.trim()) return setInvalid('Enter the customer’s name.');
    if (address && !EMAIL.test(address)) return setInvalid('Enter a valid billing email, or leave it empty.');
    setInvalid(null);
    create.mutate({ name: name.trim(), email: address || null });
  }
  return (
    <section className="card" aria-labelledby="create-customer-title">
      <h2 id="create-customer-title" className="card-title">
        New customer
      </h2>
      <form className="form" onSubmit={onSubmit} noValidate>
        <div className="form-grid">
          <div className="field">
            <label htmlFor="customer-name">Name</label>
            <input id="customer-name" type="text" maxLength={200} value={name} onChange={(e) => setName(e.target.value)} placeholder="Acme Corp." />
          </div>
          <div className="field">
            <label htmlFor="customer-email">Billing email (optional)</label>
            <input id="customer-email" type="email" maxLength={254} value={email} onChange={(e) => setEmail(e.target.value)} placeholder="billing@acme.example" />
          </div>
        </div>
        {invalid && (
          <p className="field-error" role="alert">
            {invalid}
          </p>
        )}
        {create.error && <ErrorMessage error={create.error} title="Could not create the customer" />}
        <button type="submit" className="button button-primary" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create customer'}
        </button>
      </form>
    </section>
  );
}
