import { afterEach, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { Outbox } from '../../src/jobs/outbox';
import { JobRegistry, handle, jobKind } from '../../src/jobs/registry';
import { createLogger } from '../../src/log';
import type { PostgresStore } from '../../src/store/postgres/postgres-store';
import type { Committed, Job, JobClaim } from '../../src/store/store';
import { job, todo } from '../store.contract';
import { describePostgres, dropSchema, openPostgresStore, queryRows, uniqueSchema } from '../support/postgres';

/** The outbox's claims on PostgreSQL, beyond the contract: several instances at once, big backlogs, the lanes' heads. */
describePostgres('PostgreSQL jobs across instances', () => {
  const stores: PostgresStore[] = [];
  const schemas: string[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const schema of schemas.splice(0)) await dropSchema(schema);
  });
  /** `count` instances on one fresh schema. */
  async function fleet(count: number): Promise<PostgresStore[]> {
    const schema = uniqueSchema('jobs');
    schemas.push(schema);
    const opened: PostgresStore[] = [];
    for (let i = 0; i < count; i++) opened.push(await openPostgresStore(schema, { poolSize: 4 }));
    stores.push(...opened);
    return opened;
  }
  const claim = (store: PostgresStore, patch: Partial<JobClaim>) => store.claimJobs({ owner: 'a', now: 0, leaseMs: 60_000, max: 100, perChat: 8, ...patch });

  it('keeps every chat within its cap while many claims from three instances race, and hands each job out once', async () => {
    const instances = await fleet(3);
    const chats = ['oc_1', 'oc_2', 'oc_3', 'oc_4'];
    await instances[0]?.commit({
      now: 0,
      jobs: chats.flatMap((chatId) => Array.from({ length: 25 }, (_, i) => job(`${chatId}_${i}`, { chatId, lane: `${chatId}_${i}` }))),
    });
    const running = new Map<string, Job>();
    for (let round = 0; round < 6; round++) {
      const claims = await Promise.all(
        Array.from({ length: 9 }, (_, n) => claim(instances[n % 3] as PostgresStore, { owner: `i${n % 3}`, perChat: 3, max: 5 })),
      );
      // A claim that finds a chat locked by another skips it; one more claim, alone, fills what the race left.
      const topUp = await claim(instances[round % 3] as PostgresStore, { owner: 'top-up', perChat: 3 });
      for (const leased of [...claims.flatMap((c) => c.jobs), ...topUp.jobs]) {
        expect(running.has(leased.id)).toBe(false);
        running.set(leased.id, leased);
      }
      for (const chatId of chats) expect([...running.values()].filter((j) => j.chatId === chatId)).toHaveLength(3);
      // Finish one job of each chat, from another instance than the claimer, so each chat has room for one more.
      for (const chatId of chats) {
        const done = [...running.values()].find((j) => j.chatId === chatId) as Job;
        await instances[(round + 1) % 3]?.finishJob(done);
        running.delete(done.id);
      }
    }
  });

  it('serves the other chats while one chat has a backlog of thousands, and gives chats turns', async () => {
    const [store] = (await fleet(1)) as [PostgresStore];
    const backlog = Array.from({ length: 3_000 }, (_, i) => job(`busy_${i}`, { chatId: 'oc_busy', lane: `busy_${i}` }));
    const quiet = Array.from({ length: 48 }, (_, i) => job(`quiet_${i}`, { chatId: `oc_quiet_${String(i % 12).padStart(2, '0')}`, lane: `quiet_${i}` }));
    await store.commit({ now: 0, jobs: [...backlog, ...quiet] });
    const served = new Set<string>();
    for (let round = 0; round < 5; round++) {
      const { jobs } = await claim(store, { perChat: 2, max: 6 });
      expect(jobs).toHaveLength(6);
      expect(jobs.filter((j) => j.chatId === 'oc_busy').length).toBeLessThanOrEqual(2);
      for (const leased of jobs) {
        served.add(leased.chatId as string);
        await store.finishJob(leased);
      }
    }
    // Three chats a claim, each with work left: taking turns, five claims reach all 13 chats (without turns, the
    // first chats in order would be served again and again, 7 chats in five claims).
    expect(served.size).toBe(13);
  });

  it('marks exactly one head per lane while instances enqueue into a lane and finish its head at the same time', async () => {
    const [a, b] = (await fleet(2)) as [PostgresStore, PostgresStore];
    await a.commit({ now: 0, jobs: [job('j0', { lane: 'shared' })] });
    for (let n = 1; n <= 15; n++) {
      const [head] = (await claim(a, {})).jobs as [Job];
      await Promise.all([a.finishJob(head), b.commit({ now: 0, jobs: [job(`j${n}`, { lane: 'shared' })] })]);
      const heads = await queryRows<{ id: string }>(`SELECT id FROM ${schemas[0]}.jobs WHERE is_head`);
      expect(heads.map((row) => row.id)).toEqual([`j${n}`]);
    }
  });

  it('wakes the other instances for a job only when its own instance has no slot for it', async () => {
    const [a, b] = (await fleet(2)) as [PostgresStore, PostgresStore];
    const ranBy = new Map<string, string>();
    const release: Array<() => void> = [];
    const outbox = (store: PostgresStore, owner: string) =>
      new Outbox({
        store,
        owner,
        concurrency: 1,
        logger: createLogger('silent'),
        now: Date.now,
        // Nothing but a notice can find a job within this test's time.
        pollMs: 600_000,
        registry: new JobRegistry([
          handle(jobKind('wait', z.object({})), {
            run: ({ job }) => {
              ranBy.set(job.id, owner);
              return new Promise<void>((resolve) => release.push(resolve));
            },
          }),
        ]),
      });
    const outboxes = [outbox(a, 'a'), outbox(b, 'b')];
    const heardByB: Committed[] = [];
    b.onCommitted((committed) => committed.elsewhere && heardByB.push(committed));
    const enqueue = (id: string) => a.commit({ now: 0, jobs: [job(id, { kind: 'wait', lane: id, chatId: `oc_${id}` })] });
    const waitLong = { timeout: 10_000 };
    try {
      // A has its one slot free: it takes its job itself, and B hears nothing of it. A to-do's commit after it is
      // heard (for its reminder), and notices arrive in commit order: had the job's commit been told, B would have
      // heard it first.
      outboxes[0]?.start();
      await enqueue('j1');
      await vi.waitFor(() => expect(ranBy.get('j1')).toBe('a'), waitLong);
      await a.commit({ now: 0, todos: [todo('t1', { remindAt: 5_000 })] });
      await vi.waitFor(() => expect(heardByB).toEqual([{ jobs: false, dueAt: 5_000, elsewhere: true }]), waitLong);
      // A's slot is taken: its next job wakes B (started only now, so that its first look could not take j1), which
      // runs it long before any poll.
      outboxes[1]?.start();
      await outboxes[1]?.settled();
      await enqueue('j2');
      await vi.waitFor(() => expect(ranBy.get('j2')).toBe('b'), waitLong);
    } finally {
      for (const resolve of release) resolve();
      await Promise.all(outboxes.map((box) => box.stop()));
    }
  });

  it('leases on the database clock, whatever the bot’s clock says', async () => {
    const [store] = (await fleet(1)) as [PostgresStore];
    await store.commit({ now: 0, jobs: [job('j1')] });
    const tenDays = 10 * 24 * 60 * 60 * 1000;
    const before = Date.now();
    const [leased] = (await claim(store, { now: before + tenDays, leaseMs: 60_000 })).jobs as [Job];
    expect(leased.lease?.until).toBeLessThan(before + 60_000 + 5_000);
    expect(leased.lease?.until).toBeGreaterThan(before + 60_000 - 5_000);
    // The bot's clock moved on by days: the lease still holds.
    expect((await claim(store, { owner: 'b', now: before + 2 * tenDays })).jobs).toEqual([]);
  });

  it('reports when the earliest job not yet due becomes runnable, without handing it out', async () => {
    const [store] = (await fleet(1)) as [PostgresStore];
    await store.commit({ now: 0, jobs: [job('later', { lane: 'x', runAt: 900 }), job('sooner', { lane: 'y', runAt: 400 }), job('now', { lane: 'z' })] });
    const first = await claim(store, { now: 100 });
    expect(first.jobs.map((j) => j.id)).toEqual(['now']);
    expect(first.nextRunAt).toBe(400);
    expect((await claim(store, { now: 500 })).jobs.map((j) => j.id)).toEqual(['sooner']);
  });
});
