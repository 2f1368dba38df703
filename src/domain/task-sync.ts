import type { Todo, TodoTask } from './model';

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
  if (todo.status === 'open' && due !== todo.task.dueAt) push.dueAt = due ?? null;
  return push;
}

/**
 * The task's due: the to-do's next reminder, or once a one-off reminder has fired, the time it was due (the task stays
 * due then, and overdue after). A repeating to-do's task moves to each next occurrence as its reminder fires: the
 * bot repeats the to-do, not Feishu Task, whose repeating task would copy itself on completion into a new task the
 * bot does not follow, while Done on either side ends the to-do.
 */
function taskDue(todo: Todo): number | undefined {
  return todo.remindAt ?? todo.lastDueAt;
}

export const pushesNothing = (push: TaskPush): boolean => push.completed === undefined && push.dueAt === undefined;

/** The memory after a push went through. */
export function afterPush(task: TodoTask, push: TaskPush): TodoTask {
  return {
    ...task,
    ...(push.completed !== undefined && { completed: push.completed !== null }),
    ...(push.dueAt !== undefined && { dueAt: push.dueAt ?? undefined }),
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
      next = { ...next, status: 'open', doneAt: undefined, doneBy: undefined, doneVia: undefined };
    }
  }
  // A due moved there moves the reminder here (an open to-do's reminder is the task's due).
  if (read.dueAt !== memory.dueAt && next.status === 'open') next = { ...next, remindAt: read.dueAt };
  const assignees = !sameMembers(read.assigneeIds, todo.assigneeIds);
  if (assignees) next = { ...next, assigneeIds: [...read.assigneeIds] };
  if (next === todo && completedThere === memory.completed && read.dueAt === memory.dueAt) return unchanged;
  const task: TodoTask = { ...memory, completed: completedThere, dueAt: read.dueAt };
  return { todo: { ...next, task, updatedAt: now }, card: next !== todo, assignees };
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id));
}

/** Feishu's `client_token`: one per to-do, so a create retried or resumed after a crash makes one task. */
export function taskClientToken(todoId: string): string {
  return `todo-task:${todoId}`;
}
