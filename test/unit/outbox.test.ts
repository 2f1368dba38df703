import { describe, expect, it, vi } from 'vitest';
import { Outbox } from '../../src/jobs/outbox';
import { createLogger } from '../../src/log';
import { MemoryPersistence } from '../../src/store/persistence';
import { RecordStore } from '../../src/store/records';
import { type Job, StateStore } from '../../src/store/store';

/** An outbox over a memory store whose jobs wait until released, so the test sees which ones are running. */
async function harness(perChat: number) {
  const records = new RecordStore(new MemoryPersistence());
  await records.open();
  const store = new StateStore(records);
  const started: string[] = [];
  const release = new Map<string, () => void>();
  const outbox = new Outbox({
    store,
    logger: createLogger('silent'),
    now: () => 1_000,
    perChat,
    handlers: {
      wait: {
        run: ({ job }) => {
          started.push(job.id);
          return new Promise<void>((resolve) => release.set(job.id, resolve));
        },
      },
    },
  });
  const enqueue = (id: string, lane: string, chatId: string | undefined, runAt = 0) =>
    store.enqueue({ id, kind: 'wait', lane, chatId, payload: {}, runAt, createdAt: 0 });
  /** Lets a running job end; waits for it to have started first. */
  const finish = async (id: string) => {
    await vi.waitFor(() => expect(release.has(id)).toBe(true));
    release.get(id)?.();
  };
  const startedSoFar = (count: number) => vi.waitFor(() => expect(started).toHaveLength(count));
  /** A few turns of the event loop: enough for the outbox to start anything it was going to. */
  const turns = () => new Promise((resolve) => setTimeout(resolve, 20));
  return { store, outbox, started, enqueue, finish, startedSoFar, turns };
}

describe('the outbox', () => {
  it('runs a lane in order, one job at a time, and lanes side by side', async () => {
    const { outbox, started, enqueue, finish, startedSoFar, turns } = await harness(8);
    enqueue('a1', 'a', 'oc_1');
    enqueue('a2', 'a', 'oc_1');
    enqueue('b1', 'b', 'oc_1');
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
    for (let i = 1; i <= 5; i++) enqueue(`busy${i}`, `busy:${i}`, 'oc_busy');
    enqueue('quiet1', 'quiet', 'oc_quiet');
    enqueue('free1', 'free', undefined);
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
    await vi.waitFor(() => expect(store.pendingJobs()).toEqual([]));
    expect(started).toHaveLength(7);
    await outbox.stop();
  });

  it('holds a lane behind a job that is not due yet, without holding other lanes', async () => {
    const { outbox, started, enqueue, finish, startedSoFar, turns } = await harness(8);
    enqueue('later', 'a', 'oc_1', 60_000);
    enqueue('after-later', 'a', 'oc_1');
    enqueue('now', 'b', 'oc_1');
    outbox.start();
    await startedSoFar(1);
    await turns();
    expect(started).toEqual(['now']);
    await finish('now');
    await outbox.stop();
  });

  it('picks up jobs stored before a restart in their lane order', async () => {
    const records = new RecordStore(new MemoryPersistence());
    await records.open();
    const first = new StateStore(records);
    first.enqueue({ id: 'x1', kind: 'wait', lane: 'x', chatId: 'oc_1', payload: {}, runAt: 0, createdAt: 0 });
    first.enqueue({ id: 'x2', kind: 'wait', lane: 'x', chatId: 'oc_1', payload: {}, runAt: 0, createdAt: 0 });
    // A second StateStore over the same records indexes what it finds, as a restart does.
    const second = new StateStore(records);
    const heads = [...second.jobLanes()].map(([chatId, lanes]) => [chatId, [...lanes]]);
    expect(heads).toEqual([['oc_1', [['x', 'x1']]]]);
    second.deleteJob('x1');
    expect([...second.jobLanes()].map(([, lanes]) => [...lanes])).toEqual([[['x', 'x2']]]);
    second.deleteJob('x2');
    expect([...second.jobLanes()]).toEqual([]);
    expect(second.pendingJobs().map((job: Job) => job.id)).toEqual([]);
  });
});
