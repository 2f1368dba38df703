import { type Json, isObject } from './i18n';

/**
 * What Feishu's client sends when a form's submit button is clicked: one `form_value` holding every named field
 * (feishu-cards.md §4): input → string; `picker_datetime` → `yyyy-MM-dd HH:mm +0800`; `date_picker` →
 * `yyyy-MM-dd +0800`; `picker_time` → `HH:mm +0800`; person pickers → open_ids (multi → array). Required fields are
 * checked first, by the client: one empty and nothing is sent.
 */

export const FIELD_TAGS = new Set([
  'input',
  'picker_datetime',
  'date_picker',
  'picker_time',
  'select_static',
  'multi_select_static',
  'select_person',
  'multi_select_person',
  'checker',
]);

export interface FormField {
  name: string;
  tag: string;
  required: boolean;
}

/** Every named field in a form, also those inside its columns. */
export function formFields(form: Json): FormField[] {
  const fields: FormField[] = [];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!isObject(node)) return;
    if (typeof node.tag === 'string' && FIELD_TAGS.has(node.tag) && typeof node.name === 'string' && node.name !== '') {
      fields.push({ name: node.name, tag: node.tag, required: node.required === true });
      return;
    }
    visit(node.elements);
    visit(node.columns);
  };
  visit(form.elements);
  return fields;
}

/** A field as the page's controls hold it: `yyyy-MM-ddTHH:mm` for a date-time control, the ticked values of a multi. */
export type RawValue = string | boolean | string[];

export type Collected = { ok: true; formValue: Record<string, unknown> } | { ok: false; missing: string[] };

/** `now` is the reader's clock, which fixes the offset a time picker's value is sent with. */
export function collectFormValue(fields: FormField[], raw: (field: FormField) => RawValue, at: { timeZone: string; now: number }): Collected {
  const formValue: Record<string, unknown> = {};
  const missing: string[] = [];
  for (const field of fields) {
    const value = raw(field);
    const empty = value === '' || (Array.isArray(value) && value.length === 0);
    if (empty && field.required) missing.push(field.name);
    // An empty input is sent as ""; other empty fields are left out (what Feishu sends for them is not documented).
    if (empty && field.tag !== 'input') continue;
    formValue[field.name] = typeof value === 'string' ? formatted(field.tag, value, at) : value;
  }
  return missing.length > 0 ? { ok: false, missing } : { ok: true, formValue };
}

function formatted(tag: string, value: string, at: { timeZone: string; now: number }): string {
  switch (tag) {
    case 'picker_datetime': {
      const [date = '', time = ''] = value.split('T');
      return `${date} ${time.slice(0, 5)} ${offsetLabel(offsetAtWallClock(`${date}T${time.slice(0, 5)}`, at.timeZone))}`;
    }
    case 'date_picker':
      return `${value} ${offsetLabel(offsetAtWallClock(`${value}T12:00`, at.timeZone))}`;
    case 'picker_time':
      return `${value.slice(0, 5)} ${offsetLabel(offsetMinutes(at.now, at.timeZone))}`;
    default:
      return value;
  }
}

/** The zone's offset (minutes) at a wall-clock time `yyyy-MM-ddTHH:mm` there. */
function offsetAtWallClock(wallClock: string, timeZone: string): number {
  const wall = Date.parse(`${wallClock}:00Z`);
  // The offset at the wall time read as UTC is right except within hours of a DST change; a second look fixes that.
  return offsetMinutes(wall - offsetMinutes(wall, timeZone) * 60_000, timeZone);
}

/** As Feishu writes an offset: `+0800`. */
function offsetLabel(minutes: number): string {
  const abs = Math.abs(minutes);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${minutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}

function offsetMinutes(instant: number, timeZone: string): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
    .formatToParts(instant)
    .find((part) => part.type === 'timeZoneName')?.value;
  const match = /GMT([+-])(\d{2}):?(\d{2})?/.exec(name ?? '');
  if (!match) return 0;
  return (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3] ?? 0));
}
