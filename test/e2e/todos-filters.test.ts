import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatMembersEvent } from '../../emulator';
import { type Harness, SECRETS, TestClock, noticesTo, pickerValueInHours, postTodo, startHarness } from './harness';

/** `/todos overdue`, `/todos @person` and `/todos mine`, and every line naming the to-do's current card. */

const clock = new TestClock(Date.UTC(2026, 10, 23, 2, 0));
let h: Harness;
const HOUR = 3_600_000;
const bea = { key: '@_user_2', openId: 'ou_bea', name: 'Bea Li' };
let overdue: { todoId: string };

beforeAll(async () => {
  h = await startHarness({ clock });
  overdue = await postTodo(h, { text: 'Renew the cert', assignees: ['ou_bea'], remindAt: pickerValueInHours(1, clock.now()) });
  await postTodo(h, { text: 'Tidy the wiki', assignees: ['ou_chris'] });
  await postTodo(h, { text: 'Ship the release', assignees: ['ou_bea', 'ou_chris'], remindAt: pickerValueInHours(48, clock.now()) });
  await clock.advance(HOUR);
});
afterAll(async () => {
  await h.stop();
});

async function list(text: string, people: (typeof bea)[] = [], asker = 'ou_member'): Promise<string> {
  const before = noticesTo(h, asker).length;
  await h.say(asker, text, { people });
  await h.settled();
  const shown = noticesTo(h, asker).slice(before);
  expect(shown).toHaveLength(1);
  return shown[0] as string;
}

describe('/todos filters', () => {
  it('overdue: only the to-dos past their time', async () => {
    const card = await list('/todos overdue');
    expect(card).toContain('Overdue to-dos in this chat');
    expect(card).toContain('Renew the cert');
    expect(card).not.toContain('Tidy the wiki');
    expect(card).not.toContain('Ship the release');
    expect((await h.app.services.store.todo(overdue.todoId))?.status).toBe('open');
  });

  it('@person: only the to-dos assigned to the people mentioned, and the filters combine', async () => {
    const card = await list('/todos @_user_2', [bea]);
    expect(card).toContain("<person id='ou_bea'");
    expect(card).toContain('Renew the cert');
    expect(card).toContain('Ship the release');
    expect(card).not.toContain('Tidy the wiki');
    const both = await list('/todos @_user_2 overdue', [bea]);
    expect(both).toContain('Renew the cert');
    expect(both).not.toContain('Ship the release');
    const chinese = await list('/待办列表 逾期');
    expect(chinese).toContain('本群已逾期的待办');
  });

  it('lists the overdue first, saying since when, ahead of the next reminders and those with none', async () => {
    const card = await list('/todos');
    const order = ['Renew the cert', 'Ship the release', 'Tidy the wiki'].map((text) => card.indexOf(text));
    expect(order.every((at, i) => at >= 0 && (i === 0 || at > (order[i - 1] as number)))).toBe(true);
    // Each line is the to-do's text, and under it since when it is overdue (or its next reminder) and its card.
    expect(card).toContain(
      '"content":"Renew the cert"}},{"tag":"div","text":{"tag":"plain_text","content":"overdue, due Mon 23 Nov, 11:00 (Asia/Shanghai)  ·  card',
    );
    expect(card).toContain('"content":"Tidy the wiki"}},{"tag":"div","text":{"tag":"plain_text","content":"no reminder  ·  card');
  });

  it('names each to-do’s current card by when it was posted', async () => {
    const card = await list('/todos');
    expect(card.match(/card Mon 23 Nov, 10:00/g)).toHaveLength(3);
  });

  it('says how to use it when a word is not a filter', async () => {
    expect(await list('/todos someday')).toContain('/todos overdue');
  });

  it('mine: the asker’s to-dos, those assigned to them and those they made for nobody still in the group, as the digest groups them', async () => {
    await postTodo(h, { text: 'Book the room' });
    await postTodo(h, { text: 'Water the plants', assignees: ['ou_member'] });
    const admins = await list('/todos mine', [], 'ou_admin');
    expect(admins).toContain('Book the room');
    expect(admins).not.toContain('Water the plants');
    expect(admins).not.toContain('Renew the cert');
    const members = await list('/todos mine');
    expect(members).toContain('Water the plants');
    expect(members).not.toContain('Book the room');
    // Once the one it was for has left the group, a to-do is its creator's again.
    await h.event(
      chatMembersEvent({ token: SECRETS.verificationToken, chatId: 'oc_group', change: 'deleted', userIds: ['ou_member'], createTime: Date.now() }),
    );
    expect(await list('/todos mine', [], 'ou_admin')).toContain('Water the plants');
  });
});
