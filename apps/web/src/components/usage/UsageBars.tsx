import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { dayLabel, dayOfMonth, formatCompact, quantityWithUnit } from './format';

/** The accent (styles.css `--accent`); usage.css sets the same on the bars. */
const BAR_FILL = '#4f46e5';

/**
 * The recharts bar chart of UsageChart, in its own module so recharts loads (as its own chunk)
 * only with a page that shows usage. Recharts draws an SVG with presentation attributes and
 * positions its tooltip through the DOM style object, neither of which the CSP's
 * `style-src-attr 'none'` refuses.
 */
export default function UsageBars({ daily, unit }: { daily: { day: string; quantity: number }[]; unit: string }) {
  return (
    <ResponsiveContainer width="100%" height="100%">
      <BarChart data={daily} margin={{ top: 8, right: 8, bottom: 0, left: 0 }} accessibilityLayer={false}>
        <CartesianGrid vertical={false} stroke="#e4e7ec" />
        <XAxis dataKey="day" tickFormatter={dayOfMonth} tickLine={false} axisLine={false} fontSize={12} interval="preserveStartEnd" minTickGap={8} />
        <YAxis tickFormatter={(v: number) => formatCompact(v)} tickLine={false} axisLine={false} fontSize={12} width={44} allowDecimals={false} />
        <Tooltip cursor={{ fill: '#eef2ff' }} isAnimationActive={false} labelFormatter={(day) => dayLabel(String(day))} formatter={(value) => [quantityWithUnit(Number(value), unit), 'Usage']} />
        <Bar dataKey="quantity" fill={BAR_FILL} radius={[3, 3, 0, 0]} maxBarSize={28} isAnimationActive={false} />
      </BarChart>
    </ResponsiveContainer>
  );
}
