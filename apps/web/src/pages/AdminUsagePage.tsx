import { useId } from 'react';
import { Link, useSearchParams } from 'react-router';
import { ErrorMessage } from '../components/ErrorMessage';
import { Loading } from '../components/Loading';
import { UsageDashboardView } from '../components/usage/UsageDashboardView';
import { UsageMeterCard, UsageStat } from '../components/usage/UsageMeterCard';
import { aggregationLabel, billingModeDescription, billingModeLabel, browserPeriod, formatMoney, formatQuantity, PERIOD_PATTERN, periodLabel, priceLabel, quantityWithUnit, recentPeriods } from '../components/usage/format';
import { trpc, type RouterOutputs } from '../trpc';
import '../styles/usage.css';

type Overview = RouterOutputs['usage']['overview'];

const REFRESH_MS = 30_000;
/** Months the period picker offers, the current one first. */
const PICKER_MONTHS = 13;

/**
 * Admin usage (issue 9 item 4): one period across the workspace's customers (a period picker,
 * per-meter totals with daily charts, the top consumers by cost). A consumer opens that
 * customer's own dashboard on the same page (`?customer=<id>`, `usage.dashboardForCustomer`).
 */
export function AdminUsagePage() {
  const [params, setParams] = useSearchParams();
  const customerId = params.get('customer');
  const rawPeriod = params.get('period');
  const period = rawPeriod && PERIOD_PATTERN.test(rawPeriod) ? rawPeriod : undefined;

  if (customerId) return <CustomerUsage customerId={customerId} period={period} />;

  return <OverviewPage period={period} onPeriod={(p) => setParams(p ? { period: p } : {})} />;
}

function OverviewPage({ period, onPeriod }: { period: string | undefined; onPeriod: (period: string | undefined) => void }) {
  const pickerId = useId();
  const overview = trpc.usage.overview.useQuery(period ? { period } : undefined, { refetchInterval: REFRESH_MS, placeholderData: (prev) => prev });
  const current = overview.data?.currentPeriod ?? browserPeriod();
  const shown = period ?? current;
  const options = recentPeriods(current, PICKER_MONTHS);
  if (!options.includes(shown)) options.push(shown);

  return (
    <main className="page">
      <div className="page-head">
        <div className="usage-page-head">
          <h1 className="page-title">Usage</h1>
          <div className="filter">
            <label htmlFor={pickerId}>Period</label>
            <select id={pickerId} value={shown} onChange={(e) => onPeriod(e.target.value === current ? undefined : e.target.value)}>
              {options.map((p) => (
                <option key={p} value={p}>
                  {periodLabel(p)}
                  {p === current ? ' (current)' : ''}
                </option>
              ))}
            </select>
          </div>
        </div>
        <p className="muted">Usage across your customers for one month (UTC), from the daily rollups kept as usage is recorded. Costs round blocks up per customer.</p>
      </div>
      {overview.isPending ? (
        <Loading label="Loading usage" />
      ) : overview.isError && !overview.data ? (
        <ErrorMessage error={overview.error} title="Could not load usage" onRetry={() => void overview.refetch()} />
      ) : (
        <OverviewBody data={overview.data!} />
      )}
    </main>
  );
}

function OverviewBody({ data }: { data: Overview }) {
  const { currency } = data;
  return (
    <>
      <section className="card usage-summary" aria-labelledby="overview-title">
        <h2 id="overview-title" className="card-title">
          {periodLabel(data.period)}
          {data.period === data.currentPeriod ? ' so far' : ''}
        </h2>
        <dl className="usage-stats usage-stats-wide">
          <UsageStat label="Usage cost" value={formatMoney(data.totalMinor, currency)} testId="overview-total" />
          <UsageStat label="Customers with usage" value={formatQuantity(data.customersWithUsage)} testId="overview-customers" />
          <UsageStat label="Meters" value={formatQuantity(data.meters.length)} />
        </dl>
      </section>

      <section className="card card-flush" aria-labelledby="meter-totals-title">
        <div className="card-header card-pad">
          <h2 id="meter-totals-title" className="card-title">
            Per meter
          </h2>
        </div>
        {data.meters.length === 0 ? (
          <p className="empty muted">
            No meters yet. <Link to="/admin/meters">Create one</Link> to start recording usage.
          </p>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="overview-meters">
              <caption className="sr-only">Usage per meter</caption>
              <thead>
                <tr>
                  <th scope="col">Meter</th>
                  <th scope="col">Billing</th>
                  <th scope="col" className="num">
                    Quantity
                  </th>
                  <th scope="col" className="num">
                    Customers
                  </th>
                  <th scope="col" className="num">
                    Cost
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.meters.map((m) => (
                  <tr key={m.meterId} data-testid={`overview-meter-${m.key}`}>
                    <td>
                      <div>{m.displayName}</div>
                      <code className="event-id">{m.key}</code>
                    </td>
                    <td>
                      <div>{billingModeDescription(m.billingMode)}</div>
                      <div className="muted small">{priceLabel(m, currency)}</div>
                    </td>
                    <td className="num">{quantityWithUnit(m.quantity, m.unit)}</td>
                    <td className="num">{formatQuantity(m.customers)}</td>
                    <td className="num amount">{formatMoney(m.costMinor, currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      {data.meters.length > 0 && (
        <div className="usage-meters">
          {data.meters.map((m) => (
            <UsageMeterCard
              key={m.meterId}
              testId={`overview-chart-${m.key}`}
              title={m.displayName}
              unit={m.unit}
              daily={m.daily}
              price={priceLabel(m, currency)}
              badge={<span className="badge badge-neutral">{billingModeLabel(m.billingMode)}</span>}
              stats={
                <>
                  <UsageStat label={aggregationLabel(m.aggregation)} value={quantityWithUnit(m.quantity, m.unit)} />
                  <UsageStat label="Cost" value={formatMoney(m.costMinor, currency)} />
                  <UsageStat label="Customers" value={formatQuantity(m.customers)} />
                </>
              }
            />
          ))}
        </div>
      )}

      <section className="card card-flush" aria-labelledby="top-consumers-title">
        <div className="card-header card-pad">
          <h2 id="top-consumers-title" className="card-title">
            Top consumers
          </h2>
          <span className="muted small">By cost, top {formatQuantity(10)}</span>
        </div>
        {data.topConsumers.length === 0 ? (
          <p className="empty muted">No usage recorded in {periodLabel(data.period)}.</p>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="overview-top-consumers">
              <caption className="sr-only">Top consumers by cost</caption>
              <thead>
                <tr>
                  <th scope="col">Customer</th>
                  <th scope="col">Usage</th>
                  <th scope="col" className="num">
                    Cost
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.topConsumers.map((c) => (
                  <tr key={c.customerId}>
                    <td>
                      <Link to={{ search: `?customer=${encodeURIComponent(c.customerId)}` }} className="event-type" data-testid="top-consumer-link">
                        {c.name}
                      </Link>
                      {c.email && <div className="muted small">{c.email}</div>}
                    </td>
                    <td>
                      <ul className="usage-lines">
                        {c.meters.map((m) => {
                          const meter = data.meters.find((x) => x.meterId === m.meterId);
                          return (
                            <li key={m.meterId}>
                              <span>{meter?.displayName ?? m.key}</span> <span className="muted">{meter ? quantityWithUnit(m.quantity, meter.unit) : formatQuantity(m.quantity)}</span>
                            </li>
                          );
                        })}
                      </ul>
                    </td>
                    <td className="num amount">{formatMoney(c.costMinor, currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

/** One customer's dashboard, as the customer sees it (current period), for an admin. */
function CustomerUsage({ customerId, period }: { customerId: string; period: string | undefined }) {
  const dashboard = trpc.usage.dashboardForCustomer.useQuery({ customerId }, { refetchInterval: REFRESH_MS });
  const back = period ? `/admin/usage?period=${period}` : '/admin/usage';
  return (
    <main className="page">
      <div className="page-head">
        <Link to={back} className="link-subtle">
          ← All usage
        </Link>
        <div className="usage-page-head">
          <h1 className="page-title">{dashboard.data ? `Usage: ${dashboard.data.customerName}` : 'Customer usage'}</h1>
          <Link to={`/admin/customers/${encodeURIComponent(customerId)}`} className="button button-small button-ghost">
            Customer details
          </Link>
        </div>
        <p className="muted">This customer’s dashboard, as they see it on their Usage page.</p>
      </div>
      {dashboard.isPending ? (
        <Loading label="Loading the customer’s usage" />
      ) : dashboard.isError && !dashboard.data ? (
        <ErrorMessage error={dashboard.error} title="Could not load this customer’s usage" onRetry={() => void dashboard.refetch()} />
      ) : (
        <UsageDashboardView data={dashboard.data!} audience="admin" />
      )}
    </main>
  );
}
