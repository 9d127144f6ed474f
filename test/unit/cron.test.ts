import { describe, expect, it } from 'vitest';
import { CronSyntaxError, cronMatches, cronOccurrences, fixedOffsetMinutes, isTimeZone, parseCron } from '../../shared/domain/cron';

describe('cron in a time zone', () => {
  it('fires the default nightly run at 02:00 Beijing time, which is 18:00 UTC the day before', () => {
    const c = parseCron('0 2 * * *');
    const day = cronOccurrences(c, 'Asia/Shanghai', Date.UTC(2026, 11, 6), Date.UTC(2026, 11, 7));
    expect(day.map((t) => new Date(t).toISOString())).toEqual(['2026-12-06T18:00:00.000Z']);
    expect(cronMatches(c, Date.UTC(2026, 11, 6, 18, 0, 30), 'Asia/Shanghai')).toBe(true);
    expect(cronMatches(c, Date.UTC(2026, 11, 6, 2, 0), 'Asia/Shanghai')).toBe(false);
  });

  it('supports lists, ranges, steps and weekdays (7 = Sunday)', () => {
    const c = parseCron('*/15 9-17 * * 1-5');
    // Monday 7 Dec 2026 in UTC: 9:00-17:45 every 15 minutes = 36 runs.
    expect(cronOccurrences(c, 'UTC', Date.UTC(2026, 11, 7), Date.UTC(2026, 11, 8))).toHaveLength(36);
    expect(cronOccurrences(c, 'UTC', Date.UTC(2026, 11, 6), Date.UTC(2026, 11, 7))).toHaveLength(0); // Sunday
    expect(parseCron('0 0 * * 7').daysOfWeek.has(0)).toBe(true);
  });

  it('names the field at fault', () => {
    expect(() => parseCron('0 25 * * *')).toThrow(CronSyntaxError);
    expect(() => parseCron('0 25 * * *')).toThrow(/hour/);
    expect(() => parseCron('0 2 * *')).toThrow(/5 fields/);
    expect(() => parseCron('0 2 L * *')).toThrow(/day of month/);
  });

  it('tells fixed-offset zones from zones with daylight saving', () => {
    expect(fixedOffsetMinutes('Asia/Shanghai')).toBe(480);
    expect(fixedOffsetMinutes('UTC')).toBe(0);
    expect(fixedOffsetMinutes('Europe/Berlin')).toBeUndefined();
    expect(isTimeZone('Asia/Shanghai')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});
