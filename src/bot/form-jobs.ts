import { noticeCard } from '../../cards/notice';
import { todoFormCard } from '../../cards/todo-form';
import { type ClosedFormOutcome, closedFormCard } from '../../cards/todo-form-closed';
import { todoCard } from '../../cards/todo';
import type { TodoForm } from '../domain/model';
import { formCardIds } from '../domain/todo-form';
import { type MessageKey, t } from '../i18n';
import type { JobContext, JobHandler } from '../jobs/outbox';
import type { NewJob } from '../store/store';
import { feishuRefusal, isTransient } from '../feishu/errors';
import { sayFailure } from './feishu-sentences';
import { readSource } from './message-source';
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
  /** The message the `/todo` replied to, whose words prefill the form. */
  sourceId?: string;
}

/** Most people a direct-message form's person picker lists (a topic group's members, in the order Feishu gives them). */
export const MEMBER_OPTIONS_LIMIT = 200;

interface PostPayload {
  formId: string;
  todoId: string;
}

function formJob(services: Services, id: string, kind: string, form: TodoForm, payload: object): NewJob {
  return { id, kind, lane: `form:${form.id}`, chatId: form.chatId, payload, runAt: services.now(), createdAt: services.now() };
}

export function formSendJob(services: Services, form: TodoForm, replyTo: string, sourceId?: string): NewJob {
  const payload: FormJobPayload = { formId: form.id, replyTo, ...(sourceId !== undefined && { sourceId }) };
  return formJob(services, `form.send:${form.id}`, 'form.send', form, payload);
}

export function formDeleteJob(services: Services, form: TodoForm): NewJob {
  return formJob(services, `form.delete:${form.id}`, 'form.delete', form, { formId: form.id } satisfies FormJobPayload);
}

export function todoPostJob(services: Services, form: TodoForm, todoId: string): NewJob {
  return formJob(services, `todo.post:${todoId}`, 'todo.post', form, { formId: form.id, todoId } satisfies PostPayload);
}

export function formJobHandlers(services: Services): Record<string, JobHandler> {
  const { store, feishu, now } = services;

  /**
   * The words of the message `/todo` replied to become the form's draft (unless words were typed after `/todo`, which
   * win), and the message its source; a source the bot cannot read leaves the form empty, and its owner is told why.
   */
  async function readSourceInto(ctx: JobContext, form: TodoForm, sourceId: string): Promise<void> {
    const read = await ctx.step('source', () => readSource(services, { messageId: sourceId, chatId: form.chatId }));
    if (!read.ok) {
      const lang = recordLanguage(services, form);
      const notice = { chatId: form.chatId, userId: form.ownerId, text: t(lang, read.reason), tone: 'warning' as const, lang, replyTo: form.commandMessageId };
      await ctx.commit({ jobs: [noticeJob(services, `${ctx.job.id}:source`, notice)] });
      return;
    }
    if (form.source !== undefined || form.status !== 'open') return;
    await ctx.commit({ forms: [{ ...form, source: read.source, draftText: form.draftText !== '' ? form.draftText : read.text, updatedAt: now() }] });
  }

  /**
   * A topic group's form, by direct message, with the group's members as the picker's options. Resolves the card's
   * message and its direct chat, or undefined when Feishu would not deliver it (the person is outside the app's
   * availability, say): then one line in the topic says so, with nothing of the to-do in it.
   */
  async function sendDirectForm(
    ctx: JobContext,
    form: TodoForm,
    card: (members: string[]) => Promise<object>,
  ): Promise<{ messageId: string; chatId: string } | undefined> {
    const members = await ctx.step('members', async () => (await feishu.chatMembers(form.chatId, MEMBER_OPTIONS_LIMIT)).map((m) => m.openId));
    const sent = await ctx.step('send', async () => {
      try {
        return await feishu.sendDirect({ openId: form.ownerId, card: await card(members), uuid: derivedId('f', ctx.job.id) });
      } catch (error) {
        if (isTransient(error) || !feishuRefusal(error)) throw error;
        return null;
      }
    });
    if (sent) return sent;
    const lang = recordLanguage(services, form);
    const line = noticeCard({ text: t(lang, 'topic.directMessageFailed'), tone: 'warning', lang });
    const replyTo = form.commandMessageId;
    if (replyTo !== undefined) {
      await ctx.step('undeliverable', () => feishu.replyCard({ chatId: form.chatId, parentId: replyTo, card: line, uuid: derivedId('u', ctx.job.id) }));
    }
    const latest = await store.form(form.id);
    if (latest?.status === 'open') await ctx.commit({ forms: [{ ...latest, status: 'expired', updatedAt: now() }] });
    return undefined;
  }

  const sendForm: JobHandler = {
    async run(ctx) {
      const { job, step, commit } = ctx;
      const { formId, sourceId } = job.payload as FormJobPayload;
      if (sourceId !== undefined) {
        const unread = await store.form(formId);
        if (unread) await readSourceInto(ctx, unread, sourceId);
      }
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
      const cardOf = async (members?: string[]) => {
        const prefill = await prefillFromText(services, form);
        const draftText = prefill?.text ?? form.draftText;
        return todoFormCard({ formId, draftText, lang: recordLanguage(services, form), reminder: prefill?.reminder, members });
      };
      let messageId: string;
      let delivery = form.delivery;
      if (form.delivery?.kind === 'direct') {
        const sent = await sendDirectForm(ctx, form, cardOf);
        if (!sent) return;
        messageId = sent.messageId;
        delivery = { kind: 'direct', chatId: sent.chatId };
      } else {
        messageId = await step('send', async () => feishu.sendEphemeral({ chatId: form.chatId, openId: form.ownerId, card: await cardOf() }));
      }
      await commit({ forms: [{ ...((await store.form(formId)) ?? form), messageId, ...(delivery && { delivery }), updatedAt: now() }] });
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

  /**
   * Deletes every card of the form, each as its own step so a resumed job skips those already gone. A form sent by
   * direct message cannot be deleted so: it is updated in place to its closed state.
   */
  async function deleteCards(form: TodoForm | undefined, step: JobContext['step']): Promise<void> {
    if (form?.delivery?.kind === 'direct') {
      const card = closedFormCard({ outcome: closedOutcome(form), lang: recordLanguage(services, form) });
      for (const messageId of formCardIds(form)) await step(`close:${messageId}`, () => feishu.patchCard({ messageId, card }));
      return;
    }
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
      const messageId = await step('post', () => postCard(todo.chatId, todo.replyTo, card, derivedId('p', job.id)));
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

  return { 'form.send': sendForm, 'form.delete': deleteForm, 'todo.post': postTodo };
}

/** What a closed direct-message form says became of it. */
function closedOutcome(form: TodoForm): ClosedFormOutcome {
  return form.status === 'open' || form.status === 'submitting' ? 'posted' : form.status;
}

function reasonOf(error: unknown): MessageKey {
  return sayFailure(error, 'notice.internalError');
}
