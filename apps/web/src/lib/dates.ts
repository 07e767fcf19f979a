/**
 * Calendar dates as the API carries them: `YYYY-MM-DD` strings (a billing record's due date,
 * a manual payment's date), with no time zone. They are never turned into a `Date` at local
 * midnight, which would shift them a day in zones west of UTC.
 */

import { isCalendarDate } from '@tally/api/schemas';

/** Whether `text` is a real calendar date written `YYYY-MM-DD` (2030-02-30 is not): the server's own check. */
export const isIsoDate: (text: string) => boolean = isCalendarDate;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Today in the browser's time zone, `YYYY-MM-DD`. */
export function todayIso(now: Date = new Date()): string {
  return `${pad(now.getFullYear(), 4)}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/** `YYYY-MM-DD` plus `days` calendar days (negative goes back). Throws on an invalid date. */
export function addDaysIso(iso: string, days: number): string {
  if (!isIsoDate(iso)) throw new Error(`not a YYYY-MM-DD date: ${iso}`);
  const [y, m, d] = iso.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d + days));
  return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

const calendarFormat = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeZone: 'UTC' });

/** `2030-04-01` -> "Apr 1, 2030" (the same day everywhere); anything else is returned as is. */
export function formatIsoDate(iso: string): string {
  if (!isIsoDate(iso)) return iso;
  const [y, m, d] = iso.split('-').map(Number) as [number, number, number];
  return calendarFormat.format(new Date(Date.UTC(y, m - 1, d)));
}
