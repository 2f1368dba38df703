import { z } from 'zod';
import { reminderCard } from '../../../cards/reminder';
import type { Todo } from '../../domain/model';
import { type Clock, type RegisteredJob, handle, jobKind } from '../../jobs/registry';
import { recordLanguage } from '../language';
import { type Services, derivedId } from '../services';
import { todoLaneJob } from './todo';

/**
 * One occurrence of a to-do's reminder, posted as a reply to its card (the scheduler's task in `reminders.ts` claims
 * what is due and enqueues these). The job's id names the occurrence, so it is enqueued once however often the task
 * runs, and the reply's `uuid` comes from it, so a crash right after posting cannot post it twice.
 */

const todoRemind = jobKind(
  'todo.remind',
  z.object({
    todoId: z.string(),
    /** The occurrence's time, shown on the card. */
    dueAt: z.number(),
    /** Posted well after its time (the bot was down, say): the card says so. */
    late: z.boolean(),
  }),
);

export function reminderJob(clock: Clock, todo: Todo, dueAt: number, late: boolean) {
  return todoLaneJob(clock, todoRemind, todo, { todoId: todo.id, dueAt, late }, String(dueAt));
}

export function reminderJobs(services: Services): RegisteredJob[] {
  const { store, feishu, now } = services;
  return [
    handle(todoRemind, {
      async run({ job, payload: { todoId, dueAt, late }, step, commit }) {
        const todo = await store.todo(todoId);
        // Done and recalled to-dos never remind, even when they changed after the reminder was claimed.
        if (!todo || todo.status !== 'open' || !todo.messageId) return;
        const parentId = todo.messageId;
        const card = reminderCard({ todo, dueAt, late, lang: recordLanguage(services, todo) });
        await step('post', () => feishu.replyCard({ chatId: todo.chatId, parentId, card, uuid: derivedId('r', job.id) }));
        const latest = await store.todo(todoId);
        if (latest) await commit({ todos: [{ ...latest, lastRemindedAt: now() }] });
      },
    }),
  ];
}
