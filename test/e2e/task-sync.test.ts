import { afterEach, describe, expect, it, vi } from 'vitest';
import { taskUpdateEvent, taskUpdatedV1Event } from '../../emulator';
import { RECORD_VERSION, type Todo } from '../../src/domain/model';
import { type Harness, SECRETS, TestClock, buttonValue, groupCards, noticesTo, pickerValueInHours, postTodo, readable, startHarness } from './harness';

/**
 * Two-way sync with Feishu Task, end to end: the bot's calls land in the emulator's Task v2, and changes made there
 * come back as task events, signed and encrypted as Feishu pushes them, or through the reconcile sweep.
 */

const HOUR = 3_600_000;
const MINUTE = 60_000;
/** Mon 7 Dec 2026, 09:00 in Shanghai. */
const START = Date.UTC(2026, 11, 7, 1, 0);
let clock: TestClock;
let h: Harness;

/** `realTime`: the bot's clock runs, for what waits on it (a retry's delay). */
async function start(env: Record<string, string> = { TASK_SYNC: 'on' }, emulator = {}, realTime = false) {
  clock = new TestClock(START);
  h = await startHarness({ env, emulator, clock: realTime ? undefined : clock });
}

afterEach(async () => {
  await h?.stop();
});

const todoOf = async (id: string) => (await h.app.services.store.todo(id)) as Todo;
const onlyTask = () => {
  expect(h.emu.tasks.size).toBe(1);
  return [...h.emu.tasks.values()][0] as NonNullable<ReturnType<typeof h.emu.tasks.get>>;
};
/** The group card as it is now: the last PATCH of it, or as posted. */
const cardNow = (messageId: string) => {
  const message = h.emu.messages.get(messageId);
  return readable(message?.updates.at(-1) ?? message?.card);
};
const taskPatches = () => h.emu.callsTo('PATCH', /^\/open-apis\/task\/v2\/tasks\//);

/** A person changes the task in Feishu Task, and Feishu (the emulator) pushes the event saying so. */
async function changeInFeishu(guid: string, user: string, change: Parameters<Harness['emu']['changeTaskAsUser']>[2]) {
  await h.emu.changeTaskAsUser(guid, user, change);
  await h.settled();
}

describe('a to-do in a group that syncs', () => {
  it('becomes a Feishu Task with every field, and its card opens it', async () => {
    await start();
    const todo = await postTodo(h, {
      text: 'Renew the cert',
      assignees: ['ou_alice', 'ou_bob'],
      remindAt: pickerValueInHours(2, clock.now()),
      repeat: 'weekly',
    });
    const stored = await todoOf(todo.todoId);
    const task = onlyTask();
    const [create] = h.emu.successfulCallsTo('POST', '/open-apis/task/v2/tasks');
    expect(create?.body).toEqual({
      summary: 'Renew the cert',
      members: [
        { id: 'ou_alice', type: 'user', role: 'assignee' },
        { id: 'ou_bob', type: 'user', role: 'assignee' },
        { id: 'ou_admin', type: 'user', role: 'follower' },
      ],
      client_token: `todo-task:${todo.todoId}`,
      origin: {
        platform_i18n_name: { zh_cn: '待办机器人', en_us: 'To-do bot' },
        href: { url: 'https://applink.feishu.cn/client/chat/open?openChatId=oc_group', title: expect.any(String) },
      },
      extra: todo.todoId,
      // Milliseconds, as a string: 11:00 in Shanghai.
      due: { timestamp: String(START + 2 * HOUR), is_all_day: false },
    });
    expect(stored.task).toEqual({ guid: task.guid, url: task.url, completed: false, dueAt: START + 2 * HOUR });
    // The card follows: "Open in Feishu Task" opens the task's own link.
    const card = h.emu.messages.get(todo.messageId)?.updates.at(-1);
    expect(JSON.stringify(card)).toContain(JSON.stringify({ type: 'open_url', default_url: task.url }));
    expect(readable(card)).toContain('Open in Feishu Task');
    expect(readable(card)).toContain('在飞书任务中打开');
  });

  it('leaves out the due of a to-do without a reminder', async () => {
    await start();
    await postTodo(h, { text: 'Whenever', assignees: ['ou_alice'] });
    const body = h.emu.successfulCallsTo('POST', '/open-apis/task/v2/tasks')[0]?.body;
    expect(body.due).toBeUndefined();
  });

  it('moves a repeating to-do’s task to each next occurrence, and keeps a one-off’s due when its reminder fires and when it is reopened', async () => {
    await start();
    // The bot repeats the to-do, not Feishu Task, whose repeating task would copy itself when completed.
    const weekly = await postTodo(h, { text: 'Weekly report', assignees: ['ou_alice'], remindAt: pickerValueInHours(2, clock.now()), repeat: 'weekly' });
    const once = await postTodo(h, { text: 'Renew the cert', assignees: ['ou_alice'], remindAt: pickerValueInHours(2, clock.now()) });
    const guidOf = async (todoId: string) => (await todoOf(todoId)).task?.guid as string;
    const [weeklyTask, onceTask] = [await guidOf(weekly.todoId), await guidOf(once.todoId)];
    expect(h.emu.successfulCallsTo('POST', '/open-apis/task/v2/tasks').map((call) => call.body.repeat_rule)).toEqual([undefined, undefined]);

    await clock.advance(2 * HOUR);
    const nextWeek = START + 2 * HOUR + 7 * 24 * HOUR;
    expect((await todoOf(weekly.todoId)).remindAt).toBe(nextWeek);
    expect(h.emu.tasks.get(weeklyTask)?.due).toEqual({ timestamp: String(nextWeek), is_all_day: false });
    expect(h.emu.tasks.get(onceTask)?.due).toEqual({ timestamp: String(START + 2 * HOUR), is_all_day: false });
    expect(taskPatches().filter((call) => call.path.endsWith(onceTask))).toHaveLength(0);

    // Done ends the repeating to-do, and its task is completed.
    await h.click('ou_alice', weekly.messageId, { action: 'todo.done', todoId: weekly.todoId });
    await h.settled();
    expect(h.emu.tasks.get(weeklyTask)?.completedAt).not.toBe('0');

    // The one-off, done and reopened after its reminder fired, is open again and still due when it was.
    await h.click('ou_alice', once.messageId, { action: 'todo.done', todoId: once.todoId });
    await h.settled();
    await h.click('ou_alice', once.messageId, { action: 'todo.reopen', todoId: once.todoId });
    await h.settled();
    expect(h.emu.tasks.get(onceTask)).toMatchObject({ completedAt: '0', due: { timestamp: String(START + 2 * HOUR), is_all_day: false } });
  });

  it('completes and reopens the task when Done and Reopen are clicked, and takes both back from Feishu Task', async () => {
    await start();
    const todo = await postTodo(h, { assignees: ['ou_alice'] });
    const { guid } = onlyTask();

    clock.jump(MINUTE);
    await h.click('ou_alice', todo.messageId, buttonValue(h.emu.messages.get(todo.messageId)?.card, 'todo.done'));
    await h.settled();
    expect(h.emu.tasks.get(guid)?.completedAt).toBe(String(clock.now()));
    await h.click('ou_alice', todo.messageId, { action: 'todo.reopen', todoId: todo.todoId });
    await h.settled();
    expect(h.emu.tasks.get(guid)?.completedAt).toBe('0');
    expect(taskPatches().map((c) => c.body.task.completed_at)).toEqual([String(clock.now()), '0']);

    // Done in Feishu Task: the to-do is done, and its card says where.
    await changeInFeishu(guid, 'ou_alice', { complete: true });
    const done = await todoOf(todo.todoId);
    expect(done).toMatchObject({ status: 'done', doneVia: 'feishu_task' });
    expect(cardNow(todo.messageId)).toContain('Done in Feishu Task');
    expect(cardNow(todo.messageId)).toContain('已在飞书任务中完成');
    // Reopened there: open again here.
    await changeInFeishu(guid, 'ou_alice', { reopen: true });
    expect((await todoOf(todo.todoId)).status).toBe('open');
    expect(cardNow(todo.messageId)).not.toContain('Done in Feishu Task');
    // Neither change went back to Feishu as a change of the bot's (no ping-pong).
    expect(taskPatches()).toHaveLength(2);
  });

  it('does not echo its own change: the event Feishu pushes for it reads the task and changes nothing', async () => {
    await start();
    const todo = await postTodo(h, { assignees: ['ou_alice'] });
    const { guid } = onlyTask();
    const pushesBefore = h.emu.deliveries.length;
    await h.click('ou_alice', todo.messageId, { action: 'todo.done', todoId: todo.todoId });
    await h.settled();
    // Feishu pushed the bot's own completion back as an event (the test pushed nothing), and the bot read the task once.
    expect(h.emu.deliveries.slice(pushesBefore).filter((d) => d.target.endsWith('/webhook/event'))).toHaveLength(1);
    expect(h.emu.successfulCallsTo('GET', `/open-apis/task/v2/tasks/${guid}`)).toHaveLength(1);
    // It found its own change there: not taken for a completion in Feishu Task, and nothing sent back.
    expect(taskPatches()).toHaveLength(1);
    expect(await todoOf(todo.todoId)).toMatchObject({ status: 'done', doneBy: 'ou_alice' });
    expect((await todoOf(todo.todoId)).doneVia).not.toBe('feishu_task');
    expect(cardNow(todo.messageId)).not.toContain('Done in Feishu Task');
  });

  it('follows assignees changed in Feishu Task, and a task deleted there leaves the to-do open with a note', async () => {
    await start();
    const todo = await postTodo(h, { assignees: ['ou_alice'] });
    const { guid } = onlyTask();
    await changeInFeishu(guid, 'ou_alice', { assignees: ['ou_bob'] });
    expect((await todoOf(todo.todoId)).assigneeIds).toEqual(['ou_bob']);
    expect(cardNow(todo.messageId)).toContain('ou_bob');
    expect([...h.emu.feedCards.values()].map((c) => c.userId)).toEqual(['ou_bob']);

    await changeInFeishu(guid, 'ou_bob', { delete: true });
    const kept = await todoOf(todo.todoId);
    expect(kept.status).toBe('open');
    expect(kept.task?.deletedThere).toBe(true);
    expect(cardNow(todo.messageId)).toContain('Deleted in Feishu Task');
    expect(cardNow(todo.messageId)).not.toContain('Open in Feishu Task');
    // Nothing more goes to a deleted task: Done here stays here.
    await h.click('ou_bob', todo.messageId, { action: 'todo.done', todoId: todo.todoId });
    await h.settled();
    expect(taskPatches()).toHaveLength(0);
  });

  it('takes a completion from Feishu Task through the sweep when the event never came, and the v1 event too', async () => {
    await start();
    const first = await postTodo(h, { text: 'first', assignees: ['ou_alice'] });
    const second = await postTodo(h, { text: 'second', assignees: ['ou_alice'] });
    const guidOf = async (id: string) => (await todoOf(id)).task?.guid as string;
    await h.emu.changeTaskAsUser(await guidOf(first.todoId), 'ou_alice', { complete: true }, { eventLost: true });
    // No event: ten minutes later the sweep reads every synced open to-do's task.
    await clock.advance(10 * MINUTE);
    expect((await todoOf(first.todoId)).status).toBe('done');
    expect((await todoOf(second.todoId)).status).toBe('open');

    // The v1 event names the task by task_id (its v2 event lost, so only the v1 one tells the bot).
    await h.emu.changeTaskAsUser(await guidOf(second.todoId), 'ou_alice', { complete: true }, { eventLost: true });
    await h.event(taskUpdatedV1Event({ token: SECRETS.verificationToken, taskId: await guidOf(second.todoId) }));
    await h.settled();
    expect((await todoOf(second.todoId)).status).toBe('done');
  });

  it('takes a reopening from Feishu Task through the sweep when the event never came, for a to-do done this week', async () => {
    await start();
    const todo = await postTodo(h, { assignees: ['ou_alice'] });
    const guid = (await todoOf(todo.todoId)).task?.guid as string;
    await h.click('ou_alice', todo.messageId, { action: 'todo.done', todoId: todo.todoId });
    await h.settled();
    await h.emu.changeTaskAsUser(guid, 'ou_alice', { reopen: true }, { eventLost: true });
    await clock.advance(10 * MINUTE);
    expect((await todoOf(todo.todoId)).status).toBe('open');
    // Done again, and reopened there eight days later: the sweep no longer reads it.
    await h.click('ou_alice', todo.messageId, { action: 'todo.done', todoId: todo.todoId });
    await h.settled();
    clock.jump(8 * 24 * 60 * MINUTE);
    await h.emu.changeTaskAsUser(guid, 'ou_alice', { reopen: true }, { eventLost: true });
    const reads = h.emu.callsTo('GET', `/open-apis/task/v2/tasks/${guid}`).length;
    await clock.advance(10 * MINUTE);
    expect(h.emu.callsTo('GET', `/open-apis/task/v2/tasks/${guid}`)).toHaveLength(reads);
    expect((await todoOf(todo.todoId)).status).toBe('done');
  });

  it('acknowledges an event for a task it does not know, and does nothing with it', async () => {
    await start();
    const answer = await h.event(taskUpdateEvent({ token: SECRETS.verificationToken, taskGuid: 'someone-elses-task', eventTypes: ['task_completed_update'] }));
    expect(answer.status).toBe(200);
    await h.settled();
    expect(h.emu.callsTo('GET', /^\/open-apis\/task\/v2\/tasks\//)).toHaveLength(0);
  });

  it('moves the due on Snooze, and deletes the task on /recall', async () => {
    await start();
    const todo = await postTodo(h, { assignees: ['ou_alice'], remindAt: pickerValueInHours(1, clock.now()) });
    const { guid } = onlyTask();
    await h.click('ou_alice', todo.messageId, { action: 'todo.snooze', todoId: todo.todoId });
    await h.settled();
    expect(h.emu.tasks.get(guid)?.due).toEqual({ timestamp: String(clock.now() + HOUR), is_all_day: false });

    await h.say('ou_admin', '/recall', { parentId: todo.messageId });
    await h.settled();
    expect(h.emu.tasks.get(guid)?.deleted).toBe(true);
    expect(h.emu.successfulCallsTo('DELETE', `/open-apis/task/v2/tasks/${guid}`)).toHaveLength(1);
  });

  it('moves the due to tomorrow’s 9:00 where the clicker is on Tomorrow', async () => {
    await start();
    const todo = await postTodo(h, { assignees: ['ou_alice'], remindAt: pickerValueInHours(1, clock.now()) });
    const { guid } = onlyTask();
    const answer = await h.click('ou_alice', todo.messageId, { action: 'todo.tomorrow', todoId: todo.todoId }, { timezone: 'Europe/Berlin' });
    expect(answer.body.toast.type).toBe('success');
    await h.settled();
    // Tue 8 Dec 2026, 09:00 in Berlin (UTC+1).
    const tomorrowNine = Date.UTC(2026, 11, 8, 8, 0);
    expect((await todoOf(todo.todoId)).remindAt).toBe(tomorrowNine);
    expect(h.emu.tasks.get(guid)?.due).toEqual({ timestamp: String(tomorrowNine), is_all_day: false });
  });

  it('makes one task when the bot dies between the create and recording its guid', async () => {
    await start();
    // Feishu creates the task, but its answer never arrives: the job is resumed and sends the same client_token.
    h.emu.fault({ method: 'POST', path: '/open-apis/task/v2/tasks', delayMs: 0, drop: true });
    const todo = await postTodo(h, { assignees: ['ou_alice'] });
    expect(h.emu.callsTo('POST', '/open-apis/task/v2/tasks').length).toBeGreaterThanOrEqual(2);
    expect((await todoOf(todo.todoId)).task?.guid).toBe(onlyTask().guid);
  });

  it('takes a due set as all-day in Feishu Task as 9:00 that day in the to-do’s zone, and sends nothing back', async () => {
    await start();
    const todo = await postTodo(h, { assignees: ['ou_alice'], remindAt: pickerValueInHours(1, clock.now()) });
    const { guid } = onlyTask();
    const patches = taskPatches().length;
    // Alice picks Tue 15 Dec, no time: Feishu keeps the date (its UTC midnight; a Calendar all-day date is in UTC too).
    await changeInFeishu(guid, 'ou_alice', { due: { at: Date.UTC(2026, 11, 15, 7, 30), allDay: true } });
    expect(h.emu.tasks.get(guid)?.due).toEqual({ timestamp: String(Date.UTC(2026, 11, 15)), is_all_day: true });
    // 09:00 in Shanghai.
    expect(await todoOf(todo.todoId)).toMatchObject({ remindAt: Date.UTC(2026, 11, 15, 1, 0), task: { dueAllDay: true } });
    expect(taskPatches()).toHaveLength(patches);
  });

  it('takes its own Snooze back from Feishu, kept there to the second, as no change made there', async () => {
    await start();
    const todo = await postTodo(h, { assignees: ['ou_alice'], remindAt: pickerValueInHours(1, clock.now()) });
    const { guid } = onlyTask();
    clock.jump(1_234);
    await h.click('ou_alice', todo.messageId, { action: 'todo.snooze', todoId: todo.todoId });
    await h.settled();
    const snoozedTo = clock.now() + HOUR;
    expect(h.emu.tasks.get(guid)?.due).toEqual({ timestamp: String(snoozedTo - 234), is_all_day: false });
    // The event for the bot's own change came back and was read: the to-do keeps its reminder, the card its look.
    const cardUpdates = h.emu.messages.get(todo.messageId)?.updates.length;
    await h.event(taskUpdateEvent({ token: SECRETS.verificationToken, taskGuid: guid, eventTypes: ['task_due_update'] }));
    await h.settled();
    expect((await todoOf(todo.todoId)).remindAt).toBe(snoozedTo);
    expect(h.emu.messages.get(todo.messageId)?.updates.length).toBe(cardUpdates);
  });

  it('does not take an app made an assignee in Feishu Task for a person', async () => {
    await start();
    const todo = await postTodo(h, { assignees: ['ou_alice'] });
    const { guid } = onlyTask();
    await changeInFeishu(guid, 'ou_alice', { assignees: ['ou_alice', 'ou_bob', 'cli_some_app'] });
    expect((await todoOf(todo.todoId)).assigneeIds).toEqual(['ou_alice', 'ou_bob']);
  });

  it('tries a create again that Feishu refused because the same create was still under way', async () => {
    await start();
    h.emu.fault({ method: 'POST', path: '/open-apis/task/v2/tasks', code: 1470422, msg: 'concurrent request with the same client_token' });
    const todo = await postTodo(h, { assignees: ['ou_alice'] });
    await h.settled();
    expect(h.emu.callsTo('POST', '/open-apis/task/v2/tasks')).toHaveLength(2);
    expect((await todoOf(todo.todoId)).task?.guid).toBe(onlyTask().guid);
  });
});

describe('without the Feishu Task scope', () => {
  it('posts as before, tells the admin once per group which scope to grant, tries three times, and says so on /healthz', async () => {
    await start({ TASK_SYNC: 'on' }, { taskScope: false }, true);
    const first = await postTodo(h, { text: 'first', assignees: ['ou_alice'] });
    const second = await postTodo(h, { text: 'second', assignees: ['ou_alice'] });
    await h.settled();
    expect(groupCards(h)).toHaveLength(2);
    expect((await todoOf(first.todoId)).status).toBe('open');
    expect((await todoOf(second.todoId)).task).toBeUndefined();
    const creates = h.emu.callsTo('POST', '/open-apis/task/v2/tasks');
    expect(creates.filter((c) => c.body.extra === first.todoId)).toHaveLength(3);
    expect(creates.filter((c) => c.body.extra === second.todoId)).toHaveLength(3);
    const told = noticesTo(h, 'ou_admin').filter((text) => text.includes('task:task:write'));
    expect(told).toHaveLength(1);
    const health = (await (await fetch(`${h.app.url}/healthz`)).json()) as { status: string; components: Record<string, unknown> };
    expect(health.components.taskSync).toMatchObject({ ok: true, refused: true, code: 99991672 });
    expect(health.status).toBe('ok');
    const metrics = await (await fetch(`${h.app.url}/metrics`)).text();
    expect(metrics).toMatch(/todo_bot_task_sync_refused 1/);

    // Granted later: the next to-do syncs, and /healthz says so.
    h.emu.setTaskScope(true);
    const third = await postTodo(h, { text: 'third', assignees: ['ou_alice'] });
    expect((await todoOf(third.todoId)).task?.guid).toBeDefined();
    const after = (await (await fetch(`${h.app.url}/healthz`)).json()) as { components: { taskSync: { refused: boolean } } };
    expect(after.components.taskSync.refused).toBe(false);
  });
});

describe('a task event subscription Feishu refused', () => {
  it('is tried again at each sweep, its refusal logged once, until the scope is granted', async () => {
    await start({ TASK_SYNC: 'on' }, { taskScope: false });
    const subscribeCalls = () => h.emu.callsTo('POST', '/open-apis/task/v2/task_v2/task_subscription').length;
    const sweep = () => clock.advance(10 * MINUTE);
    expect(h.emu.taskEventsSubscribed).toBe(false);
    const refusedAtStart = subscribeCalls();
    expect(refusedAtStart).toBeGreaterThan(0);

    await sweep();
    await vi.waitFor(() => expect(subscribeCalls()).toBeGreaterThan(refusedAtStart));
    expect(h.emu.taskEventsSubscribed).toBe(false);

    h.emu.setTaskScope(true);
    await sweep();
    await vi.waitFor(() => expect(h.emu.taskEventsSubscribed).toBe(true));
    const refusals = h.logs.map((line) => JSON.parse(line)).filter((entry) => String(entry.msg).startsWith('could not subscribe to Feishu Task events'));
    expect(refusals.filter((entry) => entry.level >= 40)).toHaveLength(1);

    // Subscribed: later sweeps leave it be.
    const subscribed = subscribeCalls();
    await sweep();
    expect(subscribeCalls()).toBe(subscribed);
  });
});

describe('a group that does not sync', () => {
  it('makes no task with TASK_SYNC off, the default', async () => {
    await start({});
    await postTodo(h, { assignees: ['ou_alice'] });
    expect(h.emu.callsTo('POST', '/open-apis/task/v2/tasks')).toHaveLength(0);
    expect(h.emu.taskEventsSubscribed).toBe(false);
  });

  it('syncs one group whose admins turned it on in /settings, and subscribes with its first task', async () => {
    await start({});
    const { store, now } = h.app.services;
    // What /settings stores for the group (tested with the settings card itself in its own suite).
    await store.commit({ now: now(), chats: [{ v: RECORD_VERSION, id: 'oc_group', taskSync: 'on', updatedAt: now() }] });
    const todo = await postTodo(h, { assignees: ['ou_alice'] });
    expect((await todoOf(todo.todoId)).task?.guid).toBe(onlyTask().guid);
    expect(h.emu.taskEventsSubscribed).toBe(true);
  });

  it('subscribes to task events at start when every group syncs', async () => {
    await start();
    expect(h.emu.taskEventsSubscribed).toBe(true);
  });
});

describe('task events Feishu pushes of its own accord', () => {
  it('reach the bot’s event route, signed and encrypted, when a person completes the task in Feishu Task', async () => {
    await start();
    const todo = await postTodo(h, { assignees: ['ou_alice'] });
    const { guid } = onlyTask();
    const pushesBefore = h.emu.deliveries.length;
    expect(await h.emu.changeTaskAsUser(guid, 'ou_alice', { complete: true })).toEqual(['task_completed_update']);
    const pushed = h.emu.deliveries.slice(pushesBefore);
    expect(pushed.map((d) => d.target)).toEqual([`${h.app.url}/webhook/event`]);
    expect(Object.keys(JSON.parse(pushed[0]?.body ?? '{}'))).toEqual(['encrypt']);
    expect(pushed[0]?.headers['x-lark-signature']).toMatch(/^[0-9a-f]{64}$/);
    await h.settled();
    expect(await todoOf(todo.todoId)).toMatchObject({ status: 'done', doneVia: 'feishu_task' });
    expect(cardNow(todo.messageId)).toContain('Done in Feishu Task');
  });

  it('reach the bot over its long connection when it takes its events there', async () => {
    h = await startHarness({ env: { TASK_SYNC: 'on' }, transport: 'long-connection', clock: new TestClock(START) });
    const todo = await postTodo(h, { assignees: ['ou_alice'] });
    const { guid } = onlyTask();
    const pushesBefore = h.emu.connections.reduce((sum, c) => sum + c.pushes, 0);
    await h.emu.changeTaskAsUser(guid, 'ou_alice', { reopen: true });
    await h.emu.changeTaskAsUser(guid, 'ou_alice', { complete: true });
    await h.settled();
    expect(h.emu.connections.reduce((sum, c) => sum + c.pushes, 0) - pushesBefore).toBe(2);
    expect(await todoOf(todo.todoId)).toMatchObject({ status: 'done', doneVia: 'feishu_task' });
  });
});
