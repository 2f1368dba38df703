import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { RECORD_VERSION, type TodoForm } from '../../src/domain/model';
import { FeishuNetworkError } from '../../src/feishu/errors';
import { Outbox, PARK_LIMIT_MS, RetryLater } from '../../src/jobs/outbox';
import { JobRegistry, handle, jobKind } from '../../src/jobs/registry';
import { createLogger } from '../../src/log';
import { EmbeddedStore } from '../../src/store/embedded/embedded-store';
import { MemoryPersistence } from '../../src/store/embedded/persistence';

/** An outbox over a memory store whose jobs wait until released, so the test sees which ones are running. */
async function harness(perChat: number, options: { failFirst?: Set<string>; concurrency?: number } = {}) {
  const store = new EmbeddedStore(new MemoryPersistence());
  await store.open();
  const started: string[] = [];
  const release = new Map<string, () => void>();
  const interrupts = new Map<string, () => void>();
  const outbox = new Outbox({
    store,
    logger: createLogger('silent'),
    now: () => 1_000,
    owner: 'test',
    perChat,
    ...(options.concurrency !== undefined && { concurrency: options.concurrency }),
    retryDelaysMs: [0],
    registry: new JobRegistry([
      handle(jobKind('wait', z.object({})), {
        run: async ({ job, step }) => {
          started.push(job.id);
          await step('first', async () => 'done');
          if (options.failFirst?.delete(job.id)) throw new RetryLater('not yet');
          // Waits as a Feishu call's retry wait does: until released, or until the bot stops (the Feishu client then
          // ends its waits with a network-style failure; `interrupt` plays that part).
          await new Promise<void>((resolve, reject) => {
            release.set(job.id, resolve);
            interrupts.set(job.id, () => reject(new FeishuNetworkError('wait', 'the bot is stopping')));
          });
        },
      }),
    ]),
  });
  const enqueue = (id: string, lane: string, chatId: string | undefined, runAt = 0) =>
    store.commit({ now: 0, jobs: [{ id, kind: 'wait', lane, chatId, payload: {}, runAt, createdAt: 0 }] });
  /** Lets a running job end; waits for it to have started first. */
  const finish = async (id: string) => {
    await vi.waitFor(() => expect(release.has(id)).toBe(true));
    release.get(id)?.();
    release.delete(id);
  };
  const startedSoFar = (count: number) => vi.waitFor(() => expect(started).toHaveLength(count));
  /** A few turns of the event loop: enough for the outbox to start anything it was going to. */
  const turns = () => new Promise((resolve) => setTimeout(resolve, 20));
  return { store, outbox, started, enqueue, finish, startedSoFar, turns, interrupts };
}

describe('the outbox', () => {
  it('runs a lane in order, one job at a time, and lanes side by side', async () => {
    const { outbox, started, enqueue, finish, startedSoFar, turns } = await harness(8);
    await enqueue('a1', 'a', 'oc_1');
    await enqueue('a2', 'a', 'oc_1');
    await enqueue('b1', 'b', 'oc_1');
    outbox.start();
    await startedSoFar(2);
    await turns();
    expect(started).toEqual(['a1', 'b1']);
    await finish('a1');
    await startedSoFar(3);
    expect(started).toEqual(['a1', 'b1', 'a2']);
    await finish('a2');
    await finish('b1');
    await outbox.stop();
  });

  it('runs at most perChat jobs of one chat at once, while other chats go on', async () => {
    const { store, outbox, started, enqueue, finish, startedSoFar, turns } = await harness(2);
    for (let i = 1; i <= 5; i++) await enqueue(`busy${i}`, `busy:${i}`, 'oc_busy');
    await enqueue('quiet1', 'quiet', 'oc_quiet');
    await enqueue('free1', 'free', undefined);
    outbox.start();
    await startedSoFar(4);
    await turns();
    expect([...started].sort()).toEqual(['busy1', 'busy2', 'free1', 'quiet1']);
    await finish('busy2');
    await startedSoFar(5);
    await turns();
    expect(started[4]).toBe('busy3');
    expect(started).toHaveLength(5);
    for (const id of ['busy1', 'busy3', 'busy4', 'busy5', 'quiet1', 'free1']) await finish(id);
    await vi.waitFor(async () => expect((await store.stats()).pendingJobs).toBe(0));
    expect(started).toHaveLength(7);
    await outbox.stop();
  });

  it('looks for work after its own commit only if one of its jobs could be taken, and again when a job ends', async () => {
    const { store, outbox, started, enqueue, finish, startedSoFar, turns } = await harness(1);
    const claims = vi.spyOn(store, 'claimJobs');
    outbox.start();
    await enqueue('a1', 'a', 'oc_full');
    await startedSoFar(1);
    await turns();
    const before = claims.mock.calls.length;
    // oc_full has its one job running: nothing of it can be taken, anywhere, until that job ends.
    await enqueue('a2', 'b', 'oc_full');
    await turns();
    expect(claims).toHaveBeenCalledTimes(before);
    await enqueue('q1', 'q', 'oc_quiet');
    await startedSoFar(2);
    expect(started).toEqual(['a1', 'q1']);
    expect(claims).toHaveBeenCalledTimes(before + 1);
    await finish('a1');
    await startedSoFar(3);
    expect(started).toEqual(['a1', 'q1', 'a2']);
    await finish('q1');
    await finish('a2');
    await outbox.stop();
  });

  it('has its store tell the fleet of its commits’ jobs only when another instance might take one it will not', async () => {
    const { store, outbox, enqueue, finish, startedSoFar } = await harness(1, { concurrency: 2 });
    type OthersMayTake = (chats: ReadonlyArray<string | undefined>) => boolean;
    let othersMayTake: OthersMayTake | undefined;
    // The member a store several instances share offers (the PostgreSQL store's, tested there).
    Object.assign(store, {
      announceJobsWhen(decide: OthersMayTake) {
        othersMayTake = decide;
        return () => {
          othersMayTake = undefined;
        };
      },
    });
    outbox.start();
    const decide = othersMayTake as OthersMayTake;
    // Two free slots: it looks for the jobs of its commit itself, of any chat or of none.
    expect(decide(['oc_a'])).toBe(false);
    expect(decide([undefined, 'oc_b'])).toBe(false);
    await enqueue('a1', 'a', 'oc_a');
    await startedSoFar(1);
    // oc_a has its one job running here: no instance could take another of its jobs now.
    expect(decide(['oc_a'])).toBe(false);
    // One slot left: it takes one job, not two.
    expect(decide(['oc_b'])).toBe(false);
    expect(decide(['oc_a', 'oc_b'])).toBe(false);
    expect(decide(['oc_b', 'oc_c'])).toBe(true);
    await enqueue('b1', 'b', 'oc_b');
    await startedSoFar(2);
    expect(decide(['oc_c'])).toBe(true);
    expect(decide(['oc_a', 'oc_b'])).toBe(false);
    await finish('a1');
    await finish('b1');
    await outbox.stop();
    // Stopped, it takes nothing (every commit is told), and it gave the decision back to the store.
    expect(decide(['oc_a'])).toBe(true);
    expect(othersMayTake).toBeUndefined();
  });

  it('holds a lane behind a job that is not due yet, without holding other lanes', async () => {
    const { outbox, started, enqueue, finish, startedSoFar, turns } = await harness(8);
    await enqueue('later', 'a', 'oc_1', 60_000);
    await enqueue('after-later', 'a', 'oc_1');
    await enqueue('now', 'b', 'oc_1');
    outbox.start();
    await startedSoFar(1);
    await turns();
    expect(started).toEqual(['now']);
    await finish('now');
    await outbox.stop();
  });

  it('retries a job that asks for it, keeping the steps it finished', async () => {
    const { store, outbox, started, enqueue, finish, startedSoFar } = await harness(8, { failFirst: new Set(['j1']) });
    await enqueue('j1', 'a', 'oc_1');
    outbox.start();
    await startedSoFar(2);
    expect(started).toEqual(['j1', 'j1']);
    expect(await store.job('j1')).toMatchObject({ attempts: 1, steps: { first: 'done' }, lastError: 'not yet' });
    await finish('j1');
    await vi.waitFor(async () => expect(await store.job('j1')).toBeUndefined());
    await outbox.stop();
  });

  it('leaves a job cut short by the stop for the next start, its steps kept and its lease released', async () => {
    const { store, outbox, enqueue, startedSoFar, interrupts } = await harness(8);
    await enqueue('j1', 'a', 'oc_1');
    outbox.start();
    await startedSoFar(1);
    const stopped = outbox.stop();
    interrupts.get('j1')?.();
    await stopped;
    expect(await store.job('j1')).toMatchObject({ attempts: 0, steps: { first: 'done' } });
    const { jobs } = await store.claimJobs({ owner: 'next start', now: 1_000, leaseMs: 1_000, max: 10, perChat: 8 });
    expect(jobs.map((job) => job.id)).toEqual(['j1']);
  });
});

describe('the outbox’s retry decision', () => {
  it('retries what the caller’s isTransient says may pass, and gives up on the rest at once', async () => {
    const store = new EmbeddedStore(new MemoryPersistence());
    await store.open();
    const runs: string[] = [];
    const givenUp: string[] = [];
    const outbox = new Outbox({
      store,
      logger: createLogger('silent'),
      now: () => 1_000,
      owner: 'test',
      retryDelaysMs: [0, 0],
      isTransient: (error) => error instanceof Error && error.message === 'busy',
      registry: new JobRegistry([
        handle(jobKind('fail', z.object({ error: z.string() })), {
          run: async ({ job, payload }) => {
            runs.push(job.id);
            throw new Error(payload.error);
          },
          giveUp: ({ job }) => void givenUp.push(job.id),
        }),
      ]),
    });
    const job = (id: string, error: string) => ({ id, kind: 'fail', lane: id, payload: { error }, runAt: 0, createdAt: 0 });
    await store.commit({ now: 0, jobs: [job('busy', 'busy'), job('broken', 'broken')] });
    outbox.start();
    await vi.waitFor(() => expect(givenUp.sort()).toEqual(['broken', 'busy']));
    expect(runs.filter((id) => id === 'busy')).toHaveLength(3);
    expect(runs.filter((id) => id === 'broken')).toHaveLength(1);
    await outbox.stop();
  });
});

describe('a job given up on', () => {
  it('decides its giving up again on fresh state when that commit loses a race, as a run does', async () => {
    const store = new EmbeddedStore(new MemoryPersistence());
    await store.open();
    const form = {
      v: RECORD_VERSION,
      id: 'form_1',
      chatId: 'oc_1',
      ownerId: 'ou_1',
      status: 'submitting',
      createdAt: 0,
      updatedAt: 0,
      expiresAt: 10_000,
    } as TodoForm;
    await store.commit({ now: 0, forms: [form] });
    let raced = false;
    const outbox = new Outbox({
      store,
      logger: createLogger('silent'),
      now: () => 1_000,
      owner: 'test',
      registry: new JobRegistry([
        handle(jobKind('doomed', z.object({})), {
          run: async () => {
            throw new Error('refused for good');
          },
          giveUp: async ({ commit }) => {
            const read = (await store.form('form_1')) as TodoForm;
            // Another writer changes the form between this read and the commit, once.
            if (!raced) {
              raced = true;
              await store.commit({ now: 1_000, forms: [{ ...read, updatedAt: 1 }] });
            }
            await commit({ forms: [{ ...read, status: 'open', updatedAt: 2 }] });
          },
        }),
      ]),
    });
    await store.commit({ now: 0, jobs: [{ id: 'j', kind: 'doomed', lane: 'j', payload: {}, runAt: 0, createdAt: 0 }] });
    outbox.start();
    await vi.waitFor(async () => expect((await store.form('form_1'))?.status).toBe('open'));
    expect(raced).toBe(true);
    await outbox.stop();
  });
});

describe('a job this instance cannot run', () => {
  it('is parked, its lane waiting behind it, and run later by an instance that knows its kind', async () => {
    const store = new EmbeddedStore(new MemoryPersistence());
    await store.open();
    let now = 1_000;
    const ran: string[] = [];
    const greet = handle(jobKind('greet', z.object({ name: z.string() })), { run: async ({ payload }) => void ran.push(payload.name) });
    const farewell = handle(jobKind('farewell', z.object({ name: z.string() })), { run: async ({ payload }) => void ran.push(`bye ${payload.name}`) });
    const outbox = (owner: string, registry: JobRegistry) =>
      new Outbox({ store, registry, owner, logger: createLogger('silent'), now: () => now, parkMs: 60_000 });
    const job = (id: string, kind: string, lane: string, payload: unknown) => ({ id, kind, lane, payload, runAt: 0, createdAt: 0 });
    await store.commit({
      now: 0,
      jobs: [
        job('newer', 'farewell', 'a', { name: 'Ada' }),
        job('behind', 'greet', 'a', { name: 'Bob' }),
        job('damaged', 'greet', 'b', { name: 7 }),
        job('after damaged', 'greet', 'b', { name: 'Di' }),
        job('other', 'greet', 'c', { name: 'Cy' }),
      ],
    });

    const older = outbox('older', new JobRegistry([greet]));
    older.start();
    await older.settled();
    await older.stop();
    expect(ran).toEqual(['Cy']);
    expect(await store.job('newer')).toMatchObject({ runAt: 61_000, lastError: 'parked: no handler for job kind farewell' });
    expect(await store.job('damaged')).toMatchObject({ runAt: 61_000, lastError: 'parked: name: Invalid input: expected string, received number' });
    expect(await store.job('behind')).toBeDefined();

    now = 61_000;
    const newer = outbox('newer', new JobRegistry([greet, farewell]));
    newer.start();
    await newer.settled();
    await newer.stop();
    expect(ran).toEqual(['Cy', 'bye Ada', 'Bob']);
    // A park is not an attempt: the job keeps its tries for a version that can run it.
    expect(await store.job('damaged')).toMatchObject({ runAt: 121_000, attempts: 0 });

    // A week on, no version has run it: it is given up, and its lane goes on.
    now = PARK_LIMIT_MS + 1;
    const abandoned: string[] = [];
    const later = new Outbox({
      store,
      registry: new JobRegistry([greet, farewell]),
      owner: 'later',
      logger: createLogger('silent'),
      now: () => now,
      parkMs: 60_000,
      onAbandoned: (job) => void abandoned.push(job.id),
    });
    later.start();
    await later.settled();
    await later.stop();
    expect(abandoned).toEqual(['damaged']);
    expect(await store.job('damaged')).toBeUndefined();
    expect(ran).toEqual(['Cy', 'bye Ada', 'Bob', 'Di']);
  });
});

describe('a step done but not recorded', () => {
  it('is undone when the store fails to record it, and done again on the retry: one effect in all', async () => {
    const store = new EmbeddedStore(new MemoryPersistence());
    await store.open();
    const record = store.recordStep.bind(store);
    let failures = 1;
    store.recordStep = async (job, name, result) => {
      if (failures-- > 0) throw new Error('Connection terminated unexpectedly');
      return record(job, name, result);
    };
    const shown: string[] = [];
    let sent = 0;
    const outbox = new Outbox({
      store,
      logger: createLogger('silent'),
      now: () => 1_000,
      owner: 'test',
      retryDelaysMs: [0],
      isTransient: () => true,
      registry: new JobRegistry([
        handle(jobKind('send', z.object({})), {
          // As an ephemeral card: sent again, it would be a second card, so a send not recorded is deleted.
          run: async ({ step }) => {
            await step(
              'send',
              async () => {
                const card = `card_${++sent}`;
                shown.push(card);
                return card;
              },
              { undo: async (card) => void shown.splice(shown.indexOf(card as string), 1) },
            );
          },
        }),
      ]),
    });
    await store.commit({ now: 0, jobs: [{ id: 'j', kind: 'send', lane: 'j', payload: {}, runAt: 0, createdAt: 0 }] });
    outbox.start();
    await vi.waitFor(async () => expect(await store.job('j')).toBeUndefined());
    await outbox.stop();
    expect(sent).toBe(2);
    expect(shown).toEqual(['card_2']);
  });
});
