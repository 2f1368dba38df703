import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ChatSettings, RECORD_VERSION, type Todo, type TodoForm } from '../src/domain/model';
import { formCardKey } from '../src/domain/todo-form';
import { CLOSED_FORM_RETENTION_MS, type Committed, type ExportedRecord, type Job, LeaseLost, type NewJob, type Store } from '../src/store/store';

/**
 * What the bot relies on a store for, run against every adapter, as grammyjs/storages runs one scenario against
 * each of its adapters. `make` gives a fresh, empty store's factory: `open()` opens a store on that data (call it
 * again for a second instance, or after closing for a reopen); `shared` says whether two stores open at once see
 * each other (several instances on one database).
 */
export interface ContractSetup {
  open(): Promise<Store>;
  cleanup?(): Promise<void>;
}

export interface AdapterTraits {
  /** Whether what one store commits is seen by another open on the same data at the same time. */
  shared: boolean;
  /** Whether data survives closing every store and opening again. */
  durable: boolean;
}

const day = 24 * 60 * 60 * 1000;

export const form = (id: string, patch: Partial<TodoForm> = {}): TodoForm => ({
  v: RECORD_VERSION,
  id,
  chatId: 'oc_1',
  ownerId: 'ou_a',
  status: 'open',
  draftText: '',
  createdAt: 0,
  updatedAt: 0,
  expiresAt: 1_000,
  ...patch,
});

export const todo = (id: string, patch: Partial<Todo> = {}): Todo => ({
  v: RECORD_VERSION,
  id,
  formId: `form_${id}`,
  chatId: 'oc_1',
  creatorId: 'ou_a',
  text: `to-do ${id}`,
  timeZone: 'Asia/Shanghai',
  assigneeIds: [],
  status: 'open',
  createdAt: 0,
  updatedAt: 0,
  ...patch,
});

export const job = (id: string, patch: Partial<NewJob> = {}): NewJob => ({
  id,
  kind: 'k',
  lane: 'l',
  chatId: 'oc_1',
  payload: { id },
  runAt: 0,
  createdAt: 0,
  ...patch,
});

/** Everything `store` tells its listeners from now on, in order. */
export function heardBy(store: Pick<Store, 'onCommitted'>): Committed[] {
  const heard: Committed[] = [];
  store.onCommitted((committed) => heard.push(committed));
  return heard;
}

const claim = (store: Store, patch: Partial<Parameters<Store['claimJobs']>[0]> = {}) =>
  store.claimJobs({ owner: 'a', now: 0, leaseMs: 30_000, max: 100, perChat: 8, ...patch });
const ids = (jobs: Job[]) => jobs.map((j) => j.id);

export function storeContract(name: string, traits: AdapterTraits, make: () => Promise<ContractSetup>) {
  describe(`store contract: ${name}`, () => {
    const opened: Store[] = [];
    const setups: ContractSetup[] = [];
    let setup: ContractSetup;
    /** A store on fresh, empty data; with `fresh` false, another store on the data of the last one. */
    const open = async (fresh = true) => {
      if (fresh) {
        setup = await make();
        setups.push(setup);
      }
      const store = await setup.open();
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close().catch(() => undefined);
      for (const done of setups.splice(0)) await done.cleanup?.();
    });

    describe('records', () => {
      it('finds the open form of a person in a chat, and forgets it when closed', async () => {
        const store = await open();
        expect(await store.commit({ now: 0, forms: [form('f1')] })).toEqual({ ok: true });
        const stored = await store.openForm('oc_1', 'ou_a');
        expect(stored?.id).toBe('f1');
        expect(await store.commit({ now: 0, forms: [{ ...(stored as TodoForm), status: 'cancelled' }] })).toEqual({ ok: true });
        expect(await store.openForm('oc_1', 'ou_a')).toBeUndefined();
        expect((await store.form('f1'))?.status).toBe('cancelled');
        expect(await store.form('nope')).toBeUndefined();
      });

      it('finds a form by its card key in every state, and forgets it once pruned', async () => {
        const store = await open();
        await store.commit({ now: 0, forms: [form('f1')] });
        expect((await store.formByCardKey(formCardKey('f1')))?.id).toBe('f1');
        await store.commit({ now: 0, forms: [{ ...((await store.form('f1')) as TodoForm), status: 'posted' }] });
        expect((await store.formByCardKey(formCardKey('f1')))?.status).toBe('posted');
        expect(await store.formByCardKey(formCardKey('f2'))).toBeUndefined();
        await store.prune(CLOSED_FORM_RETENTION_MS + 1);
        expect(await store.formByCardKey(formCardKey('f1'))).toBeUndefined();
      });

      it('writes a record only from the revision it was read at', async () => {
        const store = await open();
        await store.commit({ now: 0, todos: [todo('t1')] });
        const read = (await store.todo('t1')) as Todo;
        expect(await store.commit({ now: 0, todos: [{ ...read, status: 'done' }] })).toEqual({ ok: true });
        expect(await store.commit({ now: 0, todos: [{ ...read, status: 'recalled' }] })).toEqual({ ok: false, reason: 'stale' });
        expect((await store.todo('t1'))?.status).toBe('done');
        // A record written as new must not exist yet.
        expect(await store.commit({ now: 0, todos: [todo('t1')] })).toEqual({ ok: false, reason: 'stale' });
      });

      it('writes all of a commit or none of it', async () => {
        const store = await open();
        await store.commit({ now: 0, forms: [form('f1')] });
        const read = (await store.form('f1')) as TodoForm;
        await store.commit({ now: 0, forms: [{ ...read, draftText: 'changed elsewhere' }] });
        const result = await store.commit({ now: 0, eventId: 'ev1', forms: [{ ...read, status: 'submitting' }], todos: [todo('t1')], jobs: [job('j1')] });
        expect(result).toEqual({ ok: false, reason: 'stale' });
        expect(await store.todo('t1')).toBeUndefined();
        expect(await store.job('j1')).toBeUndefined();
        expect((await store.form('f1'))?.status).toBe('open');
        // The event was not remembered either: its handler may run again.
        expect(await store.commit({ now: 0, eventId: 'ev1' })).toEqual({ ok: true });
      });

      it('lets exactly one of several concurrent changes of one read win', async () => {
        const store = await open();
        await store.commit({ now: 0, forms: [form('f1')] });
        const read = (await store.form('f1')) as TodoForm;
        const results = await Promise.all(
          [1, 2, 3, 4, 5].map((n) => store.commit({ now: 0, forms: [{ ...read, status: 'submitting', todoId: `t${n}` }], todos: [todo(`t${n}`)] })),
        );
        expect(results.filter((r) => r.ok)).toHaveLength(1);
        const winner = (await store.form('f1'))?.todoId as string;
        for (const n of [1, 2, 3, 4, 5]) expect(await store.todo(`t${n}`)).toEqual(`t${n}` === winner ? expect.objectContaining({ id: winner }) : undefined);
      });

      it('sees an event id once, and refuses the rest of a duplicate commit', async () => {
        const store = await open();
        expect(await store.commit({ now: 0, eventId: 'ev1', jobs: [job('j1')] })).toEqual({ ok: true });
        expect(await store.commit({ now: 1, eventId: 'ev1', jobs: [job('j2')] })).toEqual({ ok: false, reason: 'duplicate' });
        expect(await store.job('j2')).toBeUndefined();
      });

      it('spends a budget in the commit: past its limit the commit is refused whole, the first refusal of a window marked', async () => {
        const store = await open();
        const budget = { key: 'oc_1:ou_a', limit: 3, windowMs: 1_000 };
        const results = [];
        for (let n = 0; n < 5; n++) results.push(await store.commit({ now: 100, eventId: `ev${n}`, jobs: [job(`j${n}`, { lane: `l${n}` })], budget }));
        expect(results).toEqual([
          { ok: true },
          { ok: true },
          { ok: true },
          { ok: false, reason: 'throttled', first: true },
          { ok: false, reason: 'throttled', first: false },
        ]);
        // Nothing of a refused commit is stored: neither its job nor its event id.
        expect(await store.job('j3')).toBeUndefined();
        expect(await store.job('j2')).toMatchObject({ id: 'j2' });
        expect(await store.commit({ now: 100, eventId: 'ev3' })).toEqual({ ok: true });
        // Another key has a budget of its own; a window ends `windowMs` after the commit that opened it.
        expect(await store.commit({ now: 100, jobs: [job('other', { lane: 'o' })], budget: { ...budget, key: 'oc_1:ou_b' } })).toEqual({ ok: true });
        expect(await store.commit({ now: 1_099, eventId: 'ev5', budget })).toEqual({ ok: false, reason: 'throttled', first: false });
        expect(await store.commit({ now: 1_100, eventId: 'ev6', jobs: [job('j6', { lane: 'l6' })], budget })).toEqual({ ok: true });
        expect(await store.job('j6')).toMatchObject({ id: 'j6' });
      });

      it('spends nothing of a budget for a commit refused otherwise: a repeated event, a stale record', async () => {
        const store = await open();
        const budget = { key: 'oc_1:ou_a', limit: 2, windowMs: 1_000 };
        expect(await store.commit({ now: 0, eventId: 'ev1', jobs: [job('j1')], budget })).toEqual({ ok: true });
        for (let n = 0; n < 3; n++)
          expect(await store.commit({ now: 0, eventId: 'ev1', jobs: [job('j1')], budget })).toEqual({ ok: false, reason: 'duplicate' });
        expect(await store.commit({ now: 0, todos: [todo('t1', { rev: 1 })], budget })).toEqual({ ok: false, reason: 'stale' });
        expect(await store.commit({ now: 0, eventId: 'ev2', jobs: [job('j2')], budget })).toEqual({ ok: true });
        expect(await store.commit({ now: 0, eventId: 'ev3', budget })).toEqual({ ok: false, reason: 'throttled', first: true });
      });

      it('spends a budget in a commit that writes records, and writes none of them past the limit', async () => {
        const store = await open();
        const budget = { key: 'oc_1:ou_a', limit: 1, windowMs: 1_000 };
        expect(await store.commit({ now: 0, todos: [todo('t1')], jobs: [job('j1')], budget })).toEqual({ ok: true });
        expect(await store.commit({ now: 0, todos: [todo('t2')], jobs: [job('j2')], budget })).toEqual({ ok: false, reason: 'throttled', first: true });
        // The refusal was counted, though nothing of its commit was written.
        expect(await store.commit({ now: 0, todos: [todo('t3')], budget })).toEqual({ ok: false, reason: 'throttled', first: false });
        expect(await store.todo('t1')).toMatchObject({ id: 't1' });
        expect(await store.todo('t2')).toBeUndefined();
        expect(await store.job('j2')).toBeUndefined();
      });

      it('counts concurrent commits against one budget exactly', async () => {
        const store = await open();
        const budget = { key: 'oc_1:ou_a', limit: 5, windowMs: 60_000 };
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, n) => store.commit({ now: 0, eventId: `ev${n}`, jobs: [job(`j${n}`, { lane: `l${n}` })], budget })),
        );
        expect(results.filter((r) => r.ok)).toHaveLength(5);
        expect(results.filter((r) => !r.ok && r.reason === 'throttled' && r.first)).toHaveLength(1);
        expect(results.filter((r) => !r.ok && r.reason === 'throttled' && !r.first)).toHaveLength(6);
        const stored = await Promise.all(Array.from({ length: 12 }, (_, n) => store.job(`j${n}`)));
        expect(stored.filter((j) => j !== undefined)).toHaveLength(5);
      });

      it('decides pushes committed together each as if alone, in the order they were made', async () => {
        const store = await open();
        const budget = { key: 'oc_1:ou_a', limit: 2, windowMs: 60_000 };
        const push = (eventId: string, jobId: string, withBudget = true) =>
          store.commit({ now: 0, eventId, jobs: [job(jobId, { lane: `l_${jobId}` })], ...(withBudget && { budget }) });
        // One turn of the event loop: the PostgreSQL store commits them in one statement, the file store in one append.
        const results = await Promise.all([
          push('ev1', 'j1'),
          push('ev1', 'j1b'),
          push('ev2', 'j2'),
          push('ev3', 'j3'),
          push('ev4', 'j4', false),
          push('ev3', 'j3b'),
          push('ev4', 'j4b'),
        ]);
        expect(results).toEqual([
          { ok: true },
          { ok: false, reason: 'duplicate' },
          { ok: true },
          { ok: false, reason: 'throttled', first: true },
          { ok: true },
          { ok: false, reason: 'throttled', first: false },
          { ok: false, reason: 'duplicate' },
        ]);
        const stored = await Promise.all(['j1', 'j1b', 'j2', 'j3', 'j4', 'j3b', 'j4b'].map(async (id) => (await store.job(id)) !== undefined));
        expect(stored).toEqual([true, false, true, false, true, false, false]);
      });

      it('finds to-dos by card, lists a chat’s open ones soonest first, and finds the latest posted one', async () => {
        const store = await open();
        await store.commit({
          now: 0,
          todos: [
            todo('t1', { messageId: 'om_1', remindAt: 500, assigneeIds: ['ou_b'] }),
            todo('t2', { messageId: 'om_2', remindAt: 100 }),
            todo('t3', { messageId: 'om_3', status: 'done', creatorId: 'ou_b' }),
            todo('t4', { messageId: 'om_4', status: 'recalled' }),
            todo('t5', { status: 'posting' }),
            todo('t6', { chatId: 'oc_2', messageId: 'om_6' }),
          ],
        });
        expect((await store.todoByMessage('om_2'))?.id).toBe('t2');
        expect(await store.todoByMessage('om_x')).toBeUndefined();
        expect((await store.openTodos('oc_1')).map((t) => t.id)).toEqual(['t2', 't1']);
        expect((await store.latestPostedTodo('oc_1'))?.id).toBe('t3');
        expect((await store.latestPostedTodo('oc_1', { creatorId: 'ou_a' }))?.id).toBe('t2');
        expect(await store.latestPostedTodo('oc_9')).toBeUndefined();
      });

      it('finds the latest posted to-do made in a topic, of anyone or of one person', async () => {
        const store = await open();
        await store.commit({
          now: 0,
          todos: [
            todo('t1', { messageId: 'om_1', threadId: 'omt_a' }),
            todo('t2', { messageId: 'om_2', threadId: 'omt_a', creatorId: 'ou_b' }),
            todo('t3', { messageId: 'om_3', threadId: 'omt_b' }),
            todo('t4', { messageId: 'om_4', threadId: 'omt_a', status: 'recalled' }),
            todo('t5', { threadId: 'omt_a', status: 'posting' }),
            todo('t6', { chatId: 'oc_2', messageId: 'om_6', threadId: 'omt_a' }),
            todo('t7', { messageId: 'om_7' }),
            // A NUL in a message's text (Feishu passes one through) must not break reading the others' topics.
            todo('t8', { messageId: 'om_8', threadId: 'omt_d', text: 'before\u0000after' }),
          ],
        });
        expect((await store.latestPostedTodo('oc_1', { threadId: 'omt_d' }))?.id).toBe('t8');
        expect((await store.latestPostedTodo('oc_1', { threadId: 'omt_a' }))?.id).toBe('t2');
        expect((await store.latestPostedTodo('oc_1', { threadId: 'omt_a', creatorId: 'ou_a' }))?.id).toBe('t1');
        expect((await store.latestPostedTodo('oc_1', { threadId: 'omt_b', creatorId: 'ou_b' }))?.id).toBeUndefined();
        expect(await store.latestPostedTodo('oc_1', { threadId: 'omt_c' })).toBeUndefined();
      });

      it('finds a to-do by its current card, which moves to a reminder that took over, and the posted card still finds it', async () => {
        const store = await open();
        await store.commit({ now: 0, todos: [todo('t1', { messageId: 'om_1', currentCard: { messageId: 'om_1', sentAt: 0 } })] });
        const posted = (await store.todoByMessage('om_1')) as Todo;
        expect(posted.currentCard).toEqual({ messageId: 'om_1', sentAt: 0 });
        await store.commit({ now: 14 * day, todos: [{ ...posted, currentCard: { messageId: 'om_r1', sentAt: 14 * day } }] });
        expect((await store.todoByMessage('om_r1'))?.currentCard).toEqual({ messageId: 'om_r1', sentAt: 14 * day });
        expect((await store.todoByMessage('om_1'))?.id).toBe('t1');
        // A later takeover: the card current before it is no longer one of the to-do's cards.
        const first = (await store.todo('t1')) as Todo;
        await store.commit({ now: 28 * day, todos: [{ ...first, currentCard: { messageId: 'om_r2', sentAt: 28 * day } }] });
        expect((await store.todoByMessage('om_r2'))?.id).toBe('t1');
        expect(await store.todoByMessage('om_r1')).toBeUndefined();
        expect((await store.todoByMessage('om_1'))?.id).toBe('t1');
      });

      it('finds the open form a /todo message opened, in that chat only, and not once it is closed', async () => {
        const store = await open();
        await store.commit({
          now: 0,
          forms: [form('f1', { commandMessageId: 'om_cmd' }), form('f2', { ownerId: 'ou_b', commandMessageId: 'om_other', draftText: 'a\u0000b' })],
        });
        expect((await store.openFormOfCommand('oc_1', 'om_other'))?.id).toBe('f2');
        expect((await store.openFormOfCommand('oc_1', 'om_cmd'))?.id).toBe('f1');
        expect(await store.openFormOfCommand('oc_2', 'om_cmd')).toBeUndefined();
        expect(await store.openFormOfCommand('oc_1', 'om_x')).toBeUndefined();
        const f1 = (await store.form('f1')) as TodoForm;
        await store.commit({ now: 1, forms: [{ ...f1, status: 'cancelled' }] });
        expect(await store.openFormOfCommand('oc_1', 'om_cmd')).toBeUndefined();
      });

      it('finds a to-do by its Feishu Task, and pages through the open ones whose task is not deleted there', async () => {
        const store = await open();
        const task = (guid: string, deletedThere?: boolean) => ({
          guid,
          url: `https://applink/${guid}`,
          completed: false,
          ...(deletedThere && { deletedThere }),
        });
        await store.commit({
          now: 0,
          todos: [
            todo('t1', { messageId: 'om_1', task: task('g1') }),
            todo('t2', { messageId: 'om_2', task: task('g2', true) }),
            todo('t3', { messageId: 'om_3', status: 'done', task: { ...task('g3'), completed: true } }),
            todo('t4', { messageId: 'om_4' }),
            todo('t5', { chatId: 'oc_2', messageId: 'om_5', task: task('g5') }),
            todo('t6', { messageId: 'om_6', task: task('g6') }),
          ],
        });
        expect((await store.todoByTaskGuid('g2'))?.id).toBe('t2');
        expect(await store.todoByTaskGuid('g_unknown')).toBeUndefined();
        // Open ones only, when nothing was done since then.
        const openOnly = Number.MAX_SAFE_INTEGER;
        expect((await store.syncedTodos(2, openOnly)).map((t) => t.id)).toEqual(['t1', 't5']);
        expect((await store.syncedTodos(2, openOnly, 't5')).map((t) => t.id)).toEqual(['t6']);
        // Done: the sweep's only while done recently; deleted there: no longer the sweep's; reopened: again.
        const t1 = (await store.todo('t1')) as Todo;
        const t3 = (await store.todo('t3')) as Todo;
        await store.commit({
          now: 1,
          todos: [
            { ...t1, status: 'done', doneAt: 50 },
            { ...t3, status: 'open' },
          ],
        });
        expect((await store.syncedTodos(10, openOnly)).map((t) => t.id)).toEqual(['t3', 't5', 't6']);
        expect((await store.syncedTodos(10, 50)).map((t) => t.id)).toEqual(['t1', 't3', 't5', 't6']);
        expect((await store.syncedTodos(2, 50, 't1')).map((t) => t.id)).toEqual(['t3', 't5']);
        expect((await store.syncedTodos(10, 51)).map((t) => t.id)).toEqual(['t3', 't5', 't6']);
        const t6 = (await store.todo('t6')) as Todo;
        await store.commit({ now: 2, todos: [{ ...t6, task: task('g6', true) }] });
        expect((await store.syncedTodos(10, 0)).map((t) => t.id)).toEqual(['t1', 't3', 't5']);
        // A page after an id no longer (or never) synced starts at the next one that is.
        expect((await store.syncedTodos(10, 0, 't2')).map((t) => t.id)).toEqual(['t3', 't5']);
        expect((await store.syncedTodos(10, 0, 't6')).map((t) => t.id)).toEqual([]);
        expect((await store.syncedTodos(1, 0, '')).map((t) => t.id)).toEqual(['t1']);
        expect((await store.todoByTaskGuid('g6'))?.task?.deletedThere).toBe(true);
      });

      it('keeps where a to-do came from: its source message and the message its card replies to', async () => {
        const store = await open();
        const source = { messageId: 'om_src', senderId: 'ou_b', senderType: 'user' as const };
        await store.commit({
          now: 0,
          todos: [todo('t1', { source, replyTo: 'om_src' })],
          forms: [form('f1', { source, replyTo: 'om_src', commandMessageId: 'om_cmd', delivery: { kind: 'direct', chatId: 'oc_dm' } })],
        });
        expect(await store.todo('t1')).toMatchObject({ source, replyTo: 'om_src' });
        expect(await store.form('f1')).toMatchObject({ source, replyTo: 'om_src', commandMessageId: 'om_cmd', delivery: { kind: 'direct', chatId: 'oc_dm' } });
      });

      it('keeps chat settings', async () => {
        const store = await open();
        const settings: ChatSettings = { v: RECORD_VERSION, id: 'oc_1', language: 'zh_cn', updatedAt: 5 };
        await store.commit({ now: 5, chats: [settings] });
        const read = (await store.chat('oc_1')) as ChatSettings;
        expect(read).toMatchObject(settings);
        await store.commit({ now: 6, chats: [{ ...read, language: 'en_us' }] });
        expect((await store.chat('oc_1'))?.language).toBe('en_us');
        expect(await store.chat('oc_2')).toBeUndefined();
      });

      it('names the chats with open to-dos, and a chat’s to-dos done within a time', async () => {
        const store = await open();
        await store.commit({
          now: 1,
          todos: [
            todo('t1', { chatId: 'oc_b' }),
            todo('t2', { chatId: 'oc_a', status: 'done', doneAt: 100 }),
            todo('t3', { chatId: 'oc_a', status: 'done', doneAt: 200 }),
            todo('t4', { chatId: 'oc_c', status: 'recalled' }),
            todo('t5', { chatId: 'oc_b' }),
            todo('t6', { chatId: 'oc_d', status: 'done', doneAt: 150 }),
            todo('t7', { chatId: 'oc_d' }),
          ],
        });
        expect((await store.chatsWithOpenTodos()).sort()).toEqual(['oc_b', 'oc_d']);
        expect((await store.todosDoneBetween('oc_a', 100, 200)).map((t) => t.id)).toEqual(['t2']);
        expect((await store.todosDoneBetween('oc_a', 0, 1_000)).map((t) => t.id).sort()).toEqual(['t2', 't3']);
        expect(await store.todosDoneBetween('oc_b', 0, 1_000)).toEqual([]);
        // Reopened: no longer done, whatever its old doneAt said.
        const t3 = (await store.todo('t3')) as Todo;
        await store.commit({ now: 2, todos: [{ ...t3, status: 'open', doneAt: undefined }] });
        expect((await store.todosDoneBetween('oc_a', 0, 1_000)).map((t) => t.id)).toEqual(['t2']);
        expect((await store.chatsWithOpenTodos()).sort()).toEqual(['oc_a', 'oc_b', 'oc_d']);
      });

      it('keeps every group setting, and changes them only from the revision read', async () => {
        const store = await open();
        const chosen: ChatSettings = {
          v: RECORD_VERSION,
          id: 'oc_1',
          language: 'en_us',
          timeZone: 'Europe/Berlin',
          whoCreates: 'everyone',
          digestTime: '08:30',
          digestDays: 'daily',
          nudgeAfterHours: 12,
          taskSync: 'on',
          tomorrowTime: '10:00',
          updatedAt: 5,
        };
        await store.commit({ now: 5, chats: [chosen] });
        const read = (await store.chat('oc_1')) as ChatSettings;
        expect(read).toMatchObject(chosen);
        expect(await store.commit({ now: 6, chats: [{ ...read, digestTime: 'off', nudgeAfterHours: 'off' }] })).toEqual({ ok: true });
        expect(await store.commit({ now: 7, chats: [{ ...read, taskSync: 'off' }] })).toEqual({ ok: false, reason: 'stale' });
        expect(await store.chat('oc_1')).toMatchObject({ digestTime: 'off', nudgeAfterHours: 'off', taskSync: 'on', timeZone: 'Europe/Berlin' });
      });
    });

    describe('due times', () => {
      it('returns due reminders until their to-do moves on, and the earliest due time', async () => {
        const store = await open();
        await store.commit({
          now: 0,
          todos: [
            todo('t1', { remindAt: 100 }),
            todo('t2', { remindAt: 300 }),
            todo('t3', { remindAt: 50, status: 'done' }),
            todo('t4', { remindAt: 80, status: 'posting' }),
          ],
          forms: [form('f1', { expiresAt: 200 })],
        });
        expect(await store.nextDue()).toBeLessThanOrEqual(80);
        expect((await store.dueReminders(150, 10)).map((t) => t.id)).toEqual(['t4', 't1']);
        expect((await store.dueReminders(150, 1)).map((t) => t.id)).toEqual(['t4']);
        // A claim that lost its race finds the reminder again; one that moved it on does not.
        const t1 = (await store.todo('t1')) as Todo;
        await store.commit({ now: 150, todos: [{ ...t1, remindAt: 1_000 }] });
        expect((await store.dueReminders(150, 10)).map((t) => t.id)).toEqual(['t4']);
        expect((await store.dueReminders(1_000, 10)).map((t) => t.id)).toEqual(['t4', 't2', 't1']);
      });

      it('returns expired open forms until they are closed', async () => {
        const store = await open();
        await store.commit({
          now: 0,
          forms: [
            form('f1', { expiresAt: 100 }),
            form('f2', { ownerId: 'ou_b', expiresAt: 200 }),
            form('f3', { ownerId: 'ou_c', expiresAt: 50, status: 'posted' }),
          ],
        });
        expect(await store.nextDue()).toBeLessThanOrEqual(100);
        expect((await store.expiredForms(150, 10)).map((f) => f.id)).toEqual(['f1']);
        const f1 = (await store.form('f1')) as TodoForm;
        await store.commit({ now: 150, forms: [{ ...f1, status: 'expired' }] });
        expect((await store.expiredForms(150, 10)).map((f) => f.id)).toEqual([]);
        expect((await store.expiredForms(250, 10)).map((f) => f.id)).toEqual(['f2']);
      });

      it('tells its listeners the earliest due time each commit wrote, and nothing of one that wrote none', async () => {
        const store = await open();
        const heard = heardBy(store);
        await store.commit({ now: 0, todos: [todo('t1', { remindAt: 700 }), todo('t2', { remindAt: 300 })], forms: [form('f1', { expiresAt: 500 })] });
        // A closed form's expiry is no due time; a to-do's reminder is one even before it is posted.
        await store.commit({ now: 0, forms: [form('f2', { expiresAt: 100, status: 'posted' })], todos: [todo('t3', { remindAt: 900, status: 'posting' })] });
        await store.commit({ now: 0, todos: [todo('t4')], forms: [form('f3', { ownerId: 'ou_b', expiresAt: 50, status: 'cancelled' })] });
        await store.commit({ now: 0, jobs: [job('j1')] });
        expect(heard.map(({ dueAt }) => dueAt)).toEqual([300, 900, undefined, undefined]);
      });
    });

    describe('jobs', () => {
      it('enqueues each id once and tells listeners', async () => {
        const store = await open();
        const heard = heardBy(store);
        await store.commit({ now: 0, jobs: [job('j1')] });
        await store.commit({ now: 0, jobs: [job('j1', { payload: { other: true } })] });
        expect((await store.job('j1'))?.payload).toEqual({ id: 'j1' });
        expect(heard.some((c) => c.jobs)).toBe(true);
      });

      it('hands out the head of each lane once, in enqueue order, only when due', async () => {
        const store = await open();
        await store.commit({
          now: 0,
          jobs: [job('a1', { lane: 'a' }), job('b1', { lane: 'b' }), job('a2', { lane: 'a' }), job('c1', { lane: 'c', runAt: 500 })],
        });
        const first = await claim(store, { now: 100 });
        expect(ids(first.jobs).sort()).toEqual(['a1', 'b1']);
        expect(first.nextRunAt).toBe(500);
        expect(first.jobs.every((j) => j.lease?.owner === 'a')).toBe(true);
        expect(ids((await claim(store, { owner: 'b', now: 100 })).jobs)).toEqual([]);
        await store.finishJob(first.jobs.find((j) => j.id === 'a1') as Job);
        expect(ids((await claim(store, { owner: 'b', now: 600 })).jobs).sort()).toEqual(['a2', 'c1']);
        expect(await store.job('a1')).toBeUndefined();
      });

      it('keeps a chat within its cap of leased jobs', async () => {
        const store = await open();
        await store.commit({ now: 0, jobs: ['l1', 'l2', 'l3'].map((lane) => job(`j_${lane}`, { lane })).concat(job('other', { lane: 'o', chatId: 'oc_2' })) });
        const first = await claim(store, { perChat: 2 });
        expect(ids(first.jobs).sort()).toEqual(['j_l1', 'j_l2', 'other']);
        expect(ids((await claim(store, { owner: 'b', perChat: 2 })).jobs)).toEqual([]);
        await store.finishJob(first.jobs[0] as Job);
        expect(ids((await claim(store, { owner: 'b', perChat: 2 })).jobs)).toEqual(['j_l3']);
      });

      it('records steps and retries under the lease, and refuses a job whose lease is gone', async () => {
        const store = await open();
        await store.commit({ now: 0, jobs: [job('j1')] });
        const [leased] = (await claim(store)).jobs as [Job];
        await store.recordStep(leased, 'post', { messageId: 'om_1' });
        await store.retryJob(leased, 700, 'boom');
        const stored = (await store.job('j1')) as Job;
        expect(stored).toMatchObject({ steps: { post: { messageId: 'om_1' } }, attempts: 1, runAt: 700, lastError: 'boom' });
        expect(stored.lease).toBeUndefined();
        // The retry released the lease: the old holder may do nothing more.
        await expect(store.recordStep(leased, 'again', 1)).rejects.toBeInstanceOf(LeaseLost);
        await expect(store.finishJob(leased)).rejects.toBeInstanceOf(LeaseLost);
        expect(await store.commit({ now: 0, todos: [todo('t1')], by: leased })).toEqual({ ok: false, reason: 'lease-lost' });
        expect(await store.todo('t1')).toBeUndefined();
        const [again] = (await claim(store, { owner: 'b', now: 700 })).jobs as [Job];
        expect(again.steps).toEqual({ post: { messageId: 'om_1' } });
        expect(await store.commit({ now: 0, todos: [todo('t1')], by: again })).toEqual({ ok: true });
        // A job parked (not run) is released without counting an attempt.
        await store.retryJob(again, 900, 'parked: unknown kind', false);
        expect(await store.job('j1')).toMatchObject({ attempts: 1, runAt: 900, lastError: 'parked: unknown kind' });
      });

      it('hands a job out again once its lease expires, unless renewed; a lease that ran out is never renewed', async () => {
        const store = await open();
        await store.commit({ now: 0, jobs: [job('kept', { lane: 'k' }), job('lost', { lane: 'l' })] });
        // Leases run on the wall clock (the database's): the test waits for "lost" to run out, however busy the machine,
        // rather than for a fixed time; "kept" is renewed at once, far past that.
        const leased = (await claim(store, { leaseMs: 1_000 })).jobs;
        const kept = leased.find((j) => j.id === 'kept') as Job;
        const lost = leased.find((j) => j.id === 'lost') as Job;
        expect(await store.renewLeases([kept], 60_000)).toEqual(['kept']);
        await vi.waitFor(async () => expect((await store.job('lost'))?.lease?.until ?? 0).toBeLessThan(Date.now() - 50), { timeout: 10_000, interval: 50 });
        // Run out, though no one took the job: its holder may have done nothing since, so it does nothing more.
        expect(await store.renewLeases([lost], 600)).toEqual([]);
        const taken = (await claim(store, { owner: 'b' })).jobs;
        expect(ids(taken)).toEqual(['lost']);
        await expect(store.finishJob(lost)).rejects.toBeInstanceOf(LeaseLost);
        await store.finishJob(kept);
        expect(await store.renewLeases([lost], 300)).toEqual([]);
      });

      it('renews a lease by its token: a job given back and claimed again by the same owner renews only its new lease', async () => {
        const store = await open();
        await store.commit({ now: 0, jobs: [job('j1')] });
        const [first] = (await claim(store)).jobs as [Job];
        await store.retryJob(first, 0, 'later');
        const [again] = (await claim(store)).jobs as [Job];
        expect(again.lease?.owner).toBe(first.lease?.owner);
        expect(await store.renewLeases([first], 30_000)).toEqual([]);
        expect(await store.renewLeases([again], 30_000)).toEqual(['j1']);
        await expect(store.recordStep(first, 'late', 1)).rejects.toBeInstanceOf(LeaseLost);
        await store.recordStep(again, 'post', 2);
        expect((await store.job('j1'))?.steps).toEqual({ post: 2 });
      });

      it('keeps a lane waiting behind its retried head until the head runs again', async () => {
        const store = await open();
        await store.commit({ now: 0, jobs: [job('a1', { lane: 'a' }), job('a2', { lane: 'a' })] });
        const [head] = (await claim(store, { now: 100 })).jobs as [Job];
        await store.retryJob(head, 700, 'later');
        const waiting = await claim(store, { now: 100 });
        expect(ids(waiting.jobs)).toEqual([]);
        expect(waiting.nextRunAt).toBe(700);
        expect(ids((await claim(store, { now: 700 })).jobs)).toEqual(['a1']);
      });

      it('releases an owner’s leases at once', async () => {
        const store = await open();
        await store.commit({ now: 0, jobs: [job('j1')] });
        await claim(store);
        await store.releaseLeases('a');
        expect(ids((await claim(store, { owner: 'b' })).jobs)).toEqual(['j1']);
      });
    });

    describe('housekeeping', () => {
      it('prunes old event ids and long-closed forms, keeping the rest', async () => {
        const store = await open();
        await store.commit({ now: 0, eventId: 'old' });
        await store.commit({ now: 9 * day, eventId: 'new' });
        await store.commit({ now: 0, forms: [form('closed', { status: 'expired' }), form('open', { ownerId: 'ou_b' })] });
        expect(await store.prune(9 * day)).toBe(2);
        expect(await store.commit({ now: 9 * day, eventId: 'old' })).toEqual({ ok: true });
        expect(await store.commit({ now: 9 * day, eventId: 'new' })).toEqual({ ok: false, reason: 'duplicate' });
        expect(await store.form('closed')).toBeUndefined();
        expect(await store.form('open')).toBeDefined();
      });

      it('counts what the metrics show', async () => {
        const store = await open();
        await store.commit({
          now: 0,
          forms: [form('f1'), form('f2', { ownerId: 'ou_b', status: 'posted' })],
          todos: [todo('t1', { remindAt: 10 }), todo('t2', { remindAt: 10, status: 'done' }), todo('t3')],
          jobs: [job('j1', { createdAt: 5 }), job('j2', { lane: 'm', createdAt: 7 })],
        });
        // One job failed once and waits for its next attempt; the other runs.
        const [failed] = (await claim(store, { max: 1 })).jobs as [Job];
        await store.retryJob(failed, 100, 'boom');
        await claim(store, { max: 1 });
        expect(await store.stats()).toEqual({
          writable: true,
          pendingJobs: 2,
          runningJobs: 1,
          retryingJobs: 1,
          oldestJobCreatedAt: 5,
          remindersPending: 1,
          formsOpen: 1,
        });
      });

      it('exports every record and imports them into an empty store only', async () => {
        const store = await open();
        await store.commit({
          now: 3,
          eventId: 'ev1',
          forms: [form('f1')],
          todos: [todo('t1', { remindAt: 10, messageId: 'om_1', currentCard: { messageId: 'om_r', sentAt: 2 } })],
          jobs: [job('j1')],
        });
        await store.commit({ now: 3, chats: [{ v: RECORD_VERSION, id: 'oc_1', language: 'en_us', digestTime: '09:15', nudgeAfterHours: 6, updatedAt: 3 }] });
        const exported: ExportedRecord[] = [];
        for await (const record of store.exportRecords()) exported.push(record);
        expect(exported.map((r) => `${r.collection}:${r.key}`).sort()).toEqual(['chats:oc_1', 'events:ev1', 'forms:f1', 'jobs:j1', 'todos:t1']);
        await expect(store.importRecords(toAsync(exported))).rejects.toThrow(/empty/);

        const target = await open();
        expect(await target.importRecords(toAsync(exported))).toBe(5);
        expect((await target.todoByMessage('om_1'))?.id).toBe('t1');
        expect((await target.todoByMessage('om_r'))?.currentCard).toEqual({ messageId: 'om_r', sentAt: 2 });
        expect((await target.openForm('oc_1', 'ou_a'))?.id).toBe('f1');
        expect((await target.dueReminders(10, 10)).map((t) => t.id)).toEqual(['t1']);
        expect(await target.chat('oc_1')).toMatchObject({ language: 'en_us', digestTime: '09:15', nudgeAfterHours: 6 });
        expect(await target.commit({ now: 4, eventId: 'ev1' })).toEqual({ ok: false, reason: 'duplicate' });
        expect(ids((await claim(target)).jobs)).toEqual(['j1']);
      });

      it('reads a record of another version as absent, never misreads it', async () => {
        const store = await open();
        const future = { ...form('f1'), v: RECORD_VERSION + 1 };
        expect(await store.importRecords(toAsync([{ collection: 'forms', key: 'f1', value: future }]))).toBe(1);
        expect(await store.form('f1')).toBeUndefined();
        expect(await store.openForm('oc_1', 'ou_a')).toBeUndefined();
      });

      // Adapters that keep nothing across a reopen (the in-memory one) have nothing to bring back.
      if (traits.durable)
        it('brings back everything committed after a reopen', async () => {
          const store = await open();
          await store.commit({ now: 0, eventId: 'ev1', forms: [form('f1')], jobs: [job('j1', { payload: { x: 1 } })] });
          const [leased] = (await claim(store)).jobs as [Job];
          await store.recordStep(leased, 's', 'done');
          await store.close();
          opened.splice(opened.indexOf(store), 1);

          const again = await open(false);
          expect((await again.openForm('oc_1', 'ou_a'))?.id).toBe('f1');
          expect((await again.formByCardKey(formCardKey('f1')))?.id).toBe('f1');
          expect(await again.commit({ now: 1, eventId: 'ev1' })).toEqual({ ok: false, reason: 'duplicate' });
          // A closed store released its leases: the job runs again at once, its finished step remembered.
          expect((await claim(again)).jobs).toMatchObject([{ id: 'j1', payload: { x: 1 }, steps: { s: 'done' } }]);
        });
    });

    // Only adapters several instances share (PostgreSQL): the file store admits one process.
    if (traits.shared)
      describe('several instances on the same data', () => {
        it('hands each job to one instance, keeps chat caps across them, and decides races between them', async () => {
          const a = await open();
          const b = await open(false);
          await a.commit({ now: 0, jobs: Array.from({ length: 12 }, (_, i) => job(`j${i}`, { lane: `l${i}` })), forms: [form('f1')] });
          const [fromA, fromB] = await Promise.all([claim(a, { owner: 'a', perChat: 5 }), claim(b, { owner: 'b', perChat: 5 })]);
          expect(ids(fromA.jobs).length + ids(fromB.jobs).length).toBe(5);
          expect(new Set([...ids(fromA.jobs), ...ids(fromB.jobs)]).size).toBe(5);

          const read = (await b.form('f1')) as TodoForm;
          const results = await Promise.all(
            [a, b, a, b].map((store, n) => store.commit({ now: 0, forms: [{ ...read, status: 'submitting', todoId: `t${n}` }] })),
          );
          expect(results.filter((r) => r.ok)).toHaveLength(1);
        });

        it('counts one budget once for every instance', async () => {
          const a = await open();
          const b = await open(false);
          const budget = { key: 'oc_1:ou_a', limit: 5, windowMs: 60_000 };
          const results = await Promise.all(
            Array.from({ length: 12 }, (_, n) => (n % 2 === 0 ? a : b).commit({ now: 0, eventId: `ev${n}`, jobs: [job(`j${n}`, { lane: `l${n}` })], budget })),
          );
          expect(results.filter((r) => r.ok)).toHaveLength(5);
          expect(results.filter((r) => !r.ok && r.reason === 'throttled' && r.first)).toHaveLength(1);
          // The same event delivered to both at once is one command: the delivery that lost gives its point back.
          const other = { ...budget, key: 'oc_1:ou_b', limit: 1 };
          const twice = await Promise.all([a, b].map((store) => store.commit({ now: 0, eventId: 'ev_b', jobs: [job('jb', { lane: 'lb' })], budget: other })));
          expect(twice.map((r) => (r.ok ? 'ok' : r.reason)).sort()).toEqual(['duplicate', 'ok']);
          expect(await b.commit({ now: 0, eventId: 'ev_b2', budget: other })).toEqual({ ok: false, reason: 'throttled', first: true });
        });

        it('tells one instance of another’s commits', async () => {
          const a = await open();
          const b = await open(false);
          const heard = new Promise<Committed>((resolve) => b.onCommitted((c) => c.jobs && resolve(c)));
          await a.commit({ now: 0, jobs: [job('j1')] });
          expect((await heard).jobs).toBe(true);
        });
      });
  });
}

async function* toAsync<T>(items: T[]): AsyncIterable<T> {
  yield* items;
}
