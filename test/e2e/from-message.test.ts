import { afterEach, describe, expect, it } from 'vitest';
import type { Todo } from '../../src/domain/model';
import { type Harness, buttonValue, formCards, formValues, noticesTo, startHarness, submitForm } from './harness';

/** `/todo` sent as a reply to any message of the group makes its to-do from that message. */

let h: Harness;
afterEach(async () => {
  await h.stop();
});

const NAMES = { ou_bob: 'Bob Wu', ou_alice: 'Alice Chen' };

async function start() {
  h = await startHarness({ emulator: { names: NAMES } });
}

/** `/todo [text]` as a reply to `sourceId`, and the form it opened (its card and id). */
async function todoReplyingTo(sourceId: string, text = '') {
  await h.say('ou_admin', `/todo ${text}`.trim(), { parentId: sourceId });
  await h.settled();
  const form = formCards(h, 'ou_admin').at(-1);
  if (!form) throw new Error('no form was sent');
  return { messageId: form.messageId, card: form.card as unknown };
}

const inputOf = (card: unknown) => JSON.stringify(card).match(/"default_value":"([^"]*)"/)?.[1];
const todoOfCard = async (messageId: string) => (await h.app.services.store.todoByMessage(messageId)) as Todo;

describe('people mentioned in the /todo text', () => {
  it('stay in the form’s text by name; a command addressed to another bot is left alone', async () => {
    await start();
    await h.say('ou_admin', '/todo ask @_user_2 about the budget', { people: [{ key: '@_user_2', openId: 'ou_alice', name: 'Alice Chen' }] });
    await h.settled();
    expect(inputOf(formCards(h, 'ou_admin').at(-1)?.card)).toBe('ask @Alice Chen about the budget');
    // Someone Feishu gives no name for is left out, not written as a bare "@".
    await h.say('ou_admin', '/todo call @_user_2 back', { people: [{ key: '@_user_2', openId: 'ou_x', name: '' }] });
    await h.settled();
    expect(inputOf(formCards(h, 'ou_admin').at(-1)?.card)).toBe('call back');

    // `@Weather Bot /help`, with the read-all scope: not for this bot, so no help card and nothing stored.
    const before = h.emu.messages.size;
    await h.say('ou_member', '@_user_3 /help', { mentionBot: false, people: [{ key: '@_user_3', openId: 'ou_weather_bot', name: 'Weather Bot' }] });
    await h.settled();
    expect(h.emu.messages.size).toBe(before);
  });
});

describe('a to-do from a message', () => {
  it('reads a text message: its words prefill the form, a time in them the reminder, and the card replies to it', async () => {
    await start();
    const source = h.emu.addExternalMessage({ chatId: 'oc_group', senderId: 'ou_bob', text: 'Can someone update the release checklist tomorrow 3pm?' });
    const form = await todoReplyingTo(source);
    expect(h.emu.callsTo('GET', `/open-apis/im/v1/messages/${source}`)).toHaveLength(1);
    expect(inputOf(form.card)).toContain('Can someone update the release checklist');
    expect(JSON.stringify(form.card)).toMatch(/"initial_datetime":"\d{4}-\d{2}-\d{2} 15:00"/);

    const answer = await submitForm(h, 'ou_admin', form, formValues({ text: 'Update the release checklist' }));
    expect(answer.body.toast.type).toBe('success');
    await h.settled();
    const card = [...h.emu.messages.values()].find((m) => m.kind === 'reply' && m.parentId === source);
    expect(card, 'the to-do card replies to the source').toBeDefined();
    const todo = await todoOfCard(card?.messageId as string);
    expect(todo.source).toMatchObject({ messageId: source, senderId: 'ou_bob', senderType: 'user', senderName: 'Bob Wu' });

    await h.say('ou_member', '/todos');
    await h.settled();
    expect(noticesTo(h, 'ou_member').at(-1)).toContain("from Bob Wu's message");
  });

  it('counts the times in the message’s words from when it was sent', async () => {
    await start();
    const hourAgo = Date.now() - 60 * 60_000;
    const soon = h.emu.addExternalMessage({ chatId: 'oc_group', senderId: 'ou_bob', text: 'Call the supplier back in 2 hours', sentAt: hourAgo });
    const passed = h.emu.addExternalMessage({ chatId: 'oc_group', senderId: 'ou_bob', text: 'Check the oven in 30 minutes', sentAt: hourAgo });
    const inTwoHours = await todoReplyingTo(soon);
    // Two hours after the message, an hour from now, in the group's zone (the default, Asia/Shanghai).
    const wall = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai', dateStyle: 'short', timeStyle: 'short' }).format(hourAgo + 2 * 60 * 60_000);
    expect(JSON.stringify(inTwoHours.card)).toContain(`"initial_datetime":"${wall}"`);
    // Half an hour after the message had passed when the to-do was made from it: nothing prefilled.
    const late = await todoReplyingTo(passed);
    expect(JSON.stringify(late.card)).not.toContain('initial_datetime');
    expect(inputOf(late.card)).toBe('Check the oven in 30 minutes');
  });

  it('reads a rich-text message from a bot, its mentions as names; words typed after /todo win', async () => {
    await start();
    const source = h.emu.addExternalMessage({
      chatId: 'oc_group',
      senderId: 'cli_other_bot',
      senderType: 'app',
      format: 'post',
      text: 'Deploy failed on main, @_user_1 please look',
      mentions: [{ key: '@_user_1', openId: 'ou_alice', name: 'Alice Chen' }],
    });
    const form = await todoReplyingTo(source);
    expect(inputOf(form.card)).toBe('Deploy failed on main, @Alice Chen please look');

    const typed = await todoReplyingTo(source, 'Fix the deploy');
    expect(inputOf(typed.card)).toBe('Fix the deploy');
    await submitForm(h, 'ou_admin', typed, formValues({ text: 'Fix the deploy' }));
    await h.settled();
    const card = [...h.emu.messages.values()].find((m) => m.kind === 'reply' && m.parentId === source);
    expect((await todoOfCard(card?.messageId as string)).source).toMatchObject({ messageId: source, senderType: 'app' });
  });

  it('inside a thread, takes the thread’s first message when it has words, and says nothing when it has none', async () => {
    await start();
    // Inside a thread Feishu names the thread's first message as every message's parent, whatever was replied to.
    const inThread = async (root: string, text: string) => {
      await h.say('ou_admin', text, { parentId: root, threadId: `omt_${root}` });
      await h.settled();
      return formCards(h, 'ou_admin').at(-1);
    };
    const question = h.emu.addExternalMessage({ chatId: 'oc_group', senderId: 'ou_bob', text: 'Who renews the domain this year?' });
    expect(inputOf((await inThread(question, '/todo'))?.card)).toContain('Who renews the domain this year?');

    // A thread under one of the bot's cards: the card has no words to take, and the person replied to nothing of theirs.
    const card = h.emu.addExternalMessage({ chatId: 'oc_group', senderId: 'ou_bob', text: 'ignored' });
    const message = h.emu.messages.get(card);
    if (message) Object.assign(message, { msgType: 'interactive', content: { type: 'card' } });
    const before = noticesTo(h, 'ou_admin').length;
    expect(inputOf((await inThread(card, '/todo Call the registrar'))?.card)).toBe('Call the registrar');
    expect(noticesTo(h, 'ou_admin')).toHaveLength(before);
    // The same message replied to outside a thread is named, and its line says why it gave nothing.
    await todoReplyingTo(card);
    expect(noticesTo(h, 'ou_admin').at(-1)).toContain('has no words I can read');
  });

  it('opens the form empty, with one private line saying why, for a recalled message or without the read scope', async () => {
    await start();
    const source = h.emu.addExternalMessage({ chatId: 'oc_group', senderId: 'ou_bob', text: 'Order more coffee' });
    const message = h.emu.messages.get(source);
    if (message) message.recalled = true;
    const form = await todoReplyingTo(source);
    expect(inputOf(form.card)).toBeUndefined();
    const lines = noticesTo(h, 'ou_admin');
    expect(lines.filter((line) => line.includes('recalled or deleted'))).toHaveLength(1);
    expect(lines.at(-1)).toContain('The form opens empty.');
    expect(lines.join('\n')).not.toContain('Order more coffee');
    // Words typed after /todo stay in the form, and the line says so.
    const typed = await todoReplyingTo(source, 'Call the caterer');
    expect(inputOf(typed.card)).toBe('Call the caterer');
    expect(noticesTo(h, 'ou_admin').at(-1)).toContain('The form holds only what you typed after the command.');

    h.emu.setMessageScope(false);
    const other = h.emu.addExternalMessage({ chatId: 'oc_group', senderId: 'ou_bob', text: 'Book the room' });
    const unscoped = await todoReplyingTo(other);
    expect(inputOf(unscoped.card)).toBeUndefined();
    expect(noticesTo(h, 'ou_admin').at(-1)).toContain('im:message:readonly');
    // The form still works; nothing of the message was read, so the to-do keeps no source and its card goes to the chat.
    await submitForm(h, 'ou_admin', unscoped, formValues({ text: 'Book the room' }));
    await h.settled();
    const posted = [...h.emu.messages.values()].filter((m) => m.kind === 'message' && m.card !== undefined && JSON.stringify(m.card).includes('Book the room'));
    expect(posted).toHaveLength(1);
    expect((await todoOfCard(posted[0]?.messageId as string)).source).toBeUndefined();
    expect(buttonValue(posted[0]?.card, 'todo.done')).toBeDefined();

    // A message read scope alone does not read a group's messages: Feishu also asks for im:message.group_msg.
    h.emu.setMessageScope(true);
    h.emu.setGroupMessageScope(false);
    const group = h.emu.addExternalMessage({ chatId: 'oc_group', senderId: 'ou_bob', text: 'Print the badges' });
    const withoutGroupScope = await todoReplyingTo(group);
    expect(inputOf(withoutGroupScope.card)).toBeUndefined();
    expect(noticesTo(h, 'ou_admin').at(-1)).toContain('im:message.group_msg');
    expect(noticesTo(h, 'ou_admin').join('\n')).not.toContain('Print the badges');
    h.emu.setGroupMessageScope(true);
  });
});
