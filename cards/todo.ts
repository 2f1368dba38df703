import type { Todo, TodoStatus } from '../src/domain/model';
import { type Language, type MessageKey, t } from '../src/i18n';
import {
  type Card,
  type CardComponent,
  type HeaderTemplate,
  type TagColor,
  type Voice,
  buildCard,
  buttonRow,
  callbackButton,
  chatListSummary,
  escapeMarkdown,
  groupVoice,
  linkButton,
  markdown,
  mentionIfHere,
  person,
  readerTime,
  repeatLabel,
  typedText,
} from './parts';
import { type SnoozeChoices, remindedPeople, snoozeButtons } from './reminder';

type Phase = 'open' | 'done' | 'recalled';

/** A card for a to-do still being posted, or to be posted again, shows what it will look like once up. */
const PHASE: Record<TodoStatus, Phase> = {
  posting: 'open',
  open: 'open',
  post_failed: 'open',
  done: 'done',
  recalled: 'recalled',
};

const LOOK: Record<Phase, { label: MessageKey; template: HeaderTemplate; color: TagColor }> = {
  open: { label: 'todoCard.status.open', template: 'blue', color: 'blue' },
  done: { label: 'todoCard.status.done', template: 'green', color: 'green' },
  recalled: { label: 'todoCard.status.recalled', template: 'grey', color: 'neutral' },
};

function buttonsFor(phase: Phase, todoId: string, voice: Voice, asReminder: SnoozeChoices | undefined): CardComponent[] {
  switch (phase) {
    case 'open':
      return [
        callbackButton({ voice, text: 'button.done', type: 'primary', value: { action: 'todo.done', todoId } }),
        ...(asReminder ? snoozeButtons(todoId, voice, asReminder) : []),
      ];
    case 'done':
      return [callbackButton({ voice, text: 'button.reopen', value: { action: 'todo.reopen', todoId } })];
    case 'recalled':
      return [];
  }
}

/** "Open in Feishu Task", once the to-do's task exists and while it does. */
function taskLink(todo: Todo, phase: Phase, voice: Voice): CardComponent[] {
  const task = todo.task;
  if (!task || task.deletedThere === true || phase === 'recalled' || task.url === '') return [];
  return [linkButton({ voice, text: 'button.openInTask', url: task.url })];
}

/**
 * The card the whole group sees and acts on, in every language (each reader's client shows its own); `lang` fills
 * the default `content`. `timeZone` overrides the creator's zone for the times shown. `asReminder`: the card is a
 * reminder that took over from a card too old for Feishu to update (see src/domain/current-card.ts), so it also
 * mentions the people reminded and offers Snooze and Tomorrow (at the group's time it carries) while the to-do is open.
 */
export function todoCard(
  todo: Todo,
  p: { lang: Language; timeZone?: string; asReminder?: SnoozeChoices | undefined; left?: ReadonlySet<string> | undefined },
): Card {
  const { asReminder } = p;
  const phase = PHASE[todo.status];
  const look = LOOK[phase];
  const voice = groupVoice(p.lang);
  const timeZone = p.timeZone ?? todo.timeZone;
  const time = (ms: number, lang: Language) => readerTime(ms, timeZone, lang);
  const repeat = todo.repeat ?? 'none';
  const anchor = { at: todo.repeatAnchor ?? todo.remindAt ?? 0, timeZone: todo.timeZone };
  // Someone who left the group is named, not mentioned: a mention would reach them.
  const assignees = todo.assigneeIds.map((id) => mentionIfHere(id, p.left)).join(' ');

  const details = (lang: Language): string => {
    const lines: string[] = [];
    if (todo.remindAt !== undefined && phase === 'open') {
      const when = time(todo.remindAt, lang) + (repeat !== 'none' ? ` · ${escapeMarkdown(repeatLabel(repeat, lang, anchor))}` : '');
      lines.push(t(lang, 'todoCard.nextReminder', { time: when }));
    }
    lines.push(t(lang, 'todoCard.assignees', { people: assignees !== '' ? assignees : t(lang, 'todoCard.nobody') }));
    lines.push(t(lang, 'todoCard.createdBy', { person: person(todo.creatorId) }));
    if (phase === 'done' && todo.doneVia === 'feishu_task') {
      lines.push(todo.doneAt !== undefined ? t(lang, 'todoCard.doneInTaskAt', { time: time(todo.doneAt, lang) }) : t(lang, 'todoCard.doneInTask'));
    }
    if (todo.task?.deletedThere === true && phase !== 'recalled')
      lines.push(t(lang, phase === 'done' ? 'todoCard.deletedInTaskDone' : 'todoCard.deletedInTask'));
    if (phase === 'done' && todo.doneBy !== undefined) {
      lines.push(
        todo.doneAt !== undefined
          ? t(lang, 'todoCard.doneByAt', { person: person(todo.doneBy), time: time(todo.doneAt, lang) })
          : t(lang, 'todoCard.doneBy', { person: person(todo.doneBy) }),
      );
    }
    return lines.join('\n');
  };

  const reminded = asReminder && phase === 'open' ? [markdown((lang) => t(lang, 'reminder.mentions', { people: remindedPeople(todo, p.left) }), voice)] : [];

  return buildCard({
    voice,
    title: 'todoCard.title',
    template: look.template,
    statusTag: { text: look.label, color: look.color },
    summary: chatListSummary('todoCard.summary', todo.text),
    elements: [
      ...reminded,
      typedText(todo.text),
      { tag: 'hr' },
      markdown(details, voice),
      ...buttonRow([...buttonsFor(phase, todo.id, voice, asReminder), ...taskLink(todo, phase, voice)]),
    ],
  });
}
