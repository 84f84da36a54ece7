import { describe, expect, it } from 'vitest';
import { calendarDaysBetween, localDate, startOfLocalDate } from './time';

describe('time zone helpers', () => {
  it('finds the start of a local date', () => {
    expect(startOfLocalDate('2026-03-10', 'UTC')).toBe('2026-03-10T00:00:00.000Z');
    expect(startOfLocalDate('2026-03-10', 'Europe/Berlin')).toBe('2026-03-09T23:00:00.000Z');
    expect(startOfLocalDate('2026-07-10', 'America/New_York')).toBe('2026-07-10T04:00:00.000Z');
  });

  it('counts calendar days on the local wall calendar', () => {
    const a = new Date('2026-03-04T22:30:00Z');
    const b = new Date('2026-03-05T01:00:00Z');
    expect(localDate(a, 'UTC')).toBe('2026-03-04');
    expect(calendarDaysBetween(a, b, 'UTC')).toBe(1);
    expect(calendarDaysBetween(a, b, 'Asia/Tokyo')).toBe(0);
  });
});
