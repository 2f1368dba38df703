import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, buttonValue, cancelForm, formValues, noticesTo, openForm, postTodo, startHarness, submitForm } from './harness';

/**
 * A to-do may be changed only from its own chat, and every permission check uses the to-do's chat. Mallory owns
 * chat B and is a plain member of chat A, where the to-dos are.
 */

const RECALL = /^\/open-apis\/im\/v1\/messages\/[^/]+$/;

let h: Harness;
beforeEach(async () => {
  h = await startHarness({
    emulator: {
      chats: [
        { chatId: 'oc_group', chatType: 'group', ownerId: 'ou_owner', managerIds: ['ou_admin'], memberIds: ['ou_owner', 'ou_admin', 'ou_alice', 'ou_mallory'] },
        { chatId: 'oc_b', chatType: 'group', ownerId: 'ou_mallory', managerIds: [], memberIds: ['ou_mallory', 'ou_alice', 'ou_admin'] },
      ],
    },
  });
});
afterEach(async () => {
  await h.stop();
});

const recallCalls = () => h.emu.calls.filter((c) => c.method === 'DELETE' && RECALL.test(c.path));

describe('a to-do is changed only from its own chat', () => {
  it('/recall in chat B replying to a to-do card of chat A is refused, without asking Feishu', async () => {
    const todo = await postTodo(h, { text: 'Not yours' });
    await h.say('ou_mallory', '/recall', { chatId: 'oc_b', parentId: todo.messageId });
    await h.settled();
    expect(recallCalls()).toHaveLength(0);
    expect((await h.app.services.store.todo(todo.todoId))?.status).toBe('open');
    expect(noticesTo(h, 'ou_mallory').at(-1)).toMatch(/only recall to-do cards I posted in this chat/);
    // No admin check ran against chat B either: chat B's admins were never asked for.
    expect(h.emu.callsTo('GET', '/open-apis/im/v1/chats/oc_b')).toHaveLength(0);
  });

  it('/recall alone in chat B never picks a to-do of chat A', async () => {
    await postTodo(h, { owner: 'ou_admin', text: 'A’s' });
    await h.say('ou_admin', '/recall', { chatId: 'oc_b' });
    await h.settled();
    expect(recallCalls()).toHaveLength(0);
    expect(noticesTo(h, 'ou_admin').at(-1)).toMatch(/no to-do card of yours in this chat/);
  });

  it('Done, Reopen, Snooze and Tomorrow clicks reported from another chat are refused, even from an assignee', async () => {
    const todo = await postTodo(h, { assignees: ['ou_alice'] });
    for (const action of ['todo.done', 'todo.snooze', 'todo.tomorrow']) {
      const answer = await h.click('ou_alice', todo.messageId, { action, todoId: todo.todoId }, { chatId: 'oc_b' });
      expect(answer.body.toast).toMatchObject({ type: 'error', content: expect.stringMatching(/another chat/) });
    }
    expect(await h.app.services.store.todo(todo.todoId)).toMatchObject({ status: 'open' });
    const done = await h.click('ou_alice', todo.messageId, buttonValue(todo.card, 'todo.done'), { chatId: 'oc_group' });
    expect(done.body.toast).toMatchObject({ type: 'success' });
    const reopen = await h.click('ou_alice', todo.messageId, { action: 'todo.reopen', todoId: todo.todoId }, { chatId: 'oc_b' });
    expect(reopen.body.toast).toMatchObject({ type: 'error', content: expect.stringMatching(/another chat/) });
    expect((await h.app.services.store.todo(todo.todoId))?.status).toBe('done');
  });

  it('the admin check uses the to-do’s chat: an admin of chat B is a plain member of chat A', async () => {
    const todo = await postTodo(h);
    const answer = await h.click('ou_mallory', todo.messageId, buttonValue(todo.card, 'todo.done'), { chatId: 'oc_group' });
    expect(answer.body.toast).toMatchObject({ type: 'error', content: expect.stringMatching(/Only the assignees, the creator and group admins/) });
  });
});

describe('a click marks a card as the form’s stray copy only when it is one of that form’s cards in that chat', () => {
  it('a Submit reported from another chat is refused and its message is never deleted', async () => {
    // A card of the admin's in chat B: what a stray-copy mark would have the form delete.
    await h.say('ou_admin', '/help', { chatId: 'oc_b' });
    await h.settled();
    const elsewhere = [...h.emu.messages.values()].find((m) => m.chatId === 'oc_b' && m.visibleTo === 'ou_admin');
    expect(elsewhere).toBeDefined();

    const form = await openForm(h, 'ou_admin');
    const answer = await submitForm(h, 'ou_admin', { messageId: elsewhere?.messageId as string, card: form.card }, formValues({ text: 'x' }), {
      chatId: 'oc_b',
    });
    expect(answer.body.toast).toMatchObject({ type: 'error', content: expect.stringMatching(/another chat/) });
    const cancel = await cancelForm(h, 'ou_admin', form, { chatId: 'oc_group' });
    expect(cancel.body.toast).toMatchObject({ type: 'info' });
    await h.settled();
    expect(h.emu.messages.get(form.messageId)?.deleted).toBe(true);
    expect(h.emu.messages.get(elsewhere?.messageId as string)?.deleted).toBe(false);
  });

  it('a copy clicked in the form’s own chat is deleted with the form', async () => {
    const form = await openForm(h, 'ou_admin');
    // A second copy Feishu showed although its send answer was lost: its id reaches the bot only through a click.
    const copy = h.emu.addExternalMessage({ chatId: 'oc_group', senderId: 'ou_bot', text: 'form copy' });
    const answer = await submitForm(h, 'ou_admin', { messageId: copy, card: form.card }, formValues({ text: 'From the copy' }), { chatId: 'oc_group' });
    expect(answer.body.toast).toMatchObject({ type: 'success' });
    await h.settled();
    const deleted = h.emu.callsTo('POST', '/open-apis/ephemeral/v1/delete').map((c) => c.body.message_id);
    expect(deleted).toEqual(expect.arrayContaining([form.messageId, copy]));
  });
});
