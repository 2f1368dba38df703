import type { Todo } from '../src/domain/model';
import { REPEAT_LABEL, buildCard, formatInstant, oneLine, type Card, typedText } from './parts';

/** Enough to scan in a chat; the card stays far below Feishu's size and component limits. */
export const LIST_LIMIT = 20;

/** `/todos`: the chat's open to-dos (or the asker's), each with its next reminder, in the asker's zone. */
export function todoListCard(p: { todos: Todo[]; mine: boolean; timeZone?: string }): Card {
  const shown = p.todos.slice(0, LIST_LIMIT);
  const lines = shown.map((todo) => {
    const repeat = todo.repeat && todo.repeat !== 'none' ? ` · ${REPEAT_LABEL[todo.repeat]}` : '';
    const next = todo.remindAt !== undefined ? `next reminder ${formatInstant(todo.remindAt, p.timeZone ?? todo.timeZone)}${repeat}` : 'no reminder';
    return `• ${oneLine(todo.text, 80)}  ·  ${next}`;
  });
  if (p.todos.length > shown.length) lines.push(`…and ${p.todos.length - shown.length} more.`);
  const empty = p.mine ? 'Nothing is assigned to you here. 🎉' : 'This chat has no open to-dos.';
  return buildCard({
    title: p.mine ? 'Your open to-dos' : 'Open to-dos in this chat',
    template: 'blue',
    // The to-dos' text as typed, so the whole list is plain text: nothing in it is markup.
    elements: [typedText(lines.length > 0 ? lines.join('\n') : empty)],
  });
}
