import { afterEach, describe, expect, it, vi } from 'vitest';
import { Bot } from '../../src/bot/bot';
import { noticeJob } from '../../src/bot/jobs/notice';
import type { NewJob, Store } from '../../src/store/store';
import { describePostgres, dropSchema, openPostgresStore, uniqueSchema } from '../support/postgres';
import { type Harness, TestClock, groupCards, noticesTo, openForm, postTodo, startHarness } from './harness';

/**
 * Jobs are stored, so a job enqueued by the previous version is run by this one (after an upgrade, or by a newer
 * instance of a fleet). Its payload is checked against its kind's schema when claimed: these jobs are written here
 * as literals, in the shapes the previous version stored (not through today's builders), and must be run; one the
 * schema refuses, or of a kind this version does not know, is parked with a line in the log, and the outbox goes on.
 */

let h: Harness | undefined;
let schema: string | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  if (schema) await dropSchema(schema);
  schema = undefined;
});

const parkedLines = (harness: Harness) => harness.logs.filter((line) => line.includes('job parked'));

/** A job as the previous version's builders wrote it: everything but its payload is the same for every kind. */
function storedJob(id: string, kind: string, lane: string, payload: unknown): NewJob {
  return { id, kind, lane, chatId: 'oc_group', payload, runAt: Date.now(), createdAt: Date.now() };
}

async function enqueue(store: Store, jobs: NewJob[]): Promise<void> {
  expect(await store.commit({ now: Date.now(), jobs })).toEqual({ ok: true });
}

function scenarios(start: () => Promise<Harness>) {
  it('runs a job of every kind stored in the previous version’s shape', async () => {
    h = await start();
    const harness = h;
    const { store } = harness.app;
    const todo = await postTodo(harness, { text: 'Stored before the upgrade', assignees: ['ou_bob'] });
    const form = await openForm(harness, 'ou_admin', 'left open');
    const formRecord = await store.openForm('oc_group', 'ou_admin');
    const postedForm = (await store.todo(todo.todoId))?.formId;
    const before = groupCards(harness).length;
    const todoLane = `todo:${todo.todoId}`;
    const dueAt = Date.now() - 1_000;

    const jobs = [
      storedJob('message:ev_stored_1', 'message', 'chat:oc_group:ou_alice', {
        eventId: 'ev_stored_1',
        messageId: 'om_stored_1',
        chatId: 'oc_group',
        chatType: 'group',
        senderId: 'ou_alice',
        text: '@_user_1 /help',
        mentions: [{ key: '@_user_1', openId: 'ou_bot' }],
      }),
      // Stored before the bot spoke two languages: no `lang`.
      storedJob('notice:stored', 'notice', 'notice:oc_group:ou_owner', { chatId: 'oc_group', userId: 'ou_owner', text: 'Stored notice', tone: 'info' }),
      // Of a form no longer open: it finds nothing to send.
      storedJob(`form.send:${postedForm}`, 'form.send', `form:${postedForm}`, { formId: postedForm, replyTo: 'om_stored_3' }),
      storedJob(`todo.post:${todo.todoId}`, 'todo.post', `form:${formRecord?.id}`, { formId: formRecord?.id, todoId: todo.todoId }),
      storedJob(`form.delete:${formRecord?.id}`, 'form.delete', `form:${formRecord?.id}`, { formId: formRecord?.id }),
      storedJob(`todo.patch:${todo.todoId}:1`, 'todo.patch', todoLane, { todoId: todo.todoId }),
      storedJob(`todo.remind:${todo.todoId}:${dueAt}`, 'todo.remind', todoLane, { todoId: todo.todoId, dueAt, late: false }),
      storedJob(`todo.recall:${todo.todoId}:ev_stored_2`, 'todo.recall', todoLane, { todoId: todo.todoId, requesterId: 'ou_admin', replyTo: 'om_stored_2' }),
      storedJob(`feed.sync:${todo.todoId}:2`, 'feed.sync', todoLane, { todoId: todo.todoId }),
    ];
    // Every kind the previous version stored is still run by this one: a kind renamed or dropped would leave its
    // stored jobs parked for good.
    const kinds = new Bot(harness.app.services).jobRegistry().kinds;
    for (const job of jobs) expect(kinds).toContain(job.kind);
    await enqueue(store, jobs);
    await harness.settled();

    for (const job of jobs) expect(await store.job(job.id)).toBeUndefined();
    expect(parkedLines(harness)).toEqual([]);
    // message: /help was answered, privately.
    expect(noticesTo(harness, 'ou_alice').some((card) => card.includes('/recall'))).toBe(true);
    // notice: shown in the bot's language.
    expect(noticesTo(harness, 'ou_owner').some((card) => card.includes('Stored notice'))).toBe(true);
    // todo.post: the same card again (its uuid repeats the first post's), not a second one; form.delete: the form card gone.
    expect(groupCards(harness)).toHaveLength(before);
    expect(harness.emu.messages.get(form.messageId)?.deleted).toBe(true);
    // todo.patch, todo.remind, todo.recall, feed.sync, in their lane's order.
    const card = harness.emu.messages.get(todo.messageId);
    expect(card?.updates.length).toBeGreaterThan(0);
    expect([...harness.emu.messages.values()].some((m) => m.kind === 'reply' && m.parentId === todo.messageId)).toBe(true);
    expect(card?.recalled).toBe(true);
    expect((await store.todo(todo.todoId))?.status).toBe('recalled');
    expect([...harness.emu.feedCards.values()].filter((f) => f.bizId === todo.todoId)).toEqual([]);
  });

  it('parks a job whose payload its kind refuses, or of a kind it does not know, and runs the other lanes', async () => {
    h = await start();
    const harness = h;
    const { store } = harness.app;
    const todo = await postTodo(harness, { text: 'Still looked after' });
    await enqueue(store, [
      storedJob('todo.patch:damaged', 'todo.patch', `todo:${todo.todoId}`, { todo: 42 }),
      storedJob('todo.remind:damaged', 'todo.remind', 'todo:other', { todoId: todo.todoId, dueAt: 'soon', late: false }),
      storedJob('todo.archive:newer', 'todo.archive', 'todo:newer', { todoId: todo.todoId }),
      storedJob('notice:after', 'notice', 'notice:oc_group:ou_member', { chatId: 'oc_group', userId: 'ou_member', text: 'Still running', tone: 'info' }),
    ]);
    // Not `harness.settled()`: that waits for the store to hold no job at all, and parked jobs stay.
    await harness.app.settled();

    const lines = parkedLines(harness).map((line) => JSON.parse(line) as { jobId: string; kind: string; problem: string });
    const problems = {
      'todo.patch:damaged': 'todoId: Invalid input: expected string, received undefined',
      'todo.remind:damaged': 'dueAt: Invalid input: expected number, received string',
      'todo.archive:newer': 'no handler for job kind todo.archive',
    };
    expect(Object.fromEntries(lines.map(({ jobId, problem }) => [jobId, problem]))).toEqual(problems);
    // Kept, with what is wrong as their last error, to be looked at again later (by a newer instance, say); a park is
    // not one of their tries.
    for (const [id, problem] of Object.entries(problems)) {
      expect(await store.job(id)).toMatchObject({ attempts: 0, lastError: `parked: ${problem}` });
      expect((await store.job(id))?.runAt).toBeGreaterThan(Date.now() + 60_000);
    }
    // Nothing of them ran, and the job in another lane did.
    expect(harness.emu.messages.get(todo.messageId)?.updates).toEqual([]);
    expect(await store.job('notice:after')).toBeUndefined();
    expect(noticesTo(harness, 'ou_member').some((card) => card.includes('Still running'))).toBe(true);
  });
}

describe('jobs stored by the previous version, on the file store', () => {
  scenarios(() => startHarness());
});

describePostgres('jobs stored by the previous version, on PostgreSQL', () => {
  scenarios(async () => {
    schema = uniqueSchema('stored_jobs');
    return startHarness({ app: { store: await openPostgresStore(schema) } });
  });
});

describe('a job no commit announces', () => {
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

  afterEach(() => {
    vi.useRealTimers();
  });

  it('is found by the outbox’s poll, every JOB_POLL_SECONDS', async () => {
    // The outbox hears of jobs through commits and its own timer for the next one due; a job no commit announced and
    // no timer waits for (a retry time stored by an instance that died, say) is found only by the poll. The poll is a
    // real interval of whole seconds: faking intervals alone lets the test move it by one poll while the rest runs in
    // real time.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const clock = new TestClock(Date.now());
    h = await startHarness({ env: { JOB_POLL_SECONDS: '1' }, clock });
    const { store } = h.app;
    // The start-up's own work done, so nothing but the poll looks for work below.
    await h.settled();
    const job = noticeJob({ now: () => clock.now() + 60_000 }, 'polled', { chatId: 'oc_group', userId: 'ou_alice', text: 'Found by the poll', tone: 'info' });
    await enqueue(store, [job]);
    // The commit's look for work (on the next turn of the event loop) finds the job due in a minute: the outbox's
    // timer waits a minute of real time, and the clock jumps past it without telling the bot.
    await nextTurn();
    await h.app.settled();
    clock.jump(60_000);
    const claims = vi.spyOn(store, 'claimJobs');
    vi.advanceTimersByTime(1_000);
    // The poll's look for work starts on the next turn of the event loop.
    await nextTurn();
    expect(claims).toHaveBeenCalledTimes(1);
    expect((await claims.mock.results[0]?.value)?.jobs.map((claimed: { id: string }) => claimed.id)).toEqual([job.id]);
    await h.app.settled();
    expect(noticesTo(h, 'ou_alice').some((card) => card.includes('Found by the poll'))).toBe(true);
  });
});
