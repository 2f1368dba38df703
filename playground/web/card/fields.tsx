import type { ComponentChild } from 'preact';
import { useState } from 'preact/hooks';
import { clientText } from '../client-text';
import type { CardContext } from './context';
import { type FormField, type RawValue, collectFormValue, formFields } from './form-values';
import { type Json, isObject, localContent, localDefaultValue } from './i18n';

/**
 * A form's fields and the card's buttons, behaving as in Feishu's client: fields keep what is typed locally; a
 * submit button checks the required fields, then sends one callback with every field's value; a button outside a
 * form sends its `behaviors` callback value. A button waits, disabled, until the bot's answer is applied.
 */

/** The form a field or button sits in: its JSON, and which required fields the last submit found empty. */
export interface FormScope {
  form: Json;
  missing: readonly string[];
  setMissing(names: string[]): void;
}

export function CardForm(p: { form: Json; ctx: CardContext; children: (scope: FormScope) => ComponentChild }) {
  const [missing, setMissing] = useState<string[]>([]);
  return (
    <form class="card-form" name={typeof p.form.name === 'string' ? p.form.name : undefined} noValidate onSubmit={(e) => e.preventDefault()}>
      {p.children({ form: p.form, missing, setMissing })}
    </form>
  );
}

const text = (node: unknown, ctx: CardContext) => localContent(node, ctx.lang);
const nameOf = (el: Json) => (typeof el.name === 'string' ? el.name : undefined);

/** A field's visible label: its `label`, else its placeholder; a red star when required. */
function Labelled(p: { el: Json; ctx: CardContext; scope: FormScope | undefined; children: ComponentChild }) {
  const caption = text(p.el.label, p.ctx) || text(p.el.placeholder, p.ctx);
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the control is one of `children`, which the rule cannot see
    <label class="field">
      <span class="field-label">
        {caption}
        {p.el.required === true && p.scope && (
          <span class="required-star" aria-hidden="true">
            {' *'}
          </span>
        )}
      </span>
      {p.children}
    </label>
  );
}

/** Attributes every form control shares. */
function controlProps(el: Json, scope: FormScope | undefined) {
  const name = nameOf(el);
  const invalid = name !== undefined && scope?.missing.includes(name) === true;
  return {
    name,
    disabled: el.disabled === true,
    'aria-required': el.required === true && scope ? true : undefined,
    'aria-invalid': invalid ? true : undefined,
    class: invalid ? 'control invalid' : 'control',
  };
}

export function InputField(p: { el: Json; ctx: CardContext; scope: FormScope | undefined }) {
  const { el, ctx } = p;
  const common = { ...controlProps(el, p.scope), placeholder: text(el.placeholder, ctx) || undefined, defaultValue: localDefaultValue(el, ctx.lang) };
  const maxLength = typeof el.max_length === 'number' ? el.max_length : undefined;
  const control =
    el.input_type === 'multiline_text' ? (
      <textarea {...common} maxLength={maxLength} rows={typeof el.rows === 'number' ? Math.min(el.rows, 10) : 3} />
    ) : el.input_type === 'password' ? (
      <input {...common} type="password" maxLength={maxLength} />
    ) : (
      <input {...common} type="text" maxLength={maxLength} />
    );
  return <Labelled {...p}>{control}</Labelled>;
}

/** Feishu's initial values have no offset and name a wall-clock time: `yyyy-MM-dd HH:mm`, `yyyy-MM-dd`, `HH:mm`. */
const PICKERS: Record<string, { type: 'datetime-local' | 'date' | 'time'; initial: string; toControl: (v: string) => string }> = {
  picker_datetime: { type: 'datetime-local', initial: 'initial_datetime', toControl: (v) => v.replace(' ', 'T') },
  date_picker: { type: 'date', initial: 'initial_date', toControl: (v) => v },
  picker_time: { type: 'time', initial: 'initial_time', toControl: (v) => v },
};

export function PickerField(p: { el: Json; ctx: CardContext; scope: FormScope | undefined }) {
  const picker = PICKERS[String(p.el.tag)] as (typeof PICKERS)[string];
  const initial = p.el[picker.initial];
  return (
    <Labelled {...p}>
      <input {...controlProps(p.el, p.scope)} type={picker.type} defaultValue={typeof initial === 'string' ? picker.toControl(initial) : ''} />
    </Labelled>
  );
}

/** select_static, select_person: one choice. */
export function SelectField(p: { el: Json; ctx: CardContext; scope: FormScope | undefined }) {
  const options = choices(p.el, p.ctx);
  const initial = typeof p.el.initial_option === 'string' ? p.el.initial_option : '';
  return (
    <Labelled {...p}>
      <select {...controlProps(p.el, p.scope)}>
        <option value="" selected={!options.some((o) => o.value === initial)}>
          {text(p.el.placeholder, p.ctx)}
        </option>
        {options.map((o) => (
          <option key={o.value} value={o.value} selected={o.value === initial}>
            {o.label}
          </option>
        ))}
      </select>
    </Labelled>
  );
}

/** multi_select_static, multi_select_person: a group of ticks, named by the placeholder. */
export function MultiSelectField(p: { el: Json; ctx: CardContext; scope: FormScope | undefined }) {
  const { el, ctx, scope } = p;
  const selected = Array.isArray(el.selected_values) ? el.selected_values : [];
  const props = controlProps(el, scope);
  return (
    <fieldset class={`field multi ${props.class}`} aria-invalid={props['aria-invalid']} disabled={props.disabled}>
      <legend class="field-label">
        {text(el.placeholder, ctx) || text(el.label, ctx)}
        {el.required === true && scope && (
          <span class="required-star" aria-hidden="true">
            {' *'}
          </span>
        )}
      </legend>
      <div class="chips">
        {choices(el, ctx).map((o) => (
          <label key={o.value} class="chip">
            <input type="checkbox" name={props.name} value={o.value} defaultChecked={selected.includes(o.value)} />
            {o.label}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

export function CheckerField(p: { el: Json; ctx: CardContext; scope: FormScope | undefined }) {
  return (
    <label class="checker">
      <input type="checkbox" {...controlProps(p.el, p.scope)} defaultChecked={p.el.checked === true} />
      {text(p.el.text, p.ctx)}
    </label>
  );
}

/** Options as the card lists them; a person picker without options offers the chat's members. */
function choices(el: Json, ctx: CardContext): Array<{ value: string; label: string }> {
  const people = String(el.tag).endsWith('_person');
  const listed = (Array.isArray(el.options) ? el.options : []).filter(isObject).filter((o) => typeof o.value === 'string');
  if (people) {
    const ids = listed.length > 0 ? listed.map((o) => o.value as string) : [...ctx.members];
    return ids.map((id) => ({ value: id, label: ctx.names.get(id) ?? id }));
  }
  return listed.map((o) => ({ value: o.value as string, label: text(o.text, ctx) || (o.value as string) }));
}

export function CardButton(p: { el: Json; ctx: CardContext; scope: FormScope | undefined }) {
  const { el, ctx, scope } = p;
  const [pending, setPending] = useState(false);
  // `action_type` is the legacy spelling Feishu's own form samples still use.
  const role = scope ? (el.form_action_type ?? ({ form_submit: 'submit', form_reset: 'reset' } as Record<string, string>)[String(el.action_type)]) : undefined;

  async function onClick(event: Event) {
    const button = event.currentTarget as HTMLButtonElement;
    if (role === 'reset') {
      button.form?.reset();
      scope?.setMissing([]);
      return;
    }
    if (isObject(el.confirm) && !window.confirm(`${text(el.confirm.title, ctx)}\n\n${text(el.confirm.text, ctx)}`)) return;
    let formValue: Record<string, unknown> | undefined;
    if (role === 'submit' && scope && button.form) {
      const form = button.form;
      const collected = collectFormValue(formFields(scope.form), (field) => readField(form, field), ctx);
      scope.setMissing(collected.ok ? [] : collected.missing);
      if (!collected.ok) return ctx.notify({ type: 'error', content: clientText('requiredFieldsEmpty', ctx.lang) });
      formValue = collected.formValue;
    }
    const name = nameOf(el);
    const value = callbackValue(el);
    const click = { tag: 'button', ...(name !== undefined && { name }), ...(value && { value }), ...(formValue && { formValue }) };
    setPending(true);
    try {
      await ctx.act(click);
    } finally {
      setPending(false);
    }
  }

  const type = typeof el.type === 'string' ? el.type : 'default';
  return (
    <button type="button" class={`card-button button-${type}`} disabled={el.disabled === true || pending} aria-busy={pending || undefined} onClick={onClick}>
      {text(el.text, ctx)}
    </button>
  );
}

/** The `value` of the button's first callback behaviour (or the legacy top-level `value`). */
function callbackValue(el: Json): Record<string, unknown> | undefined {
  const behaviour = (Array.isArray(el.behaviors) ? el.behaviors : []).find((b) => isObject(b) && b.type === 'callback');
  const value = isObject(behaviour) ? behaviour.value : el.value;
  return isObject(value) ? value : undefined;
}

/** A field's value as the form's controls hold it now. */
function readField(form: HTMLFormElement, field: FormField): RawValue {
  const controls = [...form.elements].filter((c): c is HTMLInputElement => (c as HTMLInputElement).name === field.name);
  if (field.tag.startsWith('multi_')) return controls.filter((c) => c.checked).map((c) => c.value);
  if (field.tag === 'checker') return controls[0]?.checked ?? false;
  return controls[0]?.value ?? '';
}
