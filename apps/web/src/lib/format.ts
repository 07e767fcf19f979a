import { formatMinor } from '@tally/api/schemas';

/** One locale for every amount and date, so labels ("$5.00") match what people type. */
export const LOCALE = 'en-US';

/** Minor units in a currency, e.g. (500, 'usd') -> "$5.00". */
export function money(amountMinor: number, currency: string): string {
  return formatMinor(amountMinor, currency, LOCALE);
}

/** A signed amount for ledgers: "+$5.00" / "-$1.20". */
export function signedMoney(amountMinor: number, currency: string): string {
  const abs = money(Math.abs(amountMinor), currency);
  if (amountMinor > 0) return `+${abs}`;
  if (amountMinor < 0) return `\u2212${abs}`;
  return abs;
}

const dateTime = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeStyle: 'short' });

/** Format a timestamp (a `Date` from the API via superjson; strings and ms also accepted). */
export function formatDateTime(value: Date | string | number | null | undefined): string {
  if (value === null || value === undefined) return '\u2014';
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? '\u2014' : dateTime.format(d);
}

/** ISO form for `<time dateTime>`. */
export function isoDateTime(value: Date | string | number | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

const dateOnly = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium' });

/** A timestamp's day in the browser's zone ("Apr 1, 2030"), for renewals and trial ends. */
export function formatDate(value: Date | string | number | null | undefined): string {
  if (value === null || value === undefined) return '\u2014';
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? '\u2014' : dateOnly.format(d);
}
