import { dueForNudge } from '../domain/digest';
import { resolveSettings } from '../domain/group-settings';
import { type ScheduledTask, nextPeriodicDue } from '../jobs/scheduler';
import { nudgeJob } from './jobs/nudge';
import type { Services } from './services';

/**
 * Overdue nudges. A scheduled task looks at the open to-dos of the groups that want nudges at least once a minute and
 * claims each nudge due by writing the to-do's nudge count from the revision read, together with the job that posts
 * it (`jobs/nudge.ts`): with several instances one claims each. The rules (how overdue, how often, quiet hours) are
 * `dueForNudge`'s.
 */

/** The longest the task goes without looking: a to-do becomes due a nudge within it. */
export const NUDGE_SWEEP_MS = 60_000;

export function nudgeTask(services: Services): ScheduledTask {
  const { store, config } = services;
  let lastSweep = Number.NEGATIVE_INFINITY;
  return {
    name: 'nudges',
    nextDue: async () => nextPeriodicDue(lastSweep, NUDGE_SWEEP_MS, services.now()),
    async run(now) {
      lastSweep = now;
      for (const chatId of await store.chatsWithOpenTodos()) {
        const record = await store.chat(chatId);
        if (record?.botLeftAt !== undefined) continue;
        const settings = resolveSettings(record, config.groupDefaults);
        if (settings.nudgeAfterHours === 'off') continue;
        for (const todo of await store.openTodos(chatId)) {
          if (!dueForNudge(todo, now, settings.nudgeAfterHours, settings.timeZone)) continue;
          const nudges = (todo.nudges ?? 0) + 1;
          // Refused when another instance claimed it first, or the to-do changed meanwhile: the next look decides.
          await store.commit({ now, todos: [{ ...todo, nudges, lastNudgedAt: now }], jobs: [nudgeJob(services, todo, nudges)] });
        }
      }
    },
  };
}
