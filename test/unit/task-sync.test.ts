import { describe, expect, it } from 'vitest';
import { RECORD_VERSION, type Todo } from '../../src/domain/model';
import { afterPush, allDayReminder, reconcile, taskPush } from '../../src/domain/task-sync';

/** The sync's decisions on plain data: what to push to Feishu Task, and what a task read back changes. */

const NOW = Date.UTC(2026, 11, 7, 1, 0);
const todo = (over: Partial<Todo> = {}): Todo => ({
  v: RECORD_VERSION,
  id: 't1',
  formId: 'f1',
  chatId: 'oc_1',
  creatorId: 'ou_a',
  text: 'x',
  timeZone: 'Asia/Shanghai',
  assigneeIds: ['ou_b'],
  status: 'open',
  createdAt: NOW,
  updatedAt: NOW,
  task: { guid: 'g1', url: 'u', completed: false },
  ...over,
});

describe('what the bot pushes', () => {
  it('completes a done to-do at its done time, reopens an open one, and moves the due to the reminder', () => {
    expect(taskPush(todo({ status: 'done', doneAt: NOW + 5 }))).toEqual({ completed: NOW + 5 });
    expect(taskPush(todo({ task: { guid: 'g1', url: 'u', completed: true } }))).toEqual({ completed: null });
    expect(taskPush(todo({ remindAt: NOW + 60_000 }))).toEqual({ dueAt: NOW + 60_000 });
    expect(taskPush(todo({ task: { guid: 'g1', url: 'u', completed: false, dueAt: NOW } }))).toEqual({ dueAt: null });
    expect(taskPush(todo())).toEqual({});
  });

  it('keeps a one-off to-do’s task due when its reminder has fired, and moves a repeating one’s to the next occurrence', () => {
    const dueThen = { guid: 'g1', url: 'u', completed: false, dueAt: NOW };
    expect(taskPush(todo({ lastDueAt: NOW, task: dueThen }))).toEqual({});
    expect(taskPush(todo({ repeat: 'daily', remindAt: NOW + 86_400_000, lastDueAt: NOW, task: dueThen }))).toEqual({ dueAt: NOW + 86_400_000 });
    // Reopened after its reminder fired: open again, still due when it was.
    expect(taskPush(todo({ lastDueAt: NOW, task: { ...dueThen, completed: true } }))).toEqual({ completed: null });
  });

  it('pushes nothing for a recalled to-do, one without a task, or one whose task was deleted there', () => {
    expect(taskPush(todo({ status: 'recalled' }))).toEqual({});
    expect(taskPush(todo({ task: undefined, status: 'done' }))).toEqual({});
    expect(taskPush(todo({ status: 'done', task: { guid: 'g1', url: 'u', completed: false, deletedThere: true } }))).toEqual({});
  });

  it('sends a due to the second, as Feishu keeps it', () => {
    // A Snooze's "in an hour" from a clock with milliseconds.
    expect(taskPush(todo({ remindAt: NOW + 3_600_123 }))).toEqual({ dueAt: NOW + 3_600_000 });
    expect(taskPush(todo({ remindAt: NOW + 3_600_123, task: { guid: 'g1', url: 'u', completed: false, dueAt: NOW + 3_600_000 } }))).toEqual({});
  });

  it('remembers what it pushed', () => {
    expect(afterPush({ guid: 'g', url: 'u', completed: false, dueAt: 1 }, { completed: 5, dueAt: null })).toEqual({ guid: 'g', url: 'u', completed: true });
  });
});

describe('what a task read back changes', () => {
  it('takes a completion, a reopening, assignees and a moved due from Feishu Task', () => {
    const done = reconcile(todo(), { completedAt: NOW + 1, assigneeIds: ['ou_b'] }, NOW + 2);
    expect(done.todo).toMatchObject({ status: 'done', doneAt: NOW + 1, doneVia: 'feishu_task', task: { completed: true } });
    expect(done.card).toBe(true);
    const reopened = reconcile(done.todo, { assigneeIds: ['ou_b'] }, NOW + 3);
    expect(reopened.todo).toMatchObject({ status: 'open', doneVia: undefined, task: { completed: false } });
    const moved = reconcile(todo(), { assigneeIds: ['ou_c'], dueAt: NOW + 9 }, NOW + 4);
    expect(moved.todo).toMatchObject({ assigneeIds: ['ou_c'], remindAt: NOW + 9, task: { dueAt: NOW + 9 } });
    expect(moved.assignees).toBe(true);
  });

  it('changes nothing for the bot’s own change coming back, or for a change of the group not pushed yet', () => {
    const own = todo({ status: 'done', doneAt: NOW, task: { guid: 'g1', url: 'u', completed: true } });
    const echo = reconcile(own, { completedAt: NOW, assigneeIds: ['ou_b'] }, NOW + 1);
    expect(echo.todo).toBe(own);
    // Done in the group, the push still to come: the task still reads open, as the memory says: nothing to follow.
    const pending = todo({ status: 'done', doneAt: NOW });
    expect(reconcile(pending, { assigneeIds: ['ou_b'] }, NOW + 1).todo).toBe(pending);
  });

  it('marks a task deleted there and keeps the to-do open', () => {
    const gone = reconcile(todo(), undefined, NOW + 1);
    expect(gone.todo).toMatchObject({ status: 'open', task: { deletedThere: true } });
    expect(gone.card).toBe(true);
    expect(reconcile(gone.todo, undefined, NOW + 2).todo).toBe(gone.todo);
  });

  it('reminds at 9:00 in the to-do’s zone on the date of a due set as all-day there, and pushes nothing back', () => {
    // Tue 15 Dec 2026 as its UTC midnight, and as midnight in Shanghai (16:00 UTC the day before): the same date.
    const utcMidnight = Date.UTC(2026, 11, 15);
    const shanghaiNine = Date.UTC(2026, 11, 15, 1, 0);
    for (const dueAt of [utcMidnight, utcMidnight - 8 * 3_600_000]) {
      const read = reconcile(todo({ remindAt: NOW + 60_000 }), { assigneeIds: ['ou_b'], dueAt, dueAllDay: true }, NOW + 1);
      expect(read.todo).toMatchObject({ remindAt: shanghaiNine, task: { dueAt, dueAllDay: true } });
      expect(read.card).toBe(true);
      expect(taskPush(read.todo)).toEqual({});
      // Read again unchanged: nothing moves.
      expect(reconcile(read.todo, { assigneeIds: ['ou_b'], dueAt, dueAllDay: true }, NOW + 2).todo).toBe(read.todo);
    }
    expect(allDayReminder(utcMidnight, 'America/New_York')).toBe(Date.UTC(2026, 11, 15, 14, 0));
    // The same date made timed there is a change; a Snooze here makes it timed in Feishu Task.
    const allDay = reconcile(todo(), { assigneeIds: ['ou_b'], dueAt: utcMidnight, dueAllDay: true }, NOW + 1).todo;
    expect(reconcile(allDay, { assigneeIds: ['ou_b'], dueAt: utcMidnight }, NOW + 2).todo).toMatchObject({
      remindAt: utcMidnight,
      task: { dueAllDay: undefined },
    });
    const snoozed = { ...allDay, remindAt: shanghaiNine + 3_600_000 };
    expect(taskPush(snoozed)).toEqual({ dueAt: shanghaiNine + 3_600_000 });
    expect(afterPush(snoozed.task as NonNullable<Todo['task']>, { dueAt: shanghaiNine + 3_600_000 }).dueAllDay).toBeUndefined();
  });

  it('reopened there, does not post a reminder that passed while it was done', () => {
    const doneTask = { guid: 'g1', url: 'u', completed: true, dueAt: NOW + 60_000 };
    const oneOff = todo({ status: 'done', doneAt: NOW, remindAt: NOW + 60_000, task: doneTask });
    const reopened = reconcile(oneOff, { assigneeIds: ['ou_b'], dueAt: NOW + 60_000 }, NOW + 3_600_000).todo;
    // Dropped, and due since then: the task keeps its due.
    expect(reopened).toMatchObject({ status: 'open', remindAt: undefined, lastDueAt: NOW + 60_000 });
    expect(taskPush(reopened)).toEqual({});
    const daily = todo({ status: 'done', doneAt: NOW, remindAt: NOW + 60_000, repeat: 'daily', repeatAnchor: NOW + 60_000, task: doneTask });
    expect(reconcile(daily, { assigneeIds: ['ou_b'], dueAt: NOW + 60_000 }, NOW + 3_600_000).todo.remindAt).toBe(NOW + 60_000 + 86_400_000);
    // A reminder still ahead stays.
    expect(reconcile(oneOff, { assigneeIds: ['ou_b'], dueAt: NOW + 60_000 }, NOW + 1).todo.remindAt).toBe(NOW + 60_000);
  });
});
