import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { LeaseKeeper, type RenewalObservation } from '../../src/jobs/leases';
import { Outbox } from '../../src/jobs/outbox';
import { JobRegistry, handle, jobKind } from '../../src/jobs/registry';
import { createLogger } from '../../src/log';
import { Metrics } from '../../src/metrics';
import { EmbeddedStore } from '../../src/store/embedded/embedded-store';
import { MemoryPersistence } from '../../src/store/embedded/persistence';
import { type Job, LeaseLost } from '../../src/store/store';

/**
 * The lease keeper against a store played by the test: which leases a renewal finds held, and when it answers, are
 * the test's to decide; the keeper's clock and timers are vitest's fake ones, so no test waits for time to pass.
 */

const LEASE_MS = 20_000;

const leased = (id: string, token = `${id}-token`): Job => ({
  id,
  kind: 'k',
  lane: id,
  seq: 1,
  payload: {},
  steps: {},
  attempts: 0,
  runAt: 0,
  createdAt: 0,
  lease: { owner: 'a', token, until: LEASE_MS },
});

function keeper() {
  const lines: string[] = [];
  const observations: RenewalObservation[] = [];
  const lost: string[] = [];
  /** The renewals asked for, each answered when the test says (by default at once, every lease held). */
  const asked: Array<{ jobs: readonly Job[]; answer: (ids: string[]) => void; fail: (error: Error) => void }> = [];
  let answerAtOnce: ((jobs: readonly Job[]) => string[]) | undefined = (jobs) => jobs.map((job) => job.id);
  const leases = new LeaseKeeper({
    store: {
      renewLeases: (jobs) =>
        new Promise<string[]>((answer, fail) => {
          if (answerAtOnce) answer(answerAtOnce(jobs));
          else asked.push({ jobs, answer, fail });
        }),
    },
    leaseMs: LEASE_MS,
    logger: createLogger('info', { write: (line: string) => void lines.push(line) }),
    onRenewal: (observation) => observations.push(observation),
    onLost: (job) => lost.push(job.id),
    clock: () => Date.now(),
  });
  return {
    leases,
    lines,
    observations,
    lost,
    asked,
    /** Renewals wait for the test from now on (or, given a rule, are answered by it at once). */
    answerWith(rule: ((jobs: readonly Job[]) => string[]) | undefined) {
      answerAtOnce = rule;
    },
    warnings: () => lines.filter((line) => line.includes('lost its lease')).map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the lease keeper', () => {
  it('renews every quarter of a lease, reporting the renewal’s round trip and how late its timer fired', async () => {
    const k = keeper();
    const job = leased('j1');
    k.leases.hold(job, Date.now());
    k.leases.start();
    k.answerWith(undefined);
    await vi.advanceTimersByTimeAsync(LEASE_MS / 4 - 1);
    expect(k.asked).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(k.asked.map((renewal) => renewal.jobs.map((j) => j.id))).toEqual([['j1']]);
    await vi.advanceTimersByTimeAsync(250);
    k.asked[0]?.answer(['j1']);
    await vi.advanceTimersByTimeAsync(0);
    expect(k.observations).toEqual([{ latencyMs: 250, lagMs: 0 }]);

    // A stalled event loop: the next tick fires 3 s late (the clock jumps just before it is due), and says so.
    await vi.advanceTimersByTimeAsync(LEASE_MS / 4 - 250 - 1);
    vi.setSystemTime(Date.now() + 3_000);
    await vi.advanceTimersByTimeAsync(1);
    expect(k.asked).toHaveLength(2);
    k.asked[1]?.answer(['j1']);
    await vi.advanceTimersByTimeAsync(0);
    expect(k.observations[1]).toEqual({ latencyMs: 0, lagMs: 3_000 });
    expect(k.warnings()).toEqual([]);
    await k.leases.stop();
  });

  it('finds no loss in a lease given back while a renewal was on its way, nor in one claimed again meanwhile', async () => {
    const k = keeper();
    const retried = leased('retried');
    const finished = leased('finished');
    k.leases.hold(retried, Date.now());
    k.leases.hold(finished, Date.now());
    k.leases.start();
    k.answerWith(undefined);
    await vi.advanceTimersByTimeAsync(LEASE_MS / 4);
    expect(k.asked).toHaveLength(1);
    // While the renewal is on its way, one job gives its lease back to retry and is claimed again by this instance
    // (a new lease), and the other finishes: the store renews neither of the leases it was asked about.
    k.leases.giveBack(retried);
    k.leases.drop(retried);
    const again = leased('retried', 'second-token');
    k.leases.hold(again, Date.now());
    k.leases.giveBack(finished);
    k.asked[0]?.answer([]);
    await vi.advanceTimersByTimeAsync(0);
    expect(k.warnings()).toEqual([]);
    expect(k.lost).toEqual([]);
    await expect(k.leases.assure(again)).resolves.toBeUndefined();
    await k.leases.stop();
  });

  it('names a lease the store no longer renews, once, with its age, the renewal’s latency and the lag, and stops its job before the next step', async () => {
    const k = keeper();
    const job = leased('j1');
    k.leases.hold(job, Date.now());
    k.leases.start();
    k.answerWith(() => []);
    await vi.advanceTimersByTimeAsync(LEASE_MS / 4);
    await vi.advanceTimersByTimeAsync(LEASE_MS / 4);
    const warnings = k.warnings();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ jobId: 'j1', why: 'renewal refused', leaseAgeMs: LEASE_MS / 4, renewalLatencyMs: 0, eventLoopLagMs: 0 });
    expect(k.lost).toEqual(['j1']);
    await expect(k.leases.assure(job)).rejects.toBeInstanceOf(LeaseLost);
    await k.leases.stop();
  });

  it('renews before a step when less than half of the lease is left, and refuses the step once it ran out unrenewed', async () => {
    const k = keeper();
    const job = leased('j1');
    k.leases.hold(job, Date.now());
    // No timer running: only the check before a step renews.
    await expect(k.leases.assure(job)).resolves.toBeUndefined();
    vi.setSystemTime(Date.now() + LEASE_MS / 2 + 1);
    let renewals = 0;
    k.answerWith((jobs) => {
      renewals++;
      return jobs.map((j) => j.id);
    });
    await expect(k.leases.assure(job)).resolves.toBeUndefined();
    expect(renewals).toBe(1);
    await expect(k.leases.assure(job)).resolves.toBeUndefined();
    expect(renewals).toBe(1);

    // The database stops answering and the event loop stalls past the lease: no step may start.
    k.answerWith(undefined);
    vi.setSystemTime(Date.now() + LEASE_MS);
    const refused = k.leases.assure(job);
    k.asked[0]?.fail(new Error('connection terminated'));
    await expect(refused).rejects.toBeInstanceOf(LeaseLost);
    expect(k.warnings()).toMatchObject([{ jobId: 'j1', why: 'ran out unrenewed' }]);
    expect(k.lines.some((line) => line.includes('could not renew job leases'))).toBe(true);
  });

  it('counts a lease only from when the request that granted it was sent', async () => {
    const k = keeper();
    const job = leased('j1');
    const claimedAt = Date.now();
    // The claim's answer took 5 s to arrive: the lease has 15 s left, not 20.
    vi.setSystemTime(claimedAt + 5_000);
    k.leases.hold(job, claimedAt);
    k.answerWith(undefined);
    vi.setSystemTime(claimedAt + LEASE_MS / 2 + 1);
    const assured = k.leases.assure(job);
    expect(k.asked).toHaveLength(1);
    k.asked[0]?.answer(['j1']);
    await expect(assured).resolves.toBeUndefined();
  });
});

describe('a job whose lease passes to another instance while it runs', () => {
  /**
   * One job, run by an outbox over a memory store, that waits (between its steps, or inside its send) until the test
   * lets it go on. Meanwhile its renewals fail, as with a database that stopped answering this instance, so its
   * 150 ms lease runs out, and the test takes the job over as another instance would, with a claim of its own.
   */
  async function takenOver(options: { whileSending: boolean }) {
    vi.useRealTimers();
    const store = new EmbeddedStore(new MemoryPersistence());
    await store.open();
    const unreachable: EmbeddedStore = Object.assign(Object.create(store) as EmbeddedStore, {
      renewLeases: async () => {
        throw new Error('connection terminated unexpectedly');
      },
    });
    const lines: string[] = [];
    const effects: string[] = [];
    const undone: string[] = [];
    let goOn: () => void = () => undefined;
    const paused = new Promise<void>((resolve) => {
      goOn = resolve;
    });
    let reachedPause: () => void = () => undefined;
    const atPause = new Promise<void>((resolve) => {
      reachedPause = resolve;
    });
    const outbox = new Outbox({
      store: unreachable,
      leaseMs: 150,
      // One job at a time: the paused job holds the only slot, so this instance cannot claim it again itself.
      concurrency: 1,
      logger: createLogger('info', { write: (line: string) => void lines.push(line) }),
      now: () => 0,
      owner: 'first',
      retryDelaysMs: [0],
      registry: new JobRegistry([
        handle(jobKind('form', z.object({})), {
          run: async ({ step }) => {
            await step(
              'send',
              async () => {
                if (options.whileSending) {
                  reachedPause();
                  await paused;
                }
                effects.push('send');
                return 'om_first';
              },
              { undo: async (messageId) => void undone.push(messageId) },
            );
            if (!options.whileSending) {
              reachedPause();
              await paused;
            }
            await step('delete', async () => void effects.push('delete'));
          },
        }),
      ]),
    });
    await store.commit({ now: 0, jobs: [{ id: 'j1', kind: 'form', lane: 'l', chatId: 'oc_1', payload: {}, runAt: 0, createdAt: 0 }] });
    outbox.start();
    await atPause;
    const second = await vi.waitFor(
      async () => {
        const [taken] = (await store.claimJobs({ owner: 'second', now: 0, leaseMs: 60_000, max: 1, perChat: 8 })).jobs;
        if (!taken) throw new Error('the lease has not run out yet');
        return taken;
      },
      { timeout: 5_000, interval: 20 },
    );
    goOn();
    await vi.waitFor(() => expect(outbox.running).toBe(0));
    await outbox.stop();
    return { store, lines, effects, undone, second };
  }

  it('records nothing and starts no further step once its lease is lost', async () => {
    const { store, lines, effects, undone, second } = await takenOver({ whileSending: false });
    expect(effects).toEqual(['send']);
    expect(undone).toEqual([]);
    expect(second.steps).toEqual({ send: 'om_first' });
    expect(await store.job('j1')).toMatchObject({ steps: { send: 'om_first' }, lease: { owner: 'second' } });
    expect(lines.filter((line) => line.includes('lost its lease'))).toHaveLength(1);
  });

  it('undoes a step it finished after its lease was lost, which the new holder does itself', async () => {
    const { store, lines, effects, undone, second } = await takenOver({ whileSending: true });
    expect(effects).toEqual(['send']);
    expect(undone).toEqual(['om_first']);
    expect(second.steps).toEqual({});
    expect((await store.job('j1'))?.steps).toEqual({});
    expect(lines.filter((line) => line.includes('its effect is undone'))).toHaveLength(1);
    expect(lines.filter((line) => line.includes('lost its lease'))).toHaveLength(1);
  });
});

describe('the lease metrics', () => {
  it('show each renewal’s round trip and its timer’s lag, and count losses by job kind', async () => {
    const metrics = new Metrics({
      storeStats: async () => {
        throw new Error('not read here');
      },
      build: { version: 'test', commit: 'test' },
      jobsRunning: () => 0,
      health: () => [],
      events: () => undefined,
    });
    metrics.leaseRenewal({ latencyMs: 250, lagMs: 3_000 });
    metrics.leaseRenewal({ lagMs: 0 });
    metrics.leaseLost('form.send');
    const { body } = await metrics.render();
    expect(body).toContain('todo_bot_lease_renewal_seconds_count 1');
    expect(body).toContain('todo_bot_lease_renewal_seconds_sum 0.25');
    expect(body).toContain('todo_bot_lease_renewal_lag_seconds_count 2');
    expect(body).toContain('todo_bot_lease_renewal_lag_seconds_sum 3');
    expect(body).toContain('todo_bot_job_leases_lost_total{kind="form.send"} 1');
  });
});
