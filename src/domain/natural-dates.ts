// The two locales the bot speaks, not the package's index, which loads every locale chrono knows (3x the start-up time).
import type { ParsedResult } from 'chrono-node';
import * as en from 'chrono-node/en';
import * as zh from 'chrono-node/zh';
import { instantAt, wallClock } from './time';

/**
 * Reads a reminder time out of what people write after `/todo`: "明天下午3点 提交周报", "下周一 9:00 开会",
 * "submit the report tomorrow 3pm", "next Friday 10:00". chrono-node's casual parsers (Simplified Chinese for text
 * with Chinese characters, English otherwise) find the phrase and its date relative to now in the person's zone.
 * Only a time of day that is certain counts: "3点" or "at 9" could be morning or afternoon, and "明天" names no time,
 * so they prefill nothing; a time already past prefills nothing either. The admin sees both fields and can change
 * them before Submit.
 */

export interface ReminderInText {
  /** The text without the date phrase. */
  text: string;
  remindAt: number;
}

/**
 * chrono's English casual parsers but two: "… ago" finds only past times, which never prefill, and "… later" reads
 * what "in …" reads too. V8 compiles each one's pattern to native code the second time it runs: a one-off pause of
 * about 150 ms apiece, which stopped the whole bot (the fan-out benchmark's burst met it as a 374 ms gap).
 */
export const ENGLISH_PARSERS_LEFT_OUT: ReadonlySet<string> = new Set(['ENTimeUnitAgoFormatParser', 'ENTimeUnitLaterFormatParser']);
const english = (() => {
  const configuration = en.configuration.createCasualConfiguration();
  configuration.parsers = configuration.parsers.filter((parser) => !ENGLISH_PARSERS_LEFT_OUT.has(parser.constructor.name));
  return new en.Chrono(configuration);
})();

const CHINESE = /[\u3400-\u9fff]/;

/**
 * What chrono reads "now" as: an instant whose wall clock in this process's own zone is the person's wall clock, with
 * that zone's offset. chrono's Chinese parsers take "今天" and "明天" from the process's local date, ignoring the zone
 * they are given, and its forward-dating compares the zone's wall clock with the local one: given the person's zone
 * on a server in UTC, "明天下午3点" said before 08:00 in Shanghai read as today, and "Friday 3pm" said on Friday
 * morning as next week. Read in one frame, every parser agrees; the wall-clock fields chrono answers with are then
 * the person's, which `instantAt` places in their zone. (Where that wall clock falls in a DST gap of the process's own
 * zone, the reference moves by the gap: servers run in UTC, which has none.)
 */
function chronoReference(now: number, zone: string): { instant: Date; timezone: number } {
  const wall = wallClock(now, zone);
  const [year, month, day] = wall.date.split('-').map(Number) as [number, number, number];
  const instant = new Date(year, month - 1, day, wall.hour, wall.minute, new Date(now).getUTCSeconds());
  return { instant, timezone: -instant.getTimezoneOffset() };
}
/** A time written as a 24-hour clock ("9:00", "18:30", "9：00") is not ambiguous, though chrono leaves its meridiem open. */
const CLOCK_TIME = /\d{1,2}\s*[:：]\s*\d{2}/;
const DANGLING_PREPOSITION = /\s+(?:on|at|by|before|until|due)\s*$/i;

/**
 * `writtenAt`, when the words were written, is what their times count from ("in 2 hours", "at 3pm": the next 3pm
 * after it); `now` is what a time must still be after. They differ when the words arrive late.
 */
export function reminderInText(text: string, p: { now: number; writtenAt?: number | undefined; zone: string }): ReminderInText | undefined {
  // Text with Chinese in it is read as Chinese first; words mixed in ("提交 report tomorrow 3pm") as English after.
  const parsers = CHINESE.test(text) ? [zh.hans.casual, english] : [english];
  const reference = chronoReference(Math.min(p.writtenAt ?? p.now, p.now), p.zone);
  for (const parser of parsers) {
    const [found] = parser.parse(text, reference, { forwardDate: true });
    const reminder = found && reminderFound(text, found, p);
    if (reminder) return reminder;
  }
  return undefined;
}

function reminderFound(text: string, found: ParsedResult, p: { now: number; zone: string }): ReminderInText | undefined {
  const { start } = found;
  if (!start.isCertain('hour') || !(start.isCertain('meridiem') || CLOCK_TIME.test(found.text))) return undefined;
  const remindAt = instantAt(
    {
      year: start.get('year') ?? 0,
      month: start.get('month') ?? 0,
      day: start.get('day') ?? 0,
      hour: start.get('hour') ?? 0,
      minute: start.get('minute') ?? 0,
    },
    p.zone,
  );
  if (remindAt <= p.now) return undefined;
  // "fix the bug on Dec 3" reads "fix the bug", not "fix the bug on".
  const before = text.slice(0, found.index).replace(DANGLING_PREPOSITION, '');
  const rest = `${before} ${text.slice(found.index + found.text.length)}`.replace(/\s+/g, ' ').trim();
  return { text: rest, remindAt };
}
