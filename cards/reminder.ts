import { peopleOf } from '../src/domain/digest';
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
  mentionIfHere,
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
export function reminderCard(p: {
  todo: Todo;
  dueAt: number;
  late: boolean;
  lang: Language;
  snooze: SnoozeChoices;
  left?: ReadonlySet<string> | undefined;
}): Card {
  const { todo } = p;
  const voice = groupVoice(p.lang);
  const people = remindedPeople(todo, p.left);
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

/**
 * The people a reminder mentions: the assignees still in the chat (`left`: who left it), else the creator, named
 * without a mention if they left too.
 */
export function remindedPeople(todo: Todo, left?: ReadonlySet<string>): string {
  return peopleOf(todo, left)
    .map((id) => mentionIfHere(id, left))
    .join(' ');
}

/**
 * Snooze 1 h and Tomorrow at the group's time (what the click sets, src/bot/card-actions.ts), on a reminder, a nudge
 * and a reminder that took over as the to-do's card.
 */
export function snoozeButtons(todoId: string, voice: Voice, choices: SnoozeChoices, on?: 'nudge'): CardComponent[] {
  const tomorrow = (lang: Language) => t(lang, 'button.tomorrow', { time: clockLabel(choices.tomorrowTime) });
  return [
    callbackButton({ voice, text: 'button.snooze', value: { action: 'todo.snooze', todoId, ...(on && { on }) } }),
    callbackButton({ voice, text: tomorrow, value: { action: 'todo.tomorrow', todoId, ...(on && { on }) } }),
  ];
}

/** `09:30` as people write it on a button: `9:30`. */
const clockLabel = (time: ClockTime) => time.replace(/^0(?=\d:)/, '');

/**
 * A reminder or an overdue nudge (`nudge`) once someone acted on it, or once a click found its to-do closed
 * elsewhere (`closed`: done on its card, in the digest or in Feishu Task, or recalled): what happened, by whom, and
 * no buttons left to press.
 */
export function reminderHandledCard(
  p: { todo: Todo; lang: Language; nudge?: boolean } & (
    | { outcome: 'done'; by: string }
    | { outcome: 'snoozed'; by: string; until: number; timeZone?: string }
    | { outcome: 'closed' }
  ),
): Card {
  const voice = groupVoice(p.lang);
  const what = (lang: Language): string => {
    switch (p.outcome) {
      case 'done':
        return t(lang, 'reminder.doneBy', { person: person(p.by) });
      case 'snoozed':
        return t(lang, 'reminder.snoozedBy', { person: person(p.by), time: readerTime(p.until, p.timeZone ?? p.todo.timeZone, lang) });
      case 'closed':
        if (p.todo.status === 'recalled') return t(lang, 'toast.recalled');
        if (p.todo.status !== 'done') return t(lang, 'toast.notSnoozable');
        if (p.todo.doneBy !== undefined) return t(lang, 'reminder.doneBy', { person: person(p.todo.doneBy) });
        return t(lang, p.todo.doneVia === 'feishu_task' ? 'todoCard.doneInTask' : 'toast.alreadyDone');
    }
  };
  const done = p.outcome === 'done' || (p.outcome === 'closed' && p.todo.status === 'done');
  return buildCard({
    voice,
    title: p.nudge ? 'nudge.title' : 'reminder.title',
    template: done ? 'green' : 'grey',
    elements: [typedText(p.todo.text), markdown(what, voice)],
  });
}
