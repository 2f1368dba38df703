import { z } from 'zod';
import { todoCard } from '../../../cards/todo';
import { CARD_TOO_OLD, currentCard } from '../../domain/current-card';
import type { Todo } from '../../domain/model';
import { feishuRefusal } from '../../feishu/errors';
import { type Clock, type RegisteredJob, handle, jobKind } from '../../jobs/registry';
import { postingChat, takenOverLook } from '../group-settings';
import { recordLanguage } from '../language';
import type { Services } from '../services';
import { todoLaneJob } from './todo-lane';

/**
 * A to-do's group card kept equal to the store, as a durable job in the to-do's lane, enqueued by whatever changed
 * the to-do (a click, a reminder, Feishu Task). The job renders from the store when it runs, so a burst of changes
 * converges on the latest.
 */

const todoPatch = jobKind('todo.patch', z.object({ todoId: z.string() }));

/** The group card should show the to-do's current state. */
export function cardUpdateJob(clock: Clock, todo: Todo) {
  return todoLaneJob(clock, todoPatch, todo, { todoId: todo.id });
}

export function cardUpdateJobs(services: Services): RegisteredJob[] {
  const { store, feishu, logger } = services;

  const patch = handle(todoPatch, {
    async run({ payload: { todoId } }) {
      const todo = await store.todo(todoId);
      const card = todo && currentCard(todo);
      if (!todo || !card || todo.status === 'recalled') return;
      // In a chat the bot was removed from the update would fail, each time a reminder comes round.
      const chat = await postingChat(services, todo.chatId);
      if (chat.botLeft) return;
      const content = todoCard(todo, { lang: recordLanguage(services, todo), ...(await takenOverLook(services, todo, chat)) });
      try {
        await feishu.patchCard({ messageId: card.messageId, card: content });
      } catch (error) {
        // Past Feishu's 14 days no retry can help, and nothing is wrong: the next reminder takes over as the card.
        if (feishuRefusal(error)?.feishuCode !== CARD_TOO_OLD) throw error;
        logger.info({ todoId: todo.id, messageId: card.messageId }, 'to-do card too old to update; the next reminder takes over');
      }
    },
  });

  return [patch];
}
