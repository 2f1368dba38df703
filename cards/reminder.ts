import type { Todo } from '../src/domain/model';
import { buildCard, callbackButton, chatListSummary, escapeMarkdown, formatInstant, mention, person, type Card, typedText } from './parts';

/**
 * The reminder posted as a reply to a to-do card when its time comes. It mentions the assignees (or the creator
 * when there are none), says when it was due if it comes late, and offers Done, Snooze 1 h and Tomorrow 9:00.
 */
export function reminderCard(p: { todo: Todo; dueAt: number; late: boolean }): Card {
  const { todo } = p;
  const people = todo.assigneeIds.length > 0 ? todo.assigneeIds : [todo.creatorId];
  const late = `*Late: this was due ${escapeMarkdown(formatInstant(p.dueAt, todo.timeZone))}; I was not running then.*`;
  return buildCard({
    title: 'Reminder',
    template: 'orange',
    summary: chatListSummary('Reminder', todo.text),
    elements: [
      { tag: 'markdown', content: `${people.map(mention).join(' ')} reminder:` },
      typedText(todo.text),
      ...(p.late ? [{ tag: 'markdown', content: late }] : []),
      callbackButton({ text: 'Done', type: 'primary', value: { action: 'todo.done', todoId: todo.id } }),
      callbackButton({ text: 'Snooze 1 h', value: { action: 'todo.snooze', todoId: todo.id } }),
      callbackButton({ text: 'Tomorrow 9:00', value: { action: 'todo.tomorrow', todoId: todo.id } }),
    ],
  });
}

/** The reminder once someone acted on it: what happened, by whom, and no buttons left to press. */
export function reminderHandledCard(p: { todo: Todo; outcome: 'done' | 'snoozed'; by: string; until?: number; timeZone?: string }): Card {
  const what =
    p.outcome === 'done'
      ? `Marked done by ${person(p.by)}.`
      : `Snoozed by ${person(p.by)} until ${escapeMarkdown(formatInstant(p.until ?? 0, p.timeZone ?? p.todo.timeZone))}.`;
  return buildCard({
    title: 'Reminder',
    template: p.outcome === 'done' ? 'green' : 'grey',
    elements: [typedText(p.todo.text), { tag: 'markdown', content: what }],
  });
}
