import { describe, expect, it } from 'vitest';
import { digestTask } from '../../src/bot/digest';
import { nudgeTask } from '../../src/bot/nudges';
import type { Services } from '../../src/bot/services';
import { taskSweepTask } from '../../src/bot/task-events';
import { housekeepingTask } from '../../src/jobs/housekeeping';
import { type ScheduledTask, Scheduler } from '../../src/jobs/scheduler';
import { createLogger } from '../../src/log';
import type { Commit, Committed } from '../../src/store/store';

/** A task due on every look whose runs finish only when the test lets them. */
function gatedTask() {
  const gates: Array<() => void> = [];
  let runs = 0;
  const task: ScheduledTask = {
    name: 'gated',
    nextDue: async () => 0,
    run: () =>
      new Promise<void>((resolve) => {
        runs += 1;
        gates.push(resolve);
      }),
  };
  return {
    task,
    runs: () => runs,
    async open() {
      // The look reaches `run` a few awaits after the poke.
      while (gates.length === 0) await new Promise((resolve) => setImmediate(resolve));
      gates.shift()?.();
    },
  };
}

const settledYet = async (promise: Promise<void>) => {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe('the scheduler settling', () => {
  it('waits for the look under way and for the look asked for during it', async () => {
    const gated = gatedTask();
    const scheduler = new Scheduler({ tasks: [gated.task], store: { onCommitted: () => () => {} }, now: () => 1, onError: () => {} });
    scheduler.start();
    scheduler.poke(); // during the first look: a second one is owed
    const settled = scheduler.settled();
    expect(await settledYet(settled)).toBe(false);
    await gated.open();
    expect(await settledYet(settled)).toBe(false);
    expect(gated.runs()).toBe(2);
    await gated.open();
    expect(await settledYet(settled)).toBe(true);
    await scheduler.stop();
  });

  it('is settled at once when no look is under way', async () => {
    const scheduler = new Scheduler({ tasks: [], store: { onCommitted: () => () => {} }, now: () => 1, onError: () => {} });
    expect(await settledYet(scheduler.settled())).toBe(true);
  });
});

describe('the scheduler hearing commits', () => {
  /** A scheduler whose one task is next due at `due` (a reminder, say), with a clock the test moves. */
  function setUp(due: number) {
    let listener: (committed: Committed) => void = () => {};
    let looks = 0;
    const clock = { now: 1_000, due };
    const scheduler = new Scheduler({
      tasks: [
        {
          name: 'reminders',
          nextDue: async () => {
            looks++;
            return clock.due;
          },
          run: async () => {},
        },
      ],
      store: {
        onCommitted: (heard) => {
          listener = heard;
          return () => {};
        },
      },
      now: () => clock.now,
      onError: () => {},
    });
    const hear = async (committed: Committed) => {
      listener(committed);
      await scheduler.settled();
      return looks;
    };
    return { scheduler, clock, hear, looks: () => looks };
  }

  it('looks again only for a due time sooner than the look it planned, or when that look is overdue', async () => {
    const { scheduler, clock, hear, looks } = setUp(5_000);
    scheduler.start();
    await scheduler.settled();
    expect(looks()).toBe(1);
    // Planned for 5,000: a commit of jobs only, and due times at or after it, change nothing.
    expect(await hear({ jobs: true })).toBe(1);
    expect(await hear({ jobs: false, dueAt: 5_000 })).toBe(1);
    expect(await hear({ jobs: false, dueAt: 90_000, elsewhere: true })).toBe(1);
    expect(await hear({ jobs: false, dueAt: 4_999 })).toBe(2);
    // Anything may have moved (an import, notices lost).
    expect(await hear({ jobs: true, dueAt: 0, elsewhere: true })).toBe(3);
    // The clock passed the planned look before its timer fired (a driven clock, a sleeping machine).
    clock.now = 6_000;
    clock.due = 10_000;
    expect(await hear({ jobs: false, dueAt: 90_000 })).toBe(4);
    await scheduler.stop();
  });

  it('looks again after a look under way for a due time written meanwhile, which that look may have missed', async () => {
    const { scheduler, clock, hear } = setUp(5_000);
    scheduler.start();
    await scheduler.settled();
    // The reminder due at 5,000 moves on to 20,000; a look is under way when a commit writes 8,000, after the
    // planned 5,000 but before what the look will plan.
    clock.due = 20_000;
    scheduler.poke();
    expect(await hear({ jobs: false, dueAt: 8_000 })).toBe(3);
    // One written during a look, after what that look plans (20,000), changes nothing.
    scheduler.poke();
    expect(await hear({ jobs: false, dueAt: 30_000 })).toBe(4);
    await scheduler.stop();
  });
});

describe('the task sweep on the scheduler', () => {
  it('is enqueued on the first look, even when the tasks asked before it take time (a database read), then sleeps', async () => {
    let clock = Date.UTC(2026, 11, 7, 9, 3);
    const sweeps: string[] = [];
    let looks = 0;
    // What the sweep uses of the bot's services: the clock, the store's commit, the subscription it tries again.
    const services = {
      now: () => clock,
      store: {
        commit: async (commit: Commit) => {
          sweeps.push(commit.eventId ?? '');
          return { ok: true };
        },
      },
      taskSync: { subscribeAgainIfRefused: async () => {} },
    } as unknown as Services;
    const reminders: ScheduledTask = {
      name: 'reminders',
      nextDue: async () => {
        looks++;
        clock += 3;
        return undefined;
      },
      run: async () => {},
    };
    const scheduler = new Scheduler({
      tasks: [reminders, taskSweepTask(services)],
      store: { onCommitted: () => () => {} },
      now: () => clock,
      onError: () => {},
    });
    scheduler.start();
    await scheduler.settled();
    // Let any timer the look armed for "at once" fire, as a spinning scheduler's would.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await scheduler.settled();
    expect(sweeps).toEqual([`task.sweep:${Date.UTC(2026, 11, 7, 9, 0)}`]);
    expect(looks).toBe(1);
    await scheduler.stop();
  });
});

describe('a task that fails', () => {
  it('is tried again after 1 s, 2 s, 4 s… at most a minute, told of on its 1st, 2nd, 4th… failure, and of its recovery', async () => {
    let now = 0;
    let looks = 0;
    let broken = true;
    const errors: number[] = [];
    const recovered: number[] = [];
    const scheduler = new Scheduler({
      tasks: [
        {
          name: 'reminders',
          nextDue: async () => {
            looks++;
            if (broken) throw new Error('the store is down');
            return undefined;
          },
          run: async () => {},
        },
      ],
      store: { onCommitted: () => () => {} },
      now: () => now,
      onError: (_task, _error, failures) => void errors.push(failures),
      onRecovered: (_task, failures) => void recovered.push(failures),
    });
    const lookAt = async (at: number) => {
      now = at;
      scheduler.poke();
      await scheduler.settled();
    };
    scheduler.start();
    await scheduler.settled();
    // Failed at 0: not tried before 1 s, then after 2 s more, 4 s more…
    await lookAt(999);
    expect(looks).toBe(1);
    let at = 1_000;
    for (const wait of [2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]) {
      await lookAt(at);
      await lookAt(at + wait - 1);
      at += wait;
    }
    expect(looks).toBe(8);
    expect(errors).toEqual([1, 2, 4, 8]);
    broken = false;
    await lookAt(at);
    expect(recovered).toEqual([8]);
    await lookAt(at + 1);
    expect(looks).toBe(10);
    await scheduler.stop();
  });
});

describe('a periodic task after the clock stepped back', () => {
  const NOON = Date.UTC(2026, 11, 7, 12, 0);

  it('is due at once, not after waiting the step out: housekeeping, nudges, digests and the task sweep', async () => {
    let now = NOON;
    const services = {
      now: () => now,
      config: { groupDefaults: {} },
      store: { chatsWithOpenTodos: async () => [], commit: async () => ({ ok: true }) },
      taskSync: { subscribeAgainIfRefused: async () => {} },
    } as unknown as Services;
    const tasks = [
      housekeepingTask({ store: { prune: async () => 0 }, sweepLimits: async () => {}, logger: createLogger('silent'), now: () => now }),
      nudgeTask(services),
      digestTask(services),
      taskSweepTask(services),
    ];
    for (const task of tasks) {
      now = NOON + 2 * 60 * 60_000;
      await task.run(now);
      expect(await task.nextDue(), task.name).toBeGreaterThan(now);
      // An NTP step back of three hours: the next run is due now, not three hours and an interval from now.
      now = NOON - 60 * 60_000;
      expect(await task.nextDue(), task.name).toBeLessThanOrEqual(now);
    }
  });
});

describe('a failing task after the clock stepped back', () => {
  it('is tried at once, not when the clock comes back to its planned retry', async () => {
    let now = Date.UTC(2026, 11, 7, 12, 0);
    let looks = 0;
    const scheduler = new Scheduler({
      tasks: [
        {
          name: 'reminders',
          nextDue: async () => {
            looks++;
            throw new Error('the store is down');
          },
          run: async () => {},
        },
      ],
      store: { onCommitted: () => () => {} },
      now: () => now,
      onError: () => {},
    });
    scheduler.start();
    await scheduler.settled();
    expect(looks).toBe(1);
    // Its retry is a second away; the clock steps back three hours.
    now -= 3 * 60 * 60_000;
    scheduler.poke();
    await scheduler.settled();
    expect(looks).toBe(2);
    await scheduler.stop();
  });
});
