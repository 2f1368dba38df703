import { Cron } from 'croner';
import { ZONE_CACHE_LIMIT, boundedMemo, canonicalZone, parseFixedOffset } from './zones';

/**
 * Time in people's zones. Instants are UTC milliseconds; a zone is an IANA name (what Feishu's callbacks carry)
 * or a fixed offset such as "+08:00" (what a picker value carries when no name is known). Calendar rules, DST
 * included, are croner's: it is given the zone and asked for the next matching minute.
 */

export const REPEATS = ['none', 'daily', 'workdays', 'weekly'] as const;
export type Repeat = (typeof REPEATS)[number];

/**
 * Every zone reaching croner or Intl here is canonical: croner keeps a formatter per zone string it is given, for
 * the life of the process, so a spelling per caller would grow it without end.
 */
function canonical(zone: string): string {
  const name = canonicalZone(zone);
  if (name === undefined) throw new RangeError(`not a time zone: ${JSON.stringify(zone.slice(0, 80))}`);
  return name;
}

function cronIn(pattern: string, zone: string): Cron {
  const offset = parseFixedOffset(zone);
  return offset === undefined ? new Cron(pattern, { timezone: canonical(zone), paused: true }) : new Cron(pattern, { utcOffset: offset, paused: true });
}

const wallClockFormatter = boundedMemo(
  ZONE_CACHE_LIMIT,
  (zone: string) =>
    new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
      hourCycle: 'h23',
    }),
);

/** Wall-clock fields of an instant in a zone. */
export function wallClock(ms: number, zone: string): { date: string; hour: number; minute: number; weekday: number } {
  const offset = parseFixedOffset(zone);
  if (offset !== undefined) {
    const shifted = new Date(ms + offset * 60_000);
    return {
      date: shifted.toISOString().slice(0, 10),
      hour: shifted.getUTCHours(),
      minute: shifted.getUTCMinutes(),
      weekday: shifted.getUTCDay(),
    };
  }
  const parts = wallClockFormatter(canonical(zone)).formatToParts(ms);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return {
    date: `${part('year')}-${part('month')}-${part('day')}`,
    hour: Number(part('hour')),
    minute: Number(part('minute')),
    weekday: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(part('weekday')),
  };
}

/**
 * The next time a repeating reminder fires after `after`: at the anchor's wall-clock time in `zone`, every day,
 * every Monday to Friday, or every week on the anchor's weekday. Undefined for `none`.
 */
export function nextOccurrence(anchor: number, repeat: Repeat, zone: string, after: number): number | undefined {
  if (repeat === 'none') return undefined;
  const { hour, minute, weekday } = wallClock(anchor, zone);
  const days = repeat === 'daily' ? '*' : repeat === 'workdays' ? '1-5' : String(weekday);
  return cronIn(`${minute} ${hour} * * ${days}`, zone).nextRun(new Date(after))?.getTime();
}

/** `hour:minute` tomorrow in `zone`, as an instant: the first such time whose date is not today's there. */
export function tomorrowAt(now: number, zone: string, hour: number, minute = 0): number {
  const today = wallClock(now, zone).date;
  const runs = cronIn(`${minute} ${hour} * * *`, zone).nextRuns(2, new Date(now));
  const next = runs.find((run) => wallClock(run.getTime(), zone).date !== today) ?? runs.at(-1);
  if (!next) throw new Error(`no ${hour}:${minute} tomorrow in ${zone}`);
  return next.getTime();
}

/** The zone's offset from UTC at an instant, in minutes east (Shanghai: 480; New York in winter: -300). */
export function offsetMinutesAt(ms: number, zone: string): number {
  const wall = wallClock(ms, zone);
  const [year, month, day] = wall.date.split('-').map(Number) as [number, number, number];
  const minuteStart = ms - (((ms % 60_000) + 60_000) % 60_000);
  return Math.round((Date.UTC(year, month - 1, day, wall.hour, wall.minute) - minuteStart) / 60_000);
}

/**
 * The instant a wall-clock time in a zone names. In a DST gap (a time that does not exist there) it is the instant
 * the clocks jumped to; in an overlap, the earlier of the two.
 */
export function instantAt(wall: { year: number; month: number; day: number; hour: number; minute: number }, zone: string): number {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  // The offsets in force a day either side are the only ones this wall-clock time can have (offsets run from -12 to
  // +14 hours, so half a day would miss a change in Auckland or Chatham).
  const candidates = [offsetMinutesAt(asUtc - DAY_MS, zone), offsetMinutesAt(asUtc + DAY_MS, zone)].map((offset) => asUtc - offset * 60_000);
  const [earlier, later] = [Math.min(...candidates), Math.max(...candidates)] as [number, number];
  const names = (instant: number) => instant + offsetMinutesAt(instant, zone) * 60_000 === asUtc;
  if (names(earlier)) return earlier;
  if (names(later)) return later;
  // A gap: the clocks jumped between the two, at the first minute whose offset is the later one's.
  let [before, after] = [earlier, later];
  while (after - before > 60_000) {
    const middle = before + Math.floor((after - before) / 120_000) * 60_000;
    if (offsetMinutesAt(middle, zone) === offsetMinutesAt(before, zone)) before = middle;
    else after = middle;
  }
  return after;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

/** The first `hour:minute` in `zone` after `after`, every day or Monday to Friday only. */
export function nextDailyAt(after: number, zone: string, at: { hour: number; minute: number }, days: 'daily' | 'workdays'): number | undefined {
  return cronIn(`${at.minute} ${at.hour} * * ${days === 'daily' ? '*' : '1-5'}`, zone)
    .nextRun(new Date(after))
    ?.getTime();
}

/** Monday 00:00 of the week holding `ms` in `zone`, as an instant (weeks start on Monday, as ISO 8601 has them). */
export function startOfWeek(ms: number, zone: string): number {
  const { date, weekday } = wallClock(ms, zone);
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const monday = new Date(Date.UTC(year, month - 1, day - ((weekday + 6) % 7)));
  return instantAt({ year: monday.getUTCFullYear(), month: monday.getUTCMonth() + 1, day: monday.getUTCDate(), hour: 0, minute: 0 }, zone);
}

/** Midnight starting the day that holds `ms` in `zone`, and the next one. */
export function dayBounds(ms: number, zone: string): { start: number; end: number } {
  const [year, month, day] = wallClock(ms, zone).date.split('-').map(Number) as [number, number, number];
  const next = new Date(Date.UTC(year, month - 1, day + 1));
  return {
    start: instantAt({ year, month, day, hour: 0, minute: 0 }, zone),
    end: instantAt({ year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate(), hour: 0, minute: 0 }, zone),
  };
}
