import { z } from 'zod';
import { oneLine } from '../../../cards/parts';
import { todoCard } from '../../../cards/todo';
import { CARD_TOO_OLD, currentCard, reminderTookOver } from '../../domain/current-card';
import { LANGUAGES, type Language, type Todo, type TodoForm } from '../../domain/model';
import { FEED_CARD_BATCH, type FeedCardContent } from '../../feishu/client';
import { feishuRefusal } from '../../feishu/errors';
import { type MessageKey, type MessageValues, t } from '../../i18n';
import { RetryLater } from '../../jobs/outbox';
import { type Clock, type JobContext, type JobKind, type RegisteredJob, handle, jobKind, newJob } from '../../jobs/registry';
import { sayFailure } from '../feishu-sentences';
import { groupSettings, snoozeChoices } from '../group-settings';
import { recordLanguage } from '../language';
import { type Services, derivedId } from '../services';
import { deleteFormCards, formLane } from './form';
import { noticeJob } from './notice';
import { taskCreateJob, taskSyncJobs } from './task';

/**
 * What happens to a to-do, as durable jobs: its card posted to the group (from its form, in the form's lane), then,
 * in the to-do's lane, its group card kept equal to the store, its recall, and its assignees' feed cards kept equal
 * to its state (present while open, gone when done or recalled). Each job renders from the store when it runs, so
 * a burst of changes converges on the latest.
 */

const todoPayload = z.object({ todoId: z.string() });

const todoPost = jobKind('todo.post', z.object({ formId: z.string(), todoId: z.string() }));
const todoPatch = jobKind('todo.patch', todoPayload);
const feedSync = jobKind('feed.sync', todoPayload);
const todoRecall = jobKind(
  'todo.recall',
  todoPayload.extend({
    /** Who asked for the recall, the message to answer, and in which language (their command's). */
    requesterId: z.string(),
    replyTo: z.string(),
    /** Absent on a job stored before the bot spoke two languages: `BOT_LANGUAGE`. */
    lang: z.enum(LANGUAGES).optional(),
  }),
);

export type RecallRequest = Omit<z.input<typeof todoRecall.payload>, 'todoId'>;

/** A job in the to-do's lane, named `<kind>:<todo id>:<suffix>` (the suffix tells occurrences apart). */
export function todoLaneJob<Name extends string, Schema extends z.ZodType>(
  clock: Clock,
  kind: JobKind<Name, Schema>,
  todo: Todo,
  payload: z.input<Schema>,
  suffix = String(clock.now()),
) {
  const at = clock.now();
  return newJob(kind, { id: `${kind.name}:${todo.id}:${suffix}`, lane: `todo:${todo.id}`, chatId: todo.chatId, payload, runAt: at, createdAt: at });
}

/** The to-do's card should be posted to the group, from the form it was submitted in (whose lane it joins). */
export function todoPostJob(clock: Clock, form: TodoForm, todoId: string) {
  const at = clock.now();
  return newJob(todoPost, { id: `todo.post:${todoId}`, ...formLane(form), payload: { formId: form.id, todoId }, runAt: at, createdAt: at });
}

/** The group card should show the to-do's current state. */
export function cardUpdateJob(clock: Clock, todo: Todo) {
  return todoLaneJob(clock, todoPatch, todo, { todoId: todo.id });
}

/** The assignees' feed cards should match the to-do's current state. */
export function feedSyncJob(clock: Clock, todo: Todo) {
  return todoLaneJob(clock, feedSync, todo, { todoId: todo.id });
}

export function recallJob(clock: Clock, todo: Todo, request: RecallRequest, key: string) {
  return todoLaneJob(clock, todoRecall, todo, { todoId: todo.id, ...request }, key);
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

export function todoJobs(services: Services): RegisteredJob[] {
  const { store, feishu, now, logger } = services;

  /**
   * The to-do card, as a reply where it has a message to answer (its source, or in a topic group the command, so it
   * lands in the command's topic), else to the chat. A source recalled meanwhile leaves the card in the chat.
   */
  async function postCard(chatId: string, replyTo: string | undefined, card: object, uuid: string): Promise<string> {
    if (replyTo === undefined) return feishu.sendCard({ chatId, card, uuid });
    try {
      return await feishu.replyCard({ chatId, parentId: replyTo, card, uuid });
    } catch (error) {
      const code = feishuRefusal(error)?.feishuCode;
      if (code !== 230011 && code !== 230110) throw error;
      return feishu.sendCard({ chatId, card, uuid });
    }
  }

  const post = handle(todoPost, {
    async run({ job, payload: { formId, todoId }, step, commit }) {
      const todo = await store.todo(todoId);
      if (!todo) return;
      const card = todoCard(todo, { lang: recordLanguage(services, todo) });
      const messageId = await step('post', () => postCard(todo.chatId, todo.replyTo, card, derivedId('p', job.id)));
      const form = await store.form(formId);
      const posting = todo.status === 'posting';
      const syncsTasks = posting && (await groupSettings(services, todo.chatId)).taskSync === 'on';
      await commit({
        todos: posting ? [{ ...todo, status: 'open', messageId, currentCard: { messageId, sentAt: now() }, updatedAt: now() }] : [],
        forms: form?.status === 'submitting' ? [{ ...form, status: 'posted', updatedAt: now() }] : [],
        jobs: [...(posting && todo.assigneeIds.length > 0 ? [feedSyncJob(services, todo)] : []), ...(syncsTasks ? [taskCreateJob(services, todo)] : [])],
      });
      await deleteFormCards(services, await store.form(formId), step);
    },
    async giveUp({ job, payload: { formId, todoId }, commit }, error) {
      const todo = await store.todo(todoId);
      const form = await store.form(formId);
      if (!todo || 'post' in job.steps) return;
      // Told in the language of the form it came from, which the command that opened it chose.
      const lang = recordLanguage(services, form ?? todo);
      await commit({
        todos: [{ ...todo, status: 'post_failed', updatedAt: now() }],
        // The form is opened again, so the admin's filled-in card still works: pressing Submit retries.
        forms: form?.status === 'submitting' ? [{ ...form, status: 'open', updatedAt: now() }] : [],
        jobs: [
          noticeJob(services, `${job.id}:failed`, {
            chatId: todo.chatId,
            userId: todo.creatorId,
            text: t(lang, 'notice.postFailed', { reason: t(lang, sayFailure(error, 'notice.internalError')) }),
            tone: 'error',
            lang,
          }),
        ],
      });
    },
  });

  const patch = handle(todoPatch, {
    async run({ payload: { todoId } }) {
      const todo = await store.todo(todoId);
      const card = todo && currentCard(todo);
      if (!todo || !card || todo.status === 'recalled') return;
      const asReminder = reminderTookOver(todo) ? await snoozeChoices(services, todo.chatId) : undefined;
      const content = todoCard(todo, { lang: recordLanguage(services, todo), asReminder });
      try {
        await feishu.patchCard({ messageId: card.messageId, card: content });
      } catch (error) {
        // Past Feishu's 14 days no retry can help, and nothing is wrong: the next reminder takes over as the card.
        if (feishuRefusal(error)?.feishuCode !== CARD_TOO_OLD) throw error;
        logger.info({ todoId: todo.id, messageId: card.messageId }, 'to-do card too old to update; the next reminder takes over');
      }
    },
  });

  const recall = handle(todoRecall, {
    async run({ job, payload, step, commit }) {
      const { todoId, requesterId, replyTo, lang = services.config.botLanguage } = payload;
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
          // The task goes with the card (the job deletes a recalled to-do's task).
          ...taskSyncJobs(services, recalled),
          recalledNow ? answer('recall.done', 'info', { text: oneLine(todo.text, 40) }) : answer('recall.alreadyGone'),
        ],
      });
    },
    async giveUp({ job, payload, commit }, error) {
      const { todoId, requesterId, replyTo, lang = services.config.botLanguage } = payload;
      const todo = await store.todo(todoId);
      if (!todo) return;
      const text = t(lang, sayFailure(error, 'recall.failed'));
      await commit({ jobs: [noticeJob(services, `${job.id}:failed`, { chatId: todo.chatId, userId: requesterId, text, tone: 'error', lang, replyTo })] });
    },
  });

  const syncFeedCards = handle(feedSync, {
    async run(ctx) {
      const { todoId } = ctx.payload;
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
  });

  /** Records which assignees hold a live card, from the to-do as it is now (other jobs may have changed it). */
  async function updateLive(ctx: Pick<JobContext, 'commit'>, todoId: string, change: (ids: string[]) => string[]): Promise<void> {
    const todo = await store.todo(todoId);
    if (!todo) return;
    await ctx.commit({ todos: [{ ...todo, feedCardUserIds: change(todo.feedCardUserIds ?? []) }] });
  }

  return [post, patch, recall, syncFeedCards];
}
