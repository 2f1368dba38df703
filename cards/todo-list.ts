import type { MessageSource, Todo } from '../src/domain/model';
import { type Language, t } from '../src/i18n';
import { buildCard, formatInstant, oneLine, privateVoice, repeatLabel, type Card, typedText } from './parts';

/** Enough to scan in a chat; the card stays far below Feishu's size and component limits. */
export const LIST_LIMIT = 20;

/** `/todos`: the chat's open to-dos (or the asker's), each with its next reminder, in the asker's zone and language. */
export function todoListCard(p: { todos: Todo[]; mine: boolean; lang: Language; timeZone?: string }): Card {
  const { lang } = p;
  const shown = p.todos.slice(0, LIST_LIMIT);
  const lines = shown.map((todo) => {
    const anchor = { at: todo.repeatAnchor ?? todo.remindAt ?? 0, timeZone: todo.timeZone };
    const repeat = todo.repeat && todo.repeat !== 'none' ? ` · ${repeatLabel(todo.repeat, lang, anchor)}` : '';
    const next =
      todo.remindAt !== undefined
        ? `${t(lang, 'list.next', { time: formatInstant(todo.remindAt, p.timeZone ?? todo.timeZone, lang) })}${repeat}`
        : t(lang, 'list.noReminder');
    return `• ${oneLine(todo.text, 80)}  ·  ${next}${todo.source ? `  ·  ${fromMessage(todo.source, lang)}` : ''}`;
  });
  if (p.todos.length > shown.length) lines.push(t(lang, 'list.more', { count: p.todos.length - shown.length }));
  return buildCard({
    voice: privateVoice(lang),
    title: p.mine ? 'list.titleMine' : 'list.titleAll',
    template: 'blue',
    // The to-dos' text as typed, so the whole list is plain text: nothing in it is markup.
    elements: [typedText(lines.length > 0 ? lines.join('\n') : t(lang, p.mine ? 'list.emptyMine' : 'list.emptyAll'))],
  });
}

/** Where a to-do made from a message came from: "from Bea Li's message", or "from a message" when no name is known. */
function fromMessage(source: MessageSource, lang: Language): string {
  return source.senderName !== undefined ? t(lang, 'list.fromMessage', { name: oneLine(source.senderName, 40) }) : t(lang, 'list.fromAMessage');
}
