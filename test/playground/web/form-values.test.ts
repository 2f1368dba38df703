import { describe, expect, it } from 'vitest';
import { type FormField, collectFormValue, formFields } from '../../../playground/web/card/form-values';

/** What a form's submit sends, computed from the form's fields and what the controls hold. */

const fields: FormField[] = [
  { name: 'text', tag: 'input', required: true },
  { name: 'when', tag: 'picker_datetime', required: false },
  { name: 'day', tag: 'date_picker', required: false },
  { name: 'at', tag: 'picker_time', required: false },
  { name: 'who', tag: 'multi_select_person', required: false },
  { name: 'one', tag: 'select_person', required: false },
  { name: 'ok', tag: 'checker', required: false },
];
const JULY = Date.UTC(2026, 6, 1, 12);

describe('collectFormValue', () => {
  it("formats pickers with the reader's offset at the picked time, and keeps person ids as they are", () => {
    const raw: Record<string, string | boolean | string[]> = {
      text: 'x',
      when: '2026-12-01T09:00',
      day: '2026-07-04',
      at: '18:30',
      who: ['ou_a', 'ou_b'],
      one: 'ou_c',
      ok: true,
    };
    const collected = collectFormValue(fields, (f) => raw[f.name] ?? '', { timeZone: 'America/New_York', now: JULY });
    expect(collected).toEqual({
      ok: true,
      formValue: { text: 'x', when: '2026-12-01 09:00 -0500', day: '2026-07-04 -0400', at: '18:30 -0400', who: ['ou_a', 'ou_b'], one: 'ou_c', ok: true },
    });
  });

  it('sends an empty input as "" and leaves other empty fields out', () => {
    const relaxed = fields.map((f) => ({ ...f, required: false }));
    const collected = collectFormValue(relaxed, (f) => (f.tag === 'multi_select_person' ? [] : f.tag === 'checker' ? false : ''), {
      timeZone: 'Asia/Shanghai',
      now: JULY,
    });
    expect(collected).toEqual({ ok: true, formValue: { text: '', ok: false } });
  });

  it('names every required field left empty', () => {
    const required = fields.map((f) => ({ ...f, required: true }));
    const raw = (f: FormField) => (f.name === 'one' ? 'ou_c' : f.tag === 'multi_select_person' ? [] : f.tag === 'checker' ? false : '');
    const collected = collectFormValue(required, raw, { timeZone: 'UTC', now: JULY });
    expect(collected).toEqual({ ok: false, missing: ['text', 'when', 'day', 'at', 'who'] });
  });
});

describe('formFields', () => {
  it('finds the named fields of a form, also inside its columns, and not its buttons', () => {
    const form = {
      tag: 'form',
      name: 'f',
      elements: [
        { tag: 'input', name: 'a', required: true },
        { tag: 'column_set', columns: [{ tag: 'column', elements: [{ tag: 'select_static', name: 'b' }, { tag: 'input' }] }] },
        { tag: 'button', name: 'submit', form_action_type: 'submit' },
      ],
    };
    expect(formFields(form)).toEqual([
      { name: 'a', tag: 'input', required: true },
      { name: 'b', tag: 'select_static', required: false },
    ]);
  });
});
