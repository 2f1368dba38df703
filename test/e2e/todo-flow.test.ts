import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as harness from './harness';
import { type Harness, cancelForm, formValues, pickerValueInHours, startHarness } from './harness';

const EPHEMERAL_SEND = '/open-apis/ephemeral/v1/send';
const EPHEMERAL_DELETE = '/open-apis/ephemeral/v1/delete';
const MESSAGES = '/open-apis/im/v1/messages';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.stop();
});

const groupCards = () => harness.groupCards(h);
const formOf = (owner: string) => harness.formCards(h, owner);
const ephemeralCards = () => harness.ephemeralCards(h);
const openForm = (owner: string, text = '') => harness.openForm(h, owner, text);

describe('the /todo flow, end to end', () => {
  it('opens a private form for an admin, prefilled from the command', async () => {
    const form = await openForm('ou_admin', 'Ship the release notes');
    const sent = h.emu.successfulCallsTo('POST', EPHEMERAL_SEND);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.body).toMatchObject({ chat_id: 'oc_group', open_id: 'ou_admin', msg_type: 'interactive' });
    expect(JSON.stringify(form.card)).toContain('Ship the release notes');
    expect(groupCards()).toHaveLength(0);
  });

  it('on a valid submit deletes the form and posts one final card with the text as typed, mentions, zone and creator', async () => {
    const form = await openForm('ou_admin');
    const now = Date.now();
    const typed = 'Check <at id=all></at> [docs](https://evil.example) v1.2 & co';
    const answer = await h.click(
      'ou_admin',
      form.messageId,
      { action: 'todo.submit', formId: form.formId },
      {
        formValue: formValues({ text: typed, remindAt: pickerValueInHours(3, now), assignees: ['ou_alice', 'ou_bob'] }),
        timezone: 'Asia/Shanghai',
      },
    );
    expect(answer.status).toBe(200);
    expect(answer.body.toast).toMatchObject({ type: 'success' });
    await h.settled();

    expect(h.emu.messages.get(form.messageId)?.deleted).toBe(true);
    const posted = groupCards();
    expect(posted).toHaveLength(1);
    const elements = posted[0]?.card.body.elements as Array<{ tag: string; content?: string; text?: { tag: string; content: string } }>;
    // What was typed is plain_text: shown as typed, it can mention or link nothing, and needs no entities.
    expect(elements).toContainEqual({ tag: 'div', text: { tag: 'plain_text', content: typed } });
    const markdown = elements
      .filter((e) => e.tag === 'markdown')
      .map((e) => e.content)
      .join('\n');
    expect(markdown).not.toContain('<at id=all>');
    expect(markdown).not.toContain('](https');
    expect(markdown).toContain('<at id=ou_alice></at>');
    expect(markdown).toContain('<at id=ou_bob></at>');
    expect(harness.readable(markdown)).toContain('(Asia/Shanghai)');
    expect(markdown).toContain('ou_admin');
  });

  it('refuses an empty text, an over-long text and a past reminder with a toast, and keeps the form open', async () => {
    const form = await openForm('ou_admin');
    const submit = { action: 'todo.submit', formId: form.formId };
    const empty = await h.click('ou_admin', form.messageId, submit, { formValue: formValues({ text: '  ' }) });
    expect(empty.body.toast).toMatchObject({ type: 'error', content: expect.stringMatching(/write what/i) });
    // The client does not check the field (Cancel, a submit button of the same form, must pass with it empty), so an
    // empty or missing text reaches the bot, which names the field.
    for (const formValue of [formValues({ text: '' }), {}]) {
      const blank = await harness.submitForm(h, 'ou_admin', form, formValue);
      expect(blank.body.toast).toEqual(expect.objectContaining({ type: 'error', content: 'Please write what needs doing.' }));
    }
    const long = await h.click('ou_admin', form.messageId, submit, { formValue: formValues({ text: 'x'.repeat(501) }) });
    expect(long.body.toast).toMatchObject({ type: 'error', content: expect.stringMatching(/too long/) });
    const past = await h.click('ou_admin', form.messageId, submit, { formValue: formValues({ text: 'ok', remindAt: pickerValueInHours(-1) }) });
    expect(past.body.toast).toMatchObject({ type: 'error', content: expect.stringMatching(/past/) });
    await h.settled();
    expect(h.emu.messages.get(form.messageId)?.deleted).toBe(false);
    expect(groupCards()).toHaveLength(0);

    const fixed = await h.click('ou_admin', form.messageId, submit, { formValue: formValues({ text: 'ok now' }) });
    expect(fixed.body.toast).toMatchObject({ type: 'success' });
    await h.settled();
    expect(groupCards()).toHaveLength(1);
  });

  it('cancel, pressed with every field empty, deletes the form and posts nothing', async () => {
    const form = await openForm('ou_admin');
    const answer = await cancelForm(h, 'ou_admin', form);
    expect(answer.body.toast).toMatchObject({ type: 'info' });
    await h.settled();
    expect(h.emu.messages.get(form.messageId)?.deleted).toBe(true);
    expect(groupCards()).toHaveLength(0);
    const late = await h.click('ou_admin', form.messageId, { action: 'todo.submit', formId: form.formId }, { formValue: formValues({ text: 'x' }) });
    expect(late.body.toast.content).toMatch(/cancelled/);
  });

  it('a second /todo replaces the open form: the old card is deleted, one form stays', async () => {
    const first = await openForm('ou_admin', 'first');
    const second = await openForm('ou_admin', 'second');
    expect(second.messageId).not.toBe(first.messageId);
    expect(h.emu.messages.get(first.messageId)?.deleted).toBe(true);
    expect(h.emu.messages.get(second.messageId)?.deleted).toBe(false);
    const stale = await h.click('ou_admin', first.messageId, { action: 'todo.submit', formId: first.formId }, { formValue: formValues({ text: 'x' }) });
    expect(stale.body.toast.content).toMatch(/newer form/);
  });

  it('only the form owner may submit or cancel it', async () => {
    const form = await openForm('ou_admin');
    for (const action of ['todo.submit', 'todo.cancel']) {
      const answer = await h.click('ou_owner', form.messageId, { action, formId: form.formId }, { formValue: formValues({ text: 'x' }) });
      expect(answer.body.toast).toMatchObject({ type: 'error', content: expect.stringMatching(/only the person who opened/i) });
    }
    await h.settled();
    expect(groupCards()).toHaveLength(0);
    expect(h.emu.messages.get(form.messageId)?.deleted).toBe(false);
  });

  it('concurrent Submit clicks post exactly one card', async () => {
    const form = await openForm('ou_admin');
    const clicks = await Promise.all(
      Array.from({ length: 8 }, () =>
        h.click('ou_admin', form.messageId, { action: 'todo.submit', formId: form.formId }, { formValue: formValues({ text: 'once' }) }),
      ),
    );
    expect(clicks.filter((c) => c.body.toast?.type === 'success')).toHaveLength(1);
    await h.settled();
    expect(groupCards()).toHaveLength(1);
    expect(h.emu.successfulCallsTo('POST', MESSAGES)).toHaveLength(1);
    expect(h.emu.successfulCallsTo('POST', EPHEMERAL_DELETE)).toHaveLength(1);
  });
});

describe('who may open the form', () => {
  it('the chat owner and managers may; a member is told why, privately, and gets no form', async () => {
    await openForm('ou_owner');
    await openForm('ou_admin');
    await h.say('ou_member', '/todo sneaky');
    await h.settled();
    expect(formOf('ou_member')).toHaveLength(0);
    const notices = ephemeralCards().filter((m) => m.visibleTo === 'ou_member');
    expect(notices).toHaveLength(1);
    expect(JSON.stringify(notices[0]?.card)).toMatch(/Only the group owner and group admins/);
  });

  it('asks Feishu for the chat admins once within the cache time', async () => {
    await openForm('ou_admin', 'a');
    await openForm('ou_admin', 'b');
    await h.say('ou_member', '/todo c');
    await h.settled();
    expect(h.emu.successfulCallsTo('GET', '/open-apis/im/v1/chats/oc_group')).toHaveLength(1);
  });
});

describe('everyone mode', () => {
  it('TODO_ALLOWED=everyone lets a member open the form', async () => {
    await h.stop();
    h = await startHarness({ env: { TODO_ALLOWED: 'everyone' } });
    await openForm('ou_member');
  });
});

describe('a click on a to-do the bot has no record of (issue 23, item 14)', () => {
  it('says it knows no such to-do, in both languages, not that it was recalled, and changes nothing', async () => {
    for (const action of ['todo.done', 'todo.reopen', 'todo.snooze', 'todo.tomorrow']) {
      const answer = await h.click('ou_admin', 'om_unknown_card', { action, todoId: 'todo_that_never_was' });
      expect(answer.status, action).toBe(200);
      const said = JSON.stringify(answer.body.toast);
      expect(said, action).toContain('I have no record of this to-do');
      expect(said, action).toContain('我没有这项待办的记录');
      expect(said, action).not.toMatch(/recalled|撤回/);
    }
    await h.settled();
    // Nothing posted, patched or deleted (a look-up of the person's profile zone may come first).
    expect(h.callsSinceStart().filter((call) => call.method !== 'GET')).toEqual([]);
  });
});
