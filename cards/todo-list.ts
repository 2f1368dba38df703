import { currentCard } from '../src/domain/current-card';
import { overdueSince } from '../src/domain/digest';
import type { MessageSource, Todo } from '../src/domain/model';
import { type Language, t } from '../src/i18n';
import { type Card, buildCard, formatInstant, markdown, oneLine, person, privateVoice, repeatLabel, typedText } from './parts';

/** Enough to scan in a chat; the card stays far below Feishu's size and component limits. */
export const LIST_LIMIT = 20;

/**
 * `/todos`: the chat's open to-dos (or the asker's, the overdue ones, those of the people named), each with its next
 * reminder, or since when it is overdue, and the time of its current card (the one Done acts on: Feishu documents no
 * link to one message, so the line names it by when it was posted), in the asker's zone and language.
 */
export function todoListCard(p: { todos: Todo[]; mine: boolean; overdue?: boolean; people?: string[]; lang: Language; timeZone?: string; now: number }): Card {
  const { lang } = p;
  const filtered = p.overdue === true || (p.people?.length ?? 0) > 0;
  const shown = p.todos.slice(0, LIST_LIMIT);
  const lines = shown.map((todo) => {
    const anchor = { at: todo.repeatAnchor ?? todo.remindAt ?? 0, timeZone: todo.timeZone };
    const repeat = todo.repeat && todo.repeat !== 'none' ? ` · ${repeatLabel(todo.repeat, lang, anchor)}` : '';
    const late = overdueSince(todo, p.now);
    const next =
      late !== undefined
        ? t(lang, 'list.overdueSince', { time: formatInstant(late, p.timeZone ?? todo.timeZone, lang) })
        : todo.remindAt !== undefined
          ? `${t(lang, 'list.next', { time: formatInstant(todo.remindAt, p.timeZone ?? todo.timeZone, lang) })}${repeat}`
          : t(lang, 'list.noReminder');
    const card = currentCard(todo);
    const where = card ? `  ·  ${t(lang, 'list.card', { time: formatInstant(card.sentAt, p.timeZone ?? todo.timeZone, lang) })}` : '';
    return `• ${oneLine(todo.text, 80)}  ·  ${next}${todo.source ? `  ·  ${fromMessage(todo.source, lang)}` : ''}${where}`;
  });
  if (p.todos.length > shown.length) lines.push(t(lang, 'list.more', { count: p.todos.length - shown.length }));
  const voice = privateVoice(lang);
  return buildCard({
    voice,
    title: p.mine ? (p.overdue ? 'list.titleMineOverdue' : 'list.titleMine') : p.overdue ? 'list.titleOverdue' : 'list.titleAll',
    template: 'blue',
    elements: [
      ...(p.people?.length ? [markdown((each) => t(each, 'list.for', { people: (p.people ?? []).map(person).join(' ') }), voice)] : []),
      // The to-dos' text as typed, so the whole list is plain text: nothing in it is markup.
      typedText(lines.length > 0 ? lines.join('\n') : t(lang, filtered ? 'list.emptyFiltered' : p.mine ? 'list.emptyMine' : 'list.emptyAll')),
    ],
  });
}

/** Where a to-do made from a message came from: "from Bea Li's message", or "from a message" when no name is known. */
function fromMessage(source: MessageSource, lang: Language): string {
  return source.senderName !== undefined ? t(lang, 'list.fromMessage', { name: oneLine(source.senderName, 40) }) : t(lang, 'list.fromAMessage');
}
