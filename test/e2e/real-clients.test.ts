import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as harness from './harness';
import { type Harness, cancelForm, formValues, noticesTo, openForm, startHarness, submitForm } from './harness';

/**
 * What Feishu's real clients send where the bot's first emulator did not: rich-text (`post`) commands, `@_all`
 * before a command, and form submits whose callback has no `value`.
 */

const MESSAGES = '/open-apis/im/v1/messages';
const EPHEMERAL_DELETE = '/open-apis/ephemeral/v1/delete';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.stop();
});

const groupCards = () => harness.groupCards(h);

describe('rich-text (post) commands', () => {
  it('"@Bot /todo Ship it" typed in bold opens the form prefilled with "Ship it"', async () => {
    const answer = await h.say('ou_admin', '/todo Ship it', { format: 'post', style: ['bold'] });
    expect(answer.status).toBe(200);
    await h.settled();
    const form = harness.formCards(h, 'ou_admin').at(-1);
    expect(form).toBeDefined();
    expect(JSON.stringify(form?.card)).toContain('"default_value":"Ship it"');
  });

  it('a command over two lines with a pasted link keeps every paragraph and the link', async () => {
    await h.say('ou_admin', '/todo Read\nhttps://example.com/spec', { format: 'post' });
    await h.settled();
    expect(JSON.stringify(harness.formCards(h, 'ou_admin').at(-1)?.card)).toContain('"default_value":"Read https://example.com/spec"');
  });

  it('/todos, /help and /recall work as rich text too', async () => {
    const todo = await harness.postTodo(h, { text: 'Rich' });
    await h.say('ou_member', '/todos', { format: 'post' });
    await h.settled();
    expect(noticesTo(h, 'ou_member').at(-1)).toContain('Rich');
    await h.say('ou_member', '/help', { format: 'post', style: ['italic'] });
    await h.settled();
    expect(noticesTo(h, 'ou_member').at(-1)).toContain('/recall');
    await h.say('ou_admin', '/recall', { format: 'post', parentId: todo.messageId });
    await h.settled();
    expect(h.emu.messages.get(todo.messageId)?.recalled).toBe(true);
  });
});

describe('@_all before a command', () => {
  it('"@所有人 @Bot /todos" runs /todos', async () => {
    await harness.postTodo(h, { text: 'For everyone' });
    const answer = await h.say('ou_member', '/todos', { everyone: true });
    expect(answer.status).toBe(200);
    await h.settled();
    const notice = noticesTo(h, 'ou_member').at(-1);
    expect(notice).toContain('For everyone');
    expect(notice).not.toMatch(/only understand commands/);
  });

  it('works in rich text, and @_all alone is not a call to the bot', async () => {
    await h.say('ou_member', '/help', { everyone: true, format: 'post' });
    await h.settled();
    expect(noticesTo(h, 'ou_member')).toHaveLength(1);
    await h.say('ou_member', 'lunch at noon', { everyone: true, mentionBot: false });
    await h.settled();
    expect(noticesTo(h, 'ou_member')).toHaveLength(1);
    expect((await h.app.store.stats()).pendingJobs).toBe(0);
  });
});

describe('Submit without action.value', () => {
  it('posts the to-do: the form is known by its Submit button’s name', async () => {
    const form = await openForm(h, 'ou_admin');
    const answer = await submitForm(h, 'ou_admin', form, formValues({ text: 'Named submit' }));
    expect(answer.body.toast).toMatchObject({ type: 'success' });
    await h.settled();
    expect(groupCards()).toHaveLength(1);
    expect(JSON.stringify(groupCards()[0]?.card)).toContain('Named submit');
    expect(h.emu.messages.get(form.messageId)?.deleted).toBe(true);
  });

  it('with an empty value ({}), as the SDK test suites show it', async () => {
    const form = await openForm(h, 'ou_admin');
    const answer = await submitForm(h, 'ou_admin', form, formValues({ text: 'Empty value' }), { value: {} });
    expect(answer.body.toast).toMatchObject({ type: 'success' });
  });

  it('keeps every check: only the owner, only an open form, one post for concurrent clicks', async () => {
    const form = await openForm(h, 'ou_admin');
    const other = await submitForm(h, 'ou_owner', form, formValues({ text: 'x' }));
    expect(other.body.toast).toMatchObject({ type: 'error', content: expect.stringMatching(/only the person who opened/i) });

    const clicks = await Promise.all(Array.from({ length: 6 }, () => submitForm(h, 'ou_admin', form, formValues({ text: 'once' }))));
    expect(clicks.filter((c) => c.body.toast?.type === 'success')).toHaveLength(1);
    await h.settled();
    expect(h.emu.successfulCallsTo('POST', MESSAGES)).toHaveLength(1);
    expect(h.emu.successfulCallsTo('POST', EPHEMERAL_DELETE)).toHaveLength(1);
    const late = await submitForm(h, 'ou_admin', form, formValues({ text: 'again' }));
    expect(late.body.toast.content).toMatch(/already been posted/);
  });

  it('a replaced or cancelled form says so', async () => {
    const first = await openForm(h, 'ou_admin', 'first');
    await openForm(h, 'ou_admin', 'second');
    const stale = await submitForm(h, 'ou_admin', first, formValues({ text: 'x' }));
    expect(stale.body.toast.content).toMatch(/newer form/);

    const third = await openForm(h, 'ou_admin', 'third');
    await cancelForm(h, 'ou_admin', third);
    const cancelled = await submitForm(h, 'ou_admin', third, formValues({ text: 'x' }));
    expect(cancelled.body.toast.content).toMatch(/cancelled/);
    await h.settled();
    expect(groupCards()).toHaveLength(0);
  });

  it('a button with neither a value nor a name the bot wrote is out of date', async () => {
    const form = await openForm(h, 'ou_admin');
    for (const name of [undefined, 'submit', 'submit_000000000000', 'Button_lr6y7kgt']) {
      const answer = await h.click('ou_admin', form.messageId, undefined, { name, formValue: formValues({ text: 'x' }) });
      expect(answer.body.toast).toMatchObject({ type: 'warning', content: expect.stringMatching(/out of date/) });
    }
    await h.settled();
    expect(groupCards()).toHaveLength(0);
  });
});

describe('assignees', () => {
  const people = (n: number) => Array.from({ length: n }, (_, i) => `ou_p${i}`);

  it('more than 50 are refused in the Submit answer with a red toast naming the limit; the form stays open', async () => {
    const form = await openForm(h, 'ou_admin');
    const tooMany = await submitForm(h, 'ou_admin', form, formValues({ text: 'Crowd', assignees: people(51) }));
    expect(tooMany.body.toast).toEqual({
      type: 'error',
      content: 'Too many assignees: at most 50 people per to-do.',
      i18n: { zh_cn: '负责人太多：每项待办最多 50 人。', en_us: 'Too many assignees: at most 50 people per to-do.' },
    });
    const forged = await submitForm(h, 'ou_admin', form, formValues({ text: 'Crowd', assignees: ['ou_alice', `ou_${'f'.repeat(200)}`] }));
    expect(forged.body.toast).toMatchObject({ type: 'error', content: expect.stringMatching(/could not be read/) });
    await h.settled();
    expect(groupCards()).toHaveLength(0);
    expect(h.emu.messages.get(form.messageId)?.deleted).toBe(false);
    expect((await h.app.services.store.form(form.formId))?.status).toBe('open');

    const fifty = await submitForm(h, 'ou_admin', form, formValues({ text: 'Crowd', assignees: people(50) }));
    expect(fifty.body.toast).toMatchObject({ type: 'success' });
    await h.settled();
    expect(groupCards()).toHaveLength(1);
  });
});

describe('text people typed, on cards', () => {
  it('is shown as typed in plain_text on the to-do card and in /todos, never as markdown with entities', async () => {
    const typed = 'Release v1.2 & notes <at id=all></at> [x](https://evil.example) a@b.c';
    const todo = await harness.postTodo(h, { text: typed });
    const plainTexts = (card: unknown) => JSON.stringify(card).match(/"tag":"plain_text","content":"[^"]*/g) ?? [];
    expect(plainTexts(todo.card).some((t) => t.includes('Release v1.2 & notes'))).toBe(true);
    await h.say('ou_member', '/todos');
    await h.settled();
    const list = noticesTo(h, 'ou_member').at(-1) as string;
    expect(plainTexts(JSON.parse(list)).some((t) => t.includes('Release v1.2 & notes'))).toBe(true);
    for (const card of [JSON.stringify(todo.card), list]) {
      expect(card).not.toMatch(/&#(46|64|61|124|38);/);
      expect(card).not.toMatch(/"tag":"markdown","content":"[^"]*Release/);
    }
  });
});
