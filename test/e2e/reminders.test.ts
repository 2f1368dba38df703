import { afterEach, describe, expect, it, vi } from 'vitest';
import { RECORD_VERSION, type Todo } from '../../src/domain/model';
import { gcFunction, heapAfterGc, waitFor } from '../reliability/support';
import {
  type Harness,
  TestClock,
  buttonValue,
  formValues,
  groupCards,
  noticesTo,
  openForm,
  pickerValueInHours,
  postTodo,
  startHarness,
  submitForm,
} from './harness';

/** The bot's clock, moved by the tests: reminders are tested without sleeping for real hours. */
let clock: TestClock;
let h: Harness;

async function start(env: Record<string, string> = {}, at = Date.UTC(2026, 10, 23, 2, 0)) {
  clock = new TestClock(at);
  h = await startHarness({ env, clock });
}
afterEach(async () => {
  await h.stop();
});

const replies = (parentId?: string) => [...h.emu.messages.values()].filter((m) => m.kind === 'reply' && (!parentId || m.parentId === parentId));
const todoOf = async (id: string) => (await h.app.services.store.todo(id)) as Todo;
const HOUR = 3_600_000;

describe('a reminder', () => {
  it('fires at its time as a reply to the to-do card, mentioning the assignees, once', async () => {
    await start();
    const todo = await postTodo(h, { text: 'Renew the cert', assignees: ['ou_alice', 'ou_bob'], remindAt: pickerValueInHours(2, clock.now()) });
    await clock.advance(2 * HOUR - 60_000);
    expect(replies()).toHaveLength(0);
    await clock.advance(60_000);
    const posted = replies(todo.messageId);
    expect(posted).toHaveLength(1);
    const card = JSON.stringify(posted[0]?.card);
    expect(card).toContain('<at id=ou_alice></at> <at id=ou_bob></at>');
    expect(card).toContain('Renew the cert');
    expect(card).not.toContain('Late');
    for (const action of ['todo.done', 'todo.snooze', 'todo.tomorrow']) expect(buttonValue(posted[0]?.card, action).todoId).toBe(todo.todoId);
    await clock.advance(HOUR);
    await clock.advance(24 * HOUR);
    expect(replies()).toHaveLength(1);
    expect((await todoOf(todo.todoId)).remindAt).toBeUndefined();
  });

  it('fires on time while a feed card of the to-do is still being made (Feishu slow, or the card tried again)', async () => {
    await start();
    const feed = '/open-apis/im/v2/app_feed_card';
    const release = h.emu.hold({ method: 'POST', path: feed });
    const form = await openForm(h);
    await submitForm(h, 'ou_admin', form, formValues({ text: 'Renew the cert', assignees: ['ou_alice'], remindAt: pickerValueInHours(1, clock.now()) }));
    const card = await waitFor(() => groupCards(h)[0], 'the to-do card');
    await waitFor(() => h.emu.arrivedCalls('POST', feed) > 0, 'the feed card to be asked for');
    clock.jump(HOUR);
    h.app.wake();
    try {
      await waitFor(() => replies(card.messageId).length === 1, 'the reminder', 5_000);
    } finally {
      release();
    }
    await h.settled();
  });

  it('mentions the creator when nobody is assigned', async () => {
    await start();
    const todo = await postTodo(h, { owner: 'ou_admin', remindAt: pickerValueInHours(1, clock.now()) });
    await clock.advance(HOUR);
    expect(JSON.stringify(replies(todo.messageId)[0]?.card)).toContain('<at id=ou_admin></at>');
  });

  it('made late by a clock that jumped while the bot ran does not claim the bot was down', async () => {
    await start();
    const todo = await postTodo(h, { remindAt: pickerValueInHours(1, clock.now()) });
    await clock.advance(3 * HOUR);
    const posted = replies(todo.messageId);
    expect(posted).toHaveLength(1);
    expect(JSON.stringify(posted[0]?.card)).not.toContain('Late');
  });

  it('due while the bot was down fires once on start, marked late', async () => {
    await start();
    const todo = await postTodo(h, { remindAt: pickerValueInHours(1, clock.now()) });
    await h.restart(() => {
      clock.jump(5 * HOUR);
    });
    await clock.advance(0);
    const posted = replies(todo.messageId);
    expect(posted).toHaveLength(1);
    expect(JSON.stringify(posted[0]?.card)).toMatch(/Late: this was due/);
    await h.restart();
    await clock.advance(HOUR);
    expect(replies()).toHaveLength(1);
  });

  it('two reminders due at the same second each fire once', async () => {
    await start();
    const when = pickerValueInHours(1, clock.now());
    const a = await postTodo(h, { text: 'a', remindAt: when });
    const b = await postTodo(h, { text: 'b', remindAt: when });
    await clock.advance(HOUR);
    await clock.advance(0);
    expect(replies(a.messageId)).toHaveLength(1);
    expect(replies(b.messageId)).toHaveLength(1);
  });

  it('is posted once even when Feishu acts but its answer is lost (the retry reuses the uuid)', async () => {
    await start({ FEISHU_TIMEOUT_MS: '150' });
    const todo = await postTodo(h, { remindAt: pickerValueInHours(1, clock.now()) });
    h.emu.fault({ method: 'POST', path: `/open-apis/im/v1/messages/${todo.messageId}/reply`, delayMs: 400 });
    await clock.advance(HOUR);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await h.settled();
    expect(h.emu.callsTo('POST', `/open-apis/im/v1/messages/${todo.messageId}/reply`).length).toBeGreaterThanOrEqual(2);
    expect(replies(todo.messageId)).toHaveLength(1);
  });

  it('due while its card is still being posted waits for the card, and is posted after it', async () => {
    // Feishu holds the post for longer than the hour the test moves the clock: the bot waits for its answer.
    await start({ FEISHU_TIMEOUT_MS: '30000' });
    const { store } = h.app;
    const form = await openForm(h, 'ou_admin');
    const release = h.emu.hold({ method: 'POST', path: '/open-apis/im/v1/messages' });
    await submitForm(h, 'ou_admin', form, formValues({ text: 'Slow post', remindAt: pickerValueInHours(1, clock.now()) }));
    const [posting] = await store.dueReminders(clock.now() + HOUR, 10);
    expect(posting).toMatchObject({ status: 'posting' });
    // The reminder falls due and runs while Feishu still holds the card's post: it waits to be tried again.
    clock.jump(HOUR);
    h.app.wake();
    const reminderJob = `todo.remind:${posting?.id}:${posting?.remindAt}`;
    await vi.waitFor(async () => expect((await store.job(reminderJob))?.lastError).toMatch(/still being posted/), { timeout: 5_000 });
    release();
    await vi.waitFor(async () => expect((await store.todo(posting?.id ?? ''))?.status).toBe('open'), { timeout: 5_000 });
    await clock.advance(1_000);
    const card = groupCards(h).at(-1);
    expect(replies(card?.messageId)).toHaveLength(1);
  });

  it('is tried again, not given up, when the store fails to answer (a database restarting)', async () => {
    await start();
    const todo = await postTodo(h, { remindAt: pickerValueInHours(1, clock.now()) });
    const { store } = h.app;
    const reminderJob = `todo.remind:${todo.todoId}:${(await todoOf(todo.todoId)).remindAt}`;
    const read = store.todo.bind(store);
    let failures = 1;
    store.todo = async (id) => {
      if (failures-- > 0) throw new Error('Connection terminated unexpectedly');
      return read(id);
    };
    clock.jump(HOUR);
    h.app.wake();
    await vi.waitFor(async () => expect((await store.job(reminderJob))?.lastError).toMatch(/Connection terminated/), { timeout: 5_000 });
    await clock.advance(1_000);
    expect(replies(todo.messageId)).toHaveLength(1);
  });

  it('never fires for a to-do done or recalled before its time', async () => {
    await start();
    const done = await postTodo(h, { text: 'done', remindAt: pickerValueInHours(1, clock.now()) });
    const recalled = await postTodo(h, { text: 'recalled', remindAt: pickerValueInHours(1, clock.now()) });
    await h.click('ou_admin', done.messageId, buttonValue(done.card, 'todo.done'));
    await h.say('ou_admin', '/recall', { parentId: recalled.messageId });
    await h.settled();
    await clock.advance(2 * HOUR);
    expect(replies().filter((r) => JSON.stringify(r.card).includes('Reminder'))).toHaveLength(0);
  });
});

describe('acting on a reminder', () => {
  it('Snooze 1 h moves it and says so; it fires again an hour later', async () => {
    await start();
    const todo = await postTodo(h, { assignees: ['ou_alice'], remindAt: pickerValueInHours(1, clock.now()) });
    await clock.advance(HOUR);
    const reminder = replies(todo.messageId)[0];
    const answer = await h.click('ou_alice', reminder?.messageId as string, buttonValue(reminder?.card, 'todo.snooze'));
    expect(answer.body.toast.content).toMatch(/Snoozed: I will remind again/);
    expect(JSON.stringify(answer.body.card.data)).toMatch(/Snoozed by/);
    expect((await todoOf(todo.todoId)).remindAt).toBe(clock.now() + HOUR);
    await clock.advance(HOUR - 60_000);
    expect(replies(todo.messageId)).toHaveLength(1);
    await clock.advance(60_000);
    expect(replies(todo.messageId)).toHaveLength(2);
  });

  it('Tomorrow 9:00 means 9:00 in the clicker’s zone, across a DST change', async () => {
    // Sat 7 Mar 2026, 23:00 in New York; clocks go forward at 02:00 on Sunday.
    await start({}, Date.UTC(2026, 2, 8, 4, 0));
    const todo = await postTodo(h, { assignees: ['ou_alice'], remindAt: pickerValueInHours(0.5, clock.now()) });
    await clock.advance(HOUR / 2);
    const reminder = replies(todo.messageId)[0];
    const answer = await h.click('ou_alice', reminder?.messageId as string, buttonValue(reminder?.card, 'todo.tomorrow'), { timezone: 'America/New_York' });
    expect(answer.body.toast.content).toMatch(/Sun 8 Mar, 09:00 \(America\/New_York\)/);
    expect(new Date((await todoOf(todo.todoId)).remindAt as number).toISOString()).toBe('2026-03-08T13:00:00.000Z');
  });

  it('offers Tomorrow at the group’s own time (/settings), and a click means that time', async () => {
    await start();
    const { store, now } = h.app.services;
    // What /settings stores for a group whose "Tomorrow" means 7:30 (the settings card itself is tested in its suite).
    await store.commit({ now: now(), chats: [{ v: RECORD_VERSION, id: 'oc_group', tomorrowTime: '07:30', updatedAt: now() }] });
    const todo = await postTodo(h, { assignees: ['ou_alice'], remindAt: pickerValueInHours(1, clock.now()) });
    await clock.advance(HOUR);
    const reminder = replies(todo.messageId)[0];
    const card = JSON.stringify(reminder?.card);
    expect(card).toContain('"Tomorrow 7:30"');
    expect(card).toContain('"明天 7:30"');
    expect(card).not.toContain('9:00');
    const answer = await h.click('ou_alice', reminder?.messageId as string, buttonValue(reminder?.card, 'todo.tomorrow'), { timezone: 'Asia/Shanghai' });
    expect(answer.body.toast.content).toMatch(/Tue 24 Nov, 07:30/);
    expect(new Date((await todoOf(todo.todoId)).remindAt as number).toISOString()).toBe('2026-11-23T23:30:00.000Z');
  });

  it('Done on the reminder stops it and updates the to-do card', async () => {
    await start();
    const todo = await postTodo(h, { assignees: ['ou_alice'], remindAt: pickerValueInHours(1, clock.now()), repeat: 'daily' });
    await clock.advance(HOUR);
    const reminder = replies(todo.messageId)[0];
    const answer = await h.click('ou_alice', reminder?.messageId as string, buttonValue(reminder?.card, 'todo.done'));
    expect(JSON.stringify(answer.body.card.data)).toMatch(/Marked done by/);
    await h.settled();
    expect(JSON.stringify(h.emu.messages.get(todo.messageId)?.card)).toContain('Done by');
    await clock.advance(3 * 24 * HOUR);
    expect(replies(todo.messageId)).toHaveLength(1);
  });

  it('a reminder whose to-do was closed elsewhere answers a click with the to-do’s state, and keeps no buttons', async () => {
    await start();
    const todo = await postTodo(h, { assignees: ['ou_alice'], remindAt: pickerValueInHours(1, clock.now()) });
    await clock.advance(HOUR);
    const reminder = replies(todo.messageId)[0];
    const card = h.emu.messages.get(todo.messageId)?.card;
    await h.click('ou_admin', todo.messageId, buttonValue(card, 'todo.done'));
    await h.settled();
    for (const button of ['todo.snooze', 'todo.done'] as const) {
      const answer = await h.click('ou_alice', reminder?.messageId as string, buttonValue(reminder?.card, button));
      expect(answer.body.toast.type).toBe('info');
      const shown = JSON.stringify(answer.body.card.data);
      expect(shown).toContain('Marked done by');
      expect(shown).toContain('ou_admin');
      expect(shown).not.toContain('"tag":"button"');
    }
    // Recalled meanwhile: the reminder says so.
    const other = await postTodo(h, { assignees: ['ou_alice'], remindAt: pickerValueInHours(1, clock.now()) });
    await clock.advance(HOUR);
    const second = replies(other.messageId)[0];
    await h.say('ou_admin', '/recall', { parentId: other.messageId });
    await h.settled();
    const answer = await h.click('ou_alice', second?.messageId as string, buttonValue(second?.card, 'todo.done'));
    expect(answer.body.toast.content).toBe('This to-do was recalled.');
    expect(JSON.stringify(answer.body.card.data)).toContain('This to-do was recalled.');
  });

  it('others may not snooze', async () => {
    await start();
    const todo = await postTodo(h, { assignees: ['ou_alice'], remindAt: pickerValueInHours(1, clock.now()) });
    await clock.advance(HOUR);
    const reminder = replies(todo.messageId)[0];
    const answer = await h.click('ou_member', reminder?.messageId as string, buttonValue(reminder?.card, 'todo.snooze'));
    expect(answer.body.toast.type).toBe('error');
    expect((await todoOf(todo.todoId)).remindAt).toBeUndefined();
  });
});

describe('repetition', () => {
  it('a workdays reminder fires Monday to Friday at the same local time until done', async () => {
    // Fri 27 Nov 2026, 08:00 in Shanghai.
    await start({}, Date.UTC(2026, 10, 27, 0, 0));
    const todo = await postTodo(h, { remindAt: pickerValueInHours(1, clock.now()), repeat: 'workdays', timezone: 'Asia/Shanghai' });
    const fired: string[] = [];
    for (let day = 0; day < 5; day++) {
      await clock.advance(day === 0 ? HOUR : 24 * HOUR);
      fired.push(
        ...replies(todo.messageId)
          .slice(fired.length)
          .map(() => new Date(clock.now()).toISOString()),
      );
    }
    // Fri, (Sat, Sun skipped), Mon, Tue
    expect(fired).toEqual(['2026-11-27T01:00:00.000Z', '2026-11-30T01:00:00.000Z', '2026-12-01T01:00:00.000Z']);
    expect(new Date((await todoOf(todo.todoId)).remindAt as number).toISOString()).toBe('2026-12-02T01:00:00.000Z');
    expect(JSON.stringify(h.emu.messages.get(todo.messageId)?.card)).toContain('Every workday');
  });

  it('Tomorrow on a workdays reminder on a Friday means Monday, not a weekend reminder', async () => {
    // Fri 27 Nov 2026, 08:00 in Shanghai; the reminder fires at 09:00.
    await start({}, Date.UTC(2026, 10, 27, 0, 0));
    const todo = await postTodo(h, { assignees: ['ou_alice'], remindAt: pickerValueInHours(1, clock.now()), repeat: 'workdays', timezone: 'Asia/Shanghai' });
    await clock.advance(HOUR);
    const reminder = replies(todo.messageId)[0];
    const answer = await h.click('ou_alice', reminder?.messageId as string, buttonValue(reminder?.card, 'todo.tomorrow'), { timezone: 'Asia/Shanghai' });
    expect(answer.body.toast.content).toMatch(/Mon 30 Nov, 09:00/);
    expect(new Date((await todoOf(todo.todoId)).remindAt as number).toISOString()).toBe('2026-11-30T01:00:00.000Z');
    await clock.advance(2 * 24 * HOUR);
    expect(replies(todo.messageId), 'nothing on the weekend').toHaveLength(1);
  });

  it('a repeating to-do needs a reminder time', async () => {
    await start();
    await expect(postTodo(h, { repeat: 'daily' })).rejects.toThrow(/needs a reminder time/);
  });
});

describe('/todos', () => {
  it('lists the chat’s open to-dos with their next reminder, and /todos mine those assigned to the asker', async () => {
    await start();
    await postTodo(h, { text: 'for alice', assignees: ['ou_alice'], remindAt: pickerValueInHours(3, clock.now()) });
    await postTodo(h, { text: 'for bob', assignees: ['ou_bob'], remindAt: pickerValueInHours(1, clock.now()) });
    const done = await postTodo(h, { text: 'finished' });
    await h.click('ou_admin', done.messageId, buttonValue(done.card, 'todo.done'));
    await h.say('ou_alice', '/todos');
    await h.settled();
    const all = noticesTo(h, 'ou_alice').at(-1) as string;
    expect(all).toMatch(/for bob.*next reminder.*for alice/);
    expect(all).not.toContain('finished');
    await h.say('ou_alice', '/todos mine');
    await h.settled();
    const mine = noticesTo(h, 'ou_alice').at(-1) as string;
    expect(mine).toContain('for alice');
    expect(mine).not.toContain('for bob');
  });
});

describe('scale', () => {
  it('10,000 pending reminders: the due ones fire once each, the rest wait without timers', async () => {
    await start();
    const { store } = h.app;
    // The cards the reminders reply to live in the emulator, in this same process: made before the heap is measured.
    const cardIds = Array.from({ length: 10_000 }, (_, i) => h.emu.addExternalMessage({ chatId: 'oc_group', senderId: 'ou_bot', text: `card ${i}` }));
    const gc = gcFunction();
    const heapBefore = await heapAfterGc(gc);
    const todos: Todo[] = [];
    for (let i = 0; i < 10_000; i++) {
      const todo: Todo = {
        v: RECORD_VERSION,
        id: `todo_bulk_${i}`,
        formId: `form_bulk_${i}`,
        chatId: 'oc_group',
        creatorId: 'ou_admin',
        text: `bulk ${i}`,
        remindAt: clock.now() + (i + 1) * 60_000,
        timeZone: 'Asia/Shanghai',
        assigneeIds: [],
        status: 'open',
        messageId: cardIds[i] as string,
        createdAt: clock.now(),
        updatedAt: clock.now(),
      };
      todos.push(todo);
    }
    expect(await store.commit({ now: clock.now(), todos })).toEqual({ ok: true });
    const heapAfter = await heapAfterGc(gc);
    expect((await store.stats()).remindersPending).toBe(10_000);
    console.log(
      `FIGURE: 10,000 pending reminders stored and indexed: ${((heapAfter - heapBefore) / 1024 / 1024).toFixed(1)} MB of heap after a full GC (records and indexes), one timer`,
    );
    await clock.advance(0);
    expect(replies()).toHaveLength(0);
    // Ten come due; their replies go out at Feishu's 5 per second per chat.
    await clock.advance(10 * 60_000);
    await clock.advance(0);
    expect(replies()).toHaveLength(10);
    expect(new Set(replies().map((r) => r.parentId)).size).toBe(10);
    expect(await store.nextDue()).toBe(clock.now() + 60_000);
  });
});
