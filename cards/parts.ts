import type { Repeat } from '../src/domain/time';
import { ZONE_CACHE_LIMIT, boundedMemo, canonicalZone, formatOffset, parseFixedOffset } from '../src/domain/zones';
import { CardActionValue } from './actions';

export interface PlainText {
  tag: 'plain_text';
  content: string;
}

/** Any card component; the card builders own their exact shapes. */
export interface CardComponent {
  tag: string;
  [key: string]: unknown;
}

export type HeaderTemplate = 'blue' | 'green' | 'grey' | 'orange' | 'red';
export type TagColor = 'blue' | 'green' | 'neutral';
export type ButtonType = 'default' | 'primary' | 'danger';

export interface Card {
  schema: '2.0';
  config: { update_multi: true; summary?: { content: string } };
  header: {
    title: PlainText;
    template: HeaderTemplate;
    text_tag_list?: Array<{ tag: 'text_tag'; text: PlainText; color: TagColor }>;
  };
  body: { elements: CardComponent[] };
}

export function plainText(content: string): PlainText {
  return { tag: 'plain_text', content };
}

/**
 * Every card goes through here so that all of them state `update_multi: true` (PATCH requires it on both the old
 * and the new card) and all of them pass the size check.
 */
export function buildCard(p: {
  title: string;
  template: HeaderTemplate;
  statusTag?: { text: string; color: TagColor };
  summary?: string;
  elements: CardComponent[];
}): Card {
  return assertCardFits({
    schema: '2.0',
    config: { update_multi: true, ...(p.summary !== undefined && { summary: { content: p.summary } }) },
    header: {
      title: plainText(p.title),
      template: p.template,
      ...(p.statusTag && { text_tag_list: [{ tag: 'text_tag', text: plainText(p.statusTag.text), color: p.statusTag.color }] }),
    },
    body: { elements: p.elements },
  });
}

/**
 * User text on one line, at most `max` characters counting the ellipsis that marks a cut. Characters are counted
 * as people see them (an emoji is one), so a cut never splits one.
 */
export function oneLine(text: string, max: number): string {
  const chars = [...text.replace(/\s+/g, ' ').trim()];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : chars.join('');
}

/** A card's chat-list preview: plain text, a label and 50 characters of user text (51 with the ellipsis of a cut). */
export function chatListSummary(label: string, text: string): string {
  return `${label}: ${oneLine(text, 51)}`;
}

/**
 * Feishu's documented escaping table for markdown, and nothing else: a client that does not decode an entity shows
 * it as typed (`v1&#46;2`), so only entities Feishu promises to decode are used.
 */
const MARKDOWN_ENTITIES: ReadonlyMap<string, string> = new Map([
  ['<', '&#60;'],
  ['>', '&#62;'],
  ['*', '&#42;'],
  ['~', '&sim;'],
  ['[', '&#91;'],
  [']', '&#93;'],
  ['(', '&#40;'],
  [')', '&#41;'],
  ['#', '&#35;'],
  ['_', '&#95;'],
  ['`', '&#96;'],
  ['\\', '&#92;'],
  ['-', '&#45;'],
  ['!', '&#33;'],
  [':', '&#58;'],
  ['$', '&#36;'],
  ['+', '&#43;'],
]);

/**
 * Text the bot builds (times, zone names, command usages) made literal inside `markdown`, with Feishu's documented
 * entities only. What people typed never goes through here: it is shown in `plain_text`, which renders nothing.
 */
export function escapeMarkdown(text: string): string {
  return Array.from(text.replace(/\r\n?/g, '\n'), (char) => MARKDOWN_ENTITIES.get(char) ?? char).join('');
}

/** Text as typed, in a text element that renders no markup at all: what people wrote goes on cards this way. */
export function typedText(content: string): CardComponent {
  return { tag: 'div', text: plainText(content) };
}

const OPEN_ID = /^ou_[A-Za-z0-9_-]+$/;

/** Ids are pasted into markup unescaped, so anything but a plain open_id is refused rather than rendered. */
function checkedOpenId(openId: string): string {
  if (!OPEN_ID.test(openId)) throw new Error(`Not an open_id, refusing to put it in a card: ${JSON.stringify(openId)}`);
  return openId;
}

/** A markdown mention: notifies the person. */
export function mention(openId: string): string {
  return `<at id=${checkedOpenId(openId)}></at>`;
}

/** A markdown reference that shows the person's name without notifying them. */
export function person(openId: string): string {
  return `<person id='${checkedOpenId(openId)}' show_name=true show_avatar=false style='normal'></person>`;
}


function newWallClockFormatter(timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
}

const utcFormatter = newWallClockFormatter('UTC');
/** Building a formatter costs far more than using one, and every card render needs one: one per canonical zone. */
const zoneFormatter = boundedMemo(ZONE_CACHE_LIMIT, newWallClockFormatter);

function wallClock(ms: number, formatter: Intl.DateTimeFormat): string {
  const parts = formatter.formatToParts(ms);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('weekday')} ${part('day')} ${part('month')} ${part('year')}, ${part('hour')}:${part('minute')}`;
}

/**
 * `Mon 24 Nov 2026, 09:00 (Asia/Shanghai)`. Node 20's Intl rejects fixed offsets such as `+08:00` (the form
 * Feishu's pickers report), so those are applied by arithmetic and labelled `UTC+08:00`. A zone that is neither
 * falls back to UTC, labelled as such: the card still shows the right instant instead of failing to render.
 */
export function formatInstant(ms: number, timeZone: string): string {
  const offset = parseFixedOffset(timeZone);
  if (offset !== undefined) return `${wallClock(ms + offset * 60_000, utcFormatter)} (UTC${formatOffset(offset)})`;
  const zone = canonicalZone(timeZone);
  const formatter = zone === undefined ? utcFormatter : zoneFormatter(zone);
  return `${wallClock(ms, formatter)} (${formatter.resolvedOptions().timeZone})`;
}

/** How each repeat rule reads on a card. */
export const REPEAT_LABEL: Record<Repeat, string> = {
  none: 'Does not repeat',
  daily: 'Every day',
  workdays: 'Every workday (Mon–Fri)',
  weekly: 'Every week',
};

function callbackBehaviors(value: CardActionValue): Array<{ type: 'callback'; value: CardActionValue }> {
  return [{ type: 'callback', value: CardActionValue.parse(value) }];
}

/** A button outside a form; the bot tells buttons apart by the callback value alone. */
export function callbackButton(p: {
  text: string;
  value: CardActionValue;
  type?: ButtonType;
  name?: string;
  confirm?: { title: string; text: string };
}): CardComponent {
  return {
    tag: 'button',
    ...(p.name !== undefined && { name: p.name }),
    type: p.type ?? 'default',
    text: plainText(p.text),
    ...(p.confirm && { confirm: { title: plainText(p.confirm.title), text: plainText(p.confirm.text) } }),
    behaviors: callbackBehaviors(p.value),
  };
}

/** The submit button of a form: the one click that sends every field's value together. */
export function submitButton(p: { text: string; name: string; value: CardActionValue }): CardComponent {
  return {
    tag: 'button',
    name: p.name,
    form_action_type: 'submit',
    type: 'primary',
    text: plainText(p.text),
    behaviors: callbackBehaviors(p.value),
  };
}

/** Feishu refuses cards over 30 KB; style tags inflate the stored size, hence the headroom. */
export const CARD_BYTE_BUDGET = 28 * 1024;
export const CARD_COMPONENT_LIMIT = 200;

/** Feishu counts text elements such as `plain_text` as components too, so every tagged object counts. */
function countComponents(node: unknown): number {
  if (node === null || typeof node !== 'object') return 0;
  const own = !Array.isArray(node) && typeof (node as { tag?: unknown }).tag === 'string' ? 1 : 0;
  return Object.values(node).reduce<number>((sum, child) => sum + countComponents(child), own);
}

/** Fails here, with the reason, instead of at Feishu with error 230025 after the user clicked. */
export function assertCardFits<T extends object>(card: T): T {
  const bytes = Buffer.byteLength(JSON.stringify(card), 'utf8');
  if (bytes > CARD_BYTE_BUDGET) {
    throw new Error(`Card JSON is ${bytes} bytes, over the ${CARD_BYTE_BUDGET}-byte budget (Feishu's limit is 30 KB)`);
  }
  const components = countComponents(card);
  if (components > CARD_COMPONENT_LIMIT) {
    throw new Error(`Card has ${components} components, over Feishu's limit of ${CARD_COMPONENT_LIMIT}`);
  }
  return card;
}
