import { lazy, Suspense } from 'react';
import { dayLabel, quantityWithUnit } from './format';
import '../../styles/usage.css';

/** Recharts, loaded with the first chart (a chunk of its own, kept out of the main bundle). */
const UsageBars = lazy(() => import('./UsageBars'));

export interface UsageChartProps {
  /** Every day shown, in order, zeros included. */
  daily: ReadonlyArray<{ day: string; quantity: number }>;
  unit: string;
  /** What the chart shows, for screen readers ("Speech-to-text per day"). */
  label: string;
  testId?: string;
}

/** A bar per UTC day (recharts, UsageBars.tsx), with a summary for screen readers beside it. */
export function UsageChart({ daily, unit, label, testId = 'usage-chart' }: UsageChartProps) {
  const busiest = daily.reduce<{ day: string; quantity: number } | null>((best, d) => (d.quantity > (best?.quantity ?? 0) ? d : best), null);
  const summary =
    daily.length === 0
      ? `${label}: no days yet.`
      : `${label}, ${dayLabel(daily[0]!.day)} to ${dayLabel(daily.at(-1)!.day)}: ${busiest ? `busiest ${dayLabel(busiest.day)} with ${quantityWithUnit(busiest.quantity, unit)}` : 'no usage'}.`;
  return (
    <figure className="usage-chart" data-testid={testId}>
      <div className="usage-chart-plot" aria-hidden="true">
        {daily.length > 0 && (
          <Suspense fallback={<div className="usage-chart-loading skeleton" />}>
            <UsageBars daily={daily as { day: string; quantity: number }[]} unit={unit} />
          </Suspense>
        )}
      </div>
      <figcaption className="sr-only">{summary}</figcaption>
    </figure>
  );
}
