import { afterEach, describe, expect, it } from 'vitest';
import { chatMembersEvent, defaultChats } from '../../emulator';
import type { Todo } from '../../src/domain/model';
import {
  type Harness,
  SECRETS,
  TOPIC_GROUP,
  TestClock,
  buttonValue,
  cancelForm,
  formValues,
  hasSubmit,
  pickerValueInHours,
  startHarness,
  submitButtonName,
  submitForm,
} from './harness';

/**
 * A topic group (话题群) has no ephemeral cards: the form reaches the admin by direct message, the to-do card and its
 * reminders stay in the command's topic, private answers go by direct message.
 */

const TOPIC = TOPIC_GROUP.chatId;
let clock: TestClock;
let h: Harness;

async function start(opts: { unavailableUsers?: string[] } = {}) {
  clock = new TestClock(Date.UTC(2026, 10, 23, 2, 0));
  h = await startHarness({
    clock,
    emulator: { now: clock.now, chats: [...defaultChats(), TOPIC_GROUP], ...opts },
  });
}
afterEach(async () => {
  await h.stop();
});

/**
 * A message typed in a new topic of the topic group, delivered to the bot; returns its id and topic. Its `chat_type`
 * is `group` as our contract has it, or `topic_group` as the SDKs' event models and bots in the wild have it.
 */
async function inNewTopic(sender: string, text: string, chatType: 'group' | 'topic_group' = 'group') {
  const messageId = h.emu.addExternalMessage({ chatId: TOPIC, senderId: sender, text });
  const threadId = h.emu.messages.get(messageId)?.threadId as string;
  await h.say(sender, text, { chatId: TOPIC, chatType, messageId, threadId });
  await h.settled();
  return { messageId, threadId };
}

/**
 * A reply typed inside a topic, delivered to the bot as Feishu delivers it: whatever was replied to, its parent is
 * the topic's first message (Feishu's message overview: 在话题内回复的消息，都是在回复根消息).
 */
async function inTopic(sender: string, text: string, topic: { messageId: string; threadId: string }, repliedTo: string) {
  const messageId = h.emu.addExternalMessage({ chatId: TOPIC, senderId: sender, text, parentId: repliedTo });
  await h.say(sender, text, { chatId: TOPIC, messageId, parentId: topic.messageId, threadId: topic.threadId });
  await h.settled();
  return messageId;
}

const messagesIn = (chatId: string) => [...h.emu.messages.values()].filter((m) => m.chatId === chatId);

describe('a topic group', () => {
  it.each(['group', 'topic_group'] as const)(
    'from command to reminder (chat_type %s): form by direct message, card and reminder in the topic, the direct form closed',
    async (chatType) => {
      await start();
      const command = await inNewTopic('ou_admin', '/todo Renew the domain', chatType);
      expect(h.emu.callsTo('POST', '/open-apis/ephemeral/v1/send')).toHaveLength(0);
      const dm = h.emu.directChatId('ou_admin');
      const form = messagesIn(dm).find((m) => hasSubmit(m.card));
      expect(form, 'the form came by direct message').toBeDefined();
      // The picker lists the group's members itself: in a direct chat it would offer the admin alone.
      const picker = JSON.stringify(form?.card).match(/"options":\[(\{"value":"ou_[a-z]+"\},?)+\]/)?.[0];
      expect(picker).toContain('ou_alice');
      expect(picker).toContain('ou_member');
      expect(JSON.stringify(form?.card)).toContain('Renew the domain');
      // Nothing in the topic yet.
      expect(messagesIn(TOPIC).filter((m) => m.senderId === 'ou_bot')).toHaveLength(0);

      const answer = await submitForm(
        h,
        'ou_admin',
        { messageId: form?.messageId as string, card: form?.card },
        formValues({ text: 'Renew the domain', assignees: ['ou_alice'], remindAt: pickerValueInHours(2, clock.now()) }),
        { chatId: dm },
      );
      expect(answer.body.toast.type).toBe('success');
      expect(hasSubmit(answer.body.card)).toBe(false);
      // Answered before the post is made: it says the post is under way, not done.
      expect(JSON.stringify(answer.body.card)).toContain('posting the to-do in the group');
      await h.settled();

      const card = messagesIn(TOPIC).find((m) => m.senderId === 'ou_bot' && m.kind === 'reply');
      expect(card?.parentId).toBe(command.messageId);
      expect(card?.threadId).toBe(command.threadId);
      const todo = (await h.app.services.store.todoByMessage(card?.messageId as string)) as Todo;
      expect(todo.replyTo).toBe(command.messageId);
      // The direct-message form was updated in place to its closed state.
      const closed = h.emu.messages.get(form?.messageId as string);
      expect(closed?.updates.length).toBeGreaterThan(0);
      expect(hasSubmit(closed?.card)).toBe(false);
      expect(JSON.stringify(closed?.card)).toContain('Submitted');

      await clock.advance(2 * 3_600_000);
      const reminder = messagesIn(TOPIC).find((m) => m.kind === 'reply' && m.parentId === card?.messageId);
      expect(reminder?.threadId).toBe(command.threadId);
      expect(JSON.stringify(reminder?.card)).toContain('<at id=ou_alice></at>');
      const done = await h.click('ou_alice', reminder?.messageId as string, buttonValue(reminder?.card, 'todo.done'), { chatId: TOPIC });
      expect(done.body.toast.type).toBe('success');
    },
  );

  it('a post Feishu refuses is told by direct message, asking for /todo again, since the direct form has no Submit left', async () => {
    await start();
    await inNewTopic('ou_admin', '/todo Renew the domain');
    const dm = h.emu.directChatId('ou_admin');
    const form = messagesIn(dm).find((m) => hasSubmit(m.card));
    h.emu.fault({ method: 'POST', code: 230002, times: 10, path: /\/open-apis\/im\/v1\/messages\/[^/]+\/reply$/ });
    await submitForm(h, 'ou_admin', { messageId: form?.messageId as string, card: form?.card }, formValues({ text: 'Renew the domain' }), { chatId: dm });
    await h.settled();
    const told = messagesIn(dm)
      .map((m) => JSON.stringify(m.card))
      .filter((card) => card.includes('could not post your to-do'));
    expect(told).toHaveLength(1);
    expect(told[0]).toContain('send /todo in the topic again to retry');
    expect(told[0]).not.toContain('press Submit');
  });

  it('answers privately by direct message: a refusal, and a Submit from another chat', async () => {
    await start();
    await inNewTopic('ou_member', '/todo Not allowed');
    const refusal = messagesIn(h.emu.directChatId('ou_member'));
    expect(refusal).toHaveLength(1);
    expect(JSON.stringify(refusal[0]?.card)).toMatch(/Only the group owner and group admins/);
    expect(messagesIn(TOPIC).filter((m) => m.senderId === 'ou_bot')).toHaveLength(0);

    await inNewTopic('ou_admin', '/todo Renew the cert');
    const form = messagesIn(h.emu.directChatId('ou_admin')).find((m) => hasSubmit(m.card));
    // The form acts only from its own direct chat: a click reported from the group is refused.
    const elsewhere = await submitForm(h, 'ou_admin', { messageId: form?.messageId as string, card: form?.card }, formValues({ text: 'x' }), {
      chatId: 'oc_group',
    });
    expect(elsewhere.body.toast).toMatchObject({ type: 'error', content: expect.stringMatching(/another chat/) });
    // Nor may anyone else use it.
    const other = await submitForm(h, 'ou_member', { messageId: form?.messageId as string, card: form?.card }, formValues({ text: 'x' }), {
      chatId: h.emu.directChatId('ou_admin'),
    });
    expect(other.body.toast.type).toBe('error');
    const cancel = await cancelForm(h, 'ou_admin', { messageId: form?.messageId as string, card: form?.card }, { chatId: h.emu.directChatId('ou_admin') });
    expect(cancel.body.toast.type).toBe('info');
    await h.settled();
    expect(JSON.stringify(h.emu.messages.get(form?.messageId as string)?.card)).toContain('Cancelled');
    expect(messagesIn(TOPIC).filter((m) => m.senderId === 'ou_bot')).toHaveLength(0);
  });

  it('answers /todos and /help by direct message, and nothing of them in the topic', async () => {
    await start();
    await inNewTopic('ou_admin', '/todo Renew the domain');
    const dm = h.emu.directChatId('ou_admin');
    const form = messagesIn(dm).find((m) => hasSubmit(m.card));
    const submitted = await submitForm(
      h,
      'ou_admin',
      { messageId: form?.messageId as string, card: form?.card },
      formValues({ text: 'Renew the domain', assignees: ['ou_alice'] }),
      {
        chatId: dm,
      },
    );
    expect(submitted.body.toast.type).toBe('success');
    await h.settled();
    const inTopic = () => messagesIn(TOPIC).filter((m) => m.senderId === 'ou_bot').length;
    const before = inTopic();

    await inNewTopic('ou_alice', '/todos');
    await inNewTopic('ou_alice', '/help');
    const answers = messagesIn(h.emu.directChatId('ou_alice')).map((m) => JSON.stringify(m.card));
    expect(answers).toHaveLength(2);
    expect(answers[0]).toContain('Renew the domain');
    for (const usage of ['/todo', '/todos', '/recall', '/help']) expect(answers[1]).toContain(usage);
    expect(inTopic()).toBe(before);
  });

  it('closes a to-do from the /todos lists it sends by direct message, for those who may close it, and from no other group', async () => {
    await start();
    await inNewTopic('ou_admin', '/todo Renew the domain');
    const dm = h.emu.directChatId('ou_admin');
    const form = messagesIn(dm).find((m) => hasSubmit(m.card));
    await submitForm(
      h,
      'ou_admin',
      { messageId: form?.messageId as string, card: form?.card },
      formValues({ text: 'Renew the domain', assignees: ['ou_alice'] }),
      {
        chatId: dm,
      },
    );
    await h.settled();
    /** The Done of the to-do on the list `/todos` sends `user` by direct message, and that chat. */
    const listDone = async (user: string) => {
      await inNewTopic(user, '/todos');
      const chatId = h.emu.directChatId(user);
      const list = messagesIn(chatId).at(-1);
      return { messageId: list?.messageId as string, value: buttonValue(list?.card, 'todo.listDone'), chatId };
    };
    const alice = await listDone('ou_alice');
    const todoId = alice.value.todoId as string;
    const status = async () => (await h.app.services.store.todo(todoId))?.status;

    const elsewhere = await h.click('ou_alice', alice.messageId, alice.value, { chatId: 'oc_group' });
    expect(elsewhere.body.toast).toMatchObject({ type: 'error', content: 'This card belongs to another chat; use the to-do in its own group.' });
    const member = await listDone('ou_member');
    const owner = await listDone('ou_owner');
    const notHers = await h.click('ou_member', member.messageId, member.value, { chatId: member.chatId });
    expect(notHers.body.toast).toMatchObject({ type: 'error', content: 'Only the assignees, the creator and group admins can change this to-do.' });
    expect(await status()).toBe('open');

    // An assignee who left the group is one no longer, though the list in her direct chat stays.
    await h.event(chatMembersEvent({ token: SECRETS.verificationToken, chatId: TOPIC, change: 'deleted', userIds: ['ou_alice'], createTime: clock.now() }));
    const gone = await h.click('ou_alice', alice.messageId, alice.value, { chatId: alice.chatId });
    expect(gone.body.toast).toMatchObject({ type: 'error', content: 'Only the assignees, the creator and group admins can change this to-do.' });
    expect(await status()).toBe('open');

    // Back in the group, she is an assignee again.
    await h.event(chatMembersEvent({ token: SECRETS.verificationToken, chatId: TOPIC, change: 'added', userIds: ['ou_alice'], createTime: clock.now() + 1 }));
    const back = await h.click('ou_alice', alice.messageId, alice.value, { chatId: alice.chatId });
    expect(back.body.toast).toMatchObject({ type: 'success', content: 'Marked done.' });
    await h.settled();
    expect(await status()).toBe('done');

    // The group's owner, neither its creator nor assigned, is an admin: allowed, and told it is done already.
    const answer = await h.click('ou_owner', owner.messageId, owner.value, { chatId: owner.chatId });
    expect(answer.body.toast).toMatchObject({ type: 'info' });
  });

  it('says in the topic, in one line and with no to-do content, when the direct message cannot be delivered', async () => {
    await start({ unavailableUsers: ['ou_admin'] });
    const command = await inNewTopic('ou_admin', '/todo Secret plans');
    const lines = messagesIn(TOPIC).filter((m) => m.senderId === 'ou_bot');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.parentId).toBe(command.messageId);
    expect(JSON.stringify(lines[0]?.card)).toContain('direct message');
    expect(JSON.stringify(lines[0]?.card)).not.toContain('Secret plans');
    expect(await h.app.services.store.openForm(TOPIC, 'ou_admin')).toBeUndefined();
  });
});

describe('/settings in a topic group', () => {
  const isSettings = (card: unknown) => JSON.stringify(card).includes('"action":"settings.save"');
  const save = (user: string, card: { messageId: string; card?: unknown }, chatId: string, formValue: Record<string, unknown>) =>
    h.click(user, card.messageId, buttonValue(card.card, 'settings.save'), { chatId, formValue, name: submitButtonName(card.card) });

  it('comes to the admin by direct message and is saved from there for the topic group, checked as in the group', async () => {
    await start();
    await inNewTopic('ou_admin', '/settings');
    const dm = h.emu.directChatId('ou_admin');
    const card = messagesIn(dm).find((m) => isSettings(m.card));
    if (!card) throw new Error('no settings card by direct message');
    expect(messagesIn(TOPIC).filter((m) => m.senderId === 'ou_bot')).toHaveLength(0);

    const bad = await save('ou_admin', card, dm, { digestTime: '25:99' });
    expect(bad.body.toast).toMatchObject({ type: 'error', content: expect.stringMatching(/digest/i) });
    expect(await h.app.services.store.chat(TOPIC)).toBeUndefined();

    const saved = await save('ou_admin', card, dm, { whoCreates: 'everyone', tomorrowTime: '10:00' });
    expect(saved.body.toast).toMatchObject({ type: 'success', content: expect.stringMatching(/Everyone.*10:00/) });
    expect(await h.app.services.store.chat(TOPIC)).toMatchObject({ whoCreates: 'everyone', tomorrowTime: '10:00' });
    // Applied at once: a plain member's /todo in the topic group now opens a form, by direct message.
    await inNewTopic('ou_member', '/todo Water the plants');
    expect(messagesIn(h.emu.directChatId('ou_member')).some((m) => hasSubmit(m.card))).toBe(true);
  });

  it('refuses the card clicked from another group, and anyone who is not the group’s admin', async () => {
    await start();
    await inNewTopic('ou_admin', '/settings');
    const card = messagesIn(h.emu.directChatId('ou_admin')).find((m) => isSettings(m.card));
    if (!card) throw new Error('no settings card by direct message');

    const elsewhere = await save('ou_admin', card, 'oc_group', { whoCreates: 'everyone' });
    expect(elsewhere.body.toast).toMatchObject({ type: 'error', content: expect.stringMatching(/another chat/) });
    // A member clicking it from their own direct chat with the bot (say, an admin since demoted) is no admin.
    const member = await save('ou_member', card, h.emu.directChatId('ou_member'), { whoCreates: 'everyone' });
    expect(member.body.toast).toMatchObject({ type: 'error', content: expect.stringMatching(/Only the group owner and group admins/) });
    expect(await h.app.services.store.chat(TOPIC)).toBeUndefined();

    // A member's own /settings is refused privately, by direct message.
    await inNewTopic('ou_member', '/settings');
    const refusal = messagesIn(h.emu.directChatId('ou_member'));
    expect(refusal).toHaveLength(1);
    expect(JSON.stringify(refusal[0]?.card)).toMatch(/Only the group owner and group admins/);
  });
});

describe('a recalled /todo', () => {
  it('closes its open form: the private card goes, and a later Submit is refused', async () => {
    await start();
    const messageId = h.emu.addExternalMessage({ chatId: 'oc_group', senderId: 'ou_admin', text: '/todo Draft the memo' });
    await h.say('ou_admin', '/todo Draft the memo', { messageId });
    await h.settled();
    const form = [...h.emu.messages.values()].find((m) => m.kind === 'ephemeral' && hasSubmit(m.card));
    expect(form).toBeDefined();
    await h.recalled(messageId);
    await h.settled();
    expect(h.emu.messages.get(form?.messageId as string)?.deleted).toBe(true);
    expect(await h.app.services.store.openForm('oc_group', 'ou_admin')).toBeUndefined();
    const late = await submitForm(h, 'ou_admin', { messageId: form?.messageId as string, card: form?.card }, formValues({ text: 'Draft the memo' }));
    expect(late.body.toast.type).not.toBe('success');
    // Another message recalled in the chat changes nothing and is not stored.
    const chatter = h.emu.addExternalMessage({ chatId: 'oc_group', senderId: 'ou_member', text: 'oops' });
    expect((await h.recalled(chatter)).status).toBe(200);
  });

  it('closes its form also when the form was written meanwhile (its card’s id stored): Feishu sends the event once', async () => {
    await start();
    const messageId = h.emu.addExternalMessage({ chatId: 'oc_group', senderId: 'ou_admin', text: '/todo Draft the memo' });
    await h.say('ou_admin', '/todo Draft the memo', { messageId });
    await h.settled();
    const { store } = h.app;
    const commit = store.commit.bind(store);
    let stale = 1;
    // The first close loses to a write of the form's (as the send job's), as a store answers it: stale.
    store.commit = async (change) => (change.forms?.some((f) => f.status === 'cancelled') && stale-- > 0 ? { ok: false, reason: 'stale' } : commit(change));
    await h.recalled(messageId);
    await h.settled();
    store.commit = commit;
    expect(stale).toBeLessThan(0);
    expect(await h.app.services.store.openForm('oc_group', 'ou_admin')).toBeUndefined();
  });

  it('recalls the topic’s own card by /recall typed in the topic, whose parent is the topic’s first message', async () => {
    await start();
    const post = async (text: string) => {
      const command = await inNewTopic('ou_admin', `/todo ${text}`);
      const dm = h.emu.directChatId('ou_admin');
      const form = messagesIn(dm).findLast((m) => hasSubmit(m.card));
      await submitForm(h, 'ou_admin', { messageId: form?.messageId as string, card: form?.card }, formValues({ text }), { chatId: dm });
      await h.settled();
      const card = messagesIn(TOPIC).find((m) => m.senderId === 'ou_bot' && m.parentId === command.messageId);
      return { command, card: card?.messageId as string };
    };
    const first = await post('Renew the domain');
    const second = await post('Book the venue');

    // Typed in the first topic, as a reply to the card: Feishu names the topic's first message, the command.
    await inTopic('ou_admin', '/recall', first.command, first.card);
    expect(h.emu.messages.get(first.card)?.recalled).toBe(true);
    expect(h.emu.messages.get(second.card)?.recalled).toBe(false);
    const answers = messagesIn(h.emu.directChatId('ou_admin')).map((m) => JSON.stringify(m.card));
    expect(answers.at(-1)).toContain('Recalled the to-do “Renew the domain”');

    // Nothing left of the first topic's to recall; someone else's topic card is not theirs to recall.
    await inTopic('ou_admin', '/recall', first.command, first.card);
    expect(JSON.stringify(messagesIn(h.emu.directChatId('ou_admin')).at(-1)?.card)).toContain('There is no to-do card in this topic for you to recall.');
    await inTopic('ou_alice', '/recall', second.command, second.card);
    expect(h.emu.messages.get(second.card)?.recalled).toBe(false);
    expect(JSON.stringify(messagesIn(h.emu.directChatId('ou_alice')).at(-1)?.card)).toContain('There is no to-do card in this topic for you to recall.');
  });

  it('in a topic group, closes the form sent by direct message in place', async () => {
    await start();
    const command = await inNewTopic('ou_admin', '/todo Plan the offsite');
    const form = messagesIn(h.emu.directChatId('ou_admin')).find((m) => hasSubmit(m.card));
    await h.recalled(command.messageId, { chatId: TOPIC });
    await h.settled();
    expect(hasSubmit(h.emu.messages.get(form?.messageId as string)?.card)).toBe(false);
  });
});
