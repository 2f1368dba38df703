import type { Todo } from '../src/domain/model';
import { type Language, t } from '../src/i18n';
import { type Card, buildCard, buttonRow, callbackButton, chatListSummary, escapeMarkdown, formatInstant, groupVoice, markdown, typedText } from './parts';
import { type SnoozeChoices, remindedPeople, snoozeButtons } from './reminder';

/**
 * A nudge for an overdue to-do, posted as a reply to its current card, in every language (the group reads it): it
 * mentions the people the to-do is for (the creator when nobody is assigned), says since when it is due, and offers
 * Done and Snooze. `zone` is the group's, where the time is shown.
 */
export function nudgeCard(p: {
  todo: Todo;
  overdueSince: number;
  zone: string;
  lang: Language;
  snooze: SnoozeChoices;
  left?: ReadonlySet<string> | undefined;
}): Card {
  const { todo } = p;
  const voice = groupVoice(p.lang);
  const people = remindedPeople(todo, p.left);
  return buildCard({
    voice,
    title: 'nudge.title',
    template: 'red',
    summary: chatListSummary('nudge.summary', todo.text),
    elements: [
      markdown((lang) => t(lang, 'nudge.mentions', { people }), voice),
      typedText(todo.text),
      markdown((lang) => t(lang, 'nudge.since', { time: escapeMarkdown(formatInstant(p.overdueSince, p.zone, lang)) }), voice, { text_size: 'notation' }),
      ...buttonRow([
        callbackButton({ voice, text: 'button.done', type: 'primary', value: { action: 'todo.done', todoId: todo.id, on: 'nudge' } }),
        ...snoozeButtons(todo.id, voice, p.snooze, 'nudge'),
      ]),
    ],
  });
}
