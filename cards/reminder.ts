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

/**
 * The reminder posted as a reply to a to-do card when its time comes, in every language (the group reads it). It
 * mentions the assignees (or the creator when there are none), says when it was due if it comes late, and offers
 * Done, Snooze 1 h and Tomorrow 9:00. `lang` fills the default `content`.
 */
export function reminderCard(p: { todo: Todo; dueAt: number; late: boolean; lang: Language }): Card {
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
        ...snoozeButtons(todo.id, voice),
      ]),
    ],
  });
}

/** The people a reminder mentions: the assignees, or the creator when there are none. */
export function remindedPeople(todo: Todo): string {
  return (todo.assigneeIds.length > 0 ? todo.assigneeIds : [todo.creatorId]).map(mention).join(' ');
}

/** Snooze 1 h and Tomorrow 9:00, on a reminder and on a reminder that took over as the to-do's card. */
export function snoozeButtons(todoId: string, voice: Voice): CardComponent[] {
  return [
    callbackButton({ voice, text: 'button.snooze', value: { action: 'todo.snooze', todoId } }),
    callbackButton({ voice, text: 'button.tomorrow', value: { action: 'todo.tomorrow', todoId } }),
  ];
}

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
