import { describe, expect, it } from 'vitest';
import { type ScheduledTask, Scheduler } from '../../src/jobs/scheduler';

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
