import { z } from 'zod';
import { reminderCard } from '../../../cards/reminder';
import { todoCard } from '../../../cards/todo';
import { cardNeedsTakeover, currentCard } from '../../domain/current-card';
import type { Todo } from '../../domain/model';
import { RetryLater } from '../../jobs/outbox';
import { type Clock, type RegisteredJob, handle, jobKind } from '../../jobs/registry';
import { postingChat } from '../group-settings';
import { recordLanguage } from '../language';
import { type Services, derivedId } from '../services';
import { cardUpdateJob } from './card-update';
import { todoLaneJob } from './todo-lane';

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
        // A reminder due while its card is still being posted (Feishu slow, the post waiting to try again) waits for
        // the card: the claim moved the to-do's reminder on, so returning now would lose this one.
        if (todo?.status === 'posting') throw new RetryLater('the to-do is still being posted');
        const current = todo && currentCard(todo);
        if (!todo || !current) return;
        // A reminder already posted is recorded whatever happened since (a Done click, say, before its commit): a card
        // that took over the to-do and is not recorded as current keeps live buttons nothing updates.
        const posted = 'post' in job.steps;
        // Done and recalled to-dos never remind, even when they changed after the reminder was claimed.
        if (!posted && todo.status !== 'open') return;
        const chat = await postingChat(services, todo.chatId);
        // Nor in a chat the bot was removed from: the post would fail (a repeating reminder, every time).
        if (!posted && chat.botLeft) return;
        const lang = recordLanguage(services, todo);
        // A current card about to pass Feishu's 14 days is replaced by this reminder, which then carries the whole
        // to-do and its buttons. Decided once, with the post, so a resumed job posts the same kind of card.
        const takeover = await step('takeover', async () => cardNeedsTakeover(todo, now()));
        const snooze = { tomorrowTime: chat.settings.tomorrowTime };
        const { left } = chat;
        const card = takeover ? todoCard(todo, { lang, asReminder: snooze, left }) : reminderCard({ todo, dueAt, late, lang, snooze, left });
        const messageId = await step('post', () => feishu.replyCard({ chatId: todo.chatId, parentId: current.messageId, card, uuid: derivedId('r', job.id) }));
        const latest = await store.todo(todoId);
        if (!latest) return;
        const sentAt = now();
        services.metrics.reminderPosted((sentAt - dueAt) / 1000);
        await commit({
          todos: [{ ...latest, lastRemindedAt: sentAt, ...(takeover && { currentCard: { messageId, sentAt } }) }],
          // The reminder was drawn from the to-do as it was when it ran: a change made meanwhile reaches the new card.
          jobs: takeover && latest.updatedAt !== todo.updatedAt ? [cardUpdateJob(services, latest)] : [],
        });
      },
    }),
  ];
}
