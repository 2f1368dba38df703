import type { TaskEvent } from '../feishu/events';
import { type ScheduledTask, nextPeriodicDue } from '../jobs/scheduler';
import { taskReconcileJob, taskSweepJob } from './jobs/task';
import type { Services } from './services';
import { subscribeTaskEventsAgain } from './task-sync';

/**
 * Feishu Task to the bot: its events, the subscription that brings them, and the sweep that reads the task of every
 * synced to-do open or recently done now and then, for the events missed (Feishu does not promise to deliver each).
 */

/** Every synced open (or recently done) to-do's task is read at least this often. */
export const SWEEP_INTERVAL_MS = 10 * 60 * 1000;

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
 * Enqueues each window's sweep, once for the fleet; sweeps share one lane, so one runs at a time. Each instance also
 * tries again the task event subscription it was refused (the scope may have been granted since).
 */
export function taskSweepTask(services: Services): ScheduledTask {
  const windowOf = (at: number) => at - (at % SWEEP_INTERVAL_MS);
  let lastWindow: number | undefined;
  return {
    name: 'task-sweep',
    nextDue: async () => (lastWindow === undefined ? services.now() : nextPeriodicDue(lastWindow, SWEEP_INTERVAL_MS, services.now())),
    run: async (at) => {
      const window = windowOf(at);
      // The window's name is remembered like a push's event id, so every instance may enqueue it and one commit wins,
      // even after the first sweep finished and its job is gone.
      if (window !== lastWindow) await services.store.commit({ now: services.now(), eventId: `task.sweep:${window}`, jobs: [taskSweepJob(services, window)] });
      lastWindow = window;
      // Not waited for: a slow Feishu would hold the scheduler's other tasks (reminders) back. It never throws.
      void subscribeTaskEventsAgain(services);
    },
  };
}
