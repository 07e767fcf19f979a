import { PLAN_CODE_PATTERN, STRIPE_PRICE_ID_PATTERN } from '@tally/api/schemas';
import { useState, type FormEvent } from 'react';
import { ErrorMessage } from '../components/ErrorMessage';
import { Loading } from '../components/Loading';
import { useMe } from '../components/useMe';
import { money } from '../lib/format';
import { trpc, type RouterOutputs } from '../trpc';

type AdminPlan = RouterOutputs['plan']['adminList'][number];

/** "$15.00 / month", or why there is no amount. */
export function priceLabel(price: AdminPlan['price'], perSeat = false): string {
  if (!price) return 'Price unavailable from Stripe';
  const every = price.intervalCount === 1 ? price.interval : `${price.intervalCount} ${price.interval}s`;
  return `${money(price.unitAmountMinor, price.currency)}${perSeat ? ' per seat' : ''} / ${every}`;
}

export function AdminPlansPage() {
  const me = useMe();
  const plans = trpc.plan.adminList.useQuery();
  const [editing, setEditing] = useState<AdminPlan | 'new' | null>(null);

  return (
    <main className="page">
      <div className="page-head">
        <h1 className="page-title">Plans</h1>
        <p className="muted">
          What customers of {me.data?.adminWorkspace?.name ?? 'your workspace'} can subscribe to. Each plan bills a recurring Stripe Price; the amount and
          interval shown here are read from Stripe, never typed into Tally.
        </p>
      </div>
      {editing ? (
        <PlanForm key={editing === 'new' ? 'new' : editing.id} plan={editing === 'new' ? null : editing} onDone={() => setEditing(null)} />
      ) : (
        <div className="page-actions">
          <button type="button" className="button button-primary" onClick={() => setEditing('new')}>
            New plan
          </button>
        </div>
      )}
      <section className="card card-flush" aria-labelledby="plans-title">
        <div className="card-header card-pad">
          <div className="card-header-title">
            <h2 id="plans-title" className="card-title">
              All plans
            </h2>
          </div>
        </div>
        {plans.isPending && <Loading label="Loading plans" />}
        {plans.isError && <ErrorMessage error={plans.error} title="Could not load plans" onRetry={() => void plans.refetch()} />}
        {plans.data && plans.data.length === 0 && <p className="empty">No plans yet. Create one from a Stripe Price, or set STRIPE_PRODUCT_PRICE_MAP.</p>}
        {plans.data && plans.data.length > 0 && (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Plan</th>
                  <th scope="col">Price (from Stripe)</th>
                  <th scope="col">Trial</th>
                  <th scope="col">Licenses</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {plans.data.map((p) => (
                  <tr key={p.id}>
                    <td>
                      <strong>{p.name}</strong> <code className="event-id">{p.code}</code>
                      {p.description && <div className="muted small">{p.description}</div>}
                    </td>
                    <td>
                      <div>{priceLabel(p.price, p.perSeat)}</div>
                      <div className="muted small">
                        <code className="event-id">{p.stripePriceId}</code>
                        {p.stripeYearlyPriceId && (
                          <>
                            {' '}
                            · yearly <code className="event-id">{p.stripeYearlyPriceId}</code>
                          </>
                        )}
                      </div>
                    </td>
                    <td>{p.trialDays > 0 ? `${p.trialDays} days` : 'None'}</td>
                    <td>{p.issuesLicenses ? 'One per seat' : 'No'}</td>
                    <td>
                      <span className={`badge badge-${p.active ? 'success' : 'neutral'}`}>{p.active ? 'offered' : 'hidden'}</span>
                    </td>
                    <td className="num">
                      <button type="button" className="button button-small" onClick={() => setEditing(p)} aria-label={`Edit ${p.name}`}>
                        Edit
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </main>
  );
}

function PlanForm({ plan, onDone }: { plan: AdminPlan | null; onDone: () => void }) {
  const utils = trpc.useUtils();
  const [code, setCode] = useState(plan?.code ?? '');
  const [name, setName] = useState(plan?.name ?? '');
  const [description, setDescription] = useState(plan?.description ?? '');
  const [features, setFeatures] = useState((plan?.features ?? []).join('\n'));
  const [priceId, setPriceId] = useState(plan?.stripePriceId ?? '');
  const [yearlyPriceId, setYearlyPriceId] = useState(plan?.stripeYearlyPriceId ?? '');
  const [perSeat, setPerSeat] = useState(plan?.perSeat ?? false);
  const [trialDays, setTrialDays] = useState(String(plan?.trialDays ?? 0));
  const [issuesLicenses, setIssuesLicenses] = useState(plan?.issuesLicenses ?? false);
  const [active, setActive] = useState(plan?.active ?? true);
  const [invalid, setInvalid] = useState<string | null>(null);
  const save = trpc.plan.save.useMutation({
    onSuccess: async () => {
      await Promise.all([utils.plan.adminList.invalidate(), utils.plan.list.invalidate()]);
      onDone();
    },
  });

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    save.reset();
    const trial = Number(trialDays);
    if (!PLAN_CODE_PATTERN.test(code)) return setInvalid('The code is lowercase letters, digits, _ or -, like "team".');
    if (!name.trim()) return setInvalid('Give the plan a name customers will see.');
    if (!STRIPE_PRICE_ID_PATTERN.test(priceId.trim())) return setInvalid('The monthly price is a Stripe Price id, like price_1Q…');
    if (yearlyPriceId.trim() && !STRIPE_PRICE_ID_PATTERN.test(yearlyPriceId.trim())) return setInvalid('The yearly price is a Stripe Price id, or empty.');
    if (!Number.isInteger(trial) || trial < 0 || trial > 730) return setInvalid('Trial days are a whole number from 0 to 730.');
    setInvalid(null);
    save.mutate({
      ...(plan ? { planId: plan.id } : {}),
      code,
      name: name.trim(),
      description: description.trim(),
      features: features
        .split('\n')
        .map((f) => f.trim())
        .filter(Boolean),
      stripePriceId: priceId.trim(),
      stripeYearlyPriceId: yearlyPriceId.trim() || null,
      perSeat,
      trialDays: trial,
      issuesLicenses,
      active,
    });
  }

  return (
    <section className="card" aria-labelledby="plan-form-title">
      <h2 id="plan-form-title" className="card-title">
        {plan ? `Edit ${plan.name}` : 'New plan'}
      </h2>
      <form className="form" onSubmit={onSubmit} noValidate>
        <div className="form-grid">
          <div className="field">
            <label htmlFor="plan-code">Code</label>
            <input id="plan-code" type="text" maxLength={40} value={code} onChange={(e) => setCode(e.target.value.toLowerCase())} placeholder="team" />
          </div>
          <div className="field">
            <label htmlFor="plan-name">Name</label>
            <input id="plan-name" type="text" maxLength={80} value={name} onChange={(e) => setName(e.target.value)} placeholder="Team" />
          </div>
          <div className="field">
            <label htmlFor="plan-price">Monthly Stripe Price</label>
            <input id="plan-price" type="text" value={priceId} onChange={(e) => setPriceId(e.target.value)} placeholder="price_…" />
          </div>
          <div className="field">
            <label htmlFor="plan-yearly">Yearly Stripe Price (optional)</label>
            <input id="plan-yearly" type="text" value={yearlyPriceId} onChange={(e) => setYearlyPriceId(e.target.value)} placeholder="price_…" />
          </div>
          <div className="field field-narrow">
            <label htmlFor="plan-trial">Trial days</label>
            <input id="plan-trial" type="number" min={0} max={730} step={1} value={trialDays} onChange={(e) => setTrialDays(e.target.value)} />
          </div>
        </div>
        <div className="field">
          <label htmlFor="plan-description">Description</label>
          <input id="plan-description" type="text" maxLength={500} value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="plan-features">Features, one per line</label>
          <textarea id="plan-features" rows={4} value={features} onChange={(e) => setFeatures(e.target.value)} />
        </div>
        <div className="filters">
          <div className="checkbox">
            <input id="plan-per-seat" type="checkbox" checked={perSeat} onChange={(e) => setPerSeat(e.target.checked)} />
            <label htmlFor="plan-per-seat">Priced per seat</label>
          </div>
          <div className="checkbox">
            <input id="plan-licenses" type="checkbox" checked={issuesLicenses} onChange={(e) => setIssuesLicenses(e.target.checked)} />
            <label htmlFor="plan-licenses">Issues a license key per seat</label>
          </div>
          <div className="checkbox">
            <input id="plan-active" type="checkbox" checked={active} onChange={(e) => setActive(e.target.checked)} />
            <label htmlFor="plan-active">Offered to customers</label>
          </div>
        </div>
        {invalid && (
          <p className="field-error" role="alert">
            {invalid}
          </p>
        )}
        {save.error && <ErrorMessage error={save.error} title="Could not save the plan" />}
        <div className="dialog-actions">
          <button type="button" className="button button-ghost" onClick={onDone}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={save.isPending}>
            {save.isPending ? 'Checking the price in Stripe…' : plan ? 'Save plan' : 'Create plan'}
          </button>
        </div>
      </form>
    </section>
  );
}
