import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../reliability/support';
import * as harness from './harness';
import { type Harness, TestClock, formValues, startHarness } from './harness';

const DELETE = '/open-apis/ephemeral/v1/delete';
const MESSAGES = '/open-apis/im/v1/messages';
const CHAT = '/open-apis/im/v1/chats/oc_group';

let h: Harness;
afterEach(async () => {
  await h?.stop();
});

const groupCards = () => harness.groupCards(h);
const forms = () => harness.formCards(h);
const noticesTo = (user: string) => harness.noticesTo(h, user);
const openForm = () => harness.openForm(h);

const submit = (form: { messageId: string; formId: string }, text = 'Do the thing') =>
  h.click('ou_admin', form.messageId, { action: 'todo.submit', formId: form.formId }, { formValue: formValues({ text }) });

describe('a slow Feishu', () => {
  it('lets a plain member /recall their own latest card while Feishu refuses the admin look-up for good', async () => {
    const clock = new TestClock(Date.UTC(2026, 10, 23, 2, 0));
    h = await startHarness({ clock, env: { TODO_ALLOWED: 'everyone' } });
    const todo = await harness.postTodo(h, { owner: 'ou_member', text: 'mine' });
    clock.jump(61_000);
    // A scope the app lacks: no retry mends it, and the creator needs no admin rights to recall their own card.
    h.emu.fault({ method: 'GET', path: CHAT, code: 99991672, times: Number.POSITIVE_INFINITY });
    await h.say('ou_member', '/recall');
    await h.settled();
    expect((await h.app.services.store.todo(todo.todoId))?.status).toBe('recalled');
  });

  it('answers a click in time when the chat’s admins are slow to come: try again, nothing changed', async () => {
    const clock = new TestClock(Date.UTC(2026, 10, 23, 2, 0));
    h = await startHarness({ clock });
    const todo = await harness.postTodo(h, { assignees: ['ou_alice'] });
    // Past the admins' cache time, with Feishu holding the chat look-up: the click cannot wait out Feishu's retries.
    clock.jump(61_000);
    const release = h.emu.hold({ path: CHAT });
    const refused = await h.click('ou_member', todo.messageId, harness.buttonValue(todo.card, 'todo.done'));
    expect(refused.body.toast).toMatchObject({ type: 'error', content: 'I could not check your permission just now; please try again.' });
    release();
    await h.settled();
    expect((await h.app.services.store.todo(todo.todoId))?.status).toBe('open');
    // The look-up went on and filled the cache: the next click is answered from it.
    const again = await h.click('ou_member', todo.messageId, harness.buttonValue(todo.card, 'todo.done'));
    expect(again.body.toast.content).toMatch(/^Only the assignees, the creator and group admins/);
  });

  it('does not delay the acknowledgement of an event', async () => {
    h = await startHarness();
    // The chat look-up the form needs (who may post here) is held unanswered: Feishu's answer must not wait for it.
    const release = h.emu.hold({ path: CHAT });
    const answer = await h.say('ou_admin', '/todo slow');
    expect(answer.status).toBe(200);
    expect(h.emu.callsTo('GET', CHAT)).toEqual([]);
    release();
    await h.settled();
    expect(forms()).toHaveLength(1);
    expect(h.emu.callsTo('GET', CHAT).map((call) => call.fault)).toEqual(['delay']);
  });

  it('answers a Submit click at once while the post itself waits on Feishu', async () => {
    h = await startHarness();
    const form = await openForm();
    const release = h.emu.hold({ method: 'POST', path: MESSAGES });
    const answer = await submit(form);
    expect(answer.body.toast).toMatchObject({ type: 'success', content: expect.stringMatching(/Posting/) });
    expect(h.emu.callsTo('POST', MESSAGES)).toEqual([]);
    release();
    await h.settled();
    expect(groupCards()).toHaveLength(1);
    expect(h.emu.callsTo('POST', MESSAGES).map((call) => call.fault)).toEqual(['delay']);
  });
});

describe('Feishu refusals that a retry cures', () => {
  it('waits out a 429 with its reset header, then posts once', async () => {
    // The waits are recorded, not sat through: each must be the second Feishu named, not the harness's few ms of backoff.
    const waits: number[] = [];
    h = await startHarness({ app: { feishuRetryWait: async (ms) => void waits.push(ms) } });
    const form = await openForm();
    h.emu.fault({ method: 'POST', path: MESSAGES, status: 429, code: 99991400, headers: { 'x-ogw-ratelimit-reset': '1' }, times: 2 });
    await submit(form);
    await h.settled();
    expect(waits).toEqual([1_000, 1_000]);
    expect(groupCards()).toHaveLength(1);
    const tries = h.emu.callsTo('POST', MESSAGES);
    expect(tries.map((c) => c.status)).toEqual([429, 429, 200]);
    expect(new Set(tries.map((c) => c.body.uuid)).size).toBe(1);
  });

  it('retries 230020, 5xx and a dropped connection with the same uuid', async () => {
    h = await startHarness();
    const form = await openForm();
    h.emu.fault({ method: 'POST', path: MESSAGES, code: 230020 });
    h.emu.fault({ method: 'POST', path: MESSAGES, status: 502 });
    h.emu.fault({ method: 'POST', path: MESSAGES, drop: true });
    await submit(form);
    await h.settled();
    expect(groupCards()).toHaveLength(1);
    expect(new Set(h.emu.callsTo('POST', MESSAGES).map((c) => c.body.uuid)).size).toBe(1);
  });

  it('treats 18051 on delete as already deleted', async () => {
    h = await startHarness();
    const form = await openForm();
    h.emu.fault({ path: DELETE, code: 18051, msg: 'message has been deleted' });
    await submit(form);
    await h.settled();
    expect(groupCards()).toHaveLength(1);
    expect(h.emu.callsTo('POST', DELETE)).toHaveLength(1);
    expect(noticesTo('ou_admin')).toHaveLength(0);
  });

  it('fetches a fresh token once when Feishu drops it', async () => {
    h = await startHarness();
    await openForm();
    h.emu.revokeTokens();
    await h.say('ou_admin', '/todo again');
    await h.settled();
    expect(forms()).toHaveLength(2);
    expect(h.emu.callsTo('POST', '/open-apis/auth/v3/tenant_access_token/internal').length).toBe(2);
  });
});

describe('Feishu refusals that no retry cures', () => {
  it('keeps the to-do, tells the admin why, and lets Submit try again', async () => {
    h = await startHarness();
    const form = await openForm();
    h.emu.fault({ method: 'POST', path: MESSAGES, code: 230002, msg: 'Bot is not in the chat' });
    await submit(form);
    await h.settled();
    expect(groupCards()).toHaveLength(0);
    expect(h.emu.callsTo('POST', MESSAGES)).toHaveLength(1);
    const todo = await h.app.services.store.todo(`${(await h.app.services.store.form(form.formId))?.todoId}`);
    expect(todo?.status).toBe('post_failed');
    const told = noticesTo('ou_admin');
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/not a member of this chat any more/);

    const retry = await submit(form);
    expect(retry.body.toast.type).toBe('success');
    await h.settled();
    expect(groupCards()).toHaveLength(1);
  });
});

describe('a post refused for good after the admin opened another form', () => {
  it('closes the submitted form rather than open it beside the newer one, and says which to-do was not posted', async () => {
    h = await startHarness();
    const form = await openForm();
    h.emu.fault({ method: 'POST', path: MESSAGES, code: 230002, msg: 'Bot is not in the chat', delayMs: 1_000 });
    await submit(form, 'Book the room');
    // While Feishu takes its time refusing the post, the admin opens a second form.
    await h.say('ou_admin', '/todo Order lunch');
    await waitFor(() => forms().length === 2, 'the second form');
    await h.settled();
    const { store } = h.app.services;
    expect((await store.form(form.formId))?.status).toBe('replaced');
    expect(h.emu.messages.get(form.messageId)?.deleted).toBe(true);
    const open = await store.openForm('oc_group', 'ou_admin');
    expect(open?.id).not.toBe(form.formId);
    expect(open?.draftText).toBe('Order lunch');
    expect(noticesTo('ou_admin').at(-1)).toMatch(/“Book the room”.*another form since/);
  });
});

describe('a post refused for good near the form’s end', () => {
  it('reopens the form for a form’s time from then, so Submit can be pressed again', async () => {
    const clock = new TestClock(Date.UTC(2026, 10, 23, 2, 0));
    h = await startHarness({ clock, env: { FORM_TTL_MINUTES: '60' } });
    const form = await openForm();
    await clock.advance(58 * 60_000);
    h.emu.fault({ method: 'POST', path: MESSAGES, code: 230002, msg: 'Bot is not in the chat' });
    await submit(form);
    await h.settled();
    // Past the form's first hour: still open, and Submit posts.
    await clock.advance(5 * 60_000);
    expect((await h.app.services.store.form(form.formId))?.status).toBe('open');
    expect((await submit(form)).body.toast.type).toBe('success');
    await h.settled();
    expect(groupCards()).toHaveLength(1);
  });
});

describe('restarts', () => {
  it('a form opened before a restart can be submitted after it', async () => {
    h = await startHarness();
    const form = await openForm();
    await h.restart();
    const answer = await submit(form);
    expect(answer.body.toast.type).toBe('success');
    await h.settled();
    expect(groupCards()).toHaveLength(1);
    expect(h.emu.messages.get(form.messageId)?.deleted).toBe(true);
  });

  it('work accepted before a stop is finished after the next start', async () => {
    h = await startHarness();
    const form = await openForm();
    h.emu.fault({ method: 'POST', path: MESSAGES, status: 503, times: Number.POSITIVE_INFINITY });
    await submit(form);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(groupCards()).toHaveLength(0);
    await h.restart(() => h.emu.clearFaults());
    await h.settled();
    expect(groupCards()).toHaveLength(1);
    expect(h.emu.messages.get(form.messageId)?.deleted).toBe(true);
  });
});

describe('forms left alone', () => {
  it('expire after FORM_TTL_MINUTES: the card is deleted and Submit is refused', async () => {
    const clock = new TestClock(Date.now());
    h = await startHarness({ env: { FORM_TTL_MINUTES: '30' }, clock });
    const form = await openForm();
    await clock.advance(29 * 60_000);
    expect(h.emu.messages.get(form.messageId)?.deleted).toBe(false);
    await clock.advance(2 * 60_000);
    expect(h.emu.messages.get(form.messageId)?.deleted).toBe(true);
    const late = await submit(form);
    expect(late.body.toast.content).toMatch(/expired/);
  });
});

describe('the tenant token', () => {
  it('is fetched once at start, and once again for many concurrent calls after Feishu drops it', async () => {
    h = await startHarness({ env: { TODO_ALLOWED: 'everyone' } });
    const tokenCalls = () => h.emu.callsTo('POST', '/open-apis/auth/v3/tenant_access_token/internal').length;
    // The start-up check fetched it; the first calls use it.
    expect(tokenCalls()).toBe(1);
    await Promise.all(['ou_owner', 'ou_admin', 'ou_member', 'ou_alice', 'ou_bob'].map((who) => h.say(who, '/help')));
    await h.settled();
    expect(tokenCalls()).toBe(1);
    // A slow token endpoint makes sure the five refetches overlap.
    h.emu.fault({ path: '/open-apis/auth/v3/tenant_access_token/internal', delayMs: 300, times: 2 });
    h.emu.revokeTokens();
    await Promise.all(['ou_owner', 'ou_admin', 'ou_member', 'ou_alice', 'ou_bob'].map((who) => h.say(who, '/help')));
    await h.settled();
    expect(tokenCalls()).toBe(2);
  });
});

describe('nobody is left without an answer', () => {
  it('a command that fails on a Feishu refusal is answered with its sentence', async () => {
    h = await startHarness();
    h.emu.fault({ path: '/open-apis/im/v1/chats/oc_group', code: 232009 });
    await h.say('ou_admin', '/todo');
    await h.settled();
    expect(forms()).toHaveLength(0);
    expect(noticesTo('ou_admin').at(-1)).toContain('This group has been dissolved.');
  });
});

describe('fairness between groups', () => {
  it('a group posting a burst of to-dos does not hold up another group', async () => {
    // Three times as many to-dos as the outbox runs at once: a queue without per-chat limits would put the quiet one
    // behind most of them.
    const crowd = Array.from({ length: 12 }, (_, i) => `ou_c${i}`);
    h = await startHarness({
      app: { outbox: { concurrency: 4, perChat: 2 } },
      env: { TODO_ALLOWED: 'everyone' },
      emulator: {
        chats: [
          { chatId: 'oc_busy', chatType: 'group', ownerId: 'ou_c0', managerIds: [], memberIds: crowd },
          { chatId: 'oc_quiet', chatType: 'group', ownerId: 'ou_q', managerIds: [], memberIds: ['ou_q'] },
        ],
      },
    });
    const open = async (who: string, chatId: string) => {
      await h.say(who, '/todo', { chatId });
      await h.settled();
      const form = harness.formCards(h, who).at(-1);
      return { who, chatId, messageId: form?.messageId as string, formId: harness.buttonValue(form?.card, 'todo.submit').formId as string };
    };
    const busy = await Promise.all(crowd.map((who) => open(who, 'oc_busy')));
    const quiet = await open('ou_q', 'oc_quiet');
    const click = (f: typeof quiet) =>
      h.click(f.who, f.messageId, { action: 'todo.submit', formId: f.formId }, { chatId: f.chatId, formValue: formValues({ text: 'x' }) });
    await Promise.all(busy.map(click));
    await click(quiet);
    await h.settled();
    const posts = h.emu.successfulCallsTo('POST', MESSAGES).map((c) => c.body.receive_id);
    expect(posts.filter((chat) => chat === 'oc_busy')).toHaveLength(12);
    // Feishu takes 5 posts a second in one chat; the quiet group's post goes out long before the burst is through.
    expect(posts.indexOf('oc_quiet')).toBeLessThan(4);
  });
});

describe('a form card whose send answer was lost', () => {
  it('is deleted with the form once a click on it tells the bot its id', async () => {
    h = await startHarness({ env: { FEISHU_TIMEOUT_MS: '150' } });
    // Feishu shows the card but answers after the bot gave up; the retry shows a second one.
    h.emu.fault({ method: 'POST', path: '/open-apis/ephemeral/v1/send', delayMs: 400 });
    await h.say('ou_admin', '/todo');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await h.settled();
    const cards = forms();
    expect(cards).toHaveLength(2);
    const formId = harness.buttonValue(cards[0]?.card, 'todo.submit').formId as string;
    const knownId = (await h.app.services.store.form(formId))?.messageId;
    const stray = cards.find((c) => c.messageId !== knownId) as (typeof cards)[0];
    const known = cards.find((c) => c.messageId === knownId) as (typeof cards)[0];
    const answer = await h.click('ou_admin', stray.messageId, { action: 'todo.submit', formId }, { formValue: formValues({ text: 'from the stray card' }) });
    expect(answer.body.toast.type).toBe('success');
    await h.settled();
    expect(h.emu.messages.get(stray.messageId)?.deleted).toBe(true);
    expect(h.emu.messages.get(known.messageId)?.deleted).toBe(true);
    expect(groupCards()).toHaveLength(1);
  });
});
