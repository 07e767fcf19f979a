/** Labels for the usage dashboards: quantities, units, prices, periods and days (UTC). */
import { formatMinor } from '@tally/api/schemas';
import { LOCALE } from '../../lib/format';

const whole = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat(LOCALE, { notation: 'compact', maximumFractionDigits: 1 });

/** An integer quantity with separators: 12,500. */
export const formatQuantity = (n: number): string => whole.format(n);
/** A short axis label: 12.5K. */
export const formatCompact = (n: number): string => compact.format(n);

/** Money in minor units, e.g. (150, 'usd') -> "$1.50". */
export const formatMoney = (amountMinor: number, currency: string): string => formatMinor(amountMinor, currency, LOCALE);

/** A unit for a quantity: "1 word", "2 words" (units are stored singular). */
export function unitLabel(unit: string, quantity: number): string {
  if (quantity === 1 || unit.length === 0 || /s$/i.test(unit)) return unit;
  return /[^aeiou]y$/i.test(unit) ? `${unit.slice(0, -1)}ies` : `${unit}s`;
}

/** "12,500 words". */
export const quantityWithUnit = (quantity: number, unit: string): string => `${formatQuantity(quantity)} ${unitLabel(unit, quantity)}`;

/** A meter's price: "$1.00 per 1,000 words", "$0.10 per call". */
export function priceLabel(m: { priceMinor: number; blockSize: number; unit: string }, currency: string): string {
  const per = m.blockSize === 1 ? m.unit : `${formatQuantity(m.blockSize)} ${unitLabel(m.unit, m.blockSize)}`;
  return `${formatMoney(m.priceMinor, currency)} per ${per}`;
}

/** How a meter is billed, in a customer's words. */
export function billingModeLabel(mode: string): string {
  if (mode === 'prepaid') return 'Prepaid';
  if (mode === 'stripe_meter') return 'Subscription';
  return 'Invoiced';
}

/** How a meter is billed, in full (tables). */
export function billingModeDescription(mode: string): string {
  if (mode === 'prepaid') return 'Prepaid: drawn from the balance';
  if (mode === 'stripe_meter') return 'Stripe meter: billed on the subscription';
  return 'Invoiced at month end';
}

/** What a meter's quantity means for the period: its aggregation. */
export function aggregationLabel(aggregation: string): string {
  if (aggregation === 'max') return 'Peak this period';
  return 'Used this period';
}

const monthYear = new Intl.DateTimeFormat(LOCALE, { month: 'long', year: 'numeric', timeZone: 'UTC' });
const monthDay = new Intl.DateTimeFormat(LOCALE, { month: 'short', day: 'numeric', timeZone: 'UTC' });

/** `2026-11` -> "November 2026". */
export const periodLabel = (period: string): string => monthYear.format(new Date(`${period}-01T00:00:00Z`));
/** `2026-11-03` -> "Nov 3". */
export const dayLabel = (day: string): string => monthDay.format(new Date(`${day}T00:00:00Z`));
/** `2026-11-03` -> "3" (axis ticks). */
export const dayOfMonth = (day: string): string => String(Number(day.slice(8, 10)));

/** The `YYYY-MM` periods from `latest` back, `count` of them. */
export function recentPeriods(latest: string, count: number): string[] {
  const [y, m] = latest.split('-').map(Number) as [number, number];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const d = new Date(Date.UTC(y, m - 1 - i, 1));
    out.push(d.toISOString().slice(0, 7));
  }
  return out;
}

/** The current UTC period of the browser's clock (before the server answers). */
export const browserPeriod = (): string => new Date().toISOString().slice(0, 7);

export const PERIOD_PATTERN = /^\d{4}-(0[1-9]|1[0-2])$/;
