import type { ComponentChild, VNode } from 'preact';
import type { CardContext } from './context';
import { CardButton, CardForm, CheckerField, type FormScope, InputField, MultiSelectField, PickerField, SelectField } from './fields';
import { type Json, isObject, localContent, localTagList } from './i18n';
import { colorName, placeholder, renderMarkdown, textOf } from './markdown';

/**
 * A card JSON 2.0 drawn as Feishu's client draws it, as a pure function from the card to preact vnodes: the header
 * with its template colour and tags, then each component. A component the playground does not draw is shown as a
 * placeholder naming its tag, never dropped.
 */

export type { CardContext };

export function renderCard(card: unknown, ctx: CardContext): VNode {
  if (!isObject(card)) {
    return (
      <article class="card" aria-label="Card">
        {block(placeholder('card', 'not a card JSON object'))}
      </article>
    );
  }
  const header = isObject(card.header) ? card.header : undefined;
  const body = isObject(card.body) ? card.body : {};
  const elements = Array.isArray(body.elements) ? body.elements : [];
  return (
    <article class="card" aria-label={cardName(card, ctx)}>
      {header && <CardHeader header={header} ctx={ctx} />}
      <div class={`card-body ${body.direction === 'horizontal' ? 'horizontal' : ''}`}>
        {card.schema !== '2.0' && block(placeholder('schema 1.0', 'this playground draws card JSON 2.0 only'))}
        {renderElements(elements, ctx, undefined)}
      </div>
    </article>
  );
}

/** A card's accessible name: its header's title, else its first text. */
export function cardName(card: unknown, ctx: CardContext): string {
  if (!isObject(card)) return 'Card';
  const title = isObject(card.header) ? textOf(renderText(card.header.title, ctx)).trim() : '';
  if (title) return title;
  const first = firstText(isObject(card.body) ? card.body.elements : undefined, ctx);
  return first ? oneLine(first, 80) : 'Card';
}

/** The chat-list preview Feishu shows for a card (a reply's quote): `config.summary`, else the card's name. */
export function cardPreview(card: unknown, ctx: CardContext): string {
  const summary = isObject(card) && isObject(card.config) ? localContent(card.config.summary, ctx.lang) : '';
  return summary || cardName(card, ctx);
}

function firstText(elements: unknown, ctx: CardContext): string {
  for (const el of Array.isArray(elements) ? elements : []) {
    if (!isObject(el)) continue;
    const found =
      el.tag === 'markdown'
        ? textOf(renderMarkdown(localContent(el, ctx.lang), ctx))
        : el.tag === 'div'
          ? textOf(renderText(el.text, ctx))
          : firstText(el.elements ?? el.columns, ctx);
    if (found.trim()) return found.trim();
  }
  return '';
}

const oneLine = (s: string, max: number) => {
  const chars = [...s.replace(/\s+/g, ' ')];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : chars.join('');
};

const TEMPLATES = new Set(['blue', 'wathet', 'turquoise', 'green', 'yellow', 'orange', 'red', 'carmine', 'violet', 'purple', 'indigo', 'grey', 'default']);

function CardHeader(p: { header: Json; ctx: CardContext }) {
  const { header, ctx } = p;
  const template = typeof header.template === 'string' && TEMPLATES.has(header.template) ? header.template : 'default';
  // Feishu shows at most three tags.
  const tags = localTagList(header, ctx.lang).filter(isObject).slice(0, 3);
  return (
    <header class={`card-header template-${template}`}>
      <div class="card-title-row">
        <h3 class="card-title">{renderText(header.title, ctx)}</h3>
        {tags.map((tag) => (
          <span class={`text-tag color-${colorName(tag.color)}`}>{renderText(tag.text, ctx)}</span>
        ))}
      </div>
      {isObject(header.subtitle) && <p class="card-subtitle">{renderText(header.subtitle, ctx)}</p>}
    </header>
  );
}

/** A text element: `plain_text` is shown as written; `lark_md` is markdown. */
function renderText(node: unknown, ctx: CardContext): ComponentChild {
  if (!isObject(node)) return null;
  const content = localContent(node, ctx.lang);
  return node.tag === 'lark_md' ? renderMarkdown(content, ctx) : content;
}

function renderElements(elements: unknown, ctx: CardContext, scope: FormScope | undefined): ComponentChild[] {
  return (Array.isArray(elements) ? elements : []).map((el) => renderElement(el, ctx, scope));
}

type FieldProps = { el: Json; ctx: CardContext; scope: FormScope | undefined };
const FIELDS: Record<string, (p: FieldProps) => ComponentChild> = {
  input: InputField,
  picker_datetime: PickerField,
  date_picker: PickerField,
  picker_time: PickerField,
  select_static: SelectField,
  select_person: SelectField,
  multi_select_static: MultiSelectField,
  multi_select_person: MultiSelectField,
  checker: CheckerField,
  button: CardButton,
};

function renderElement(el: unknown, ctx: CardContext, scope: FormScope | undefined): ComponentChild {
  if (!isObject(el) || typeof el.tag !== 'string') return block(placeholder('?', 'not a component'));
  const Field = FIELDS[el.tag];
  if (Field) return <Field el={el} ctx={ctx} scope={scope} />;
  switch (el.tag) {
    case 'markdown':
      return <div class={textClasses('md', el)}>{renderMarkdown(localContent(el, ctx.lang), ctx)}</div>;
    case 'div':
      return (
        <div class={textClasses('div', isObject(el.text) ? el.text : {})}>
          {renderText(el.text, ctx)}
          {Array.isArray(el.fields) &&
            el.fields.filter(isObject).map((field) => <div class={field.is_short ? 'div-field short' : 'div-field'}>{renderText(field.text, ctx)}</div>)}
        </div>
      );
    case 'hr':
      return <hr class="card-hr" />;
    case 'column_set':
      return (
        // A row, as Feishu draws it: `flow` wraps on a narrow screen; an `auto` column is as wide as what it holds
        // (a row of buttons), the others share the width by weight.
        <div class={el.flex_mode === 'flow' ? 'column-set flow' : 'column-set'}>
          {(Array.isArray(el.columns) ? el.columns : []).map((column) =>
            isObject(column) ? (
              <div
                class={column.width === 'auto' ? 'column auto' : 'column'}
                style={{ flexGrow: column.width === 'weighted' && typeof column.weight === 'number' ? column.weight : column.width === 'auto' ? 0 : 1 }}
              >
                {renderElements(column.elements, ctx, scope)}
              </div>
            ) : null,
          )}
        </div>
      );
    case 'form':
      return (
        <CardForm form={el} ctx={ctx}>
          {(formScope) => renderElements(el.elements, ctx, formScope)}
        </CardForm>
      );
    case 'person':
      return <span class="person">{ctx.names.get(String(el.user_id)) ?? String(el.user_id)}</span>;
    case 'collapsible_panel':
      return (
        <details class="panel" open={el.expanded === true}>
          <summary>{isObject(el.header) ? renderText(el.header.title, ctx) : null}</summary>
          {renderElements(el.elements, ctx, scope)}
        </details>
      );
    default:
      return block(placeholder(el.tag, 'this component is not drawn by the playground'));
  }
}

const block = (child: ComponentChild) => <div class="placeholder-block">{child}</div>;

const TEXT_SIZES = new Set([
  'heading-0',
  'heading-1',
  'heading-2',
  'heading-3',
  'heading-4',
  'heading',
  'normal',
  'notation',
  'xxxx-large',
  'xxx-large',
  'xx-large',
  'x-large',
  'large',
  'medium',
  'small',
  'x-small',
]);

/** `text_size` (an unknown size is drawn as normal, as Feishu does), `text_align`, `text_color`. */
function textClasses(base: string, node: Json): string {
  const size = typeof node.text_size === 'string' && TEXT_SIZES.has(node.text_size) ? node.text_size : 'normal';
  const align = node.text_align === 'center' || node.text_align === 'right' ? node.text_align : 'left';
  return `${base} size-${size} align-${align} color-${colorName(node.text_color)}`;
}
