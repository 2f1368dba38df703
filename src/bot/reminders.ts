import { nextOccurrence } from '../domain/time';
import type { ScheduledTask } from '../jobs/scheduler';
import { cardUpdateJob } from './jobs/card-update';
import { reminderJob } from './jobs/reminder';
import { taskSyncJobs } from './jobs/task';
import type { Services } from './services';

/**
 * Reminders: the scheduler's task claims what is due from the store's index (no timer per reminder), moves each
 * to-do to its next occurrence, and enqueues one job per occurrence, in one commit made only from the to-do as it
 * was read: with several instances, one claims each occurrence (the job, `jobs/reminder.ts`, posts it once).
 */

/**
 * A reminder that came due before this instance started, posted this long after its time, says it is late (the bot
 * was down). One late only because the clock jumped while the bot ran (the playground's clock) is not: the bot was
 * running then, and the card says it was not.
 */
export const LATE_AFTER_MS = 60_000;
/** Due reminders claimed per store read. */
const CLAIM_BATCH = 100;

export function reminderTask(services: Services): ScheduledTask {
  const { store } = services;
  const startedAt = services.now();
  return {
    name: 'reminders',
    nextDue: () => store.nextDue(),
    async run(now) {
      for (;;) {
        const due = await store.dueReminders(now, CLAIM_BATCH);
        let claimed = 0;
        for (const todo of due) {
          const dueAt = todo.remindAt as number;
          // Occurrences missed while the bot was down are not fired one by one: the next is the first after now.
          const next = nextOccurrence(todo.repeatAnchor ?? dueAt, todo.repeat ?? 'none', todo.timeZone, Math.max(now, dueAt));
          const fired = { ...todo, remindAt: next, lastDueAt: dueAt, updatedAt: now };
          const result = await store.commit({
            now,
            todos: [fired],
            jobs: [
              reminderJob(services, todo, dueAt, dueAt < startedAt && now - dueAt > LATE_AFTER_MS),
              cardUpdateJob(services, todo),
              // A repeating to-do's Feishu Task moves on to the next occurrence; a one-off's stays due when it was.
              ...(next !== undefined ? taskSyncJobs(services, fired) : []),
            ],
          });
          if (result.ok) claimed++;
        }
        // A full batch may have more behind it; a batch of races lost to other instances is theirs to finish.
        if (due.length < CLAIM_BATCH || claimed === 0) return;
      }
    },
  };
}
