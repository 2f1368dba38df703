import type { ClockTime } from '../src/domain/group-settings';
import type { Todo } from '../src/domain/model';
import { type Language, t } from '../src/i18n';
import {
  type Card,
  type CardComponent,
  type Voice,
  buildCard,
  buttonRow,
  callbackButton,
  chatListSummary,
  groupVoice,
  markdown,
  mention,
  person,
  readerTime,
  typedText,
} from './parts';

/** What a card's snooze buttons need of the group: the time its "Tomorrow" means (`/settings`, 09:00 by default). */
export interface SnoozeChoices {
  tomorrowTime: ClockTime;
}

/**
 * The reminder posted as a reply to a to-do card when its time comes, in every language (the group reads it). It
 * mentions the assignees (or the creator when there are none), says when it was due if it comes late, and offers
 * Done, Snooze 1 h and Tomorrow at the group's time. `lang` fills the default `content`.
 */
export function reminderCard(p: { todo: Todo; dueAt: number; late: boolean; lang: Language; snooze: SnoozeChoices }): Card {
  const { todo } = p;
  const voice = groupVoice(p.lang);
  const people = remindedPeople(todo);
  const late = (lang: Language) => t(lang, 'reminder.late', { time: readerTime(p.dueAt, todo.timeZone, lang) });
  return buildCard({
    voice,
    title: 'reminder.title',
    template: 'orange',
    summary: chatListSummary('reminder.summary', todo.text),
    elements: [
      markdown((lang) => t(lang, 'reminder.mentions', { people }), voice),
      typedText(todo.text),
      ...(p.late ? [markdown(late, voice)] : []),
      ...buttonRow([
        callbackButton({ voice, text: 'button.done', type: 'primary', value: { action: 'todo.done', todoId: todo.id } }),
        ...snoozeButtons(todo.id, voice, p.snooze),
      ]),
    ],
  });
}

/** The people a reminder mentions: the assignees, or the creator when there are none. */
export function remindedPeople(todo: Todo): string {
  return (todo.assigneeIds.length > 0 ? todo.assigneeIds : [todo.creatorId]).map(mention).join(' ');
}

/**
 * Snooze 1 h and Tomorrow at the group's time (what the click sets, src/bot/card-actions.ts), on a reminder, a nudge
 * and a reminder that took over as the to-do's card.
 */
export function snoozeButtons(todoId: string, voice: Voice, choices: SnoozeChoices): CardComponent[] {
  const tomorrow = (lang: Language) => t(lang, 'button.tomorrow', { time: clockLabel(choices.tomorrowTime) });
  return [
    callbackButton({ voice, text: 'button.snooze', value: { action: 'todo.snooze', todoId } }),
    callbackButton({ voice, text: tomorrow, value: { action: 'todo.tomorrow', todoId } }),
  ];
}

/** `09:30` as people write it on a button: `9:30`. */
const clockLabel = (time: ClockTime) => time.replace(/^0(?=\d:)/, '');

/** The reminder once someone acted on it: what happened, by whom, and no buttons left to press. */
export function reminderHandledCard(p: { todo: Todo; outcome: 'done' | 'snoozed'; by: string; until?: number; timeZone?: string; lang: Language }): Card {
  const voice = groupVoice(p.lang);
  const by = person(p.by);
  const what = (lang: Language) =>
    p.outcome === 'done'
      ? t(lang, 'reminder.doneBy', { person: by })
      : t(lang, 'reminder.snoozedBy', { person: by, time: readerTime(p.until ?? 0, p.timeZone ?? p.todo.timeZone, lang) });
  return buildCard({
    voice,
    title: 'reminder.title',
    template: p.outcome === 'done' ? 'green' : 'grey',
    elements: [typedText(p.todo.text), markdown(what, voice)],
  });
}
