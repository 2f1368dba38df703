import { CardActionValue } from '../../cards/actions';
import { formatInstant } from '../../cards/parts';
import { reminderHandledCard } from '../../cards/reminder';
import { todoCard } from '../../cards/todo';
import { closedFormCard } from '../../cards/todo-form-closed';
import { isTodoCard } from '../domain/current-card';
import { clockParts, readSettingsSaveName } from '../domain/group-settings';
import type { Language } from '../domain/languages';
import type { Todo, TodoForm } from '../domain/model';
import { reopenedTimes } from '../domain/reopen';
import { dayBounds, nextDailyAt, tomorrowAt } from '../domain/time';
import { type Refusal, checkActor, close, newTodo, noteClickedCard, readFormButtonName, readSubmission } from '../domain/todo-form';
import type { CardActionAnswer, CardActionEvent } from '../feishu/events';
import { type MessageKey, t } from '../i18n';
import { type Phrase, type ToastType, toast as toastIn } from '../i18n/feishu';
import type { Commit } from '../store/store';
import { CLICK_ADMIN_WAIT_MS, adminCheckFailure } from './admins';
import { groupSettings, postingChat, takenOverLook } from './group-settings';
import { mayCreateTodos } from './guards';
import { cardUpdateJob } from './jobs/card-update';
import { feedSyncJob } from './jobs/feed';
import { formDeleteJob } from './jobs/form';
import { taskSyncJobs } from './jobs/task';
import { todoPostJob } from './jobs/todo';
import { recordLanguage } from './language';
import { type Services, newId } from './services';
import { saveSettings } from './settings-save';

/**
 * Card clicks, answered from stored state alone: Feishu waits at most 3 s and never retries, so the answer says
 * what happened (or will) and the outbound work is left to the jobs committed with the change. Every decision is
 * made on records as read and committed only if they are still as read; if another click (here or on another
 * instance) changed them first, the decision is made again on what that click left.
 */

/**
 * Every toast carries every language (each reader's client shows its own); `content` is in the language of the
 * clicked card: the form's for a form, the to-do's for a group card.
 */
const toast = (type: ToastType, phrase: Phrase, lang: Language): CardActionAnswer => ({ toast: toastIn(type, phrase, lang) });

/** A refusal the domain gave as a key and its values. */
const refusalToast = (refusal: Refusal, lang: Language): CardActionAnswer =>
  toast(refusal.tone, (each) => t(each, refusal.reason.key, refusal.reason.values), lang);

/** What a click comes to: the answer, and the change that must be committed for the answer to be true. */
interface Decision {
  answer: CardActionAnswer;
  change?: Omit<Commit, 'now' | 'eventId'>;
  /** The clicked card's language, for an answer made after the decision (a lost race). */
  lang: Language;
}

/** How many times a decision is made again after losing a race before the person is asked to click again. */
const DECISION_ATTEMPTS = 4;

/** The answer to a click, and what the click asked for (`unknown` when no card of the bot's asks it), for the log. */
export interface HandledClick {
  action: CardActionValue['action'] | 'unknown';
  answer: CardActionAnswer;
  /** The language the answer is in. */
  lang: Language;
}

export async function handleCardAction(services: Services, action: CardActionEvent): Promise<HandledClick> {
  const request = await readRequest(services, action);
  const { botLanguage } = services.config;
  if (!request) return { action: 'unknown', answer: toast('warning', 'toast.outOfDate', botLanguage), lang: botLanguage };
  const decide = await decisionFor(services, action, request);
  let lang = botLanguage;
  for (let attempt = 1; attempt <= DECISION_ATTEMPTS; attempt++) {
    const decision = await decide();
    lang = decision.lang;
    if (!decision.change) return { action: request.action, answer: decision.answer, lang };
    const result = await services.store.commit({ ...decision.change, now: services.now(), eventId: action.eventId });
    if (result.ok) return { action: request.action, answer: decision.answer, lang };
    // The same click delivered twice: the first delivery made the change and got the answer.
    if (result.reason === 'duplicate') return { action: request.action, answer: {}, lang };
  }
  return { action: request.action, answer: toast('warning', 'toast.raced', lang), lang };
}

/**
 * What the click asks for: the button's callback value, as the bot wrote it. The form's Submit and Cancel, and the
 * settings form's Save, are also known by their names, which carry what the value would, since some clients send a
 * form submit without the button's value.
 */
async function readRequest(services: Services, action: CardActionEvent): Promise<CardActionValue | undefined> {
  const value = CardActionValue.safeParse(action.value);
  if (value.success) return value.data;
  const lang = readSettingsSaveName(action.name);
  // A group's settings card is in the group; one sent by direct message (a topic group's) names its group only in the
  // value, so without the value that click cannot be placed.
  if (lang && action.chatId !== undefined && (await services.admins.chatMode(action.chatId, CLICK_ADMIN_WAIT_MS).catch(() => 'p2p')) !== 'p2p') {
    return { action: 'settings.save', chatId: action.chatId, lang };
  }
  const named = readFormButtonName(action.name);
  const form = named === undefined ? undefined : await services.store.formByCardKey(named.cardKey);
  return form && named && { action: named.action, formId: form.id };
}

async function decisionFor(services: Services, action: CardActionEvent, value: CardActionValue): Promise<() => Promise<Decision>> {
  switch (value.action) {
    case 'todo.submit':
      return () => submit(services, action, value.formId);
    case 'todo.cancel':
      return () => cancel(services, action, value.formId);
    case 'todo.done':
      return () => markDone(services, action, value.todoId, true, value.on ?? 'card');
    case 'todo.reopen':
      return () => markDone(services, action, value.todoId, false, 'card');
    case 'todo.snooze': {
      const zone = await clickerZone(services, action);
      return () => snooze(services, action, value.todoId, zone, value.on ?? 'card', (now) => now + SNOOZE_MS);
    }
    case 'todo.tomorrow': {
      const zone = await clickerZone(services, action);
      const { hour, minute } = clockParts((await groupSettings(services, action.chatId)).tomorrowTime);
      return () => snooze(services, action, value.todoId, zone, value.on ?? 'card', (now, todo) => nextDayAt(now, todo, zone, { hour, minute }));
    }
    case 'todo.digestDone':
    case 'todo.listDone':
      // A list of many to-dos stays as it is: the toast says what happened and the to-do's card changes.
      return async () => {
        const decision = await markDone(services, action, value.todoId, true, value.action === 'todo.listDone' ? 'list' : 'digest');
        return { ...decision, answer: { toast: decision.answer.toast } };
      };
    case 'settings.save':
      return () => saveSettings(services, action, value.chatId, value.lang, value.shown);
  }
}

const SNOOZE_MS = 60 * 60 * 1000;

/**
 * "Tomorrow" at the group's time, where the person clicking is; for a workdays to-do, the next workday's where the
 * to-do repeats (on a Friday, Monday: Saturday would add a weekend reminder before the Monday one it was meant to put
 * off).
 */
function nextDayAt(now: number, todo: Todo, zone: string, at: { hour: number; minute: number }): number {
  if (todo.repeat !== 'workdays') return tomorrowAt(now, zone, at.hour, at.minute);
  return nextDailyAt(dayBounds(now, todo.timeZone).end - 1, todo.timeZone, at, 'workdays') ?? tomorrowAt(now, zone, at.hour, at.minute);
}

/**
 * How long a Snooze or Tomorrow click waits for the clicker's profile zone when it is not cached: well inside the
 * answer's deadline (2.5 s), and the look-up still fills the cache for the next click if it comes later.
 */
const PROFILE_ZONE_WAIT_MS = 1_000;

/** Where the person clicking is: their device's zone, else their profile's, else the group's (`DEFAULT_TIME_ZONE`). */
async function clickerZone(services: Services, action: CardActionEvent): Promise<string> {
  return (
    action.timeZone ?? (await services.profileZones.within(action.operatorId, PROFILE_ZONE_WAIT_MS)) ?? (await groupSettings(services, action.chatId)).timeZone
  );
}

/** Moves the next reminder; "Tomorrow" means the group's tomorrow time (9:00) where the person clicking is. */
async function snooze(
  services: Services,
  action: CardActionEvent,
  todoId: string,
  zone: string,
  on: ClickedOn,
  until: (now: number, todo: Todo) => number,
): Promise<Decision> {
  const { now } = services;
  const found = await todoToChange(services, action, todoId, (t) => t.status === 'open', { type: 'info', key: 'toast.notSnoozable' }, on);
  if ('answer' in found) return found;
  const { todo, lang } = found;
  const remindAt = until(now(), todo);
  const snoozed = (each: Language) => t(each, 'toast.snoozed', { time: formatInstant(remindAt, zone, each) });
  return {
    answer: {
      ...toast('success', snoozed, lang),
      ...(!isTodoCard(todo, action.messageId) && {
        card: {
          type: 'raw' as const,
          data: reminderHandledCard({ todo, outcome: 'snoozed', by: action.operatorId, until: remindAt, timeZone: zone, lang, nudge: on === 'nudge' }),
        },
      }),
    },
    change: { todos: [{ ...todo, remindAt, updatedAt: now() }], jobs: [cardUpdateJob(services, todo), ...taskSyncJobs(services, todo)] },
    lang,
  };
}

async function markDone(services: Services, action: CardActionEvent, todoId: string, done: boolean, on: ClickedOn): Promise<Decision> {
  const { now } = services;
  const found = await todoToChange(services, action, todoId, (t) => t.status !== 'recalled', { type: 'warning', key: 'toast.recalled' }, on);
  const nudge = on === 'nudge';
  if ('answer' in found) return found;
  const { todo, lang } = found;
  // A click on a reminder (a reply) is answered with the reminder's new look; on the to-do card, with the card's.
  const onReminder = onReply(todo, action);
  const isDone = todo.status === 'done';
  if (isDone === done) {
    const already = toast('info', done ? 'toast.alreadyDone' : 'toast.alreadyOpen', lang);
    const card = onReminder
      ? reminderHandledCard({ todo, outcome: 'closed', lang, nudge })
      : todoCard(todo, { lang, ...(await takenOverLook(services, todo)) });
    return { answer: { ...already, card: { type: 'raw' as const, data: card } }, lang };
  }

  const updated: Todo = done
    ? { ...todo, status: 'done', doneBy: action.operatorId, doneAt: now(), doneVia: undefined, updatedAt: now() }
    : { ...todo, status: 'open', doneBy: undefined, doneAt: undefined, doneVia: undefined, ...reopenedTimes(todo, now()), updatedAt: now() };
  const card = onReminder
    ? reminderHandledCard({ todo: updated, outcome: 'done', by: action.operatorId, lang, nudge })
    : todoCard(updated, { lang, ...(await takenOverLook(services, updated)) });
  return {
    answer: { ...toast('success', done ? 'toast.markedDone' : 'toast.reopened', lang), card: { type: 'raw', data: card } },
    change: { todos: [updated], jobs: [cardUpdateJob(services, updated), feedSyncJob(services, updated), ...taskSyncJobs(services, updated)] },
    lang,
  };
}

/** What was clicked: the to-do's card or a reminder under it, an overdue nudge, a digest's line or a `/todos` line. */
type ClickedOn = 'card' | 'nudge' | 'digest' | 'list';

/**
 * The to-do `action` may change, with its language, or the answer refusing it. A to-do is changed only from its own
 * chat (a click reported from another is refused), or from a `/todos` line in a direct chat, where the list answers a
 * topic group's members: the bot and the person clicking are alone there, so the card can only be one the bot sent
 * them. The permission check asks about the to-do's chat.
 */
async function todoToChange(
  services: Services,
  action: CardActionEvent,
  todoId: string,
  actionable: (todo: Todo) => boolean,
  notActionable: { type: ToastType; key: MessageKey },
  on: ClickedOn,
): Promise<{ todo: Todo; lang: Language } | Decision> {
  const todo = await services.store.todo(todoId);
  const lang = todo ? recordLanguage(services, todo) : services.config.botLanguage;
  // A card whose to-do the store does not hold (data restored from an older backup, a forged value) is not "recalled".
  if (!todo) return { answer: toast('warning', 'toast.todoUnknown', lang), lang };
  const otherChat = action.chatId !== undefined && action.chatId !== todo.chatId;
  if (!actionable(todo)) {
    const refused = toast(notActionable.type, notActionable.key, lang);
    // A reminder or a nudge (a reply, not the to-do's card) keeps buttons its to-do outgrew when it was closed
    // elsewhere: it takes the to-do's state in their place. A list's line leaves the list as it is.
    const closed = (on === 'card' || on === 'nudge') &&
      onReply(todo, action) &&
      !otherChat && { card: { type: 'raw' as const, data: reminderHandledCard({ todo, outcome: 'closed', lang, nudge: on === 'nudge' }) } };
    return { answer: { ...refused, ...closed }, lang };
  }
  if (otherChat && on !== 'list') return { answer: toast('error', 'toast.otherChat', lang), lang };
  // Both within the click's deadline at once: each may wait for Feishu (`CLICK_ADMIN_WAIT_MS`).
  const [direct, allowed] = await Promise.all([
    otherChat ? services.admins.chatMode(action.chatId as string, CLICK_ADMIN_WAIT_MS).then((mode) => mode === 'p2p', adminCheckFailure) : true,
    mayChange(services, todo, action.operatorId),
  ]);
  if (direct !== true) return { answer: toast('error', direct === false ? 'toast.otherChat' : direct, lang), lang };
  return allowed === true ? { todo, lang } : { answer: toast('error', allowed, lang), lang };
}

/** Whether the click came from a reply to the to-do's card (a reminder or a nudge), not from the card itself. */
function onReply(todo: Todo, action: CardActionEvent): boolean {
  return action.messageId !== undefined && !isTodoCard(todo, action.messageId);
}

/**
 * Assignees, the creator and the group's admins may mark a to-do done or open; the answer is true or the reason. An
 * assignee or creator who left the group is neither any more (a `/todos` list sent by direct message outlives their
 * leaving); an admin is asked of Feishu each time.
 */
async function mayChange(services: Services, todo: Todo, operatorId: string): Promise<true | MessageKey> {
  if (todo.creatorId === operatorId || todo.assigneeIds.includes(operatorId)) {
    if (!(await postingChat(services, todo.chatId)).left.has(operatorId)) return true;
  }
  try {
    if (await services.admins.isAdmin(todo.chatId, operatorId, CLICK_ADMIN_WAIT_MS)) return true;
  } catch (error) {
    return adminCheckFailure(error);
  }
  return 'toast.notAllowed';
}

/** A click on the form is answered in the form's language (the card's: the ephemeral card has only that one). */
async function submit(services: Services, action: CardActionEvent, formId: string): Promise<Decision> {
  const { store, now } = services;
  const stored = await withDirectChat(services, await store.form(formId), action);
  const lang = stored ? recordLanguage(services, stored) : services.config.botLanguage;
  const actor = checkActor(stored, action.operatorId, action.chatId);
  if (!actor.ok) return { answer: refusalToast(actor, lang), lang };
  const settings = await groupSettings(services, actor.value.chatId);
  // Asked again, as at `/todo`: a form stays open for a day, and meanwhile the group may have become admins-only, or
  // its admins may have changed. When Feishu cannot say in time, the check `/todo` made stands: a Submit is answered
  // from stored state, never refused because Feishu is slow.
  const mayCreate = await mayCreateTodos(services, settings, actor.value.chatId, action.operatorId, CLICK_ADMIN_WAIT_MS).catch(() => true);
  if (!mayCreate) return { answer: toast('error', 'reply.adminsOnly', lang), lang };
  const profile = actor.value.ownerTimeZone ?? services.profileZones.cached(action.operatorId);
  const submission = readSubmission(action.formValue, { now: now(), zones: { device: action.timeZone, profile, fallback: settings.timeZone } });
  if (!submission.ok) return { answer: refusalToast(submission, lang), lang };

  const form = noteClickedCard(actor.value, action);
  const todo = newTodo({ id: newId('todo'), form, submission: submission.value, now: now() });
  return {
    answer: { ...toast('success', 'toast.posting', lang), ...closedDirectForm(form, 'submitting', lang) },
    change: { todos: [todo], forms: [{ ...form, status: 'submitting', todoId: todo.id, updatedAt: now() }], jobs: [todoPostJob(services, form, todo.id)] },
    lang,
  };
}

async function cancel(services: Services, action: CardActionEvent, formId: string): Promise<Decision> {
  const { store, now } = services;
  const stored = await withDirectChat(services, await store.form(formId), action);
  const lang = stored ? recordLanguage(services, stored) : services.config.botLanguage;
  const actor = checkActor(stored, action.operatorId, action.chatId);
  if (!actor.ok) return { answer: refusalToast(actor, lang), lang };
  const form = close(noteClickedCard(actor.value, action), 'cancelled', now());
  return {
    answer: { ...toast('info', 'toast.cancelled', lang), ...closedDirectForm(form, 'cancelled', lang) },
    change: { forms: [form], jobs: [formDeleteJob(services, form)] },
    lang,
  };
}

/**
 * A form sent by direct message whose sending is not recorded yet (Feishu's answer lost, the job trying again) knows
 * no chat for its card. A click from a direct chat is from that card, since only the bot and the owner are in one
 * (checked next), and says which chat it is; the decision's commit keeps it.
 */
async function withDirectChat(services: Services, form: TodoForm | undefined, action: CardActionEvent): Promise<TodoForm | undefined> {
  if (form?.delivery?.kind !== 'direct' || form.delivery.chatId !== undefined || action.chatId === undefined) return form;
  const mode = await services.admins.chatMode(action.chatId, CLICK_ADMIN_WAIT_MS).catch(() => undefined);
  return mode === 'p2p' ? { ...form, delivery: { kind: 'direct', chatId: action.chatId } } : form;
}

/** A form sent by direct message is answered with its closed look at once (the job then updates it for good). */
function closedDirectForm(form: TodoForm, outcome: 'submitting' | 'cancelled', lang: Language): Pick<CardActionAnswer, 'card'> {
  return form.delivery?.kind === 'direct' ? { card: { type: 'raw', data: closedFormCard({ outcome, lang }) } } : {};
}
