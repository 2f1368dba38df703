import { describe, expect, it } from 'vitest';
import { nextOccurrence, tomorrowAt, wallClock } from '../../src/domain/time';
import { parseFixedOffset } from '../../src/domain/zones';

describe('zoned time', () => {
  it('reads fixed offsets and refuses impossible ones', () => {
    expect(parseFixedOffset('+08:00')).toBe(480);
    expect(parseFixedOffset('-0530')).toBe(-330);
    expect(parseFixedOffset('+15:00')).toBeUndefined();
    expect(parseFixedOffset('Asia/Shanghai')).toBeUndefined();
  });

  it('gives the wall clock in a named zone and in an offset', () => {
    const instant = Date.UTC(2026, 10, 23, 20, 30); // Mon 23 Nov 20:30 UTC
    expect(wallClock(instant, 'Asia/Shanghai')).toEqual({ date: '2026-11-24', hour: 4, minute: 30, weekday: 2 });
    expect(wallClock(instant, '-05:00')).toEqual({ date: '2026-11-23', hour: 15, minute: 30, weekday: 1 });
  });

  it('tomorrow 9:00 is 9:00 local the next day, across the spring DST change', () => {
    // Sat 7 Mar 2026 23:30 in New York (EST, -05:00); DST starts Sun 8 Mar at 02:00.
    const now = Date.UTC(2026, 2, 8, 4, 30);
    expect(new Date(tomorrowAt(now, 'America/New_York', 9)).toISOString()).toBe('2026-03-08T13:00:00.000Z');
    // Early morning: tomorrow is not the 9:00 still to come today.
    const early = Date.UTC(2026, 2, 9, 11, 0); // Mon 9 Mar 07:00 EDT
    expect(new Date(tomorrowAt(early, 'America/New_York', 9)).toISOString()).toBe('2026-03-10T13:00:00.000Z');
    expect(new Date(tomorrowAt(early, '+08:00', 9)).toISOString()).toBe('2026-03-10T01:00:00.000Z');
  });

  it('repeats daily, on workdays and weekly at the anchor’s wall-clock time', () => {
    const anchor = Date.UTC(2026, 10, 27, 1, 30); // Fri 27 Nov 09:30 in Shanghai
    const after = anchor + 1;
    expect(new Date(nextOccurrence(anchor, 'daily', 'Asia/Shanghai', after) as number).toISOString()).toBe('2026-11-28T01:30:00.000Z');
    expect(new Date(nextOccurrence(anchor, 'workdays', 'Asia/Shanghai', after) as number).toISOString()).toBe('2026-11-30T01:30:00.000Z');
    expect(new Date(nextOccurrence(anchor, 'weekly', 'Asia/Shanghai', after) as number).toISOString()).toBe('2026-12-04T01:30:00.000Z');
    expect(nextOccurrence(anchor, 'none', 'Asia/Shanghai', after)).toBeUndefined();
  });

  it('keeps a daily 9:00 at 9:00 local across the autumn DST change', () => {
    const anchor = Date.UTC(2026, 9, 30, 13, 0); // Fri 30 Oct 09:00 EDT
    const first = nextOccurrence(anchor, 'daily', 'America/New_York', Date.UTC(2026, 10, 1, 0, 0)) as number; // after Sat 31 Oct 20:00 EDT
    expect(new Date(first).toISOString()).toBe('2026-11-01T14:00:00.000Z'); // Sun 1 Nov 09:00 EST
  });
});
