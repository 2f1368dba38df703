import { afterEach, describe, expect, it } from 'vitest';
import { botMembershipEvent, chatMembersEvent } from '../../emulator';
import type { Todo } from '../../src/domain/model';
import { type Harness, SECRETS, TestClock, groupCards, pickerValueInHours, postTodo, readable, startHarness } from './harness';

/**
 * The daily digest as a group meets it: at the group's digest time, in its zone, one card listing its open to-dos
 * (overdue, due today, without a time), grouped by person with real mentions, Done on each line; nothing for a quiet
 * group; once a day across restarts; posted late once within 3 h of a missed time, skipped after; and the week's
 * first digest opening with last week's numbers. The clock is the bot's, moved by the tests.
 */

let clock: TestClock;
let h: Harness;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Monday 23 November 2026, 10:00 in Shanghai. */
const MONDAY_10 = Date.UTC(2026, 10, 23, 2, 0);

async function start(at = MONDAY_10, env: Record<string, string> = {}) {
  clock = new TestClock(at);
  // The tests post many to-dos quickly, past the default command budget of one person.
  h = await startHarness({ env: { DIGEST_TIME: '09:00', USER_COMMAND_LIMIT: '100', ...env }, clock });
}
afterEach(async () => {
  await h.stop();
});

const isDigest = (card: unknown) => JSON.stringify(card).includes('Daily digest');
const digests = () => groupCards(h).filter((m) => isDigest(m.card));
const todoOf = async (id: string) => (await h.app.services.store.todo(id)) as Todo;
/** The to-do ids of a digest's Done buttons, in order. */
function doneButtons(card: unknown): string[] {
  const ids: string[] = [];
  JSON.stringify(card, (key, value) => {
    if (key === 'value' && value?.action === 'todo.digestDone') ids.push(value.todoId);
    return value;
  });
  return ids;
}

/** The group's zone, as `/settings` saves it. */
async function setZone(timeZone: string) {
  const { store } = h.app.services;
  const record = await store.chat('oc_group');
  await store.commit({ now: clock.now(), chats: [{ ...(record ?? { v: 1 as const, id: 'oc_group' }), timeZone, updatedAt: clock.now() }] });
}

describe('the daily digest', () => {
  it('lists overdue to-dos first, then today’s, then those without a time, grouped by person, at the group’s time', async () => {
    await start();
    const overdue = await postTodo(h, { text: 'Renew the cert', assignees: ['ou_bea'], remindAt: pickerValueInHours(1, clock.now()) });
    const today = await postTodo(h, { text: 'Ship the release', assignees: ['ou_chris'], remindAt: pickerValueInHours(29, clock.now()) });
    const undated = await postTodo(h, { text: 'Tidy the wiki', assignees: ['ou_bea'] });
    const mine = await postTodo(h, { text: 'Book the room' });
    await postTodo(h, { text: 'Plan the offsite', remindAt: pickerValueInHours(72, clock.now()) });
    // Monday's 09:00 had passed before any of these existed: the group was quiet then, so nothing now.
    await clock.advance(HOUR);
    expect(digests()).toHaveLength(0);

    await clock.advance(22 * HOUR - 60_000);
    expect(digests()).toHaveLength(0);
    await clock.advance(60_000); // Tuesday 09:00 in Shanghai
    expect(digests()).toHaveLength(1);
    const card = digests()[0]?.card;
    expect(doneButtons(card)).toEqual([overdue.todoId, today.todoId, mine.todoId, undated.todoId]);
    const text = readable(card);
    for (const [before, after] of [
      ['Overdue', 'Renew the cert'],
      ['Renew the cert', 'Due today'],
      ['Due today', 'Ship the release'],
      ['Ship the release', 'Open, no time set'],
    ]) {
      expect(text.indexOf(before as string)).toBeLessThan(text.indexOf(after as string));
    }
    expect(text).toContain('<at id=ou_bea></at>');
    expect(text).toContain('<at id=ou_chris></at>');
    expect(text).toContain('<at id=ou_admin></at>');
    expect(text).not.toContain('id=all');
    expect(text).not.toContain('Plan the offsite');
    expect(text).toContain('每日摘要');

    // One per day: nothing more on Tuesday.
    await clock.advance(HOUR);
    await clock.advance(5 * HOUR);
    expect(digests()).toHaveLength(1);

    // Done on a line finishes that to-do, and says so; the digest stays as it is.
    const answer = await h.click('ou_bea', digests()[0]?.messageId as string, { action: 'todo.digestDone', todoId: overdue.todoId });
    expect(answer.body.toast).toMatchObject({ type: 'success', content: 'Marked done.' });
    expect(answer.body.card).toBeUndefined();
    expect((await todoOf(overdue.todoId)).status).toBe('done');
  });

  it('shows 20 lines, then how many more and /todos', async () => {
    await start();
    for (let i = 0; i < 23; i++) await postTodo(h, { text: `Chore ${i}` });
    await clock.advance(23 * HOUR);
    const card = digests()[0]?.card;
    expect(doneButtons(card)).toHaveLength(20);
    expect(readable(card)).toContain('And 3 more; /todos lists the first 20, the overdue first, /todos overdue those past due.');
  });

  it('sends nothing to a group without open to-dos, and nothing when the digest is off', async () => {
    await start();
    const todo = await postTodo(h, { text: 'Water the plants' });
    await h.click('ou_admin', todo.messageId, { action: 'todo.done', todoId: todo.todoId });
    await clock.advance(23 * HOUR);
    expect(digests()).toHaveLength(0);

    await h.app.services.store.commit({ now: clock.now(), chats: [{ v: 1, id: 'oc_group', digestTime: 'off', updatedAt: clock.now() }] });
    await postTodo(h, { text: 'Call the plumber' });
    await clock.advance(DAY);
    expect(digests()).toHaveLength(0);
  });

  it('is posted once a day across a restart', async () => {
    await start();
    await postTodo(h, { text: 'Water the plants' });
    await clock.advance(23 * HOUR);
    expect(digests()).toHaveLength(1);
    await h.restart();
    await clock.advance(60_000);
    await clock.advance(HOUR);
    expect(digests()).toHaveLength(1);
    await clock.advance(DAY);
    expect(digests()).toHaveLength(2);
  });

  it('is posted the day after its group moved far east: Monday 09:00 in Los Angeles, then Tuesday 09:00 in Shanghai', async () => {
    await start();
    await setZone('America/Los_Angeles');
    await postTodo(h, { text: 'Water the plants' });
    // Monday 09:00 in Los Angeles is 17:00 UTC, fifteen hours on from the start.
    await clock.advance(15 * HOUR);
    expect(digests()).toHaveLength(1);
    await setZone('Asia/Shanghai');
    // Tuesday 09:00 in Shanghai, 01:00 UTC: Monday's digest, read in Shanghai, fell on this Tuesday at 01:00.
    await clock.advance(8 * HOUR);
    expect(digests()).toHaveLength(2);
    await clock.advance(HOUR);
    expect(digests()).toHaveLength(2);
  });

  it('is not posted twice the day its group moves to a nearby zone after its digest: London, then Paris', async () => {
    await start();
    const { store } = h.app.services;
    await setZone('Europe/London');
    await postTodo(h, { text: 'Water the plants' });
    // Monday 09:00 in London is 09:00 UTC, seven hours on; Paris's 09:00 passed an hour before it.
    await clock.advance(7 * HOUR);
    expect(digests()).toHaveLength(1);
    const londonClaim = (await store.chat('oc_group'))?.lastDigestAt;
    // An hour and a half later, Paris: its 09:00 today, 08:00 UTC, is under 3 h late, and is not claimed again (a
    // second claim would post a second digest, under a uuid Feishu would take once its hour of dedupe passed).
    await clock.advance(90 * 60_000);
    await setZone('Europe/Paris');
    await clock.advance(60_000);
    expect((await store.chat('oc_group'))?.lastDigestAt).toBe(londonClaim);
    expect(digests()).toHaveLength(1);
  });

  it('missed while the bot was down: posted once when less than 3 h late, skipped when later', async () => {
    await start();
    await postTodo(h, { text: 'Water the plants' });
    // Down from Tuesday 08:30 to 11:00: two hours late.
    await clock.advance(22 * HOUR + 30 * 60_000);
    await h.restart(() => {
      clock.jump(2.5 * HOUR);
    });
    await clock.advance(0);
    expect(digests()).toHaveLength(1);
    await clock.advance(HOUR);
    expect(digests()).toHaveLength(1);

    // Down from Wednesday 08:30 to 12:30: three and a half hours late, so Wednesday's is skipped.
    await clock.advance(20 * HOUR + 30 * 60_000);
    await h.restart(() => {
      clock.jump(4 * HOUR);
    });
    await clock.advance(0);
    await clock.advance(HOUR);
    expect(digests()).toHaveLength(1);
    // Thursday's comes as usual.
    await clock.advance(DAY - 4.5 * HOUR - 60_000);
    expect(digests()).toHaveLength(1);
    await clock.advance(60_000);
    expect(digests()).toHaveLength(2);
  });

  it('opens the week’s first digest with last week’s numbers per person', async () => {
    // Wednesday 18 November, 10:00 in Shanghai.
    await start(MONDAY_10 - 5 * DAY);
    const finished = await postTodo(h, { text: 'Renew the cert', assignees: ['ou_bea'] });
    await h.click('ou_bea', finished.messageId, { action: 'todo.done', todoId: finished.todoId });
    await postTodo(h, { text: 'Ship the release', assignees: ['ou_bea'], remindAt: pickerValueInHours(1, clock.now()) });
    await postTodo(h, { text: 'Tidy the wiki', assignees: ['ou_chris'] });
    await clock.advance(23 * HOUR); // Thursday 09:00: the first digest ever, which opens its week (nothing last week)
    await clock.advance(DAY); // Friday 09:00
    expect(digests()).toHaveLength(2);
    expect(readable(digests()[1]?.card)).not.toContain('Last week');
    await clock.advance(3 * DAY); // Monday 09:00 (no digest on the weekend)
    expect(digests()).toHaveLength(3);
    const monday = readable(digests()[2]?.card);
    expect(monday).toContain('Last week');
    expect(monday).toContain('<at id=ou_bea></at> 1 done · 1 open · 1 overdue');
    expect(monday).toContain('<at id=ou_chris></at> 0 done · 1 open · 0 overdue');
    expect(monday).toContain('上周');
    await clock.advance(DAY);
    expect(readable(digests()[3]?.card)).not.toContain('Last week');
  });

  it('does not mention people who left the group: reminders, nudges and the digest name who is still in it', async () => {
    await start(MONDAY_10, { OVERDUE_NUDGE_HOURS: '2' });
    const todo = await postTodo(h, { text: 'Water the plants', assignees: ['ou_bea', 'ou_chris'], remindAt: pickerValueInHours(1, clock.now()) });
    const left = await h.event(
      chatMembersEvent({ token: SECRETS.verificationToken, chatId: 'oc_group', change: 'deleted', userIds: ['ou_chris'], createTime: clock.now() }),
    );
    expect(left.status).toBe(200);
    // Chris's earlier joining, delivered late, does not undo his leaving.
    await h.event(
      chatMembersEvent({ token: SECRETS.verificationToken, chatId: 'oc_group', change: 'added', userIds: ['ou_chris'], createTime: clock.now() - DAY }),
    );
    const replies = () => [...h.emu.messages.values()].filter((m) => m.kind === 'reply' && m.parentId === todo.messageId);
    await clock.advance(HOUR);
    const reminder = readable(replies()[0]?.card);
    expect(reminder).toContain('<at id=ou_bea></at>');
    expect(reminder).not.toContain('ou_chris');
    await clock.advance(3 * HOUR);
    const nudge = readable(replies()[1]?.card);
    expect(nudge).toContain('<at id=ou_bea></at>');
    expect(nudge).not.toContain('ou_chris');
    // Bea leaves too: the creator is named in her place, by the next morning's digest.
    await h.event(
      chatMembersEvent({ token: SECRETS.verificationToken, chatId: 'oc_group', change: 'withdrawn', userIds: ['ou_bea'], createTime: clock.now() }),
    );
    await clock.advance(19 * HOUR); // Tuesday 09:00
    const digest = readable(digests().at(-1)?.card);
    expect(digest).toContain('Water the plants');
    expect(digest).toContain('<at id=ou_admin></at>');
    expect(digest).not.toMatch(/ou_bea|ou_chris/);
    // Chris comes back: mentioned again.
    await h.event(chatMembersEvent({ token: SECRETS.verificationToken, chatId: 'oc_group', change: 'added', userIds: ['ou_chris'], createTime: clock.now() }));
    await clock.advance(DAY);
    expect(readable(digests().at(-1)?.card)).toContain('<at id=ou_chris></at>');
    // The bot removed and added again heard of nobody meanwhile: what it knew of who left is forgotten.
    await h.event(botMembershipEvent({ token: SECRETS.verificationToken, chatId: 'oc_group', added: false, createTime: clock.now() }));
    await h.event(botMembershipEvent({ token: SECRETS.verificationToken, chatId: 'oc_group', added: true, createTime: clock.now() + 1 }));
    expect((await h.app.services.store.chat('oc_group'))?.memberChanges).toBeUndefined();
    // A leaving from before that, redelivered late, is not taken up again.
    await h.event(
      chatMembersEvent({
        token: SECRETS.verificationToken,
        chatId: 'oc_group',
        change: 'deleted',
        userIds: ['ou_bea'],
        createTime: clock.now() - HOUR,
        eventId: 'ev_late_leave',
      }),
    );
    expect((await h.app.services.store.chat('oc_group'))?.memberChanges).toBeUndefined();
  });

  it('does not count a person who left in Monday’s week, nor their to-dos as the creator’s', async () => {
    await start(MONDAY_10);
    await postTodo(h, { text: 'Water the plants', assignees: ['ou_chris'], remindAt: pickerValueInHours(1, clock.now()) });
    await h.event(
      chatMembersEvent({ token: SECRETS.verificationToken, chatId: 'oc_group', change: 'deleted', userIds: ['ou_chris'], createTime: clock.now() }),
    );
    await clock.advance(7 * DAY - HOUR); // the next Monday, 09:00
    const monday = readable(digests().at(-1)?.card);
    expect(monday).toContain('Water the plants');
    expect(monday).not.toContain('Last week');
  });

  it('is not posted, nor reminders or nudges, in a group the bot was removed from, until it is added again', async () => {
    await start(MONDAY_10, { OVERDUE_NUDGE_HOURS: '2' });
    const todo = await postTodo(h, { text: 'Water the plants', assignees: ['ou_bea'], remindAt: pickerValueInHours(1, clock.now()), repeat: 'daily' });
    const removed = await h.event(botMembershipEvent({ token: SECRETS.verificationToken, chatId: 'oc_group', added: false, createTime: clock.now() }));
    expect(removed.status).toBe(200);
    expect((await h.app.services.store.chat('oc_group'))?.botLeftAt).toBeDefined();
    const callsBefore = h.emu.callsTo('POST', /^\/open-apis\/im\/v1\/messages/).length;
    const patchesBefore = h.emu.callsTo('PATCH', /^\/open-apis\/im\/v1\/messages/).length;
    // Its reminder's time, Tuesday's digest time, and hours overdue pass: nothing is tried in the chat.
    await clock.advance(HOUR);
    await clock.advance(DAY);
    expect(h.emu.callsTo('POST', /^\/open-apis\/im\/v1\/messages/)).toHaveLength(callsBefore);
    expect(h.emu.callsTo('PATCH', /^\/open-apis\/im\/v1\/messages/)).toHaveLength(patchesBefore);

    await h.event(botMembershipEvent({ token: SECRETS.verificationToken, chatId: 'oc_group', added: true, createTime: clock.now() }));
    expect((await h.app.services.store.chat('oc_group'))?.botLeftAt).toBeUndefined();
    // The removal, redelivered late (Feishu retries for hours), does not undo the addition made after it.
    await h.event(
      botMembershipEvent({ token: SECRETS.verificationToken, chatId: 'oc_group', added: false, createTime: clock.now() - DAY, eventId: 'ev_removed_again' }),
    );
    expect((await h.app.services.store.chat('oc_group'))?.botLeftAt).toBeUndefined();
    // Wednesday: the digest and the day's reminder go out again.
    await clock.advance(DAY);
    expect(digests()).toHaveLength(1);
    expect(groupCards(h).filter((m) => m.messageId === todo.messageId)).toHaveLength(1);
    expect([...h.emu.messages.values()].filter((m) => m.kind === 'reply' && m.parentId === todo.messageId).length).toBeGreaterThanOrEqual(1);
  });
});
