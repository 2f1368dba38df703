import { z } from 'zod';
import { noticeCard } from '../../../cards/notice';
import { todoFormCard } from '../../../cards/todo-form';
import { type ClosedFormOutcome, closedFormCard } from '../../../cards/todo-form-closed';
import type { TodoForm } from '../../domain/model';
import { formCardIds } from '../../domain/todo-form';
import { feishuRefusal, isTransient } from '../../feishu/errors';
import { t } from '../../i18n';
import { type Clock, type JobContext, type RegisteredJob, handle, jobKind, newJob } from '../../jobs/registry';
import type { NewJob } from '../../store/store';
import { sayFailure } from '../feishu-sentences';
import { recordLanguage } from '../language';
import { readSource } from '../message-source';
import { prefillFromText } from '../prefill';
import { type Services, derivedId } from '../services';
import { noticeJob } from './notice';

/**
 * The private form card, as durable jobs: sent to its owner, and deleted once the form is closed. Every job of one
 * form shares the form's lane (`formLane`), so the card is sent before it is deleted, and the to-do a form posts
 * (`todo.post`, see `todo.ts`) is in the group before the form card goes.
 */

const formSend = jobKind(
  'form.send',
  z.object({
    formId: z.string(),
    /** The command message, for a reply when the private card cannot be shown. */
    replyTo: z.string().optional(),
    /** The message the `/todo` replied to, whose words prefill the form. */
    sourceId: z.string().optional(),
    /**
     * The source is only the first message of the topic the `/todo` was typed in (inside a topic Feishu names it as
     * every message's parent): its words are taken when it has some, and nobody is told when it has none.
     */
    sourceIsTopicStart: z.boolean().optional(),
  }),
);

/** Most people a direct-message form's person picker lists (a topic group's members, in the order Feishu gives them). */
export const MEMBER_OPTIONS_LIMIT = 200;

const formDelete = jobKind('form.delete', z.object({ formId: z.string() }));

/** Where a form's jobs queue, in order. */
export function formLane(form: TodoForm): Pick<NewJob, 'lane' | 'chatId'> {
  return { lane: `form:${form.id}`, chatId: form.chatId };
}

export function formSendJob(clock: Clock, form: TodoForm, replyTo: string, source?: { messageId: string; isTopicStart: boolean }) {
  const at = clock.now();
  const payload = {
    formId: form.id,
    replyTo,
    ...(source !== undefined && { sourceId: source.messageId, ...(source.isTopicStart && { sourceIsTopicStart: true }) }),
  };
  return newJob(formSend, { id: `form.send:${form.id}`, ...formLane(form), payload, runAt: at, createdAt: at });
}

export function formDeleteJob(clock: Clock, form: TodoForm) {
  const at = clock.now();
  return newJob(formDelete, { id: `form.delete:${form.id}`, ...formLane(form), payload: { formId: form.id }, runAt: at, createdAt: at });
}

/**
 * Deletes every card of the form, each as its own step so a resumed job skips those already gone. A form sent by
 * direct message cannot be deleted so: it is updated in place to its closed state, with no Submit left.
 */
export async function deleteFormCards(services: Services, form: TodoForm | undefined, step: JobContext['step']): Promise<void> {
  if (form?.delivery?.kind === 'direct') {
    const card = closedFormCard({ outcome: closedOutcome(form), lang: recordLanguage(services, form) });
    for (const messageId of formCardIds(form)) await step(`close:${messageId}`, () => services.feishu.patchCard({ messageId, card }));
    return;
  }
  for (const messageId of form ? formCardIds(form) : []) await step(`delete:${messageId}`, () => services.feishu.deleteEphemeral(messageId));
}

/** What a closed direct-message form says became of it. */
function closedOutcome(form: TodoForm): ClosedFormOutcome {
  return form.status === 'open' || form.status === 'submitting' ? 'posted' : form.status;
}

export function formJobs(services: Services): RegisteredJob[] {
  const { store, feishu, now } = services;

  /**
   * The words of the message `/todo` replied to become the form's draft (unless words were typed after `/todo`, which
   * win), and the message its source; a source the bot cannot read leaves the form with what was typed, if anything,
   * and its owner is told why.
   */
  async function readSourceInto(ctx: JobContext, form: TodoForm, sourceId: string, isTopicStart: boolean): Promise<void> {
    const read = await ctx.step('source', () => readSource(services, { messageId: sourceId, chatId: form.chatId }));
    if (!read.ok) {
      if (isTopicStart && read.reason === 'source.notText') return;
      const lang = recordLanguage(services, form);
      const text = `${t(lang, read.reason)} ${t(lang, form.draftText !== '' ? 'source.formTyped' : 'source.formEmpty')}`;
      const notice = { chatId: form.chatId, userId: form.ownerId, text, tone: 'warning' as const, lang, replyTo: form.commandMessageId };
      await ctx.commit({ jobs: [noticeJob(services, `${ctx.job.id}:source`, notice)] });
      return;
    }
    if (form.source !== undefined || form.status !== 'open') return;
    // Words taken from the message count their times from its sending, as the `/todo`'s own do from theirs.
    const draft = form.draftText !== '' ? {} : { draftText: read.text, ...(read.sentAt !== undefined && { draftWrittenAt: read.sentAt }) };
    await ctx.commit({ forms: [{ ...form, source: read.source, ...draft, updatedAt: now() }] });
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
    const parentId = form.commandMessageId;
    if (parentId !== undefined) {
      await ctx.step('undeliverable', () => feishu.replyCard({ chatId: form.chatId, parentId, card: line, uuid: derivedId('u', ctx.job.id) }));
    }
    const latest = await store.form(form.id);
    if (latest?.status === 'open') await ctx.commit({ forms: [{ ...latest, status: 'expired', updatedAt: now() }] });
    return undefined;
  }

  const send = handle(formSend, {
    async run(ctx) {
      const {
        job,
        payload: { formId, sourceId, sourceIsTopicStart },
        step,
        commit,
      } = ctx;
      if (sourceId !== undefined) {
        const unread = await store.form(formId);
        if (unread) await readSourceInto(ctx, unread, sourceId, sourceIsTopicStart === true);
      }
      const form = await store.form(formId);
      if (!form) return;
      if (form.status !== 'open') {
        // Closed after its card was sent (a /todo, Submit or Cancel won the race to the record, here or on another
        // instance, and this job runs again): the card is still noted on the form, so that the job that closed it,
        // queued behind this one in the form's lane, deletes it.
        const sent = sentCard(job.steps.send);
        if (sent && form.messageId === undefined && !formCardIds(form).includes(sent.messageId)) {
          const delivery = form.delivery?.kind === 'direct' && sent.chatId !== undefined ? { kind: 'direct' as const, chatId: sent.chatId } : form.delivery;
          await commit({ forms: [{ ...form, messageId: sent.messageId, ...(delivery && { delivery }) }] });
        }
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
        // An ephemeral send takes no uuid, so Feishu cannot drop a repeat: a card sent after this job's lease passed to
        // another instance (this one stalled mid-send) is deleted, since the instance that has the job sends its own.
        messageId = await step('send', async () => feishu.sendEphemeral({ chatId: form.chatId, openId: form.ownerId, card: await cardOf() }), {
          undo: (sent) => feishu.deleteEphemeral(sent),
        });
      }
      await commit({ forms: [{ ...((await store.form(formId)) ?? form), messageId, ...(delivery && { delivery }), updatedAt: now() }] });
      const ownerTimeZone = await ownerZone;
      const latest = await store.form(formId);
      if (latest && ownerTimeZone !== undefined) await commit({ forms: [{ ...latest, ownerTimeZone }] });
    },
    async giveUp({ job, payload: { formId, replyTo }, commit }, error) {
      const form = await store.form(formId);
      if (!form) return;
      const lang = recordLanguage(services, form);
      const text = t(lang, 'notice.formFailed', { reason: t(lang, sayFailure(error, 'notice.internalError')) });
      await commit({
        forms: form.status === 'open' ? [{ ...form, status: 'expired', updatedAt: now() }] : [],
        jobs: [noticeJob(services, `${job.id}:failed`, { chatId: form.chatId, userId: form.ownerId, text, tone: 'error', lang, replyTo })],
      });
    },
  });

  const remove = handle(formDelete, {
    run: async ({ payload: { formId }, step }) => deleteFormCards(services, await store.form(formId), step),
  });

  return [send, remove];
}

/** The card a form's `send` step recorded: an ephemeral card's id, or a direct message's id and chat. */
function sentCard(step: unknown): { messageId: string; chatId?: string | undefined } | undefined {
  if (typeof step === 'string') return { messageId: step };
  const sent = step as { messageId?: unknown; chatId?: unknown } | null | undefined;
  return typeof sent?.messageId === 'string' ? { messageId: sent.messageId, chatId: typeof sent.chatId === 'string' ? sent.chatId : undefined } : undefined;
}
