import { CardActionValue } from '../../cards/actions';
import type { CardActionAnswer, CardActionEvent } from '../feishu/events';
import { formatInstant } from '../../cards/parts';
import { reminderHandledCard } from '../../cards/reminder';
import { todoCard } from '../../cards/todo';
import { enqueueFormDelete, enqueueTodoPost } from './form-jobs';
import type { Todo } from '../domain/model';
import { nextOccurrence, tomorrowAt } from '../domain/time';
import { enqueueCardUpdate, enqueueFeedSync } from './todo-jobs';
import { cardKeyOfSubmitName, checkActor, close, newTodo, noteClickedCard, readSubmission } from '../domain/todo-form';
import { type Services, newId } from './services';

/**
 * Card clicks, answered from stored state alone: Feishu waits at most 3 s and never retries, so the answer says
 * what happened (or will) and the outbound work is left to the jobs it enqueues.
 */

const toast = (type: 'success' | 'error' | 'warning' | 'info', content: string): CardActionAnswer => ({ toast: { type, content } });

export async function handleCardAction(services: Services, action: CardActionEvent): Promise<CardActionAnswer> {
  const request = readRequest(services, action);
  if (!request) return toast('warning', 'This card is out of date; send /todo to start again.');

  switch (request.action) {
    case 'todo.submit':
      return submit(services, action, request.formId);
    case 'todo.cancel':
      return cancel(services, action, request.formId);
    case 'todo.done':
      return markDone(services, action, request.todoId, true);
    case 'todo.reopen':
      return markDone(services, action, request.todoId, false);
    case 'todo.snooze':
      return snooze(services, action, request.todoId, (now) => now + SNOOZE_MS);
    case 'todo.tomorrow':
      return snooze(services, action, request.todoId, (now, zone) => tomorrowAt(now, zone, 9));
  }
}

/**
 * What the click asks for: the button's callback value, as the bot wrote it. A form's Submit is also known by its
 * name, which names the form, since some clients send a form submit without the button's value.
 */
function readRequest(services: Services, action: CardActionEvent): CardActionValue | undefined {
  const value = CardActionValue.safeParse(action.value);
  if (value.success) return value.data;
  const key = cardKeyOfSubmitName(action.name);
  const form = key === undefined ? undefined : services.store.formByCardKey(key);
  return form && { action: 'todo.submit', formId: form.id };
}

const SNOOZE_MS = 60 * 60 * 1000;

/**
 * How long a Snooze or Tomorrow click waits for the clicker's profile zone when it is not cached: well inside the
 * answer's deadline (2.5 s), and the look-up still fills the cache for the next click if it comes later.
 */
const PROFILE_ZONE_WAIT_MS = 1_000;

/** Where the person clicking is: their device's zone, else their profile's, else `DEFAULT_TIME_ZONE`. */
async function clickerZone(services: Services, action: CardActionEvent): Promise<string> {
  return action.timeZone ?? (await services.profileZones.within(action.operatorId, PROFILE_ZONE_WAIT_MS)) ?? services.config.defaultTimeZone;
}

/** Moves the next reminder; "tomorrow 9:00" means 9:00 where the person clicking is. */
async function snooze(services: Services, action: CardActionEvent, todoId: string, until: (now: number, zone: string) => number): Promise<CardActionAnswer> {
  const { store, now } = services;
  // Before the to-do is read: it is read again after every await, and only what is read last may be changed.
  const zone = await clickerZone(services, action);
  const found = await todoToChange(services, action, todoId, (t) => t.status === 'open', toast('info', 'This to-do is no longer open; there is nothing to snooze.'));
  if ('answer' in found) return found.answer;
  const { todo } = found;
  const remindAt = until(now(), zone);
  store.putTodo({ ...todo, remindAt, updatedAt: now() });
  enqueueCardUpdate(services, todo);
  await saved(services);
  return {
    toast: { type: 'success', content: `Snoozed: I will remind again ${formatInstant(remindAt, zone)}.` },
    ...(action.messageId !== todo.messageId && {
      card: { type: 'raw' as const, data: reminderHandledCard({ todo, outcome: 'snoozed', by: action.operatorId, until: remindAt, timeZone: zone }) },
    }),
  };
}

async function markDone(services: Services, action: CardActionEvent, todoId: string, done: boolean): Promise<CardActionAnswer> {
  const { store, now } = services;
  const found = await todoToChange(services, action, todoId, (t) => t.status !== 'recalled', toast('warning', 'This to-do was recalled.'));
  if ('answer' in found) return found.answer;
  const { todo } = found;
  // A click on a reminder (a reply) is answered with the reminder's new look; on the to-do card, with the card's.
  const onReminder = action.messageId !== undefined && action.messageId !== todo.messageId;
  const isDone = todo.status === 'done';
  if (isDone === done) {
    return { toast: { type: 'info', content: done ? 'Already done.' : 'Already open.' }, ...(!onReminder && { card: { type: 'raw' as const, data: todoCard(todo) } }) };
  }

  const updated: Todo = done
    ? { ...todo, status: 'done', doneBy: action.operatorId, doneAt: now(), updatedAt: now() }
    : { ...todo, status: 'open', doneBy: undefined, doneAt: undefined, remindAt: reopenedReminder(todo, now()), updatedAt: now() };
  store.putTodo(updated);
  enqueueCardUpdate(services, updated);
  enqueueFeedSync(services, updated);
  await saved(services);
  const card = onReminder ? reminderHandledCard({ todo: updated, outcome: 'done', by: action.operatorId }) : todoCard(updated);
  return { toast: { type: 'success', content: done ? 'Marked done.' : 'Reopened.' }, card: { type: 'raw', data: card } };
}

/** A reopened to-do keeps a reminder still ahead; a passed one-off is dropped, a repeating one moves to its next time. */
function reopenedReminder(todo: Todo, now: number): number | undefined {
  if (todo.remindAt === undefined || todo.remindAt > now) return todo.remindAt;
  return nextOccurrence(todo.repeatAnchor ?? todo.remindAt, todo.repeat ?? 'none', todo.timeZone, now);
}

/**
 * The to-do `action` may change, or the answer refusing it. A to-do is changed only from its own chat (a click
 * reported from another is refused), and the permission check asks about that chat. It is read again after the
 * permission check's await: another click may have changed it meanwhile, and only one may win.
 */
async function todoToChange(
  services: Services,
  action: CardActionEvent,
  todoId: string,
  actionable: (todo: Todo) => boolean,
  notActionable: CardActionAnswer,
): Promise<{ todo: Todo } | { answer: CardActionAnswer }> {
  const found = services.store.todo(todoId);
  if (!found || !actionable(found)) return { answer: notActionable };
  if (action.chatId !== undefined && action.chatId !== found.chatId) return { answer: toast('error', 'This card belongs to another chat; use the to-do in its own group.') };
  const allowed = await mayChange(services, found, action.operatorId);
  if (allowed !== true) return { answer: toast('error', allowed) };
  const todo = services.store.todo(todoId);
  return todo && actionable(todo) ? { todo } : { answer: notActionable };
}

/** Makes the staged change durable, then lets the jobs it enqueued and the reminder it moved run. */
async function saved(services: Services): Promise<void> {
  await services.store.flush();
  services.outbox.kick();
  services.poke();
}

/** Assignees, the creator and the group's admins may mark a to-do done or open; the answer is true or the reason. */
async function mayChange(services: Services, todo: Todo, operatorId: string): Promise<true | string> {
  if (todo.creatorId === operatorId || todo.assigneeIds.includes(operatorId)) return true;
  try {
    if (await services.admins.isAdmin(todo.chatId, operatorId)) return true;
  } catch {
    return 'I could not check your permission just now; please try again.';
  }
  return 'Only the assignees, the creator and group admins can change this to-do.';
}

async function submit(services: Services, action: CardActionEvent, formId: string): Promise<CardActionAnswer> {
  const { store, now } = services;
  // No await between the check and the change: two clicks cannot both find the form open.
  const actor = checkActor(store.form(formId), action.operatorId, action.chatId);
  if (!actor.ok) return toast(actor.tone, actor.reason);
  const profile = actor.value.ownerTimeZone ?? services.profileZones.cached(action.operatorId);
  const submission = readSubmission(action.formValue, { now: now(), zones: { device: action.timeZone, profile, fallback: services.config.defaultTimeZone } });
  if (!submission.ok) return toast(submission.tone, submission.reason);

  const form = noteClickedCard(actor.value, action);
  const todo = newTodo({ id: newId('todo'), form, submission: submission.value, now: now() });
  store.putTodo(todo);
  store.putForm({ ...form, status: 'submitting', todoId: todo.id, updatedAt: now() });
  enqueueTodoPost(services, form, todo.id);
  await saved(services);
  return toast('success', 'Posting your to-do to the group…');
}

async function cancel(services: Services, action: CardActionEvent, formId: string): Promise<CardActionAnswer> {
  const { store, now } = services;
  const actor = checkActor(store.form(formId), action.operatorId, action.chatId);
  if (!actor.ok) return toast(actor.tone, actor.reason);
  const form = close(noteClickedCard(actor.value, action), 'cancelled', now());
  store.putForm(form);
  enqueueFormDelete(services, form);
  await saved(services);
  return toast('info', 'Cancelled. Nothing was posted.');
}
