import { z } from 'zod';
import { nudgeCard } from '../../../cards/nudge';
import { currentCard } from '../../domain/current-card';
import { overdueSince } from '../../domain/digest';
import type { Todo } from '../../domain/model';
import { type Clock, type RegisteredJob, handle, jobKind } from '../../jobs/registry';
import { postingChat } from '../group-settings';
import { recordLanguage } from '../language';
import { type Services, derivedId } from '../services';
import { todoLaneJob } from './todo-lane';

/**
 * One overdue nudge of a to-do, posted as a reply to its current card (the scheduler's task in `nudges.ts` claims
 * each nudge and enqueues these). The job's id names the nudge's number, and the reply's `uuid` comes from it, so a
 * nudge is posted once. A to-do done or recalled meanwhile is not nudged.
 */

const todoNudge = jobKind(
  'todo.nudge',
  z.object({
    todoId: z.string(),
    /** The to-do's nudges so far, this one included. */
    nudge: z.number().int().positive(),
  }),
);

export function nudgeJob(clock: Clock, todo: Todo, nudge: number) {
  return todoLaneJob(clock, todoNudge, todo, { todoId: todo.id, nudge }, String(nudge));
}

export function nudgeJobs(services: Services): RegisteredJob[] {
  const { store, feishu, now } = services;
  return [
    handle(todoNudge, {
      async run({ job, payload, step }) {
        const todo = await store.todo(payload.todoId);
        const current = todo && currentCard(todo);
        const since = todo && overdueSince(todo, now());
        if (todo?.status !== 'open' || !current || since === undefined) return;
        const {
          settings: { timeZone, tomorrowTime },
          left,
        } = await postingChat(services, todo.chatId);
        const card = nudgeCard({ todo, overdueSince: since, zone: timeZone, lang: recordLanguage(services, todo), snooze: { tomorrowTime }, left });
        await step('post', () => feishu.replyCard({ chatId: todo.chatId, parentId: current.messageId, card, uuid: derivedId('n', job.id) }));
      },
    }),
  ];
}
