import { todoFormCard } from '../../cards/todo-form';
import { todoCard } from '../../cards/todo';
import { isFeishuError } from '../feishu/errors';
import type { JobContext, JobHandler } from '../jobs/outbox';
import type { TodoForm } from '../domain/model';
import { tell } from './notices';
import { formCardIds } from '../domain/todo-form';
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

function enqueue(services: Services, id: string, kind: string, form: TodoForm, payload: object): void {
  services.store.enqueue({ id, kind, lane: `form:${form.id}`, chatId: form.chatId, payload, runAt: services.now(), createdAt: services.now() });
}

export function enqueueFormSend(services: Services, form: TodoForm, replyTo: string): void {
  enqueue(services, `form.send:${form.id}`, 'form.send', form, { formId: form.id, replyTo } satisfies FormJobPayload);
}

export function enqueueFormDelete(services: Services, form: TodoForm): void {
  enqueue(services, `form.delete:${form.id}`, 'form.delete', form, { formId: form.id } satisfies FormJobPayload);
}

export function enqueueTodoPost(services: Services, form: TodoForm, todoId: string): void {
  enqueue(services, `todo.post:${todoId}`, 'todo.post', form, { formId: form.id, todoId } satisfies PostPayload);
}

export function formJobHandlers(services: Services): Record<string, JobHandler> {
  const { store, feishu, now } = services;

  const sendForm: JobHandler = {
    async run({ job, step }) {
      const { formId } = job.payload as FormJobPayload;
      const form = store.form(formId);
      if (!form || form.status !== 'open') return;
      const card = todoFormCard({ formId, draftText: form.draftText });
      // The owner's profile zone is looked up beside the send (never rejecting), and stored on the form so that
      // Submit is answered from stored state; the card's id is stored first, as soon as it is known.
      const ownerZone = services.profileZones.lookup(form.ownerId);
      const messageId = await step('send', () => feishu.sendEphemeral({ chatId: form.chatId, openId: form.ownerId, card }));
      store.putForm({ ...(store.form(formId) ?? form), messageId, updatedAt: now() });
      const ownerTimeZone = await ownerZone;
      const latest = store.form(formId);
      if (latest && ownerTimeZone !== undefined) store.putForm({ ...latest, ownerTimeZone });
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

  /** Deletes every card of the form, each as its own step so a resumed job skips those already gone. */
  async function deleteCards(form: TodoForm | undefined, step: JobContext['step']): Promise<void> {
    for (const messageId of form ? formCardIds(form) : []) await step(`delete:${messageId}`, () => feishu.deleteEphemeral(messageId));
  }

  const deleteForm: JobHandler = {
    run: ({ job, step }) => deleteCards(store.form((job.payload as FormJobPayload).formId), step),
  };

  const postTodo: JobHandler = {
    async run({ job, step }) {
      const { formId, todoId } = job.payload as PostPayload;
      const todo = store.todo(todoId);
      if (!todo) return;
      const messageId = await step('post', () => feishu.sendCard({ chatId: todo.chatId, card: todoCard(todo), uuid: derivedId('p', job.id) }));
      if (todo.status === 'posting') {
        store.putTodo({ ...todo, status: 'open', messageId, updatedAt: now() });
        if (todo.assigneeIds.length > 0) enqueueFeedSync(services, todo);
      }
      const form = store.form(formId);
      if (form?.status === 'submitting') store.putForm({ ...form, status: 'posted', updatedAt: now() });
      await deleteCards(store.form(formId), step);
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

