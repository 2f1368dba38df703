import type { TaskEvent } from '../feishu/events';
import type { JobHandler } from '../jobs/outbox';
import type { ScheduledTask } from '../jobs/scheduler';
import type { NewJob } from '../store/store';
import type { Services } from './services';
import { taskReconcileJob } from './task-sync';

/**
 * Feishu Task to the bot: its events, the subscription that brings them, and the sweep that reads every synced open
 * to-do's task now and then, for the events missed (Feishu does not promise to deliver each).
 */

/** Every synced open to-do's task is read at least this often. */
export const SWEEP_INTERVAL_MS = 10 * 60 * 1000;
/** To-dos read per store page of a sweep; their reads wait for Feishu Task's rate limit like every other call. */
const SWEEP_PAGE = 200;

/**
 * A task event: recorded with its id, as a reconcile job of the to-do it belongs to. An event for a task the bot
 * does not know (another app's, or one deleted long ago) is acknowledged and forgotten.
 */
export async function receiveTaskEvent(services: Services, event: TaskEvent): Promise<void> {
  const { store, now, logger } = services;
  const todo = await store.todoByTaskGuid(event.taskGuid);
  if (!todo) {
    logger.debug({ eventId: event.eventId }, 'task event for a task the bot does not know; ignored');
    return;
  }
  const result = await store.commit({ now: now(), eventId: event.eventId, jobs: [taskReconcileJob(services, todo, event.eventId)] });
  if (!result.ok) logger.info({ eventId: event.eventId }, 'duplicate delivery ignored');
}

/**
 * One sweep per window, fleet-wide: every instance enqueues the window's sweep under the same id (so it is stored
 * once), and sweeps share one lane (so one runs at a time, on whichever instance leases it).
 */
function sweepJob(services: Services, windowStart: number): NewJob {
  return { id: `task.sweep:${windowStart}`, kind: 'task.sweep', lane: 'task.sweep', payload: { windowStart }, runAt: services.now(), createdAt: services.now() };
}

export function taskSweepTask(services: Services): ScheduledTask {
  const windowOf = (at: number) => at - (at % SWEEP_INTERVAL_MS);
  let lastWindow: number | undefined;
  return {
    name: 'task-sweep',
    nextDue: async () => (lastWindow === undefined ? services.now() : lastWindow + SWEEP_INTERVAL_MS),
    run: async (at) => {
      const window = windowOf(at);
      if (window !== lastWindow) await services.store.commit({ now: services.now(), jobs: [sweepJob(services, window)] });
      lastWindow = window;
    },
  };
}

/** Pages through the synced open to-dos, each page's reconcile jobs stored before the next page is read. */
export function taskSweepHandler(services: Services): JobHandler {
  return {
    async run({ job, commit }) {
      const { windowStart } = job.payload as { windowStart: number };
      let after: string | undefined;
      for (;;) {
        const page = await services.store.syncedOpenTodos(SWEEP_PAGE, after);
        if (page.length === 0) return;
        await commit({ jobs: page.map((todo) => taskReconcileJob(services, todo, `sweep-${windowStart}`)) });
        after = page.at(-1)?.id;
        if (page.length < SWEEP_PAGE) return;
      }
    },
  };
}
