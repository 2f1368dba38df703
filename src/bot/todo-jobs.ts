import { oneLine } from '../../cards/parts';
import { todoCard } from '../../cards/todo';
import { CARD_TOO_OLD, currentCard, reminderTookOver } from '../domain/current-card';
import type { Language, Todo } from '../domain/model';
import { FEED_CARD_BATCH, type FeedCardContent } from '../feishu/client';
import { feishuRefusal } from '../feishu/errors';
import { type MessageKey, type MessageValues, t } from '../i18n';
import { type JobContext, type JobHandler, RetryLater } from '../jobs/outbox';
import type { NewJob } from '../store/store';
import { sayFailure } from './feishu-sentences';
import { recordLanguage } from './language';
import { noticeJob } from './notices';
import type { Services } from './services';

/**
 * What happens to a posted to-do, as durable jobs in the to-do's lane: its group card kept equal to the store,
 * its recall, and its assignees' feed cards kept equal to its state (present while open, gone when done or
 * recalled). Each job renders from the store when it runs, so a burst of changes converges on the latest.
 */

interface TodoPayload {
  todoId: string;
}

/** Who asked for the recall, the message to answer, and in which language (their command's). */
export interface RecallRequest {
  requesterId: string;
  replyTo: string;
  /** Absent on a job stored before the bot spoke two languages: `BOT_LANGUAGE`. */
  lang?: Language;
}

type RecallPayload = TodoPayload & RecallRequest;

/** A job in the to-do's lane, named `<kind>:<todo id>:<suffix>` (the suffix tells occurrences apart). */
export function todoJob(services: Services, kind: string, todo: Todo, payload: object, suffix = String(services.now())): NewJob {
  const id = `${kind}:${todo.id}:${suffix}`;
  return { id, kind, lane: `todo:${todo.id}`, chatId: todo.chatId, payload, runAt: services.now(), createdAt: services.now() };
}

/** The group card should show the to-do's current state. */
export function cardUpdateJob(services: Services, todo: Todo): NewJob {
  return todoJob(services, 'todo.patch', todo, { todoId: todo.id } satisfies TodoPayload);
}

/** The assignees' feed cards should match the to-do's current state. */
export function feedSyncJob(services: Services, todo: Todo): NewJob {
  return todoJob(services, 'feed.sync', todo, { todoId: todo.id } satisfies TodoPayload);
}

export function recallJob(services: Services, todo: Todo, request: RecallRequest, key: string): NewJob {
  return todoJob(services, 'todo.recall', todo, { todoId: todo.id, ...request } satisfies RecallPayload, key);
}

/** Where a feed card leads: the group chat holding the to-do card. */
export function chatLink(chatId: string): string {
  return `https://applink.feishu.cn/client/chat/open?openChatId=${encodeURIComponent(chatId)}`;
}

/**
 * Feishu takes at most 120 characters of preview. A feed card has no i18n fields, and the bot does not know an
 * assignee's language: it is written in the to-do's (its form's).
 */
function feedCardOf(todo: Todo, lang: Language): FeedCardContent {
  return {
    bizId: todo.id,
    title: t(lang, 'feedCard.title'),
    preview: oneLine(todo.text, 120),
    link: chatLink(todo.chatId),
    status: { text: t(lang, 'todoCard.status.open'), type: 'primary' },
  };
}

export function todoJobHandlers(services: Services): Record<string, JobHandler> {
  const { store, feishu, now, logger } = services;

  const patchCard: JobHandler = {
    async run({ job }) {
      const todo = await store.todo((job.payload as TodoPayload).todoId);
      const card = todo && currentCard(todo);
      if (!todo || !card || todo.status === 'recalled') return;
      const content = todoCard(todo, { lang: recordLanguage(services, todo), asReminder: reminderTookOver(todo) });
      try {
        await feishu.patchCard({ messageId: card.messageId, card: content });
      } catch (error) {
        // Past Feishu's 14 days no retry can help, and nothing is wrong: the next reminder takes over as the card.
        if (feishuRefusal(error)?.feishuCode !== CARD_TOO_OLD) throw error;
        logger.info({ todoId: todo.id, messageId: card.messageId }, 'to-do card too old to update; the next reminder takes over');
      }
    },
  };

  const recall: JobHandler = {
    async run({ job, step, commit }) {
      const { todoId, requesterId, replyTo, lang = services.config.botLanguage } = job.payload as RecallPayload;
      const todo = await store.todo(todoId);
      const card = todo && currentCard(todo);
      if (!todo || !card) return;
      const answer = (key: MessageKey, tone: 'info' | 'warning' | 'error' = 'info', values?: MessageValues) =>
        noticeJob(services, `${job.id}:answer`, { chatId: todo.chatId, userId: requesterId, text: t(lang, key, values), tone, lang, replyTo });
      if (todo.status === 'recalled') return commit({ jobs: [answer('recall.already', 'warning')] });

      const { messageId } = card;
      const recalledNow = await step('recall', () => feishu.recall(messageId));
      const recalled: Todo = { ...todo, status: 'recalled', recalledBy: requesterId, recalledAt: now(), updatedAt: now() };
      await commit({
        todos: [recalled],
        jobs: [
          feedSyncJob(services, todo),
          recalledNow ? answer('recall.done', 'info', { text: oneLine(todo.text, 40) }) : answer('recall.alreadyGone'),
        ],
      });
    },
    async giveUp({ job, commit }, error) {
      const { todoId, requesterId, replyTo, lang = services.config.botLanguage } = job.payload as RecallPayload;
      const todo = await store.todo(todoId);
      if (!todo) return;
      const text = t(lang, sayFailure(error, 'recall.failed'));
      await commit({ jobs: [noticeJob(services, `${job.id}:failed`, { chatId: todo.chatId, userId: requesterId, text, tone: 'error', lang, replyTo })] });
    },
  };

  const syncFeedCards: JobHandler = {
    async run(ctx) {
      const todoId = (ctx.job.payload as TodoPayload).todoId;
      const initial = await store.todo(todoId);
      if (!initial) return;
      const wanted = initial.status === 'open' ? initial.assigneeIds : [];
      const live = initial.feedCardUserIds ?? [];
      const toCreate = wanted.filter((id) => !live.includes(id));
      const toDelete = live.filter((id) => !wanted.includes(id));
      const failed: string[] = [];

      // Each batch's outcome is stored before the next, so a crash never forgets a card that exists.
      for (let i = 0; i < toCreate.length; i += FEED_CARD_BATCH) {
        const batch = toCreate.slice(i, i + FEED_CARD_BATCH);
        const failures = await feishu.createFeedCards(feedCardOf(initial, recordLanguage(services, initial)), batch);
        const created = batch.filter((id) => !failures.some((f) => f.userId === id));
        failed.push(...failures.map((f) => `${f.userId}:${f.reason}`));
        await updateLive(ctx, todoId, (ids) => [...new Set([...ids, ...created])]);
      }
      for (let i = 0; i < toDelete.length; i += FEED_CARD_BATCH) {
        const batch = toDelete.slice(i, i + FEED_CARD_BATCH);
        const failures = await feishu.deleteFeedCards(todoId, batch);
        const gone = batch.filter((id) => !failures.some((f) => f.userId === id));
        failed.push(...failures.map((f) => `${f.userId}:${f.reason}`));
        await updateLive(ctx, todoId, (ids) => ids.filter((id) => !gone.includes(id)));
      }
      if (failed.length > 0) {
        logger.warn({ todoId, failed }, 'some feed cards failed; will retry');
        throw new RetryLater(`${failed.length} feed card(s) failed`);
      }
    },
  };

  /** Records which assignees hold a live card, from the to-do as it is now (other jobs may have changed it). */
  async function updateLive(ctx: JobContext, todoId: string, change: (ids: string[]) => string[]): Promise<void> {
    const todo = await store.todo(todoId);
    if (!todo) return;
    await ctx.commit({ todos: [{ ...todo, feedCardUserIds: change(todo.feedCardUserIds ?? []) }] });
  }

  return { 'todo.patch': patchCard, 'todo.recall': recall, 'feed.sync': syncFeedCards };
}
