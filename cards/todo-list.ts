import { currentCard } from '../src/domain/current-card';
import { overdueSince } from '../src/domain/digest';
import type { MessageSource, Todo } from '../src/domain/model';
import { type Language, t } from '../src/i18n';
import { type Card, type CardParts, doneLine, fittingCard, formatInstant, markdown, oneLine, person, privateVoice, repeatLabel, typedText } from './parts';

/**
 * Enough to scan in a chat. A line is nine components, so twenty come near Feishu's 200; twenty of the longest (80
 * characters of emoji, a sender's name of 40) stay within its 30 KB. Should a card pass a limit all the same,
 * `fittingCard` shows the lines that fit and counts the rest.
 */
export const LIST_LIMIT = 20;

/**
 * `/todos`: the chat's open to-dos (or the asker's, the overdue ones, those of the people named), each with its next
 * reminder, or since when it is overdue, and the time of its current card (Feishu documents no link to one message,
 * so the line names it by when it was posted), in the asker's zone and language. Each line has its own Done, so a
 * to-do whose card has passed Feishu's 14 days (a to-do with no reminder to take over from it) is still closed here.
 */
export function todoListCard(p: { todos: Todo[]; mine: boolean; overdue?: boolean; people?: string[]; lang: Language; timeZone?: string; now: number }): Card {
  return fittingCard(Math.min(p.todos.length, LIST_LIMIT), (shown) => listParts(p, shown));
}

function listParts(p: Parameters<typeof todoListCard>[0], lineCount: number): CardParts {
  const { lang } = p;
  const voice = privateVoice(lang);
  const filtered = p.overdue === true || (p.people?.length ?? 0) > 0;
  const zone = (todo: Todo) => p.timeZone ?? todo.timeZone;
  const lines = p.todos.slice(0, lineCount).map((todo) => {
    const anchor = { at: todo.repeatAnchor ?? todo.remindAt ?? 0, timeZone: todo.timeZone };
    const repeat = todo.repeat && todo.repeat !== 'none' ? ` · ${repeatLabel(todo.repeat, lang, anchor)}` : '';
    const late = overdueSince(todo, p.now);
    const next =
      late !== undefined
        ? t(lang, 'list.overdueSince', { time: formatInstant(late, zone(todo), lang) })
        : todo.remindAt !== undefined
          ? `${t(lang, 'list.next', { time: formatInstant(todo.remindAt, zone(todo), lang) })}${repeat}`
          : t(lang, 'list.noReminder');
    const card = currentCard(todo);
    const detail = [
      next,
      ...(todo.source ? [fromMessage(todo.source, lang)] : []),
      ...(card ? [t(lang, 'list.card', { time: formatInstant(card.sentAt, zone(todo), lang) })] : []),
    ];
    return doneLine({ voice, text: oneLine(todo.text, 80), detail: () => detail.join('  ·  '), value: { action: 'todo.listDone', todoId: todo.id } });
  });
  const more = p.todos.length - lines.length;
  return {
    voice,
    title: p.mine ? (p.overdue ? 'list.titleMineOverdue' : 'list.titleMine') : p.overdue ? 'list.titleOverdue' : 'list.titleAll',
    template: 'blue',
    elements: [
      ...(p.people?.length ? [markdown((each) => t(each, 'list.for', { people: (p.people ?? []).map(person).join(' ') }), voice)] : []),
      ...(p.todos.length > 0 ? lines : [typedText(t(lang, filtered ? 'list.emptyFiltered' : p.mine ? 'list.emptyMine' : 'list.emptyAll'))]),
      ...(more > 0 ? [typedText(t(lang, 'list.more', { count: more }))] : []),
    ],
  };
}

/** Where a to-do made from a message came from: "from Bea Li's message", or "from a message" when no name is known. */
function fromMessage(source: MessageSource, lang: Language): string {
  return source.senderName !== undefined ? t(lang, 'list.fromMessage', { name: oneLine(source.senderName, 40) }) : t(lang, 'list.fromAMessage');
}
