import { describe, expect, it } from 'vitest';
import { RECORD_VERSION, type Todo } from '../../src/domain/model';
import { afterPush, reconcile, taskPush } from '../../src/domain/task-sync';

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
});
