import { afterEach, describe, expect, it } from 'vitest';
import type { Todo } from '../../src/domain/model';
import { type Harness, TestClock, buttonValue, pickerValueInHours, postTodo, startHarness } from './harness';

/**
 * Overdue nudges as a group meets them: a reply to the to-do's current card mentioning its people, with Done and
 * Snooze, once the to-do is overdue by the group's hours; at most once a day and three times in all; never from 22:00
 * to 8:00 in the group's zone; none once the to-do is done or recalled. The clock is the bot's, moved by the tests.
 */

let clock: TestClock;
let h: Harness;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Monday 23 November 2026, 10:00 in Shanghai. */
const MONDAY_10 = Date.UTC(2026, 10, 23, 2, 0);

async function start(env: Record<string, string> = { OVERDUE_NUDGE_HOURS: '2' }) {
  clock = new TestClock(MONDAY_10);
  h = await startHarness({ env, clock });
}
afterEach(async () => {
  await h.stop();
});

const nudges = (parentId?: string) =>
  [...h.emu.messages.values()].filter((m) => m.kind === 'reply' && JSON.stringify(m.card).includes('still open') && (!parentId || m.parentId === parentId));
const todoOf = async (id: string) => (await h.app.services.store.todo(id)) as Todo;

describe('overdue nudges', () => {
  it('reply to the to-do’s card once a day, three times in all, never in the group’s quiet hours', async () => {
    await start();
    const todo = await postTodo(h, { text: 'Renew the cert', assignees: ['ou_bea'], remindAt: pickerValueInHours(1, clock.now()) });
    await clock.advance(HOUR); // 11:00: the reminder
    await clock.advance(2 * HOUR - 60_000);
    expect(nudges()).toHaveLength(0);
    await clock.advance(60_000); // 13:00: two hours overdue
    expect(nudges(todo.messageId)).toHaveLength(1);
    const card = nudges()[0]?.card;
    expect(JSON.stringify(card)).toContain('<at id=ou_bea></at>');
    expect(JSON.stringify(card)).toContain('Renew the cert');
    for (const action of ['todo.done', 'todo.snooze']) expect(buttonValue(card, action).todoId).toBe(todo.todoId);

    await clock.advance(HOUR);
    await clock.advance(10 * HOUR); // Tuesday 00:00: a new day, but quiet hours
    await clock.advance(8 * HOUR - 60_000); // 07:59
    expect(nudges()).toHaveLength(1);
    await clock.advance(60_000); // 08:00
    expect(nudges()).toHaveLength(2);
    await clock.advance(HOUR);
    expect(nudges()).toHaveLength(2);
    await clock.advance(DAY);
    expect(nudges()).toHaveLength(3);
    await clock.advance(DAY);
    await clock.advance(DAY);
    expect(nudges()).toHaveLength(3);
    expect((await todoOf(todo.todoId)).nudges).toBe(3);
  });

  it('wait the group’s hours after a reminder posted late, when the bot was down past the to-do’s time', async () => {
    await start();
    const todo = await postTodo(h, { text: 'Renew the cert', assignees: ['ou_bea'], remindAt: pickerValueInHours(1, clock.now()) });
    // Down from 10:00 to 15:00: the reminder (11:00) is four hours past, overdue by more than the group's two hours.
    await h.restart(async () => clock.jump(5 * HOUR));
    await clock.advance(60_000);
    const replies = () => [...h.emu.messages.values()].filter((m) => m.kind === 'reply' && m.parentId === todo.messageId);
    expect(replies()).toHaveLength(1);
    expect(nudges()).toHaveLength(0);
    await clock.advance(2 * HOUR);
    expect(nudges(todo.messageId)).toHaveLength(1);
  });

  it('nudge a one-off reopened after its time passed while it was done, once the group’s hours have passed', async () => {
    await start();
    const todo = await postTodo(h, { text: 'Renew the cert', assignees: ['ou_bea'], remindAt: pickerValueInHours(1, clock.now()) });
    await h.click('ou_bea', todo.messageId, { action: 'todo.done', todoId: todo.todoId });
    await clock.advance(3 * HOUR); // 13:00: its 11:00 passed while it was done, with no reminder
    await h.click('ou_bea', todo.messageId, { action: 'todo.reopen', todoId: todo.todoId });
    await clock.advance(30 * 60_000);
    expect(nudges()).toHaveLength(0);
    await clock.advance(HOUR);
    expect(nudges(todo.messageId)).toHaveLength(1);
  });

  it('mention the creator when nobody is assigned, and stop once the to-do is done or recalled', async () => {
    await start();
    const done = await postTodo(h, { text: 'Water the plants', remindAt: pickerValueInHours(1, clock.now()) });
    const recalled = await postTodo(h, { text: 'Book the room', remindAt: pickerValueInHours(1, clock.now()) });
    await clock.advance(HOUR); // the reminders
    await clock.advance(2 * HOUR);
    expect(nudges(done.messageId)).toHaveLength(1);
    expect(JSON.stringify(nudges(done.messageId)[0]?.card)).toContain('<at id=ou_admin></at>');
    expect(nudges(recalled.messageId)).toHaveLength(1);

    const nudge = nudges(done.messageId)[0];
    const answer = await h.click('ou_admin', nudge?.messageId as string, buttonValue(nudge?.card, 'todo.done'));
    expect(answer.body.toast.type).toBe('success');
    // The nudge keeps its own title once handled.
    expect(answer.body.card.data.header.title.content).toBe('Overdue');
    await h.say('ou_admin', '/recall', { parentId: recalled.messageId });
    await h.settled();
    expect((await todoOf(recalled.todoId)).status).toBe('recalled');
    await clock.advance(DAY);
    await clock.advance(DAY);
    expect(nudges()).toHaveLength(2);
  });

  it('are off unless the group or OVERDUE_NUDGE_HOURS turns them on', async () => {
    await start({});
    await postTodo(h, { text: 'Water the plants', remindAt: pickerValueInHours(1, clock.now()) });
    await clock.advance(3 * HOUR);
    await clock.advance(DAY);
    expect(nudges()).toHaveLength(0);
    await h.app.services.store.commit({ now: clock.now(), chats: [{ v: 1, id: 'oc_group', nudgeAfterHours: 1, updatedAt: clock.now() }] });
    await clock.advance(60_000);
    expect(nudges()).toHaveLength(1);
  });
});
