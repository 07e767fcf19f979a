/**
 * Usage periods are calendar months in UTC, written `YYYY-MM`; rollup days are UTC dates
 * `YYYY-MM-DD`. A workspace accepts events for the current month and, until it is closed, the
 * month before (so an event from 23:59 on the 31st that arrives after midnight still counts);
 * anything older, or for a period already closing or closed, is refused, never moved.
 */

const PERIOD = /^(\d{4})-(0[1-9]|1[0-2])$/;

const DAY_MS = 86_400_000;
/** The last few UTC days formatted (ingestion asks for the same few days thousands of times a second). */
const dayNames = new Map<number, string>();

/** `YYYY-MM-DD` of a time, in UTC. */
export function dayOf(at: Date): string {
  const n = Math.floor(at.getTime() / DAY_MS);
  let name = dayNames.get(n);
  if (name === undefined) {
    name = at.toISOString().slice(0, 10);
    if (dayNames.size >= 64) dayNames.clear();
    dayNames.set(n, name);
  }
  return name;
}

/** `YYYY-MM` of a time, in UTC. */
export function periodOf(at: Date): string {
  return dayOf(at).slice(0, 7);
}

/** Whether `s` is a `YYYY-MM` period (years 1970..9999). */
export function isPeriod(s: string): boolean {
  return PERIOD.test(s) && s >= '1970-01';
}

/** `{ start, end }` of a period: start inclusive, end exclusive (the next month's first instant), UTC. @throws RangeError for a malformed period. */
export function periodBounds(period: string): { start: Date; end: Date } {
  const m = PERIOD.exec(period);
  if (!m) throw new RangeError(`period must be YYYY-MM, got ${JSON.stringify(period)}`);
  const year = Number(m[1]);
  const month = Number(m[2]) - 1;
  return { start: new Date(Date.UTC(year, month, 1)), end: new Date(Date.UTC(year, month + 1, 1)) };
}

/** The period before `period` (`2026-01` -> `2025-12`). */
export function previousPeriod(period: string): string {
  const { start } = periodBounds(period);
  return periodOf(new Date(start.getTime() - 1));
}

/** The period after `period`. */
export function nextPeriod(period: string): string {
  return periodOf(periodBounds(period).end);
}

/** Every UTC day (`YYYY-MM-DD`) of a period, in order. */
export function daysOf(period: string): string[] {
  const { start, end } = periodBounds(period);
  const out: string[] = [];
  for (let t = start.getTime(); t < end.getTime(); t += 86_400_000) out.push(dayOf(new Date(t)));
  return out;
}

/** How far in the future an event's `occurredAt` may be (clock skew between servers): 5 minutes. */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;
