import { todoFormCard } from '../../cards/todo-form';
import { todoCard } from '../../cards/todo';
import type { TodoForm } from '../domain/model';
import { formCardIds } from '../domain/todo-form';
import { type MessageKey, t } from '../i18n';
import type { JobContext, JobHandler } from '../jobs/outbox';
import type { NewJob } from '../store/store';
import { sayFailure } from './feishu-sentences';
import { recordLanguage } from './language';
import { noticeJob } from './notices';
import { prefillFromText } from './prefill';
import { type Services, derivedId } from './services';
import { feedSyncJob } from './todo-jobs';

/**
 * The outbound half of the form flow, as durable jobs. Every job of one form shares the form's lane, so the
 * card is sent before it is deleted and the final card is posted before the form card goes.
 */

interface FormJobPayload {
  formId: string;
  /** The command message, for a reply when the private card cannot be shown. */
  replyTo?: string;
}

interface PostPayload {
  formId: string;
  todoId: string;
}

function formJob(services: Services, id: string, kind: string, form: TodoForm, payload: object): NewJob {
  return { id, kind, lane: `form:${form.id}`, chatId: form.chatId, payload, runAt: services.now(), createdAt: services.now() };
}

export function formSendJob(services: Services, form: TodoForm, replyTo: string): NewJob {
  return formJob(services, `form.send:${form.id}`, 'form.send', form, { formId: form.id, replyTo } satisfies FormJobPayload);
}

export function formDeleteJob(services: Services, form: TodoForm): NewJob {
  return formJob(services, `form.delete:${form.id}`, 'form.delete', form, { formId: form.id } satisfies FormJobPayload);
}

export function todoPostJob(services: Services, form: TodoForm, todoId: string): NewJob {
  return formJob(services, `todo.post:${todoId}`, 'todo.post', form, { formId: form.id, todoId } satisfies PostPayload);
}

export function formJobHandlers(services: Services): Record<string, JobHandler> {
  const { store, feishu, now } = services;

  const sendForm: JobHandler = {
    async run({ job, step, commit }) {
      const { formId } = job.payload as FormJobPayload;
      const form = await store.form(formId);
      if (!form) return;
      if (form.status !== 'open') {
        // Closed after its card was sent (a /todo, Submit or Cancel won the race to the record, here or on another
        // instance, and this job runs again): the card is still noted on the form, so that the job that closed it,
        // queued behind this one in the form's lane, deletes it.
        const sent = job.steps.send as string | null | undefined;
        if (sent && form.messageId === undefined && !formCardIds(form).includes(sent)) await commit({ forms: [{ ...form, messageId: sent }] });
        return;
      }
      // The owner's profile zone is looked up beside the send (never rejecting), and stored on the form so that
      // Submit is answered from stored state; the card's id is stored first, as soon as it is known. A time named
      // in the text is read in that zone, so then the card waits for it (briefly: see `prefillFromText`).
      const ownerZone = services.profileZones.lookup(form.ownerId);
      // An ephemeral send takes no uuid, so Feishu cannot drop a repeat: a card sent after this job's lease passed to
      // another instance (this one stalled mid-send) is deleted, since the instance that has the job sends its own.
      const messageId = await step(
        'send',
        async () => {
          const prefill = await prefillFromText(services, form);
          const draftText = prefill?.text ?? form.draftText;
          const card = todoFormCard({ formId, draftText, lang: recordLanguage(services, form), reminder: prefill?.reminder });
          return feishu.sendEphemeral({ chatId: form.chatId, openId: form.ownerId, card });
        },
        { undo: (sent) => feishu.deleteEphemeral(sent) },
      );
      await commit({ forms: [{ ...((await store.form(formId)) ?? form), messageId, updatedAt: now() }] });
      const ownerTimeZone = await ownerZone;
      const latest = await store.form(formId);
      if (latest && ownerTimeZone !== undefined) await commit({ forms: [{ ...latest, ownerTimeZone }] });
    },
    async giveUp({ job, commit }, error) {
      const { formId, replyTo } = job.payload as FormJobPayload;
      const form = await store.form(formId);
      if (!form) return;
      const lang = recordLanguage(services, form);
      const text = t(lang, 'notice.formFailed', { reason: t(lang, reasonOf(error)) });
      await commit({
        forms: form.status === 'open' ? [{ ...form, status: 'expired', updatedAt: now() }] : [],
        jobs: [noticeJob(services, `${job.id}:failed`, { chatId: form.chatId, userId: form.ownerId, text, tone: 'error', lang, replyTo })],
      });
    },
  };

  /** Deletes every card of the form, each as its own step so a resumed job skips those already gone. */
  async function deleteCards(form: TodoForm | undefined, step: JobContext['step']): Promise<void> {
    for (const messageId of form ? formCardIds(form) : []) await step(`delete:${messageId}`, () => feishu.deleteEphemeral(messageId));
  }

  const deleteForm: JobHandler = {
    run: async ({ job, step }) => deleteCards(await store.form((job.payload as FormJobPayload).formId), step),
  };

  const postTodo: JobHandler = {
    async run({ job, step, commit }) {
      const { formId, todoId } = job.payload as PostPayload;
      const todo = await store.todo(todoId);
      if (!todo) return;
      const card = todoCard(todo, { lang: recordLanguage(services, todo) });
      const messageId = await step('post', () => feishu.sendCard({ chatId: todo.chatId, card, uuid: derivedId('p', job.id) }));
      const form = await store.form(formId);
      await commit({
        todos: todo.status === 'posting' ? [{ ...todo, status: 'open', messageId, currentCard: { messageId, sentAt: now() }, updatedAt: now() }] : [],
        forms: form?.status === 'submitting' ? [{ ...form, status: 'posted', updatedAt: now() }] : [],
        jobs: todo.status === 'posting' && todo.assigneeIds.length > 0 ? [feedSyncJob(services, todo)] : [],
      });
      await deleteCards(await store.form(formId), step);
    },
    async giveUp({ job, commit }, error) {
      const { formId, todoId } = job.payload as PostPayload;
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
            text: t(lang, 'notice.postFailed', { reason: t(lang, reasonOf(error)) }),
            tone: 'error',
            lang,
          }),
        ],
      });
    },
  };

  return { 'form.send': sendForm, 'form.delete': deleteForm, 'todo.post': postTodo };
}

function reasonOf(error: unknown): MessageKey {
  return sayFailure(error, 'notice.internalError');
}
