import { describe, expect, it } from 'vitest';
import { addDaysIso, formatIsoDate, isIsoDate, todayIso } from './dates';

describe('isIsoDate', () => {
  it.each(['2030-04-01', '2028-02-29', '1999-12-31'])('%s is a date', (s) => expect(isIsoDate(s)).toBe(true));
  it.each(['2030-02-30', '2027-02-29', '2030-13-01', '2030-00-10', '2030-4-1', '20300401', '', ' 2030-04-01', '2030-04-01T00:00', 'April 1'])(
    '%j is not',
    (s) => expect(isIsoDate(s)).toBe(false),
  );
});

describe('todayIso', () => {
  it('uses the local calendar day', () => {
    expect(todayIso(new Date(2030, 3, 1, 23, 59))).toBe('2030-04-01');
    expect(todayIso(new Date(2030, 0, 9, 0, 0))).toBe('2030-01-09');
  });
});

describe('addDaysIso', () => {
  it('crosses months, years and leap days', () => {
    expect(addDaysIso('2030-03-31', 1)).toBe('2030-04-01');
    expect(addDaysIso('2030-12-31', 1)).toBe('2031-01-01');
    expect(addDaysIso('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDaysIso('2030-03-01', -1)).toBe('2030-02-28');
    expect(addDaysIso('2030-04-01', 30)).toBe('2030-05-01');
  });
  it('refuses an invalid date', () => expect(() => addDaysIso('2030-02-30', 1)).toThrow());
});

describe('formatIsoDate', () => {
  it('formats the calendar day without shifting it', () => {
    expect(formatIsoDate('2030-04-01')).toBe('Apr 1, 2030');
    expect(formatIsoDate('2030-12-31')).toBe('Dec 31, 2030');
  });
  it('returns anything else unchanged', () => expect(formatIsoDate('soon')).toBe('soon'));
});
