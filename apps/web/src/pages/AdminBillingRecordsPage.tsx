import { BILLING_RECORD_MAX_MINOR, BILLING_RECORD_MIN_MINOR } from '@tally/api/schemas';
import { useId, useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { AdminBillingRecordsCard } from '../components/AdminBillingRecordsCard';
import { RECORD_STATUS_LABELS, RECORD_STATUS_VALUES, type RecordStatusValue } from '../components/BillingRecordParts';
import { ErrorMessage } from '../components/ErrorMessage';
import { StatusFilter } from '../components/StatusFilter';
import { useMe } from '../components/useMe';
import { currencyFractionDigits, parseAmountToMinor } from '../lib/amount';
import { addDaysIso, formatIsoDate, isIsoDate, todayIso } from '../lib/dates';
import { money } from '../lib/format';
import { trpc } from '../trpc';


export function AdminBillingRecordsPage() {
  const me = useMe();
  const [params] = useSearchParams();
  const [status, setStatus] = useState<RecordStatusValue | ''>('');
  const [overdueOnly, setOverdueOnly] = useState(false);
  const overdueId = useId();
  return (
    <main className="page">
      <div className="page-head">
        <h1 className="page-title">Billing records</h1>
        <p className="muted">
          What {me.data?.adminWorkspace?.name ?? 'your workspace'} bills its customers. A customer pays a record with Stripe from their Billing page
          or its pay link; mark it paid yourself when a bank transfer, cash or a check arrives.
        </p>
      </div>
      <CreateRecordCard key={params.get('customerId') ?? ''} initialCustomerId={params.get('customerId') ?? ''} />
      <AdminBillingRecordsCard
        title="Records"
        headerActions={
          <div className="filters">
            <StatusFilter label="Status" values={RECORD_STATUS_VALUES} labels={RECORD_STATUS_LABELS} value={status} onChange={setStatus} />
            <div className="checkbox">
              <input id={overdueId} type="checkbox" checked={overdueOnly} onChange={(e) => setOverdueOnly(e.target.checked)} />
              <label htmlFor={overdueId}>Overdue only</label>
            </div>
          </div>
        }
        status={status}
        overdue={overdueOnly}
        emptyText={overdueOnly ? 'Nothing overdue.' : status ? `No ${RECORD_STATUS_LABELS[status].toLowerCase()} records.` : 'No billing records yet. Create one above.'}
      />
    </main>
  );
}

function CreateRecordCard({ initialCustomerId }: { initialCustomerId: string }) {
  const me = useMe();
  const workspaceCurrency = me.data?.adminWorkspace?.currency ?? 'usd';
  const customers = trpc.customers.list.useQuery({ limit: 100 });
  const [customerId, setCustomerId] = useState(initialCustomerId);
  const [description, setDescription] = useState('');
  const [amountText, setAmountText] = useState('');
  const [currency, setCurrency] = useState(workspaceCurrency);
  const [dueDate, setDueDate] = useState(() => addDaysIso(todayIso(), 30));
  const [invalid, setInvalid] = useState<string | null>(null);
  const [created, setCreated] = useState<string | null>(null);
  const utils = trpc.useUtils();
  const create = trpc.billingRecord.create.useMutation({
    onSuccess: async (record) => {
      setCreated(`${record.description} for ${record.customerName}: ${money(record.amountMinor, record.currency)}, due ${formatIsoDate(record.dueDate)}.`);
      setDescription('');
      setAmountText('');
      await Promise.all([utils.billingRecord.invalidate(), utils.customers.invalidate()]);
    },
  });
  const code = currency.trim().toLowerCase();
  const validCurrency = /^[a-z]{3}$/.test(code);
  const digits = currencyFractionDigits(validCurrency ? code : workspaceCurrency);

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    setCreated(null);
    create.reset();
    if (!customerId) return setInvalid('Choose a customer.');
    if (!description.trim()) return setInvalid('Describe what is billed, like "March retainer".');
    if (!validCurrency) return setInvalid('Currency is a three-letter ISO code, like USD.');
    const amount = parseAmountToMinor(amountText, digits);
    if (!amount.ok) return setInvalid(amount.error);
    if (amount.amountMinor < BILLING_RECORD_MIN_MINOR) return setInvalid('The amount must be more than zero.');
    if (amount.amountMinor > BILLING_RECORD_MAX_MINOR) return setInvalid(`The amount must be at most ${money(BILLING_RECORD_MAX_MINOR, code)}.`);
    if (!isIsoDate(dueDate)) return setInvalid('Enter a due date.');
    setInvalid(null);
    create.mutate({ customerId, description: description.trim(), amountMinor: amount.amountMinor, currency: code, dueDate });
  }

  const options = customers.data?.items ?? [];
  return (
    <section className="card" aria-labelledby="create-record-title">
      <h2 id="create-record-title" className="card-title">
        New billing record
      </h2>
      {customers.isError && <ErrorMessage error={customers.error} title="Could not load customers" onRetry={() => void customers.refetch()} />}
      <form className="form" onSubmit={onSubmit} noValidate>
        <div className="form-grid">
          <div className="field">
            <label htmlFor="record-customer">Customer</label>
            <select id="record-customer" value={customerId} onChange={(e) => setCustomerId(e.target.value)} disabled={customers.isPending}>
              <option value="">{customers.isPending ? 'Loading…' : options.length ? 'Choose a customer' : 'No customers yet'}</option>
              {options.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                  {c.email ? ` (${c.email})` : ''}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="record-description">Description</label>
            <input id="record-description" type="text" maxLength={500} value={description} onChange={(e) => setDescription(e.target.value)} placeholder="March retainer" />
          </div>
          <div className="field">
            <label htmlFor="record-amount">Amount</label>
            <div className="money-input">
              <span className="money-input-prefix" aria-hidden="true">
                {validCurrency ? code.toUpperCase() : '—'}
              </span>
              <input
                id="record-amount"
                type="text"
                inputMode="decimal"
                autoComplete="off"
                placeholder={digits ? '1200.00' : '1200'}
                value={amountText}
                onChange={(e) => setAmountText(e.target.value)}
              />
            </div>
          </div>
          <div className="field field-narrow">
            <label htmlFor="record-currency">Currency</label>
            <input id="record-currency" type="text" maxLength={3} value={currency.toUpperCase()} onChange={(e) => setCurrency(e.target.value.toLowerCase())} />
          </div>
          <div className="field">
            <label htmlFor="record-due">Due date</label>
            <input id="record-due" type="date" required value={dueDate} onChange={(e) => setDueDate(e.target.value)} />
          </div>
        </div>
        {invalid && (
          <p className="field-error" role="alert">
            {invalid}
          </p>
        )}
        {create.error && <ErrorMessage error={create.error} title="Could not create the record" />}
        {created && (
          <div className="alert alert-success" role="status">
            <div>
              <strong className="alert-title">Billing record created</strong>
              <span>{created}</span>
            </div>
          </div>
        )}
        <button type="submit" className="button button-primary" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create record'}
        </button>
      </form>
    </section>
  );
}
