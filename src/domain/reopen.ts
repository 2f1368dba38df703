import type { Todo } from './model';
import { nextOccurrence } from './time';

/**
 * A reopened to-do keeps a reminder still ahead. One that passed while it was done is not posted late: a repeating
 * reminder moves to its next time, and a one-off is dropped, the to-do due (and overdue) since then.
 */
export function reopenedTimes(todo: Todo, now: number): Pick<Todo, 'remindAt' | 'lastDueAt'> {
  const { remindAt } = todo;
  if (remindAt === undefined || remindAt > now) return { remindAt };
  const next = nextOccurrence(todo.repeatAnchor ?? remindAt, todo.repeat ?? 'none', todo.timeZone, now);
  return next === undefined ? { remindAt: undefined, lastDueAt: remindAt } : { remindAt: next };
}
