import { readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code } from '../../emulator';
import { t } from '../../src/i18n';
import type { Records } from '../../src/store/store';
import { waitFor } from '../reliability/support';
import { type Harness, TestClock, formCards, noticesTo, postTodo, startHarness } from './harness';

let h: Harness;
beforeAll(async () => {
  // A long window, so that however slow the machine the budget cannot refill in the middle of a burst.
  h = await startHarness({ env: { USER_COMMAND_LIMIT: '5', USER_COMMAND_WINDOW_SECONDS: '120' } });
});
afterAll(async () => {
  await h.stop();
});

/** Everything the bot has written to disk: the snapshot, its logs and the lock, as one string. */
async function onDisk(): Promise<string> {
  const dir = dirname(h.config.dataFile);
  const names = await readdir(dir);
  const texts = await Promise.all(names.map((name) => readFile(join(dir, name), 'utf8').catch(() => '')));
  return texts.join('\n');
}

describe('a person flooding the bot', () => {
  it('is throttled with one polite notice while others are unaffected', async () => {
    const flood = Array.from({ length: 100 }, () => h.say('ou_member', '/help'));
    const others = [h.say('ou_admin', '/todo from the admin'), h.say('ou_alice', '/help')];
    const answers = await Promise.all([...flood, ...others]);
    // Every push is acknowledged: Feishu must not retry them.
    expect(answers.every((a) => a.status === 200)).toBe(true);
    await h.settled();

    const toFlooder = noticesTo(h, 'ou_member');
    const helps = toFlooder.filter((card) => card.includes('To-do bot commands'));
    const warnings = toFlooder.filter((card) => card.includes('faster than I can help'));
    console.log(
      `FIGURE: abuse: 100 commands in a burst from one person: ${helps.length} answered, ${warnings.length} notice, ${100 - helps.length} dropped; others unaffected`,
    );
    expect(helps).toHaveLength(5);
    expect(warnings).toHaveLength(1);
    expect(formCards(h, 'ou_admin')).toHaveLength(1);
    expect(noticesTo(h, 'ou_alice').filter((card) => card.includes('To-do bot commands'))).toHaveLength(1);
  });

  it('writes nothing of the dropped commands to disk', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => h.say('ou_bob', '/help', { eventId: `ev_spam_${i}_x` })));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    await h.settled();
    const stored = new Set((await onDisk()).match(/ev_spam_\d+_x/g));
    // Five within the budget and the one answered with the notice; the other 44 never reached the store.
    expect(stored.size).toBe(6);
  });
});

describe('a person clicking a card over and over', () => {
  it('lets a click through, answered in time, when its throttle fails or does not answer (a database down or slow)', async () => {
    const todo = await postTodo(h, { owner: 'ou_admin', text: 'Throttle down', assignees: ['ou_bob'] });
    const { clicks } = h.app.services;
    const check = clicks.check;
    try {
      clicks.check = () => Promise.reject(new Error('Connection terminated unexpectedly'));
      const failed = await h.click('ou_bob', todo.messageId, { action: 'todo.done', todoId: todo.todoId });
      expect(failed.status).toBe(200);
      expect(failed.body?.toast).toMatchObject({ type: 'success', content: 'Marked done.' });
      clicks.check = () => new Promise(() => undefined);
      const hung = await h.click('ou_bob', todo.messageId, { action: 'todo.reopen', todoId: todo.todoId });
      expect(hung.body?.toast).toMatchObject({ type: 'success', content: 'Reopened.' });
    } finally {
      clicks.check = check;
    }
  });

  it('is throttled per person and card with a polite toast: 200 Done/Reopen clicks do not become 200 PATCHes', async () => {
    const todo = await postTodo(h, { owner: 'ou_admin', text: 'Click me', assignees: ['ou_alice'] });
    h.emu.reset();
    const answers = [];
    for (let i = 0; i < 200; i++) {
      answers.push(await h.click('ou_admin', todo.messageId, { action: i % 2 === 0 ? 'todo.done' : 'todo.reopen', todoId: todo.todoId }));
    }
    await h.settled();
    const changed = answers.filter((a) => a.body?.toast?.type === 'success');
    const throttled = answers.filter((a) => a.body?.toast?.content?.includes('faster than I can keep up'));
    const patches = h.emu.callsTo('PATCH', `/open-apis/im/v1/messages/${todo.messageId}`);
    console.log(
      `FIGURE: abuse: 200 Done/Reopen clicks on one card by one person: ${changed.length} changed it, ${throttled.length} got the throttle toast, ${patches.length} PATCHes`,
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(changed).toHaveLength(5);
    expect(throttled).toHaveLength(195);
    expect(patches.length).toBeLessThanOrEqual(5);
    // The card and the store agree on the outcome: five toggles leave it done.
    expect((await h.app.services.store.todo(todo.todoId))?.status).toBe('done');

    // Another person on the same card is not held back by it.
    const other = await h.click('ou_alice', todo.messageId, { action: 'todo.reopen', todoId: todo.todoId });
    expect(other.body?.toast).toMatchObject({ type: 'success', content: 'Reopened.' });
  }, 60_000);
});

describe('commands in a chat Feishu will not describe', () => {
  it('asks Feishu about the chat once, and caches the refusal briefly', async () => {
    h.emu.reset();
    const people = ['ou_p1', 'ou_p2', 'ou_p3', 'ou_p4', 'ou_p5', 'ou_p6'];
    for (const who of people) expect((await h.say(who, '/todo hi', { chatId: 'oc_unknown' })).status).toBe(200);
    await h.settled();
    const lookups = h.emu.callsTo('GET', '/open-apis/im/v1/chats/oc_unknown');
    expect(lookups).toHaveLength(1);
    expect(lookups[0]?.response?.code).toBe(Code.chatNotFound);
  });
});

describe('a click whose throttle took its time', () => {
  /** A bot whose click throttle answers `throttleMs` into each click, on the bot's clock, and a to-do of Bob's there. */
  async function withSlowThrottle(throttleMs: number, body: (slow: Harness, todo: Awaited<ReturnType<typeof postTodo>>) => Promise<void>) {
    const clock = new TestClock(Date.UTC(2026, 10, 23, 2, 0));
    const slow = await startHarness({ clock });
    try {
      const todo = await postTodo(slow, { owner: 'ou_admin', text: 'Tidy up', assignees: ['ou_bob'] });
      slow.app.services.clicks.check = async () => {
        clock.jump(throttleMs);
        return 'allow';
      };
      await body(slow, todo);
    } finally {
      await slow.stop();
    }
  }

  /** Makes the store's `method` answer `ms` later (real time); returns what puts it back. */
  function slowDown(store: Records, method: 'commit' | 'todo', ms: number): () => void {
    const original = store[method];
    const delayed = async (...args: unknown[]) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return (original as (...args: unknown[]) => Promise<unknown>).apply(store, args);
    };
    Object.assign(store, { [method]: delayed });
    return () => Object.assign(store, { [method]: original });
  }

  it('is answered within one deadline counted from its arrival, the throttle’s wait included', async () => {
    // The throttle answers 2.4 s into the click's 2.5 s (a slow database), and the click's own work takes 0.5 s more.
    await withSlowThrottle(2_400, async (slow, todo) => {
      const { store } = slow.app.services;
      const restore = slowDown(store, 'commit', 500);
      const answer = await slow.click('ou_bob', todo.messageId, { action: 'todo.done', todoId: todo.todoId });
      expect(answer.body?.toast).toMatchObject({ type: 'info', content: 'Working on it…' });
      // The click's work goes on past its answer, and lands.
      await waitFor(async () => (await store.todo(todo.todoId))?.status === 'done' || undefined, 'the click to be done');
      restore();
    });
  });

  it('tells the person privately when the click answered "Working on it…" turns out refused', async () => {
    // The throttle answers when the click's time is up, and reading the to-do takes a moment: it is answered at once,
    // and decided after.
    await withSlowThrottle(2_500, async (slow, todo) => {
      const { store } = slow.app.services;
      const restore = slowDown(store, 'todo', 50);
      const answer = await slow.click('ou_member', todo.messageId, { action: 'todo.done', todoId: todo.todoId });
      expect(answer.body?.toast).toMatchObject({ type: 'info', content: 'Working on it…' });
      await slow.settled();
      restore();
      expect(noticesTo(slow, 'ou_member').at(-1)).toContain(t('en_us', 'toast.notAllowed'));
      expect((await store.todo(todo.todoId))?.status).toBe('open');
    });
  });
});
