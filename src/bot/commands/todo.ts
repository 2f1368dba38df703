import { close, newForm } from '../../domain/todo-form';
import { formDeleteJob, formSendJob } from '../jobs/form';
import type { CommandMiddleware } from '../router';
import { derivedId } from '../services';

/**
 * `/todo [text]`: opens the admin's private form, replacing one they left open in this chat. The form id is
 * derived from the event id, so a retried handler finds the form it already made instead of making another; the
 * replaced form is closed only from the state it was read in, so two `/todo`s at once leave one form open. The form
 * is written in the command's language, and remembers it for its clicks and notices.
 */
export const openTodoForm: CommandMiddleware = async ({ services, message, args, lang, commit }) => {
  const { store, now, config } = services;
  const formId = derivedId('form', message.eventId);
  if (await store.form(formId)) return;

  const previous = await store.openForm(message.chatId, message.senderId);
  const form = newForm({ id: formId, chatId: message.chatId, ownerId: message.senderId, draftText: args, language: lang, now: now(), ttlMs: config.formTtlMs });
  await commit({
    forms: [...(previous ? [close(previous, 'replaced', now())] : []), form],
    jobs: [...(previous ? [formDeleteJob(services, previous)] : []), formSendJob(services, form, message.messageId)],
  });
};
