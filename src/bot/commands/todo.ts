import { close, newForm } from '../../domain/todo-form';
import type { CommandMiddleware } from '../router';
import { derivedId } from '../services';
import { enqueueFormDelete, enqueueFormSend } from '../form-jobs';

/**
 * `/todo [text]`: opens the admin's private form, replacing one they left open in this chat. The form id is
 * derived from the event id, so a retried handler finds the form it already made instead of making another.
 */
export const openTodoForm: CommandMiddleware = async ({ services, message, args }) => {
  const { store, now, config } = services;
  const formId = derivedId('form', message.eventId);
  if (store.form(formId)) return;

  const previous = store.openForm(message.chatId, message.senderId);
  if (previous) {
    store.putForm(close(previous, 'replaced', now()));
    enqueueFormDelete(services, previous);
  }
  const form = newForm({ id: formId, chatId: message.chatId, ownerId: message.senderId, draftText: args, now: now(), ttlMs: config.formTtlMs });
  store.putForm(form);
  enqueueFormSend(services, form, message.messageId);
  services.poke();
};
