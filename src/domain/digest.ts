import { type EffectiveSettings, clockParts } from './group-settings';
import type { Todo } from './model';
import { dayBounds, nextDailyAt, startOfWeek, wallClock } from './time';

/**
 * The daily digest and the overdue nudge, as pure rules: when a group's digest is due, which open to-dos it lists and
 * in what order, the week's numbers, and when a to-do is overdue.
 */

/** A digest missed by more than this (the bot was down) is skipped, not posted late. */
export const DIGEST_LATE_LIMIT_MS = 3 * 60 * 60 * 1000;
/** Lines a digest shows before "and N more". */
export const DIGEST_LINE_LIMIT = 20;

export type DigestSettings = Pick<EffectiveSettings, 'digestTime' | 'digestDays' | 'timeZone'>;

/** One day's digest of a group: its time, and its date in the group's zone (`YYYY-MM-DD`), which names it. */
export interface DigestSlot {
  at: number;
  day: string;
}

/** The digest a group is due for at `now`: its latest digest time, if that passed less than `DIGEST_LATE_LIMIT_MS` ago. */
export function dueDigestSlot(now: number, settings: DigestSettings): DigestSlot | undefined {
  if (settings.digestTime === 'off') return undefined;
  const at = nextDailyAt(now - DIGEST_LATE_LIMIT_MS, settings.timeZone, clockParts(settings.digestTime), settings.digestDays);
  return at === undefined || at > now ? undefined : { at, day: wallClock(at, settings.timeZone).date };
}

/** The group's next digest time after `now`. */
export function nextDigestAt(now: number, settings: DigestSettings): number | undefined {
  if (settings.digestTime === 'off') return undefined;
  return nextDailyAt(now, settings.timeZone, clockParts(settings.digestTime), settings.digestDays);
}

/** Whether a digest at `slot` is the first of its week: the group's previous one (if any) was in an earlier week. */
export function opensWeek(slot: DigestSlot, previousAt: number | undefined, zone: string): boolean {
  return previousAt === undefined || startOfWeek(previousAt, zone) < startOfWeek(slot.at, zone);
}

/**
 * Since when an open to-do is overdue: a one-off whose reminder time passed (a fired reminder clears `remindAt`, so
 * its last occurrence tells the time; to-dos reminded before that was kept, their last reminder's). A repeating to-do always has a next time, so it is never overdue.
 */
export function overdueSince(todo: Todo, now: number): number | undefined {
  if (todo.status !== 'open' || (todo.repeat !== undefined && todo.repeat !== 'none')) return undefined;
  if (todo.remindAt !== undefined) return todo.remindAt <= now ? todo.remindAt : undefined;
  return todo.lastDueAt ?? todo.lastRemindedAt;
}

export const DIGEST_SECTIONS = ['overdue', 'today', 'undated'] as const;
export type DigestSection = (typeof DIGEST_SECTIONS)[number];

export interface DigestLine {
  todo: Todo;
  section: DigestSection;
}

const NOBODY_LEFT: ReadonlySet<string> = new Set();

/**
 * The people a to-do is for: its assignees still in the chat (`left`: those who left it), else its creator, whom a
 * to-do always has someone to name by.
 */
export function peopleOf(todo: Todo, left: ReadonlySet<string> = NOBODY_LEFT): string[] {
  const here = left.size === 0 ? todo.assigneeIds : todo.assigneeIds.filter((id) => !left.has(id));
  return here.length > 0 ? here : [todo.creatorId];
}

/**
 * What a digest lists: overdue to-dos first, then those due today (in the group's zone), then those without a time;
 * within each, grouped by the people they are for, soonest first. To-dos due on a later day are not listed.
 */
export function digestLines(open: readonly Todo[], now: number, zone: string, left?: ReadonlySet<string>): DigestLine[] {
  const today = dayBounds(now, zone);
  const sectionOf = (todo: Todo): DigestSection | undefined => {
    if (overdueSince(todo, now) !== undefined) return 'overdue';
    if (todo.remindAt !== undefined) return todo.remindAt < today.end ? 'today' : undefined;
    return todo.lastRemindedAt === undefined ? 'undated' : undefined;
  };
  const group = (todo: Todo) => [...peopleOf(todo, left)].sort().join(',');
  const lines: DigestLine[] = [];
  for (const todo of open) {
    const section = sectionOf(todo);
    if (section !== undefined) lines.push({ todo, section });
  }
  return lines.sort(
    (a, b) =>
      DIGEST_SECTIONS.indexOf(a.section) - DIGEST_SECTIONS.indexOf(b.section) ||
      group(a.todo).localeCompare(group(b.todo)) ||
      (a.todo.remindAt ?? a.todo.lastRemindedAt ?? a.todo.createdAt) - (b.todo.remindAt ?? b.todo.lastRemindedAt ?? b.todo.createdAt),
  );
}

/** One person's last week: to-dos of theirs done in it, and of theirs still open and overdue now. */
export interface PersonWeek {
  personId: string;
  done: number;
  open: number;
  overdue: number;
}

/** Last week's numbers per person, most done first; people with nothing to count are left out. */
export function weeklyNumbers(open: readonly Todo[], doneLastWeek: readonly Todo[], now: number, left?: ReadonlySet<string>): PersonWeek[] {
  const people = new Map<string, PersonWeek>();
  const of = (personId: string) => people.get(personId) ?? (people.set(personId, { personId, done: 0, open: 0, overdue: 0 }).get(personId) as PersonWeek);
  // Who left is left out, and their to-dos are not counted as the creator's.
  const counted = (todo: Todo) => peopleOf(todo).filter((person) => !left?.has(person));
  for (const todo of doneLastWeek) for (const person of counted(todo)) of(person).done++;
  for (const todo of open) {
    for (const person of counted(todo)) {
      of(person).open++;
      if (overdueSince(todo, now) !== undefined) of(person).overdue++;
    }
  }
  return [...people.values()].sort((a, b) => b.done - a.done || b.open - a.open || a.personId.localeCompare(b.personId));
}

/** Last week's bounds in the group's zone: Monday 00:00 a week before `now`'s Monday, to that Monday. */
export function lastWeek(now: number, zone: string): { start: number; end: number } {
  const end = startOfWeek(now, zone);
  return { start: startOfWeek(end - 1, zone), end };
}

/** Nudges one to-do gets at most. */
export const NUDGE_LIMIT = 3;
/** The group's quiet hours, in its zone: no nudge from 22:00 to 8:00. */
export const QUIET_FROM_HOUR = 22;
export const QUIET_UNTIL_HOUR = 8;

export function inQuietHours(now: number, zone: string): boolean {
  const { hour } = wallClock(now, zone);
  return hour >= QUIET_FROM_HOUR || hour < QUIET_UNTIL_HOUR;
}

/**
 * Whether an open to-do is due a nudge at `now`: overdue by more than `afterHours` since its time and since its
 * reminder was posted (a reminder posted late, after the bot was down, gives people the same hours before a nudge;
 * one not posted yet, none), fewer than `NUDGE_LIMIT` nudges so far, none yet today in the group's zone, and outside
 * the group's quiet hours.
 */
/** How long a claimed reminder not yet posted holds its to-do's nudge back. */
const REMINDER_PENDING_MS = 60 * 60 * 1000;

export function dueForNudge(todo: Todo, now: number, afterHours: number, zone: string): boolean {
  const since = overdueSince(todo, now);
  if (since === undefined) return false;
  const reminded = todo.lastRemindedAt;
  // A reminder claimed (the claim writes the to-do) and not posted yet. One never posted (skipped, given up, or a
  // one-off dropped at a Reopen) holds nudges back for an hour at most.
  const reminderPending = todo.lastDueAt !== undefined && (reminded ?? Number.NEGATIVE_INFINITY) < todo.lastDueAt;
  if (reminderPending && now - todo.updatedAt < REMINDER_PENDING_MS) return false;
  if (now - Math.max(since, reminded ?? since) < afterHours * 60 * 60 * 1000) return false;
  if ((todo.nudges ?? 0) >= NUDGE_LIMIT || inQuietHours(now, zone)) return false;
  return todo.lastNudgedAt === undefined || wallClock(todo.lastNudgedAt, zone).date !== wallClock(now, zone).date;
}
