// @vitest-environment happy-dom
import { act } from 'preact/test-utils';
import { describe, expect, it } from 'vitest';
import { reminderCard } from '../../../cards/reminder';
import { todoCard } from '../../../cards/todo';
import { todoFormCard } from '../../../cards/todo-form';
import { RECORD_VERSION, type Todo } from '../../../src/domain/model';
import { formButtonName } from '../../../src/domain/todo-form';
import { context, draw } from './draw';

/** The bot's own cards, drawn and used as a person would: the form's fields, its Submit, the to-do card's text. */

const form = () => todoFormCard({ formId: 'form_1', draftText: 'Ship the release notes', lang: 'en_us' });
const text = (el: Element | null | undefined) => el?.textContent ?? '';
/** A card 2.0 holding one form (named `f`) of these elements. */
const cardWithForm = (elements: object[]) => ({ schema: '2.0', body: { elements: [{ tag: 'form', name: 'f', elements }] } });

/** A control and the visible label it sits in (its accessible name). */
function labelled(root: HTMLElement, label: string): HTMLInputElement {
  const found = [...root.querySelectorAll('label.field')].find((l) => text(l.querySelector('.field-label')).replace(' *', '') === label);
  const control = found?.querySelector('input, textarea, select');
  if (!control) throw new Error(`no control labelled ${label}`);
  return control as HTMLInputElement;
}

function button(root: HTMLElement, name: string): HTMLButtonElement {
  const found = [...root.querySelectorAll('button')].find((b) => text(b) === name);
  if (!found) throw new Error(`no button ${name}`);
  return found;
}

/** Clicks and lets the async handler and preact's re-render finish. */
async function click(el: HTMLElement) {
  await act(async () => {
    el.click();
  });
}

function assigneeBox(root: HTMLElement, name: string): HTMLInputElement {
  const group = root.querySelector('fieldset');
  expect(text(group?.querySelector('legend'))).toBe('Assignees (optional)');
  const chip = [...(group?.querySelectorAll('label') ?? [])].find((l) => text(l) === name);
  return chip?.querySelector('input') as HTMLInputElement;
}

describe('the form card', () => {
  it('draws every field with its label, default and choices', () => {
    const el = draw(form());
    expect(el.querySelector('article')?.getAttribute('aria-label')).toBe('New to-do');
    const what = labelled(el, 'What needs doing');
    expect(what.tagName).toBe('TEXTAREA');
    expect(what.value).toBe('Ship the release notes');
    // The bot checks it, not the client: the client's check would stop Cancel too.
    expect(what.getAttribute('aria-required')).toBeNull();
    expect(labelled(el, 'Remind at (optional)').type).toBe('datetime-local');
    const repeat = labelled(el, 'Repeat') as unknown as HTMLSelectElement;
    expect(repeat.value).toBe('none');
    expect([...repeat.options].map((o) => o.textContent)).toEqual(['Repeat', 'Does not repeat', 'Every day', 'Every workday (Mon–Fri)', 'Every week']);
    expect(assigneeBox(el, 'Bea Li').value).toBe('ou_bea');
    expect(text(el.querySelector('.size-notation'))).toBe('Only you can see this form. Submit posts the to-do to the group.');
  });

  it('sends one callback on Submit with every field, formatted as Feishu formats them', async () => {
    const ctx = context();
    const el = draw(form(), ctx);
    labelled(el, 'What needs doing').value = 'Ship it';
    labelled(el, 'Remind at (optional)').value = '2026-11-24T09:30';
    labelled(el, 'Repeat').value = 'daily';
    assigneeBox(el, 'Bea Li').checked = true;
    await click(button(el, 'Submit'));
    expect(ctx.clicks).toEqual([
      {
        tag: 'button',
        name: formButtonName('submit', 'form_1'),
        value: { action: 'todo.submit', formId: 'form_1' },
        formValue: { todo_text: 'Ship it', remind_at: '2026-11-24 09:30 +0800', repeat: 'daily', assignees: ['ou_bea'] },
      },
    ]);
  });

  it('checks required fields in the client first: an empty one shows a toast, is marked, and nothing is sent', async () => {
    const card = cardWithForm([
      { tag: 'input', name: 'a', required: true, label: { tag: 'plain_text', content: 'A' } },
      { tag: 'button', name: 'go', form_action_type: 'submit', text: { tag: 'plain_text', content: 'Go' } },
    ]);
    const ctx = context({ lang: 'zh_cn' });
    const el = draw(card, ctx);
    await click(button(el, 'Go'));
    expect(ctx.clicks).toEqual([]);
    expect(ctx.toasts).toEqual([{ type: 'error', content: '有必填项未填写' }]);
    expect(labelled(el, 'A').getAttribute('aria-invalid')).toBe('true');

    labelled(el, 'A').value = 'Now filled';
    await click(button(el, 'Go'));
    expect(ctx.clicks).toHaveLength(1);
    expect(labelled(el, 'A').getAttribute('aria-invalid')).toBeNull();
  });

  it('draws Submit and Cancel side by side; Cancel sends its name, value and the fields as they stand, even empty', async () => {
    const ctx = context();
    const el = draw(form(), ctx);
    const row = el.querySelector('form .column-set.flow');
    expect([...(row?.querySelectorAll('.column.auto button') ?? [])].map(text)).toEqual(['Submit', 'Cancel']);
    labelled(el, 'What needs doing').value = '';
    await click(button(el, 'Cancel'));
    expect(ctx.toasts).toEqual([]);
    expect(ctx.clicks).toEqual([
      {
        tag: 'button',
        name: formButtonName('cancel', 'form_1'),
        value: { action: 'todo.cancel', formId: 'form_1' },
        formValue: { todo_text: '', repeat: 'none' },
      },
    ]);
  });

  it('keeps a button disabled until its answer is applied', async () => {
    let answer: () => void = () => {};
    const ctx = context({ act: () => new Promise<void>((resolve) => (answer = resolve)) });
    const el = draw(form(), ctx);
    await click(button(el, 'Cancel'));
    expect(button(el, 'Cancel').disabled).toBe(true);
    await act(async () => answer());
    expect(button(el, 'Cancel').disabled).toBe(false);
  });

  it('restores the initial values on a reset button', async () => {
    const card = cardWithForm([
      { tag: 'input', name: 'a', default_value: 'start', label: { tag: 'plain_text', content: 'A' } },
      { tag: 'button', name: 'reset', form_action_type: 'reset', text: { tag: 'plain_text', content: 'Reset' } },
    ]);
    const ctx = context();
    const el = draw(card, ctx);
    labelled(el, 'A').value = 'changed';
    await click(button(el, 'Reset'));
    expect(labelled(el, 'A').value).toBe('start');
    expect(ctx.clicks).toEqual([]);
  });
});

describe('the to-do and reminder cards', () => {
  const todo: Todo = {
    v: RECORD_VERSION,
    id: 'todo_1',
    formId: 'form_1',
    chatId: 'oc_release_squad',
    creatorId: 'ou_alex',
    text: 'Ship <at id=all></at> [notes](https://x.example) *now* & done',
    remindAt: Date.UTC(2026, 10, 24, 1, 30),
    timeZone: 'Asia/Shanghai',
    assigneeIds: ['ou_bea'],
    status: 'open',
    createdAt: 0,
    updatedAt: 0,
  };

  it('draws a reminder that took over as the card with Done, Snooze and Tomorrow side by side in one row', () => {
    const el = draw(todoCard(todo, { lang: 'en_us', asReminder: { tomorrowTime: '09:00' } }));
    const row = el.querySelector('.column-set.flow');
    expect([...(row?.querySelectorAll('.column.auto button') ?? [])].map(text)).toEqual(['Done', 'Snooze 1 h', 'Tomorrow 9:00']);
  });

  it("shows the to-do's text exactly as typed, the assignees as mentions and the creator by name", () => {
    const el = draw(todoCard(todo, { lang: 'en_us' }));
    const [typed, , details] = el.querySelectorAll('.card-body > *');
    expect(text(typed)).toBe(todo.text);
    expect(typed?.querySelectorAll('.mention, a, em')).toHaveLength(0);
    // The reader's own time, drawn from <local_datetime>, then the creator's-zone text.
    expect(text(details)).toContain('Next reminder: 24 Nov 09:30 / Tue 24 Nov, 09:30 (Asia/Shanghai)');
    expect([...(details?.querySelectorAll('.mention') ?? [])].map(text)).toEqual(['@Bea Li']);
    expect(text(details?.querySelector('.person'))).toBe('Alex Chen');
    expect(text(el.querySelector('.text-tag'))).toBe('Open');
    expect(text(el.querySelector('button'))).toBe('Done');
  });

  it('names a reminder by its header and quotes it by its summary', async () => {
    const ctx = context();
    const el = draw(reminderCard({ todo, dueAt: todo.remindAt ?? 0, late: false, lang: 'en_us', snooze: { tomorrowTime: '09:00' } }), ctx);
    expect(el.querySelector('article')?.getAttribute('aria-label')).toBe('Reminder');
    expect([...el.querySelectorAll('button')].map(text)).toEqual(['Done', 'Snooze 1 h', 'Tomorrow 9:00']);
    await click(button(el, 'Snooze 1 h'));
    expect(ctx.clicks).toEqual([{ tag: 'button', value: { action: 'todo.snooze', todoId: 'todo_1' } }]);
  });
});
