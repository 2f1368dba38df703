import { todoFormCard } from '../../cards/todo-form';
import { todoCard } from '../../cards/todo';
import { isFeishuError } from '../feishu/errors';
import type { JobHandler } from '../jobs/outbox';
import { tell } from './notices';
import { enqueueFeedSync } from './todo-jobs';
import { type Services, derivedId } from './services';

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

function enqueue(services: Services, id: string, kind: string, formId: string, payload: object): void {
  services.store.enqueue({ id, kind, lane: `form:${formId}`, payload, runAt: services.now(), createdAt: services.now() });
}

export function enqueueFormSend(services: Services, formId: string, replyTo: string): void {
  enqueue(services, `form.send:${formId}`, 'form.send', formId, { formId, replyTo } satisfies FormJobPayload);
}

export function enqueueFormDelete(services: Services, formId: string): void {
  enqueue(services, `form.delete:${formId}`, 'form.delete', formId, { formId } satisfies FormJobPayload);
}

export function enqueueTodoPost(services: Services, formId: string, todoId: string): void {
  enqueue(services, `todo.post:${todoId}`, 'todo.post', formId, { formId, todoId } satisfies PostPayload);
}

export function formJobHandlers(services: Services): Record<string, JobHandler> {
  const { store, feishu, now } = services;

  const sendForm: JobHandler = {
    async run({ job, step }) {
      const { formId } = job.payload as FormJobPayload;
      const form = store.form(formId);
      if (!form || form.status !== 'open') return;
      const card = todoFormCard({ formId, draftText: form.draftText });
      const messageId = await step('send', () => feishu.sendEphemeral({ chatId: form.chatId, openId: form.ownerId, card }));
      const latest = store.form(formId) ?? form;
      store.putForm({ ...latest, messageId, updatedAt: now() });
    },
    giveUp(job, error) {
      const { formId, replyTo } = job.payload as FormJobPayload;
      const form = store.form(formId);
      if (!form) return;
      if (form.status === 'open') store.putForm({ ...form, status: 'expired', updatedAt: now() });
      tell(services, `${job.id}:failed`, {
        chatId: form.chatId,
        userId: form.ownerId,
        text: `I could not show you the to-do form: ${reasonOf(error)}`,
        tone: 'error',
        replyTo,
      });
    },
  };

  const deleteForm: JobHandler = {
    async run({ job, step }) {
      const form = store.form((job.payload as FormJobPayload).formId);
      const messageId = form?.messageId;
      if (messageId) await step('delete', () => feishu.deleteEphemeral(messageId));
    },
  };

  const postTodo: JobHandler = {
    async run({ job, step }) {
      const { formId, todoId } = job.payload as PostPayload;
      const todo = store.todo(todoId);
      if (!todo) return;
      const messageId = await step('post', () => feishu.sendCard({ chatId: todo.chatId, card: todoCard(todo), uuid: derivedId('p', job.id) }));
      if (todo.status === 'posting') {
        store.putTodo({ ...todo, status: 'open', messageId, updatedAt: now() });
        if (todo.assigneeIds.length > 0) enqueueFeedSync(services, todo.id);
      }
      const form = store.form(formId);
      if (form?.status === 'submitting') store.putForm({ ...form, status: 'posted', updatedAt: now() });
      const formMessageId = form?.messageId;
      if (formMessageId) await step('deleteForm', () => feishu.deleteEphemeral(formMessageId));
    },
    giveUp(job, error) {
      const { formId, todoId } = job.payload as PostPayload;
      const todo = store.todo(todoId);
      const form = store.form(formId);
      if (!todo || 'post' in job.steps) return;
      store.putTodo({ ...todo, status: 'post_failed', updatedAt: now() });
      // The form is opened again, so the admin's filled-in card still works: pressing Submit retries.
      if (form?.status === 'submitting') store.putForm({ ...form, status: 'open', updatedAt: now() });
      tell(services, `${job.id}:failed`, {
        chatId: todo.chatId,
        userId: todo.creatorId,
        text: `I could not post your to-do to the group: ${reasonOf(error)} Your to-do is saved; press Submit on the form to try again.`,
        tone: 'error',
      });
    },
  };

  return { 'form.send': sendForm, 'form.delete': deleteForm, 'todo.post': postTodo };
}

function reasonOf(error: unknown): string {
  return isFeishuError(error) ? error.say : 'something went wrong on my side.';
}

