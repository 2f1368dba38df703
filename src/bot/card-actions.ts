import { CardActionValue } from '../../cards/actions';
import type { CardActionAnswer, CardActionEvent } from '../feishu/events';
import { enqueueFormDelete, enqueueTodoPost } from './form-jobs';
import { checkActor, close, newTodo, readSubmission } from './todo-form';
import { type Services, newId } from './services';

/**
 * Card clicks, answered from stored state alone: Feishu waits at most 3 s and never retries, so the answer says
 * what happened (or will) and the outbound work is left to the jobs it enqueues.
 */

const toast = (type: 'success' | 'error' | 'warning' | 'info', content: string): CardActionAnswer => ({ toast: { type, content } });

export async function handleCardAction(services: Services, action: CardActionEvent): Promise<CardActionAnswer> {
  const value = CardActionValue.safeParse(action.value);
  if (!value.success) return toast('warning', 'This card is out of date; send /todo to start again.');

  switch (value.data.action) {
    case 'todo.submit':
      return submit(services, action, value.data.formId);
    case 'todo.cancel':
      return cancel(services, action, value.data.formId);
    case 'todo.done':
    case 'todo.reopen':
      return toast('info', 'Marking to-dos done is coming soon.');
  }
}

async function submit(services: Services, action: CardActionEvent, formId: string): Promise<CardActionAnswer> {
  const { store, now } = services;
  // No await between the check and the change: two clicks cannot both find the form open.
  const actor = checkActor(store.form(formId), action.operatorId);
  if (!actor.ok) return toast(actor.tone, actor.reason);
  const submission = readSubmission(action.formValue, { now: now(), timeZone: action.timeZone });
  if (!submission.ok) return toast(submission.tone, submission.reason);

  const form = actor.value;
  const todo = newTodo({ id: newId('todo'), form, submission: submission.value, now: now() });
  store.putTodo(todo);
  store.putForm({ ...form, status: 'submitting', todoId: todo.id, updatedAt: now() });
  enqueueTodoPost(services, form.id, todo.id);
  await store.flush();
  services.outbox.kick();
  return toast('success', 'Posting your to-do to the group…');
}

async function cancel(services: Services, action: CardActionEvent, formId: string): Promise<CardActionAnswer> {
  const { store, now } = services;
  const actor = checkActor(store.form(formId), action.operatorId);
  if (!actor.ok) return toast(actor.tone, actor.reason);
  store.putForm(close(actor.value, 'cancelled', now()));
  enqueueFormDelete(services, formId);
  await store.flush();
  services.outbox.kick();
  return toast('info', 'Cancelled. Nothing was posted.');
}
