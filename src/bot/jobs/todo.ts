import { z } from 'zod';
import { oneLine } from '../../../cards/parts';
import { todoCard } from '../../../cards/todo';
import { currentCard, reminderTookOver } from '../../domain/current-card';
import { LANGUAGES } from '../../domain/languages';
import type { Todo, TodoForm } from '../../domain/model';
import { close } from '../../domain/todo-form';
import { feishuRefusal, isTransient } from '../../feishu/errors';
import { type MessageKey, type MessageValues, t } from '../../i18n';
import { type Clock, type RegisteredJob, handle, jobKind, newJob } from '../../jobs/registry';
import type { Job } from '../../store/store';
import { sayFailure } from '../feishu-sentences';
import { groupSettings } from '../group-settings';
import { recordLanguage } from '../language';
import { type Services, derivedId } from '../services';
import { feedSyncJob } from './feed';
import { deleteFormCards, formDeleteJob, formLane } from './form';
import { noticeJob } from './notice';
import { taskCreateJob, taskSyncJobs } from './task';
import { todoLaneJob } from './todo-lane';

/**
 * A to-do's card posted to the group (from its form, in the form's lane) and recalled (in the to-do's lane), as durable
 * jobs; each also enqueues what follows the to-do: its feed cards (`feed.ts`), and its Feishu Task where the group
 * syncs (`task.ts`). Each job reads the store when it runs. The card is kept equal to the store by `card-update.ts`.
 */

const todoPost = jobKind('todo.post', z.object({ formId: z.string(), todoId: z.string() }));
const todoRecall = jobKind(
  'todo.recall',
  z.object({
    todoId: z.string(),
    /** Who asked for the recall, the message to answer, and in which language (their command's). */
    requesterId: z.string(),
    replyTo: z.string(),
    /** Absent on a job stored before the bot spoke two languages: `BOT_LANGUAGE`. */
    lang: z.enum(LANGUAGES).optional(),
  }),
);

export type RecallRequest = Omit<z.input<typeof todoRecall.payload>, 'todoId'>;

/** The to-do's card should be posted to the group, from the form it was submitted in (whose lane it joins). */
export function todoPostJob(clock: Clock, form: TodoForm, todoId: string) {
  const at = clock.now();
  return newJob(todoPost, { id: `todo.post:${todoId}`, ...formLane(form), payload: { formId: form.id, todoId }, runAt: at, createdAt: at });
}

export function recallJob(clock: Clock, todo: Todo, request: RecallRequest, key: string) {
  return todoLaneJob(clock, todoRecall, todo, { todoId: todo.id, ...request }, key);
}

export function todoJobs(services: Services): RegisteredJob[] {
  const { store, feishu, now } = services;

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
      const submitting = form?.status === 'submitting' ? form : undefined;
      // A person has one open form in a chat: one opened since this was submitted stays, and this one closes.
      const newer = submitting && (await store.openForm(submitting.chatId, submitting.ownerId));
      const noticeKey: MessageKey = newer
        ? 'notice.postFailedReplaced'
        : submitting?.delivery?.kind === 'direct'
          ? 'notice.postFailedDirect'
          : 'notice.postFailed';
      await commit({
        todos: [{ ...todo, status: 'post_failed', updatedAt: now() }],
        // The form is opened again, so the admin's filled-in card still works: pressing Submit retries. A form sent by
        // direct message already shows its closed look (the click's answer), with no Submit to press.
        // It lives a form's time again from now: one submitted near its end would expire before Submit is pressed again.
        forms: !submitting
          ? []
          : newer
            ? [close(submitting, 'replaced', now())]
            : [{ ...submitting, status: 'open', expiresAt: Math.max(submitting.expiresAt, now() + services.config.formTtlMs), updatedAt: now() }],
        jobs: [
          ...(submitting && newer ? [formDeleteJob(services, submitting)] : []),
          noticeJob(services, `${job.id}:failed`, {
            chatId: todo.chatId,
            userId: todo.creatorId,
            text: t(lang, noticeKey, { reason: t(lang, sayFailure(error, 'notice.internalError')), text: oneLine(todo.text, 40) }),
            tone: 'error',
            lang,
          }),
        ],
      });
    },
  });

  /** The to-do's first card, when a reminder took over from it and left it in the chat. */
  const firstCardBehind = (todo: Todo) => (reminderTookOver(todo) ? todo.messageId : undefined);

  /** Recalls a to-do's earlier card: nothing when done, else the sentence saying why Feishu keeps it (transient: thrown). */
  async function recallIfAllowed(messageId: string): Promise<MessageKey | false> {
    try {
      await feishu.recall(messageId);
      return false;
    } catch (error) {
      if (isTransient(error)) throw error;
      return sayFailure(error, 'recall.failed');
    }
  }

  type RecallPayload = z.infer<typeof todoRecall.payload>;
  const answerOf = (job: Job, payload: RecallPayload, todo: Todo) => {
    const { requesterId, replyTo, lang = services.config.botLanguage } = payload;
    return (key: MessageKey, tone: 'info' | 'warning' | 'error' = 'info', values?: MessageValues) =>
      noticeJob(services, `${job.id}:answer`, { chatId: todo.chatId, userId: requesterId, text: t(lang, key, values), tone, lang, replyTo });
  };

  /** The to-do marked recalled, once its current card is: what follows from it, and the requester's answer. */
  function recalledChange(job: Job, payload: RecallPayload, todo: Todo, p: { recalledNow: boolean; firstLeft: MessageKey | false }) {
    const { lang = services.config.botLanguage } = payload;
    const answer = answerOf(job, payload, todo);
    const recalled: Todo = { ...todo, status: 'recalled', recalledBy: payload.requesterId, recalledAt: now(), updatedAt: now() };
    return {
      todos: [recalled],
      jobs: [
        feedSyncJob(services, todo),
        // The task goes with the card (the job deletes a recalled to-do's task).
        ...taskSyncJobs(services, recalled),
        !p.recalledNow && !p.firstLeft
          ? answer('recall.alreadyGone')
          : answer(p.firstLeft ? 'recall.doneFirstCardLeft' : 'recall.done', 'info', {
              text: oneLine(todo.text, 40),
              reason: p.firstLeft ? t(lang, p.firstLeft) : '',
            }),
      ],
    };
  }

  const recall = handle(todoRecall, {
    async run({ job, payload, step, commit }) {
      const todo = await store.todo(payload.todoId);
      const card = todo && currentCard(todo);
      if (!todo || !card) return;
      if (todo.status === 'recalled') return commit({ jobs: [answerOf(job, payload, todo)('recall.already', 'warning')] });

      const { messageId } = card;
      const recalledNow = await step('recall', () => feishu.recall(messageId));
      // A reminder that took over left the first card in the chat, showing the to-do open: it goes too, where Feishu
      // still allows (its recall window is the tenant's, a day by default, and a takeover comes after 13).
      const firstCard = firstCardBehind(todo);
      const firstLeft = firstCard !== undefined && (await step('recall:first', () => recallIfAllowed(firstCard)));
      await commit(recalledChange(job, payload, todo, { recalledNow, firstLeft }));
    },
    async giveUp({ job, payload, commit }, error) {
      const { todoId, requesterId, replyTo, lang = services.config.botLanguage } = payload;
      const todo = await store.todo(todoId);
      if (!todo) return;
      // The current card went, and only the first card's recall kept failing: the to-do is recalled all the same
      // (its reminders would reply to a card no longer there), the first card said to stay.
      if ('recall' in job.steps && todo.status !== 'recalled') {
        const recalledNow = job.steps.recall === true;
        const first = job.steps['recall:first'];
        // The first card's outcome as its step recorded it, else the failure that ended the job (when there was one).
        const firstLeft = first !== undefined ? (first as MessageKey | false) : firstCardBehind(todo) !== undefined && sayFailure(error, 'recall.failed');
        return commit(recalledChange(job, payload, todo, { recalledNow, firstLeft }));
      }
      const text = t(lang, sayFailure(error, 'recall.failed'));
      await commit({ jobs: [noticeJob(services, `${job.id}:failed`, { chatId: todo.chatId, userId: requesterId, text, tone: 'error', lang, replyTo })] });
    },
  });

  return [post, recall];
}
