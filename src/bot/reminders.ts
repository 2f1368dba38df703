import { reminderCard } from '../../cards/reminder';
import { todoCard } from '../../cards/todo';
import { cardNeedsTakeover, currentCard } from '../domain/current-card';
import { nextOccurrence } from '../domain/time';
import type { JobHandler } from '../jobs/outbox';
import type { ScheduledTask } from '../jobs/scheduler';
import { recordLanguage } from './language';
import { type Services, derivedId } from './services';
import { cardUpdateJob, todoJob } from './todo-jobs';

/**
 * Reminders: the scheduler's task claims what is due from the store's index (no timer per reminder), moves each
 * to-do to its next occurrence, and enqueues one job per occurrence, in one commit made only from the to-do as it
 * was read: with several instances, one claims each occurrence. The job's id names the occurrence, so a reminder is
 * enqueued once however often the task runs, and the reply's `uuid` comes from it, so a crash right after posting
 * cannot post it twice.
 */

/** A reminder posted this long after its time says it is late (the bot was down, say). */
export const LATE_AFTER_MS = 60_000;
/** Due reminders claimed per store read. */
const CLAIM_BATCH = 100;

interface ReminderPayload {
  todoId: string;
  dueAt: number;
  late: boolean;
}

export function reminderTask(services: Services): ScheduledTask {
  const { store } = services;
  return {
    name: 'reminders',
    nextDue: () => store.nextDue(),
    async run(now) {
      for (;;) {
        const due = await store.dueReminders(now, CLAIM_BATCH);
        let claimed = 0;
        for (const todo of due) {
          const dueAt = todo.remindAt as number;
          const payload: ReminderPayload = { todoId: todo.id, dueAt, late: now - dueAt > LATE_AFTER_MS };
          // Occurrences missed while the bot was down are not fired one by one: the next is the first after now.
          const next = nextOccurrence(todo.repeatAnchor ?? dueAt, todo.repeat ?? 'none', todo.timeZone, Math.max(now, dueAt));
          const result = await store.commit({
            now,
            todos: [{ ...todo, remindAt: next, updatedAt: now }],
            jobs: [todoJob(services, 'todo.remind', todo, payload, String(dueAt)), cardUpdateJob(services, todo)],
          });
          if (result.ok) claimed++;
        }
        // A full batch may have more behind it; a batch of races lost to other instances is theirs to finish.
        if (due.length < CLAIM_BATCH || claimed === 0) return;
      }
    },
  };
}

export function reminderJobHandler(services: Services): JobHandler {
  const { store, feishu, now } = services;
  return {
    async run({ job, step, commit }) {
      const { todoId, dueAt, late } = job.payload as ReminderPayload;
      const todo = await store.todo(todoId);
      const current = todo && currentCard(todo);
      // Done and recalled to-dos never remind, even when they changed after the reminder was claimed.
      if (!todo || todo.status !== 'open' || !current) return;
      const lang = recordLanguage(services, todo);
      // A current card about to pass Feishu's 14 days is replaced by this reminder, which then carries the whole
      // to-do and its buttons. Decided once, with the post, so a resumed job posts the same kind of card.
      const takeover = await step('takeover', async () => cardNeedsTakeover(todo, now()));
      const card = takeover ? todoCard(todo, { lang, asReminder: true }) : reminderCard({ todo, dueAt, late, lang });
      const messageId = await step('post', () =>
        feishu.replyCard({ chatId: todo.chatId, parentId: current.messageId, card, uuid: derivedId('r', job.id) }),
      );
      const latest = await store.todo(todoId);
      if (!latest) return;
      const sentAt = now();
      await commit({
        todos: [{ ...latest, lastRemindedAt: sentAt, ...(takeover && { currentCard: { messageId, sentAt } }) }],
        // The reminder was drawn from the to-do as it was when it ran: a change made meanwhile reaches the new card.
        jobs: takeover && latest.updatedAt !== todo.updatedAt ? [cardUpdateJob(services, latest)] : [],
      });
    },
  };
}
