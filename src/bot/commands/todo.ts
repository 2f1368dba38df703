import type { TodoForm } from '../../domain/model';
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
export const openTodoForm: CommandMiddleware = async ({ services, message, argsWithNames, lang, commit }) => {
  const { store, now, config } = services;
  const formId = derivedId('form', message.eventId);
  if (await store.form(formId)) return;

  // A topic group (话题群) has no ephemeral cards: the form goes by direct message, and the to-do card into the
  // command's topic, as a reply to the command.
  const topic = (await services.admins.chatMode(message.chatId)) === 'topic';
  const previous = await store.openForm(message.chatId, message.senderId);
  const form: TodoForm = {
    ...newForm({
      id: formId,
      chatId: message.chatId,
      ownerId: message.senderId,
      draftText: argsWithNames,
      language: lang,
      now: now(),
      ttlMs: config.formTtlMs,
    }),
    commandMessageId: message.messageId,
    ...(argsWithNames.trim() !== '' && message.sentAt !== undefined && { draftWrittenAt: message.sentAt }),
    ...(message.threadId !== undefined && { threadId: message.threadId }),
    ...(topic && { delivery: { kind: 'direct' } as const, replyTo: message.messageId }),
  };
  await commit({
    forms: [...(previous ? [close(previous, 'replaced', now())] : []), form],
    // A `/todo` sent as a reply to a message makes its to-do from that message: the send job reads it. Inside a topic
    // every message's parent is the topic's first one, whatever was replied to: taken as the source when it has words.
    jobs: [
      ...(previous ? [formDeleteJob(services, previous)] : []),
      formSendJob(
        services,
        form,
        message.messageId,
        message.parentId === undefined ? undefined : { messageId: message.parentId, isTopicStart: message.threadId !== undefined },
      ),
    ],
  });
};
