import type { Todo, TodoTask } from './model';
import { reopenedTimes } from './reopen';
import { DAY_MS, instantAt } from './time';

/**
 * Two-way sync of a to-do with its Feishu Task, as decisions on plain data. The bot remembers what it last made the
 * task (or read of it) in `todo.task`; the difference between the to-do and that memory is what it must push, and
 * the difference between the task as read and that memory is what a person changed in Feishu Task. A change the bot
 * pushed comes back (Feishu sends its event for the app's own changes too) equal to the memory, and so changes nothing.
 */

/** The task as read from Feishu: what the bot follows of it. `undefined` stands for a task deleted there. */
export interface TaskState {
  completedAt?: number | undefined;
  assigneeIds: string[];
  dueAt?: number | undefined;
  /** The due is a date (Feishu's `is_all_day`): only the date of `dueAt` counts. */
  dueAllDay?: boolean | undefined;
}

/**
 * A date-only due reminds at this wall-clock time of its date, in the to-do's zone: the time Feishu Task's own
 * reminder for an all-day task defaults to.
 */
export const ALL_DAY_REMINDER = { hour: 9, minute: 0 } as const;

/**
 * The reminder a date-only due stands for. Feishu keeps only the date part of an all-day due's timestamp; the date is
 * the one whose midnight is nearest, so a client that sends the date's UTC midnight and one that sends its local
 * midnight (any offset under twelve hours) name the same date.
 */
export function allDayReminder(dueAt: number, zone: string): number {
  const date = new Date(Math.round(dueAt / DAY_MS) * DAY_MS);
  return instantAt({ year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate(), ...ALL_DAY_REMINDER }, zone);
}

/** The reminder the task's due stands for, as the bot last wrote or read it. */
function remembered(task: TodoTask, zone: string): number | undefined {
  return task.dueAllDay === true && task.dueAt !== undefined ? allDayReminder(task.dueAt, zone) : task.dueAt;
}

/** Whether a to-do in this state has a task to keep in step: created, not deleted in Feishu Task, not recalled. */
export function isSynced(todo: Todo): todo is Todo & { task: TodoTask } {
  return todo.task !== undefined && todo.task.deletedThere !== true && todo.status !== 'recalled';
}

/** What the bot must change in the task for it to match the to-do. Empty when they match. */
export interface TaskPush {
  /** Complete at this time (ms), or reopen (`null`). */
  completed?: number | null;
  /** Move the due here (ms), or clear it (`null`). */
  dueAt?: number | null;
}

export function taskPush(todo: Todo): TaskPush {
  if (!isSynced(todo)) return {};
  const push: TaskPush = {};
  const done = todo.status === 'done';
  if (done !== todo.task.completed) push.completed = done ? (todo.doneAt ?? todo.updatedAt) : null;
  const due = taskDue(todo);
  if (todo.status === 'open' && due !== remembered(todo.task, todo.timeZone)) push.dueAt = due ?? null;
  return push;
}

/**
 * The task's due: the to-do's next reminder, or once a one-off reminder has fired, the time it was due (the task stays
 * due then, and overdue after). A repeating to-do's task moves to each next occurrence as its reminder fires: the
 * bot repeats the to-do, not Feishu Task, whose repeating task would copy itself on completion into a new task the
 * bot does not follow, while Done on either side ends the to-do.
 */
export function taskDue(todo: Pick<Todo, 'remindAt' | 'lastDueAt'>): number | undefined {
  const due = todo.remindAt ?? todo.lastDueAt;
  // Feishu keeps a due to the second: a Snooze's "in an hour" read back a few milliseconds earlier would look like a
  // change made in Feishu Task.
  return due === undefined ? undefined : due - (due % 1000);
}

export const pushesNothing = (push: TaskPush): boolean => push.completed === undefined && push.dueAt === undefined;

/** The memory after a push went through. */
export function afterPush(task: TodoTask, push: TaskPush): TodoTask {
  return {
    ...task,
    ...(push.completed !== undefined && { completed: push.completed !== null }),
    ...(push.dueAt !== undefined && { dueAt: push.dueAt ?? undefined, dueAllDay: undefined }),
  };
}

/** What reading the task did to the to-do; `todo` is unchanged (the same object) when nothing happened. */
export interface Reconciled {
  todo: Todo;
  /** The card must be updated. */
  card: boolean;
  /** The assignees changed: feed cards follow. */
  assignees: boolean;
}

/**
 * The to-do after reading its task. Completed there while open here: done, "in Feishu Task". Reopened there while done
 * here: open again. Deleted there: marked, and the to-do keeps its status here, open or done. Assignees or the due
 * changed there: the to-do's assignees or reminder follow. A difference from the memory that the to-do already shows
 * (the bot's own change, or one already read) and a difference the bot is still to push (the to-do changed after the
 * memory was written) change nothing.
 */
export function reconcile(todo: Todo, read: TaskState | undefined, now: number): Reconciled {
  const unchanged = { todo, card: false, assignees: false };
  if (!isSynced(todo)) return unchanged;
  const memory = todo.task;
  if (read === undefined) {
    return { todo: { ...todo, task: { ...memory, deletedThere: true }, updatedAt: now }, card: true, assignees: false };
  }
  let next: Todo = todo;
  const completedThere = read.completedAt !== undefined;
  if (completedThere !== memory.completed) {
    // Changed in Feishu Task since the bot last wrote or read it.
    if (completedThere && todo.status === 'open') {
      next = { ...next, status: 'done', doneAt: read.completedAt, doneBy: undefined, doneVia: 'feishu_task' };
    } else if (!completedThere && todo.status === 'done') {
      next = { ...next, status: 'open', doneAt: undefined, doneBy: undefined, doneVia: undefined, ...reopenedTimes(todo, now) };
    }
  }
  const dueAllDay = read.dueAllDay === true && read.dueAt !== undefined;
  const dueMoved = read.dueAt !== memory.dueAt || dueAllDay !== (memory.dueAllDay === true);
  // A due moved there moves the reminder here (an open to-do's reminder is the task's due).
  if (dueMoved && next.status === 'open') next = { ...next, remindAt: dueAllDay ? allDayReminder(read.dueAt as number, todo.timeZone) : read.dueAt };
  const assignees = !sameMembers(read.assigneeIds, todo.assigneeIds);
  if (assignees) next = { ...next, assigneeIds: [...read.assigneeIds] };
  if (next === todo && completedThere === memory.completed && !dueMoved) return unchanged;
  const task: TodoTask = { ...memory, completed: completedThere, dueAt: read.dueAt, dueAllDay: dueAllDay || undefined };
  return { todo: { ...next, task, updatedAt: now }, card: next !== todo, assignees };
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id));
}

/** Feishu's `client_token`: one per to-do, so a create retried or resumed after a crash makes one task. */
export function taskClientToken(todoId: string): string {
  return `todo-task:${todoId}`;
}
