import { z } from 'zod';
import { todoFormCard } from '../../../cards/todo-form';
import type { TodoForm } from '../../domain/model';
import { formCardIds } from '../../domain/todo-form';
import { t } from '../../i18n';
import { type Clock, type JobContext, type RegisteredJob, handle, jobKind, newJob } from '../../jobs/registry';
import type { NewJob } from '../../store/store';
import { sayFailure } from '../feishu-sentences';
import { recordLanguage } from '../language';
import { prefillFromText } from '../prefill';
import type { Services } from '../services';
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
  }),
);

const formDelete = jobKind('form.delete', z.object({ formId: z.string() }));

/** Where a form's jobs queue, in order. */
export function formLane(form: TodoForm): Pick<NewJob, 'lane' | 'chatId'> {
  return { lane: `form:${form.id}`, chatId: form.chatId };
}

export function formSendJob(clock: Clock, form: TodoForm, replyTo: string) {
  const at = clock.now();
  return newJob(formSend, { id: `form.send:${form.id}`, ...formLane(form), payload: { formId: form.id, replyTo }, runAt: at, createdAt: at });
}

export function formDeleteJob(clock: Clock, form: TodoForm) {
  const at = clock.now();
  return newJob(formDelete, { id: `form.delete:${form.id}`, ...formLane(form), payload: { formId: form.id }, runAt: at, createdAt: at });
}

/** Deletes every card of the form, each as its own step so a resumed job skips those already gone. */
export async function deleteFormCards(services: Services, form: TodoForm | undefined, step: JobContext['step']): Promise<void> {
  for (const messageId of form ? formCardIds(form) : []) await step(`delete:${messageId}`, () => services.feishu.deleteEphemeral(messageId));
}

export function formJobs(services: Services): RegisteredJob[] {
  const { store, feishu, now } = services;

  const send = handle(formSend, {
    async run({ job, payload: { formId }, step, commit }) {
      const form = await store.form(formId);
      if (!form) return;
      if (form.status !== 'open') {
        // Closed after its card was sent (a /todo, Submit or Cancel won the race to the record, here or on another
        // instance, and this job runs again): the card is still noted on the form, so that the job that closed it,
        // queued behind this one in the form's lane, deletes it.
        const sent = job.steps.send;
        if (typeof sent === 'string' && form.messageId === undefined && !formCardIds(form).includes(sent))
          await commit({ forms: [{ ...form, messageId: sent }] });
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
