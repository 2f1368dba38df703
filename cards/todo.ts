import type { Todo, TodoStatus } from '../src/domain/model';
import {
  REPEAT_LABEL,
  buildCard,
  callbackButton,
  chatListSummary,
  escapeMarkdown,
  formatInstant,
  mention,
  person,
  type Card,
  type CardComponent,
  type HeaderTemplate,
  type TagColor,
  typedText,
} from './parts';

type Phase = 'open' | 'done' | 'recalled';

/** A card for a to-do still being posted, or to be posted again, shows what it will look like once up. */
const PHASE: Record<TodoStatus, Phase> = {
  posting: 'open',
  open: 'open',
  post_failed: 'open',
  done: 'done',
  recalled: 'recalled',
};

const LOOK: Record<Phase, { label: string; template: HeaderTemplate; color: TagColor }> = {
  open: { label: 'Open', template: 'blue', color: 'blue' },
  done: { label: 'Done', template: 'green', color: 'green' },
  recalled: { label: 'Recalled', template: 'grey', color: 'neutral' },
};


function buttonsFor(phase: Phase, todoId: string): CardComponent[] {
  switch (phase) {
    case 'open':
      return [callbackButton({ text: 'Done', type: 'primary', value: { action: 'todo.done', todoId } })];
    case 'done':
      return [callbackButton({ text: 'Reopen', value: { action: 'todo.reopen', todoId } })];
    case 'recalled':
      return [];
  }
}

/** The card the whole group sees and acts on. `timeZone` overrides the creator's zone for the times shown. */
export function todoCard(todo: Todo, p: { timeZone?: string } = {}): Card {
  const phase = PHASE[todo.status];
  const look = LOOK[phase];
  const timeZone = p.timeZone ?? todo.timeZone;
  const time = (ms: number) => escapeMarkdown(formatInstant(ms, timeZone));

  const details: string[] = [];
  const repeat = todo.repeat ?? 'none';
  if (todo.remindAt !== undefined && phase === 'open') {
    details.push(`**Next reminder:** ${time(todo.remindAt)}${repeat !== 'none' ? ` · ${REPEAT_LABEL[repeat]}` : ''}`);
  }
  details.push(`**Assignees:** ${todo.assigneeIds.length > 0 ? todo.assigneeIds.map(mention).join(' ') : 'nobody yet'}`);
  details.push(`**Created by:** ${person(todo.creatorId)}`);
  if (phase === 'done' && todo.doneBy !== undefined) {
    details.push(`**Done by:** ${person(todo.doneBy)}${todo.doneAt !== undefined ? ` at ${time(todo.doneAt)}` : ''}`);
  }

  return buildCard({
    title: 'To-do',
    template: look.template,
    statusTag: { text: look.label, color: look.color },
    summary: chatListSummary('To-do', todo.text),
    elements: [
      typedText(todo.text),
      { tag: 'hr' },
      { tag: 'markdown', content: details.join('\n') },
      ...buttonsFor(phase, todo.id),
    ],
  });
}
