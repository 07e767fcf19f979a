import type { ReactNode } from 'react';
import { UsageChart } from './UsageChart';
import { quantityWithUnit } from './format';
import '../../styles/usage.css';

/** One figure of a meter card: a label and a value (with an optional note under it). */
export function UsageStat({ label, value, note, testId }: { label: string; value: ReactNode; note?: ReactNode; testId?: string }) {
  return (
    <div className="usage-stat">
      <dt>{label}</dt>
      <dd data-testid={testId}>{value}</dd>
      {note && <dd className="usage-stat-note muted small">{note}</dd>}
    </div>
  );
}

/**
 * A meter's card: its name and how it is billed, two or three figures, and a daily chart.
 * `testId` names the card (`usage-meter-<key>`); figures inside carry their own ids.
 */
export function UsageMeterCard({
  title,
  badge,
  price,
  stats,
  daily,
  unit,
  testId,
}: {
  title: string;
  badge: ReactNode;
  price: string;
  stats: ReactNode;
  daily: ReadonlyArray<{ day: string; quantity: number }>;
  unit: string;
  testId: string;
}) {
  const total = daily.reduce((s, d) => s + d.quantity, 0);
  return (
    <section className="card usage-meter" data-testid={testId} aria-label={title}>
      <div className="usage-meter-head">
        <h2 className="card-title">{title}</h2>
        {badge}
      </div>
      <dl className="usage-stats">{stats}</dl>
      <UsageChart daily={daily} unit={unit} label={`${title} per day`} />
      <p className="muted small usage-meter-foot">
        {price}
        {daily.length > 0 && total === 0 && <> · No usage yet this period.</>}
        {daily.length > 0 && total > 0 && <> · {quantityWithUnit(total, unit)} charted</>}
      </p>
    </section>
  );
}
