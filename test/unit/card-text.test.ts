import { describe, expect, it } from 'vitest';
import { noticeCard } from '../../cards/notice';
import { todoCard } from '../../cards/todo';
import { todoFormCard } from '../../cards/todo-form';
import { ANSI, PLAIN, cardToText, decodeEntities, styleFor } from '../../scripts/card-text';
import { RECORD_VERSION, type Todo } from '../../src/domain/model';

const names: Record<string, string> = { ou_alice: 'Alice', ou_bob: 'Bob', ou_admin: 'Ada' };
const name = (id: string) => names[id] ?? id;

const todo: Todo = {
  v: RECORD_VERSION,
  id: 'todo_1',
  formId: 'form_1',
  chatId: 'oc_group',
  creatorId: 'ou_admin',
  text: 'Ship it: notes (v1.2) <at id=all></at> **now**',
  assigneeIds: ['ou_alice', 'ou_bob'],
  status: 'open',
  remindAt: Date.UTC(2026, 10, 24, 1, 0),
  timeZone: 'Asia/Shanghai',
  createdAt: 0,
  updatedAt: 0,
} as Todo;

describe('the terminal card renderer', () => {
  it('shows a to-do card as a person reads it: entities decoded, mentions as @names, typed markup as text, buttons', () => {
    const lines = cardToText(todoCard(todo, { lang: 'en_us' }), { name });
    expect(lines).toEqual([
      '╭─ To-do · Open',
      '│ Ship it: notes (v1.2) <at id=all></at> **now**',
      `│ ${'─'.repeat(24)}`,
      '│ Next reminder: Tue 24 Nov, 09:00 (Asia/Shanghai)',
      '│ Assignees: @Alice @Bob',
      '│ Created by: Ada',
      '│ [Done]',
      '╰─',
    ]);
    expect(lines.join('\n')).not.toContain('&#');
    expect(lines.join('\n')).not.toContain('\u001b');
  });

  it('shows a row of buttons on one line, as Feishu sets them side by side', () => {
    expect(cardToText(todoCard(todo, { lang: 'en_us', asReminder: { tomorrowTime: '09:00' } }), { name }).at(-2)).toBe('│ [Done] [Snooze 1 h] [Tomorrow 9:00]');
  });

  it('shows a form with its fields, and a notice’s plain text', () => {
    const form = cardToText(todoFormCard({ formId: 'f', draftText: 'Buy milk', lang: 'en_us' }), { name }).join('\n');
    expect(form).toContain('What needs doing: [ Buy milk ]');
    expect(form).toContain('[ Does not repeat ▾ ]');
    expect(form).toContain('[Submit] [Cancel]');
    expect(cardToText(noticeCard({ text: 'Only admins <b>', tone: 'warning', lang: 'en_us' }), { name })[1]).toBe('│ Only admins <b>');
  });

  it('colours only for a terminal without NO_COLOR', () => {
    expect(styleFor({ isTTY: true }, {})).toBe(ANSI);
    expect(styleFor({ isTTY: true }, { NO_COLOR: '1' })).toBe(PLAIN);
    expect(styleFor({ isTTY: false }, {})).toBe(PLAIN);
    expect(cardToText(todoCard(todo, { lang: 'en_us' }), { name, style: ANSI })[0]).toContain('\x1b[1;34m');
  });

  it('decodes numeric and named entities', () => {
    expect(decodeEntities('04&#58;42 &#40;Asia/Shanghai&#41; &sim; &#x41;&amp;')).toBe('04:42 (Asia/Shanghai) ~ A&');
  });
});
