import type { RouterOutputs } from '../../trpc';
import { StatusBadge } from '../StatusBadge';
import { UsageMeterCard, UsageStat } from './UsageMeterCard';
import { aggregationLabel, billingModeDescription, billingModeLabel, dayLabel, formatMoney, formatQuantity, periodLabel, priceLabel, quantityWithUnit, unitLabel } from './format';
import '../../styles/usage.css';

export type UsageDashboardData = RouterOutputs['usage']['dashboard'];

/**
 * One customer's usage dashboard (`usage.dashboard` or, for admins, `usage.dashboardForCustomer`):
 * a card per meter for the current period (quantity, cost so far, projected cost, daily chart),
 * the prepaid runway, and past periods with their invoices.
 */
export function UsageDashboardView({ data, audience = 'customer' }: { data: UsageDashboardData; audience?: 'customer' | 'admin' }) {
  const { currency } = data;
  const lastDay = new Date(data.periodEnd.getTime() - 86_400_000).toISOString().slice(0, 10);
  const showPrepaid = data.meters.some((m) => m.billingMode === 'prepaid') || data.prepaid.balanceMinor !== 0;
  const costSoFar = data.meters.reduce((s, m) => s + m.costSoFarMinor, 0);
  const projected = data.meters.reduce((s, m) => s + m.projectedCostMinor, 0);
  const your = audience === 'customer' ? 'Your' : 'The customer’s';

  return (
    <>
      <section className="card usage-summary" aria-labelledby="usage-period-title">
        <div className="card-header">
          <div>
            <h2 id="usage-period-title" className="card-title">
              {periodLabel(data.period)}
            </h2>
            <p className="muted small">
              {dayLabel(data.period + '-01')} – {dayLabel(lastDay)} (UTC). Projections assume the rest of the month goes like it has so far.
            </p>
          </div>
        </div>
        <dl className="usage-stats usage-stats-wide">
          <UsageStat label="Cost so far" value={formatMoney(costSoFar, currency)} testId="usage-total-cost" />
          <UsageStat label="Projected for the month" value={formatMoney(projected, currency)} testId="usage-total-projected" />
          {showPrepaid && (
            <UsageStat
              label="Prepaid balance"
              value={formatMoney(data.prepaid.balanceMinor, currency)}
              testId="usage-balance"
              note={<RunwayText prepaid={data.prepaid} currency={currency} />}
            />
          )}
        </dl>
      </section>

      {data.meters.length === 0 ? (
        <section className="card">
          <p className="empty muted">No meters are set up yet, so there is no usage to show.</p>
        </section>
      ) : (
        <div className="usage-meters">
          {data.meters.map((m) => (
            <UsageMeterCard
              key={m.meterId}
              testId={`usage-meter-${m.key}`}
              title={m.displayName}
              unit={m.unit}
              daily={m.daily}
              price={priceLabel(m, currency)}
              badge={
                <span className="badge badge-neutral" title={billingModeDescription(m.billingMode)}>
                  {billingModeLabel(m.billingMode)}
                </span>
              }
              stats={
                <>
                  <UsageStat label={aggregationLabel(m.aggregation)} value={quantityWithUnit(m.quantity, m.unit)} testId="usage-quantity" />
                  <UsageStat label={m.billingMode === 'prepaid' ? 'Charged so far' : 'Cost so far'} value={formatMoney(m.costSoFarMinor, currency)} testId="usage-cost" />
                  <UsageStat
                    label="Projected"
                    value={formatMoney(m.projectedCostMinor, currency)}
                    testId="usage-projected"
                    note={`about ${quantityWithUnit(m.projectedQuantity, m.unit)}`}
                  />
                </>
              }
            />
          ))}
        </div>
      )}

      <section className="card card-flush" aria-labelledby="usage-past-title">
        <div className="card-header card-pad">
          <h2 id="usage-past-title" className="card-title">
            Past periods
          </h2>
        </div>
        {data.pastPeriods.length === 0 ? (
          <p className="empty muted">No usage in earlier months yet.</p>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="usage-past-periods">
              <caption className="sr-only">{your} usage in earlier months</caption>
              <thead>
                <tr>
                  <th scope="col">Period</th>
                  <th scope="col">Usage</th>
                  <th scope="col" className="num">
                    Cost
                  </th>
                  <th scope="col">Invoice</th>
                </tr>
              </thead>
              <tbody>
                {data.pastPeriods.map((p) => (
                  <tr key={p.period} data-testid={`usage-past-${p.period}`}>
                    <td className="nowrap">{periodLabel(p.period)}</td>
                    <td>
                      <ul className="usage-lines">
                        {p.meters.map((m) => (
                          <li key={m.meterId}>
                            <span>{m.displayName}</span> <span className="muted">{quantityWithUnit(m.quantity, m.unit)}</span>
                            <span className="muted"> · {formatMoney(m.costMinor, currency)}</span>
                          </li>
                        ))}
                      </ul>
                    </td>
                    <td className="num amount">{formatMoney(p.totalMinor, currency)}</td>
                    <td>
                      {p.invoice ? (
                        <div className="usage-invoice">
                          <StatusBadge status={p.invoice.status} />
                          <span className="muted small">{formatMoney(p.invoice.totalMinor, currency)}</span>
                          {p.invoice.hostedInvoiceUrl && (
                            <a className="button button-small" href={p.invoice.hostedInvoiceUrl} rel="noopener noreferrer" aria-label={`View the invoice for ${periodLabel(p.period)}`}>
                              View invoice
                            </a>
                          )}
                        </div>
                      ) : (
                        <span className="muted small">{p.meters.every((m) => m.costMinor === 0) ? 'Nothing to bill' : 'Not invoiced'}</span>
                      )}
                    </td>
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

/** "Lasts about 12 days at $1.20 a day (the last 7 days' average)." */
function RunwayText({ prepaid, currency }: { prepaid: UsageDashboardData['prepaid']; currency: string }) {
  if (prepaid.runwayDays === null) return <span data-testid="usage-runway">No prepaid usage in the last 7 days.</span>;
  const rate = `${formatMoney(prepaid.burnPerDayMinor, currency)} a day`;
  if (prepaid.runwayDays === 0) return <span data-testid="usage-runway" className="text-danger">Used up at {rate}: top up to keep going.</span>;
  return (
    <span data-testid="usage-runway">
      Lasts about {formatQuantity(prepaid.runwayDays)} {unitLabel('day', prepaid.runwayDays)} at {rate} (the last 7 days’ average).
    </span>
  );
}
